"""Parameter initializers with jax.nn.initializers' names and signatures.

An initializer is a function ``init(key, shape, dtype=None) -> Array``; ``dtype=None``
means the default float (float32, or float64 with ``enable_x64``). Factories such as
``glorot_uniform()`` or ``normal(stddev)`` return one; ``zeros`` and ``ones`` are
initializers themselves, as in JAX.

Example:
    >>> import fnn.random
    >>> from fnn.nn import initializers
    >>> w = initializers.glorot_uniform()(fnn.random.key(0), (784, 128))
    >>> w.shape, w.dtype
    ((784, 128), dtype('float32'))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import fnn.numpy as fnp
from fnn import config, random
from fnn.core import Array

__all__ = [
    "Initializer",
    "zeros",
    "ones",
    "constant",
    "uniform",
    "normal",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "lecun_uniform",
    "lecun_normal",
    "compute_fans",
]

Initializer = Callable[..., Any]  # (key, shape, dtype=None) -> Array

# The standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes
# variance_scaling's truncated normal have exactly the requested variance.
_TRUNCATED_STD = 0.87962566103423978


def _dtype(dtype) -> np.dtype:
    return config.default_float() if dtype is None else config.canonicalize_dtype(dtype)


def _shape(shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)


def zeros(key: Any, shape: Sequence[int], dtype: Any = None) -> Array:
    """All zeros (the key is ignored).

    Example:
        >>> zeros(None, (2,))
        Array([0., 0.], dtype=float32)
    """
    return fnp.zeros(_shape(shape), _dtype(dtype))


def ones(key: Any, shape: Sequence[int], dtype: Any = None) -> Array:
    """All ones (the key is ignored).

    Example:
        >>> ones(None, (2,))
        Array([1., 1.], dtype=float32)
    """
    return fnp.ones(_shape(shape), _dtype(dtype))


def constant(value: float, dtype: Any = None) -> Initializer:
    """An initializer filling every entry with ``value``.

    Example:
        >>> constant(0.5)(None, (2,))
        Array([0.5, 0.5], dtype=float32)
    """

    def init(key, shape, dtype=dtype):
        return fnp.full(_shape(shape), value, _dtype(dtype))

    return init


def uniform(scale: float = 1e-2, dtype: Any = None) -> Initializer:
    """Uniform on ``[0, scale)``, as ``jax.nn.initializers.uniform``.

    Example:
        >>> w = uniform(0.1)(fnn.random.key(0), (3,))
    """

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return random.uniform(key, _shape(shape), dt) * fnp.asarray(scale, dt)

    return init


def normal(stddev: float = 1e-2, dtype: Any = None) -> Initializer:
    """Normal with mean 0 and standard deviation ``stddev``.

    Example:
        >>> w = normal(0.02)(fnn.random.key(0), (3, 4))
    """

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return random.normal(key, _shape(shape), dt) * fnp.asarray(stddev, dt)

    return init


def truncated_normal(
    stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0, upper: float = 2.0
) -> Initializer:
    """``stddev`` times a unit normal truncated to ``[lower, upper]`` (JAX's definition:
    the result's standard deviation is a little below ``stddev``).

    Example:
        >>> w = truncated_normal(0.02)(fnn.random.key(0), (3, 4))   # |w| <= 0.04
    """

    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return random.truncated_normal(key, lower, upper, _shape(shape), dt) * fnp.asarray(
            stddev, dt
        )

    return init


def compute_fans(
    shape: Sequence[int],
    in_axis: int = -2,
    out_axis: int = -1,
    batch_axis: Sequence[int] | int = (),
) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape, as JAX computes them.

    Axes other than ``in_axis``, ``out_axis`` and ``batch_axis`` form the receptive
    field (e.g. a conv kernel's spatial axes) and multiply both fans.

    Example:
        >>> compute_fans((3, 3, 16, 32))   # HWIO conv kernel
        (144.0, 288.0)
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"variance_scaling: cannot compute fan-in/fan-out of a {len(shape)}-d shape {shape}; "
            "weights must be at least 2-d (use zeros, normal(...) or constant(...) for biases)."
        )
    batch = (batch_axis,) if isinstance(batch_axis, int) else tuple(batch_axis)
    n = len(shape)
    in_axis, out_axis = in_axis % n, out_axis % n
    batch_size = math.prod(shape[b % n] for b in batch)
    receptive = math.prod(shape) / (shape[in_axis] * shape[out_axis] * batch_size)
    return float(shape[in_axis] * receptive), float(shape[out_axis] * receptive)


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: int = -2,
    out_axis: int = -1,
    batch_axis: Sequence[int] | int = (),
    dtype: Any = None,
) -> Initializer:
    """Samples with variance ``scale / n`` where n is fan_in, fan_out or their mean.

    ``mode``: "fan_in", "fan_out" or "fan_avg". ``distribution``: "truncated_normal"
    (a normal truncated to two standard deviations, rescaled to the exact variance),
    "normal", or "uniform" (on ``[-sqrt(3 * variance), sqrt(3 * variance)]``).

    Example:
        >>> init = variance_scaling(2.0, "fan_in", "normal")   # He normal
        >>> w = init(fnn.random.key(0), (256, 128))             # std ~ sqrt(2 / 256)
    """
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(
            f"variance_scaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}"
        )
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(
            "variance_scaling: distribution must be 'truncated_normal', 'normal' or 'uniform', "
            f"got {distribution!r}"
        )

    def init(key, shape, dtype=dtype):
        shape, dt = _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, n)
        if distribution == "truncated_normal":
            std = math.sqrt(variance) / _TRUNCATED_STD
            return random.truncated_normal(key, -2.0, 2.0, shape, dt) * fnp.asarray(std, dt)
        if distribution == "normal":
            return random.normal(key, shape, dt) * fnp.asarray(math.sqrt(variance), dt)
        limit = math.sqrt(3 * variance)
        return random.uniform(key, shape, dt, -limit, limit)

    return init


def glorot_uniform(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """Glorot/Xavier uniform: variance ``1 / fan_avg``.

    Example:
        >>> w = glorot_uniform()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """Glorot/Xavier normal (truncated): variance ``1 / fan_avg``.

    Example:
        >>> w = glorot_normal()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(
        1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis, dtype
    )


def lecun_uniform(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """LeCun uniform: variance ``1 / fan_in``.

    Example:
        >>> w = lecun_uniform()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """LeCun normal (truncated): variance ``1 / fan_in``; Flax's default for Dense kernels.

    Example:
        >>> w = lecun_normal()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def he_uniform(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """He/Kaiming uniform: variance ``2 / fan_in`` (for ReLU networks).

    Example:
        >>> w = he_uniform()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(
    in_axis: int = -2, out_axis: int = -1, batch_axis: Sequence[int] | int = (), dtype: Any = None
) -> Initializer:
    """He/Kaiming normal (truncated): variance ``2 / fan_in`` (for ReLU networks).

    Example:
        >>> w = he_normal()(fnn.random.key(0), (4, 3))
    """
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal
