"""The named optimizers, each a ``chain`` of the transformations in ``transforms.py``.

Names, signatures and defaults follow optax. Any ``learning_rate`` may be a schedule.

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import optim
    >>> loss = lambda p: fnp.sum((p["w"] - 3.0) ** 2)
    >>> params = {"w": fnp.zeros(2)}
    >>> opt = optim.adam(0.1)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...     updates, state = opt.update(fnn.grad(loss)(params), state, params)
    ...     params = optim.apply_updates(params, updates)
    >>> bool(abs(params["w"][0] - 3.0) < 1e-2)
    True
"""

from __future__ import annotations

from typing import Any

from fnn.optim.base import GradientTransformation, ScalarOrSchedule, chain, identity
from fnn.optim.transforms import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    scale_by_stddev,
    trace,
)

__all__ = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lion"]


def sgd(
    learning_rate: ScalarOrSchedule,
    momentum: float | None = None,
    nesterov: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    ``chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))``:
    ``t = g + momentum * t``, ``update = -lr * t`` (``-lr * (g + momentum * t)`` with
    Nesterov).

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = sgd(0.1, momentum=0.9)
        >>> g = fnp.array([1.0])
        >>> opt.update(g, opt.init(g))[0]
        Array([-0.1], dtype=float32)
    """
    return chain(
        trace(momentum, nesterov, accumulator_dtype) if momentum is not None else identity(),
        scale_by_learning_rate(learning_rate),
    )


def adam(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam (Kingma & Ba, 2014): ``chain(scale_by_adam(...), scale_by_learning_rate(lr))``.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = adam(1e-2)
        >>> g = fnp.array([5.0, -0.1])
        >>> fnp.round(opt.update(g, opt.init(g))[0], 4)   # the first step is -lr * sign(g)
        Array([-0.01,  0.01], dtype=float32)
    """
    return chain(
        scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        scale_by_learning_rate(learning_rate),
    )


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    weight_decay: float = 1e-4,
    mask: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    ``update = -lr * (adam_direction + weight_decay * params)``: the decay is added after
    Adam's rescaling, so it is not divided by the second moment. As in optax (and
    PyTorch) it is multiplied by the learning rate. ``mask`` (a pytree of bools or a
    function of params) selects the leaves that decay.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = adamw(0.1, weight_decay=0.5)
        >>> p = fnp.array([2.0])
        >>> u = opt.update(fnp.array([3.0]), opt.init(p), p)[0]
        >>> fnp.round(u, 4)                 # -0.1 * (adam's first step 1 + 0.5 * 2)
        Array([-0.2], dtype=float32)
    """
    return chain(
        scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


def rmsprop(
    learning_rate: ScalarOrSchedule,
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: float | None = None,
    nesterov: bool = False,
    bias_correction: bool = False,
) -> GradientTransformation:
    """RMSProp (Tieleman & Hinton, 2012); ``centered=True`` divides by the standard
    deviation instead (Graves, 2013). Momentum, when given, acts on the scaled updates.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = rmsprop(0.1, decay=0.75, eps=0.0)
        >>> g = fnp.array([2.0])
        >>> opt.update(g, opt.init(g))[0]           # -0.1 * 2 / sqrt(0.25 * 4)
        Array([-0.2], dtype=float32)
    """
    rescale = scale_by_stddev if centered else scale_by_rms
    return chain(
        rescale(decay, eps, initial_scale, eps_in_sqrt, bias_correction),
        scale_by_learning_rate(learning_rate),
        trace(momentum, nesterov) if momentum is not None else identity(),
    )


def adagrad(
    learning_rate: ScalarOrSchedule,
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
) -> GradientTransformation:
    """Adagrad (Duchi et al., 2011): ``-lr * g / sqrt(sum of squared gradients + eps)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
        >>> g = fnp.array([-4.0])
        >>> opt.update(g, opt.init(g))[0]
        Array([1.], dtype=float32)
    """
    return chain(
        scale_by_rss(initial_accumulator_value, eps),
        scale_by_learning_rate(learning_rate),
    )


def lion(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Any = None,
    weight_decay: float = 1e-3,
    mask: Any = None,
) -> GradientTransformation:
    """Lion (Chen et al., 2023): ``-lr * (sign((1-b1) g + b1 m) + weight_decay * params)``.

    Lion's updates all have magnitude lr, so it wants a learning rate 3-10x smaller
    than Adam's.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = lion(0.1, weight_decay=0.0)
        >>> p = fnp.array([1.0, 1.0])
        >>> opt.update(fnp.array([0.5, -3.0]), opt.init(p), p)[0]
        Array([-0.1,  0.1], dtype=float32)
    """
    return chain(
        scale_by_lion(b1, b2, mu_dtype),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )
