"""Reductions that ignore NaNs: nansum, nanprod, nanmean, nanvar, nanstd, nanmax,
nanmin, nanargmax, nanargmin, nancumsum, nancumprod (numpy's signatures).

Each replaces the NaNs by the reduction's identity (0 for sums, 1 for products,
-inf/+inf for max/min) and reduces, so gradients are zero at the NaNs and flow as
usual elsewhere. ``where=`` leaves more elements out, as in numpy. An all-NaN slice
gives NaN (nanmax, nanmean, ...) as numpy does, without its RuntimeWarning; nanargmax
and nanargmin give -1 there, as JAX does, since raising would need concrete values.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.nanmean(fnp.array([1.0, float("nan"), 3.0]))
    Array(2., dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.numpy._core import asarray, canonical_dtype
from fnn.numpy.math import isnan, logical_and, logical_not, maximum, minimum, sqrt
from fnn.numpy.math import where as _where
from fnn.numpy.reductions import _no_out, argmax, argmin, cumprod, cumsum
from fnn.numpy.reductions import max as _max
from fnn.numpy.reductions import min as _min
from fnn.numpy.reductions import prod as _prod
from fnn.numpy.reductions import sum as _sum

__all__ = [
    "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanargmax",
    "nanargmin", "nancumsum", "nancumprod",
]  # fmt: skip


def _keep(a, mask):
    """Which elements take part (None for all): not NaN, and inside ``mask`` (numpy's
    ``where=``)."""
    keep = logical_not(isnan(a)) if np.issubdtype(a.dtype, np.inexact) else None
    if mask is not None:
        m = lax.broadcast_to(asarray(mask), a.shape)
        keep = m if keep is None else logical_and(keep, m)
    return keep


def _filled(a, mask, identity):
    keep = _keep(a, mask)
    return a if keep is None else _where(keep, a, identity)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """The sum over ``axis``, NaNs counted as zero, as numpy.nansum.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nansum(fnp.array([[1.0, float("nan")], [2.0, 3.0]]), axis=1)
        Array([1., 5.], dtype=float32)
    """
    _no_out("nansum", out)
    a = asarray(a)
    total = _sum(_filled(a, where, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    return total if initial is None else total + initial


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """The product over ``axis``, NaNs counted as one, as numpy.nanprod.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanprod(fnp.array([2.0, float("nan"), 3.0]))
        Array(6., dtype=float32)
    """
    _no_out("nanprod", out)
    a = asarray(a)
    total = _prod(_filled(a, where, 1), axis=axis, dtype=dtype, keepdims=keepdims)
    return total if initial is None else total * initial


def _count(a, keep, axis, keepdims):
    if keep is None:
        keep = lax.broadcast_to(np.asarray(True), a.shape)
    return _sum(keep, axis=axis, keepdims=keepdims)


def _float(a, dtype=None):
    a = asarray(a)
    if dtype is not None:
        return lax.convert_element_type(a, canonical_dtype(dtype))
    if not np.issubdtype(a.dtype, np.inexact):
        return lax.convert_element_type(a, config.default_float())
    return a


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """The mean of the non-NaN elements over ``axis`` (NaN if there are none).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanmean(fnp.array([[1.0, float("nan")], [2.0, 4.0]]), axis=1)
        Array([1., 3.], dtype=float32)
    """
    _no_out("nanmean", out)
    a = _float(a, dtype)
    keep = _keep(a, where)
    total = _sum(a if keep is None else _where(keep, a, 0), axis=axis, keepdims=keepdims)
    n = _count(a, keep, axis, keepdims)
    return lax.div(total, lax.convert_element_type(n, total.dtype))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None):
    """The variance of the non-NaN elements over ``axis``, dividing by ``count - ddof``
    (NaN where that is not positive), as numpy.nanvar.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanvar(fnp.array([1.0, float("nan"), 3.0]))
        Array(1., dtype=float32)
    """
    _no_out("nanvar", out)
    a = _float(a, dtype)
    keep = _keep(a, where)
    # NaNs are replaced before any arithmetic, so no NaN meets the zero cotangent that
    # the selects send to them (0 * NaN would make their gradient NaN).
    a = a if keep is None else _where(keep, a, 0)
    mean = nanmean(a, axis=axis, keepdims=True, where=keep)
    centered = lax.sub(a, lax.broadcast_to(mean, a.shape))
    centered = centered if keep is None else _where(keep, centered, 0)
    total = _sum(lax.mul(centered, centered), axis=axis, keepdims=keepdims)
    n = lax.convert_element_type(_count(a, keep, axis, keepdims), total.dtype)
    dof = lax.sub(n, np.asarray(ddof, total.dtype))
    positive = lax.gt(dof, np.zeros((), total.dtype))
    safe = _where(positive, dof, 1)
    return _where(positive, lax.div(total, safe), np.nan)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None):
    """The standard deviation of the non-NaN elements, ``sqrt(nanvar(...))``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanstd(fnp.array([1.0, float("nan"), 3.0]))
        Array(1., dtype=float32)
    """
    _no_out("nanstd", out)
    return sqrt(nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where))


def _nan_extremum(reduce, pick, fill, a, axis, keepdims, initial, mask):
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        masked = a if mask is None else _where(mask, a, _identity(a.dtype, fill))
        out = reduce(masked, axis=axis, keepdims=keepdims)
    else:
        keep = _keep(a, mask)
        out = reduce(_where(keep, a, fill), axis=axis, keepdims=keepdims)
        # A slice with nothing left is NaN, as numpy (not the fill value).
        none_left = logical_not(_count(a, keep, axis, keepdims) > 0)
        out = _where(none_left, np.nan, out)
    return out if initial is None else pick(out, initial)


def _identity(dtype, fill):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min if fill == -np.inf else info.max
    return fill


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """The maximum over ``axis`` ignoring NaNs (NaN for an all-NaN slice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanmax(fnp.array([1.0, float("nan"), 3.0]))
        Array(3., dtype=float32)
    """
    _no_out("nanmax", out)
    return _nan_extremum(_max, maximum, -np.inf, a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """The minimum over ``axis`` ignoring NaNs (NaN for an all-NaN slice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanmin(fnp.array([1.0, float("nan"), 3.0]))
        Array(1., dtype=float32)
    """
    _no_out("nanmin", out)
    return _nan_extremum(_min, minimum, np.inf, a, axis, keepdims, initial, where)


def _nan_arg(arg, fill, a, axis, keepdims):
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        return arg(a, axis=axis, keepdims=keepdims)
    nan = isnan(a)
    idx = arg(_where(nan, fill, a), axis=axis, keepdims=keepdims)
    all_nan = logical_not(_count(a, logical_not(nan), axis, keepdims) > 0)
    return _where(all_nan, np.asarray(-1, idx.dtype), idx)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """The index of the maximum ignoring NaNs; -1 for an all-NaN slice (JAX's choice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanargmax(fnp.array([1.0, float("nan"), 3.0]))
        Array(2, dtype=int32)
    """
    _no_out("nanargmax", out)
    return _nan_arg(argmax, -np.inf, a, axis, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """The index of the minimum ignoring NaNs; -1 for an all-NaN slice (JAX's choice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanargmin(fnp.array([1.0, float("nan"), 3.0]))
        Array(0, dtype=int32)
    """
    _no_out("nanargmin", out)
    return _nan_arg(argmin, np.inf, a, axis, keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """The cumulative sum, NaNs counted as zero, as numpy.nancumsum.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nancumsum(fnp.array([1.0, float("nan"), 3.0]))
        Array([1., 1., 4.], dtype=float32)
    """
    _no_out("nancumsum", out)
    return cumsum(_filled(asarray(a), None, 0), axis=axis, dtype=dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    """The cumulative product, NaNs counted as one, as numpy.nancumprod.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nancumprod(fnp.array([2.0, float("nan"), 3.0]))
        Array([2., 2., 6.], dtype=float32)
    """
    _no_out("nancumprod", out)
    return cumprod(_filled(asarray(a), None, 1), axis=axis, dtype=dtype)
