"""LayerNorm (per example) and BatchNorm (per feature, with running statistics).

Defaults follow Flax: ``LayerNorm(epsilon=1e-6)``, ``BatchNorm(momentum=0.99,
epsilon=1e-5)``; both normalise with the biased variance and learn ``scale`` (ones)
and ``bias`` (zeros).

Example:
    >>> import fnn.random, fnn.numpy as fnp
    >>> ln = LayerNorm()
    >>> params = ln.init(fnn.random.key(0), (1, 4))
    >>> y = ln.apply(params, fnp.asarray([[1.0, 2.0, 3.0, 4.0]]))
    >>> float(fnp.mean(y)), round(float(fnp.var(y)), 4)
    (0.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import fnn.numpy as fnp
from fnn import config
from fnn.nn import initializers
from fnn.nn.base import Module, Params

__all__ = ["LayerNorm", "BatchNorm"]


def _affine_params(layer: Any, key: Any, features: int) -> Params:
    params = {}
    if layer.use_scale:
        params["scale"] = layer.scale_init(key, (features,), layer.param_dtype)
    if layer.use_bias:
        params["bias"] = layer.bias_init(key, (features,), layer.param_dtype)
    return params


def _normalize(x, mean, var, params, epsilon):
    # Multiply by rsqrt once instead of dividing every element.
    y = (x - mean) * (1.0 / fnp.sqrt(var + epsilon))
    if "scale" in params:
        y = y * params["scale"]
    if "bias" in params:
        y = y + params["bias"]
    return y


@dataclass(frozen=True)
class LayerNorm(Module):
    """Normalises each example over its last axis, then scales and shifts per feature.

    ``y = (x - mean) / sqrt(var + epsilon) * scale + bias``, statistics over axis -1.

    Example:
        >>> params = LayerNorm().init(fnn.random.key(0), (1, 3))
        >>> sorted(params)
        ['bias', 'scale']
    """

    epsilon: float = 1e-6
    use_bias: bool = True
    use_scale: bool = True
    scale_init: Any = initializers.ones
    bias_init: Any = initializers.zeros
    param_dtype: Any = None

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        return _affine_params(self, key, input_shape[-1])

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        mean = fnp.mean(x, axis=-1, keepdims=True)
        var = fnp.var(x, axis=-1, keepdims=True)
        return _normalize(x, mean, var, params, self.epsilon)


@dataclass(frozen=True)
class BatchNorm(Module):
    """Normalises each feature (last axis) over all other axes (batch, and space for images).

    Training (``train=True``) uses the batch's mean and biased variance and updates the
    running statistics as Flax does: ``ra = momentum * ra + (1 - momentum) * batch_stat``.
    Evaluation uses the running statistics. The state is ``{"mean", "var"}`` (zeros and
    ones initially).

    Example:
        >>> bn = BatchNorm(momentum=0.9)
        >>> params, state = bn.init(fnn.random.key(0), (1, 2)), bn.init_state((1, 2))
        >>> x = fnp.asarray([[0.0, 2.0], [2.0, 4.0]])
        >>> y, state = bn.apply(params, x, state=state, train=True)
        >>> state["mean"]
        Array([0.1, 0.3], dtype=float32)
    """

    stateful: ClassVar[bool] = True

    momentum: float = 0.99
    epsilon: float = 1e-5
    use_bias: bool = True
    use_scale: bool = True
    scale_init: Any = initializers.ones
    bias_init: Any = initializers.zeros
    param_dtype: Any = None

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        return _affine_params(self, key, input_shape[-1])

    def init_state(self, input_shape: Sequence[int]) -> Params:
        """Running statistics: ``{"mean": zeros(features), "var": ones(features)}``."""
        dtype = config.default_float() if self.param_dtype is None else self.param_dtype
        n = input_shape[-1]
        return {"mean": fnp.zeros((n,), dtype), "var": fnp.ones((n,), dtype)}

    def apply(
        self,
        params: Params,
        x: Any,
        *,
        state: Params | None = None,
        key: Any = None,
        train: bool = False,
    ) -> tuple[Any, Params]:
        """Returns ``(y, new_state)``; ``new_state is state`` in evaluation."""
        if state is None:
            raise ValueError(
                "BatchNorm.apply needs its running statistics: pass state=layer.init_state(shape) "
                "(or the state returned by the previous call) and use the returned (y, new_state)."
            )
        if not train:
            return _normalize(x, state["mean"], state["var"], params, self.epsilon), state
        axes = tuple(range(x.ndim - 1))
        mean = fnp.mean(x, axis=axes)
        var = fnp.var(x, axis=axes)
        m = self.momentum
        # No stop_gradient here: the state is an output nobody differentiates, and under
        # jit stop_gradient currently aliases its input's buffer, which a later in-place
        # update of the statistics would then overwrite.
        new_state = {
            "mean": m * state["mean"] + (1.0 - m) * mean,
            "var": m * state["var"] + (1.0 - m) * var,
        }
        return _normalize(x, mean, var, params, self.epsilon), new_state
