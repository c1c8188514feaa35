"""The small gradient transformations that the named optimizers are chained from.

Each published update rule is written once, here; ``alias.py`` only chains them. The
rules and names follow optax. Every state is a NamedTuple of fnn arrays (step counts
are int32 scalars), so ``update`` traces under ``fnn.jit``.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn import optim
    >>> opt = optim.chain(optim.scale_by_adam(), optim.scale_by_learning_rate(0.1))
    >>> g = fnp.array([2.0, -3.0])
    >>> fnp.round(opt.update(g, opt.init(g))[0], 4)   # Adam's first step is -lr * sign(g)
    Array([-0.1,  0.1], dtype=float32)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import fnn.numpy as fnp
from fnn.optim import _tree
from fnn.optim.base import EmptyState, GradientTransformation, ScalarOrSchedule, Schedule
from fnn.optim.wrappers import masked
from fnn.tree_util import tree_map

__all__ = [
    "scale",
    "scale_by_schedule",
    "scale_by_learning_rate",
    "scale_by_adam",
    "scale_by_rms",
    "scale_by_stddev",
    "scale_by_rss",
    "scale_by_lion",
    "trace",
    "add_decayed_weights",
    "update_moment",
    "update_moment_per_elem_norm",
    "bias_correction",
    "ScaleByScheduleState",
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByRStdDevState",
    "ScaleByRssState",
    "ScaleByLionState",
    "TraceState",
]


def _init_empty(params):
    del params
    return EmptyState()


# --- moments: the three formulas every adaptive method shares -----------------------


def update_moment(updates: Any, moments: Any, decay: float, order: int) -> Any:
    """Exponential moving average of ``g ** order``: ``(1 - decay) * g**order + decay * m``."""
    return tree_map(lambda g, m: (1 - decay) * (g**order) + decay * m, updates, moments)


def update_moment_per_elem_norm(updates: Any, moments: Any, decay: float, order: int) -> Any:
    """Like :func:`update_moment` on ``|g|``: the second moment uses ``g * g``."""

    def norm(g):
        return g * g if order == 2 else fnp.abs(g) ** order

    return tree_map(lambda g, m: (1 - decay) * norm(g) + decay * m, updates, moments)


def bias_correction(moments: Any, decay: float, count) -> Any:
    """Divide a moving average started at zero by ``1 - decay ** count`` (Adam's correction)."""
    correction = fnp.asarray(1 - decay**count)
    return tree_map(lambda m: m / correction.astype(m.dtype), moments)


_correct = bias_correction  # the name stays reachable where an argument shadows it


# --- scaling by a constant, a schedule or a learning rate ---------------------------


def scale(step_size: float) -> GradientTransformation:
    """Multiply updates by a fixed ``step_size``.

    Example:
        >>> import fnn.numpy as fnp
        >>> scale(-0.5).update(fnp.array([2.0]), EmptyState())[0]
        Array([-1.], dtype=float32)
    """

    def update(updates, state, params=None):
        del params
        return _tree.scale(step_size, updates), state

    return GradientTransformation(_init_empty, update)


class ScaleByScheduleState(NamedTuple):
    count: Any  # int32 scalar: the number of updates made so far


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply updates by ``step_size_fn(count)``, count = updates made so far (from 0).

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_schedule(lambda count: 1.0 / (count + 1))
        >>> g = fnp.ones(1)
        >>> u, state = opt.update(g, opt.init(g))       # count 0: x 1
        >>> opt.update(g, state)[0]                     # count 1: x 0.5
        Array([0.5], dtype=float32)
    """

    def init(params):
        del params
        return ScaleByScheduleState(_tree.zeros_count())

    def update(updates, state, params=None):
        del params
        step_size = step_size_fn(state.count)
        return _tree.scale(step_size, updates), ScaleByScheduleState(
            _tree.safe_increment(state.count)
        )

    return GradientTransformation(init, update)


def scale_by_learning_rate(
    learning_rate: ScalarOrSchedule, *, flip_sign: bool = True
) -> GradientTransformation:
    """Multiply updates by ``-learning_rate`` (``+learning_rate`` with ``flip_sign=False``).

    ``learning_rate`` is a number or a schedule (a function of the step count).

    Example:
        >>> import fnn.numpy as fnp
        >>> scale_by_learning_rate(0.1).update(fnp.array([2.0]), EmptyState())[0]
        Array([-0.2], dtype=float32)
    """
    m = -1 if flip_sign else 1
    if callable(learning_rate):
        return scale_by_schedule(lambda count: m * learning_rate(count))
    return scale(m * learning_rate)


# --- adaptive methods ---------------------------------------------------------------


class ScaleByAdamState(NamedTuple):
    count: Any  # int32 scalar
    mu: Any  # first moment, like params
    nu: Any  # second moment, like params


def scale_by_adam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam's rescaling (Kingma & Ba, 2014), without the learning rate.

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``, ``m_hat = m / (1 - b1^t)``,
    ``v_hat = v / (1 - b2^t)``, ``update = m_hat / (sqrt(v_hat + eps_root) + eps)``.
    ``nesterov=True`` gives NAdam (Dozat, 2016).

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_adam()
        >>> g = fnp.array([0.5, -2.0])
        >>> fnp.round(opt.update(g, opt.init(g))[0], 4)   # m_hat / sqrt(v_hat) = sign(g)
        Array([ 1., -1.], dtype=float32)
    """

    def init(params):
        return ScaleByAdamState(
            _tree.zeros_count(), _tree.zeros_like(params, mu_dtype), _tree.zeros_like(params)
        )

    def update(updates, state, params=None):
        del params
        mu = update_moment(updates, state.mu, b1, 1)
        nu = update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = _tree.safe_increment(state.count)
        if nesterov:
            mu_hat = tree_map(
                lambda m, g: b1 * m + (1 - b1) * g,
                bias_correction(mu, b1, _tree.safe_increment(count)),
                bias_correction(updates, b1, count),
            )
        else:
            mu_hat = bias_correction(mu, b1, count)
        nu_hat = bias_correction(nu, b2, count)
        updates = tree_map(lambda m, v: m / (fnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return updates, ScaleByAdamState(count, _tree.cast(mu, mu_dtype), nu)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    count: Any  # int32 scalar (used by bias_correction=True)
    nu: Any


def _rms_scaling(nu_hat, eps, eps_in_sqrt):
    if eps_in_sqrt:
        return tree_map(lambda n: 1 / fnp.sqrt(n + eps), nu_hat)
    return tree_map(lambda n: 1 / (fnp.sqrt(n) + eps), nu_hat)


def scale_by_rms(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:
    """RMSProp's rescaling (Tieleman & Hinton, 2012): ``g / sqrt(nu + eps)``.

    ``nu = decay nu + (1-decay) g^2``, started at ``initial_scale`` (PyTorch uses 0,
    TF1 uses 1). ``eps_in_sqrt=False`` divides by ``sqrt(nu) + eps`` instead.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_rms(decay=0.75, eps=0.0)
        >>> g = fnp.array([2.0])
        >>> opt.update(g, opt.init(g))[0]           # 2 / sqrt(0.25 * 4)
        Array([2.], dtype=float32)
    """

    def init(params):
        return ScaleByRmsState(_tree.zeros_count(), _tree.full_like(params, initial_scale))

    def update(updates, state, params=None):
        del params
        nu = update_moment_per_elem_norm(updates, state.nu, decay, 2)
        count = _tree.safe_increment(state.count)
        nu_hat = _correct(nu, decay, count) if bias_correction else nu
        scaling = _rms_scaling(nu_hat, eps, eps_in_sqrt)
        updates = tree_map(lambda s, g: s * g, scaling, updates)
        return updates, ScaleByRmsState(count, nu)

    return GradientTransformation(init, update)


class ScaleByRStdDevState(NamedTuple):
    count: Any  # int32 scalar (used by bias_correction=True)
    mu: Any
    nu: Any


def scale_by_stddev(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:
    """Centered RMSProp's rescaling (Graves, 2013): ``g / sqrt(nu - mu^2 + eps)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_stddev(decay=0.5, eps=0.0)
        >>> g = fnp.array([2.0])
        >>> opt.update(g, opt.init(g))[0]           # 2 / sqrt(0.5*4 - (0.5*2)^2)
        Array([2.], dtype=float32)
    """

    def init(params):
        return ScaleByRStdDevState(
            _tree.zeros_count(), _tree.zeros_like(params), _tree.full_like(params, initial_scale)
        )

    def update(updates, state, params=None):
        del params
        mu = update_moment(updates, state.mu, decay, 1)
        nu = update_moment_per_elem_norm(updates, state.nu, decay, 2)
        count = _tree.safe_increment(state.count)
        if bias_correction:
            mu_hat, nu_hat = _correct(mu, decay, count), _correct(nu, decay, count)
        else:
            mu_hat, nu_hat = mu, nu
        var = tree_map(lambda m, n: n - m * m, mu_hat, nu_hat)
        scaling = _rms_scaling(var, eps, eps_in_sqrt)
        updates = tree_map(lambda s, g: s * g, scaling, updates)
        return updates, ScaleByRStdDevState(count, mu, nu)

    return GradientTransformation(init, update)


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any


def scale_by_rss(
    initial_accumulator_value: float = 0.1, eps: float = 1e-7
) -> GradientTransformation:
    """Adagrad's rescaling (Duchi et al., 2011): ``g / sqrt(sum of all g^2 so far + eps)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
        >>> g = fnp.array([3.0])
        >>> opt.update(g, opt.init(g))[0]
        Array([1.], dtype=float32)
    """

    def init(params):
        return ScaleByRssState(_tree.full_like(params, initial_accumulator_value))

    def update(updates, state, params=None):
        del params
        sos = tree_map(lambda g, s: g * g + s, updates, state.sum_of_squares)

        def rescale(g, s):
            # A zero accumulator means a zero gradient so far: the update is 0, not 0/0.
            safe = fnp.where(s > 0, s, fnp.ones_like(s))
            return fnp.where(s > 0, 1 / fnp.sqrt(safe + eps), fnp.zeros_like(s)) * g

        return tree_map(rescale, updates, sos), ScaleByRssState(sos)

    return GradientTransformation(init, update)


class ScaleByLionState(NamedTuple):
    count: Any  # int32 scalar
    mu: Any


def scale_by_lion(
    b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None
) -> GradientTransformation:
    """Lion's rescaling (Chen et al., 2023): ``sign((1-b1) g + b1 m)``, then
    ``m = (1-b2) g + b2 m``.

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_lion()
        >>> g = fnp.array([0.3, -7.0, 0.0])
        >>> opt.update(g, opt.init(g))[0]
        Array([ 1., -1.,  0.], dtype=float32)
    """

    def init(params):
        return ScaleByLionState(_tree.zeros_count(), _tree.zeros_like(params, mu_dtype))

    def update(updates, state, params=None):
        del params
        new_updates = tree_map(lambda g, m: fnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = _tree.cast(update_moment(updates, state.mu, b2, 1), mu_dtype)
        return new_updates, ScaleByLionState(_tree.safe_increment(state.count), mu)

    return GradientTransformation(init, update)


# --- momentum and weight decay ------------------------------------------------------


class TraceState(NamedTuple):
    trace: Any


def trace(
    decay: float, nesterov: bool = False, accumulator_dtype: Any = None
) -> GradientTransformation:
    """Momentum: ``t = g + decay * t``; the update is ``t`` (or ``g + decay * t`` with Nesterov).

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = trace(decay=0.5)
        >>> g = fnp.ones(1)
        >>> u, state = opt.update(g, opt.init(g))
        >>> opt.update(g, state)[0]                     # 1 + 0.5 * 1
        Array([1.5], dtype=float32)
    """

    def init(params):
        return TraceState(_tree.zeros_like(params, accumulator_dtype))

    def update(updates, state, params=None):
        del params
        new_trace = tree_map(lambda g, t: g + decay * t, updates, state.trace)
        if nesterov:
            updates = tree_map(lambda g, t: g + decay * t, updates, new_trace)
        else:
            updates = new_trace
        return updates, TraceState(_tree.cast(new_trace, accumulator_dtype))

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0, mask: Any = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay when chained
    after an adaptive rescaling, as in AdamW). ``mask``: see :func:`masked`.

    Example:
        >>> import fnn.numpy as fnp
        >>> p = fnp.array([2.0])
        >>> add_decayed_weights(0.1).update(fnp.array([1.0]), EmptyState(), p)[0]
        Array([1.2], dtype=float32)
    """
    if mask is not None:
        return masked(add_decayed_weights(weight_decay), mask)

    def update(updates, state, params=None):
        if params is None:
            raise ValueError(
                "add_decayed_weights needs the parameters: call opt.update(grads, state, params)"
            )
        return tree_map(lambda g, p: g + weight_decay * p, updates, params), state

    return GradientTransformation(_init_empty, update)
