"""Reductions of fnn.numpy: sum, mean, var, max, argmax, cumsum, ... with axis/keepdims."""

from __future__ import annotations

import builtins
import math

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, canonical_dtype
from fnn.numpy.math import _as_bool, _squared_magnitude, multiply, sqrt, subtract

__all__ = [
    "sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "all", "any", "cumsum", "cumprod", "ptp", "average", "count_nonzero",
]  # fmt: skip


def normalize_axes(name: str, axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as sorted non-negative ints, with a clear error."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, int | np.integer):
            raise FnnTypeError(f"{name}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise FnnTypeError(
                f"{name}: axis {a} is out of bounds for an array of rank {ndim} "
                f"(valid: {-ndim} to {ndim - 1})"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise FnnTypeError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _no_out(name: str, out) -> None:
    # numpy's np.sum(x) calls x.sum(axis=..., out=None): accept out=None, as JAX does.
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (fnn arrays are immutable)")


def _keepdims(out, shape, axes):
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    return lax.reshape(out, kept)


def _reduce(name, lax_fn, a, axis, keepdims, dtype=None):
    a = asarray(a)
    if dtype is not None:
        a = lax.convert_element_type(a, canonical_dtype(dtype))
    axes = normalize_axes(name, axis, a.ndim)
    out = lax_fn(a, axes) if axes else a
    return _keepdims(out, a.shape, axes) if keepdims else out


def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    """Sum over ``axis`` (all axes when None); bools and small ints sum as the default int.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.sum(fnp.ones((2, 3)), axis=1)
        Array([3., 3.], dtype=float32)
    """
    _no_out("sum", out)
    a = asarray(a)
    if dtype is None and (
        a.dtype == np.bool_ or (np.issubdtype(a.dtype, np.integer) and a.dtype.itemsize < 4)
    ):
        dtype = config.default_int()
    return _reduce("sum", lax.reduce_sum, a, axis, keepdims, dtype)


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    _no_out("prod", out)
    a = asarray(a)
    if dtype is None and a.dtype == np.bool_:
        dtype = config.default_int()
    return _reduce("prod", lax.reduce_prod, a, axis, keepdims, dtype)


def max(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    _no_out("max", out)
    return _reduce("max", lax.reduce_max, a, axis, keepdims)


def min(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    _no_out("min", out)
    return _reduce("min", lax.reduce_min, a, axis, keepdims)


amax, amin = max, min


def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    _no_out("all", out)
    return _logical_reduce("all", lax.reduce_min, True, a, axis, keepdims)


def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    _no_out("any", out)
    return _logical_reduce("any", lax.reduce_max, False, a, axis, keepdims)


def _logical_reduce(name, lax_fn, identity, a, axis, keepdims):
    # reduce_min/max reject empty axes (no identity for numbers), but for bools the
    # identity exists: all([]) is True and any([]) is False, as in numpy.
    a = _as_bool(a)
    axes = normalize_axes(name, axis, a.ndim)
    if builtins.any(a.shape[i] == 0 for i in axes):
        shape = tuple(
            1 if i in axes else d for i, d in enumerate(a.shape) if keepdims or i not in axes
        )
        return lax.broadcast_to(asarray(identity), shape)
    return _reduce(name, lax_fn, a, axes, keepdims)


def count_nonzero(a, axis=None, keepdims=False):
    return sum(_as_bool(a), axis=axis, keepdims=keepdims)


def _count(shape, axes) -> int:
    return math.prod([shape[i] for i in axes])


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Arithmetic mean over ``axis``; integer input gives the default float."""
    _no_out("mean", out)
    a = asarray(a)
    if dtype is None and not np.issubdtype(a.dtype, np.inexact):
        dtype = config.default_float()
    axes = normalize_axes("mean", axis, a.ndim)
    total = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    n = _count(a.shape, axes)
    return lax.div(total, np.asarray(n, total.dtype))


def average(a, axis=None, weights=None, keepdims=False):
    if weights is None:
        return mean(a, axis=axis, keepdims=keepdims)
    a, weights = asarray(a), asarray(weights)
    num = sum(multiply(a, weights), axis=axis, keepdims=keepdims)
    den = sum(
        lax.broadcast_to(weights, a.shape) if weights.shape != a.shape else weights,
        axis=axis,
        keepdims=keepdims,
    )
    return num / den


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance ``mean(|a - mean(a)|**2)`` with ``ddof`` as in numpy."""
    _no_out("var", out)
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        a = lax.convert_element_type(a, config.default_float())
    axes = normalize_axes("var", axis, a.ndim)
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    sq = _squared_magnitude(centered)  # real for complex input, as numpy's
    n = _count(a.shape, axes) - ddof
    total = sum(sq, axis=axes, dtype=dtype, keepdims=keepdims)
    return lax.div(total, np.asarray(n, total.dtype))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    _no_out("std", out)
    return sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


def ptp(a, axis=None, out=None, keepdims=False):
    _no_out("ptp", out)
    return subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def _arg(name, lax_fn, a, axis, keepdims):
    a = asarray(a)
    if axis is None:
        out = lax_fn(lax.reshape(a, (a.size,)), 0, config.default_int())
        return lax.reshape(out, (1,) * a.ndim) if keepdims else out
    (ax,) = normalize_axes(name, axis, a.ndim)
    out = lax_fn(a, ax, config.default_int())
    return _keepdims(out, a.shape, (ax,)) if keepdims else out


def argmax(a, axis=None, out=None, keepdims=False):
    """Index of the maximum (the first one on ties), over ``axis`` or the flattened array."""
    _no_out("argmax", out)
    return _arg("argmax", lax.argmax, a, axis, keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    _no_out("argmin", out)
    return _arg("argmin", lax.argmin, a, axis, keepdims)


def _cum(name, lax_fn, a, axis, dtype):
    a = asarray(a)
    if dtype is not None:
        a = lax.convert_element_type(a, canonical_dtype(dtype))
    elif a.dtype == np.bool_:
        a = lax.convert_element_type(a, config.default_int())
    if axis is None:
        a = lax.reshape(a, (a.size,))
        axis = 0
    (ax,) = normalize_axes(name, axis, a.ndim)
    return lax_fn(a, ax)


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    _no_out("cumsum", out)
    return _cum("cumsum", lax.cumsum, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    _no_out("cumprod", out)
    return _cum("cumprod", lax.cumprod, a, axis, dtype)
