"""The array API standard's names that numpy 2 and JAX added beside numpy's older ones:
acos ... atanh, pow, concat, permute_dims, bitwise_invert and the shifts,
matrix_transpose, unstack, vecdot, matvec, vecmat, cumulative_sum, cumulative_prod,
isdtype and the unique_* family. Most are the older function under the new name; where
the standard differs (``cumulative_sum``'s ``include_initial``, ``unique_inverse``'s
shape) it is followed.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.cumulative_sum(fnp.array([1, 2, 3]), include_initial=True)
    Array([0, 1, 3, 6], dtype=int32)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fnn import lax
from fnn.core import Array, FnnTypeError
from fnn.numpy import math as _math
from fnn.numpy._core import asarray
from fnn.numpy.contraction import matmul
from fnn.numpy.linalg import matrix_transpose, vecdot
from fnn.numpy.reductions import cumprod, cumsum, normalize_axes
from fnn.numpy.shape import concatenate, moveaxis, transpose
from fnn.numpy.sorting import unique

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow", "concat",
    "permute_dims", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift",
    "matrix_transpose", "unstack", "vecdot", "matvec", "vecmat", "cumulative_sum",
    "cumulative_prod", "isdtype", "unique_all", "unique_counts", "unique_inverse",
    "unique_values",
]  # fmt: skip

acos, acosh, asin, asinh = _math.arccos, _math.arccosh, _math.arcsin, _math.arcsinh
atan, atan2, atanh = _math.arctan, _math.arctan2, _math.arctanh
pow = _math.power  # noqa: A001 - the standard's name
bitwise_invert = _math.invert
bitwise_left_shift, bitwise_right_shift = _math.left_shift, _math.right_shift


def concat(arrays, /, *, axis=0):
    """Join arrays along an existing ``axis`` (flattened first when None), as the array
    API's concat (numpy's concatenate).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.concat([fnp.zeros(2), fnp.ones(1)])
        Array([0., 0., 1.], dtype=float32)
    """
    return concatenate(arrays, axis=axis)


def permute_dims(a, /, axes):
    """``a`` with its axes in the order ``axes``, as the array API's permute_dims.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.permute_dims(fnp.ones((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    return transpose(a, axes)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of stack).

    Example:
        >>> import fnn.numpy as fnp
        >>> [t.shape for t in fnp.unstack(fnp.ones((2, 3)), axis=1)]
        [(2,), (2,), (2,)]
    """
    x = asarray(x)
    if x.ndim == 0:
        raise FnnTypeError("unstack: needs an array with at least one axis, got a scalar")
    (ax,) = normalize_axes("unstack", axis, x.ndim)
    x = moveaxis(x, ax, 0)
    return tuple(x[i] for i in range(x.shape[0]))


def matvec(x1, x2, /):
    """Matrix-vector products ``x1 @ x2`` of stacks: (..., m, n) and (..., n) give
    (..., m), the batch axes broadcast.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.matvec(fnp.eye(2) * 2.0, fnp.array([1.0, 3.0]))
        Array([2., 6.], dtype=float32)
    """
    a, v = asarray(x1), asarray(x2)
    if a.ndim < 2 or v.ndim < 1:
        raise FnnTypeError(f"matvec: expected (..., m, n) and (..., n), got {a.shape}, {v.shape}")
    return matmul(a, v[..., None])[..., 0]


def vecmat(x1, x2, /):
    """Vector-matrix products ``conj(x1) @ x2`` of stacks: (..., n) and (..., n, m) give
    (..., m), the batch axes broadcast.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.vecmat(fnp.array([1.0, 3.0]), fnp.eye(2) * 2.0)
        Array([2., 6.], dtype=float32)
    """
    v, a = asarray(x1), asarray(x2)
    if a.ndim < 2 or v.ndim < 1:
        raise FnnTypeError(f"vecmat: expected (..., n) and (..., n, m), got {v.shape}, {a.shape}")
    return matmul(_math.conj(v)[..., None, :], a)[..., 0, :]


def _cumulative(name, fn, identity, x, axis, dtype, include_initial):
    x = asarray(x)
    if axis is None:
        if x.ndim > 1:
            raise FnnTypeError(
                f"{name}: give axis= for an array of rank {x.ndim} (only 1-D input may omit it)"
            )
        axis = 0
    if x.ndim == 0:
        raise FnnTypeError(f"{name}: needs an array with at least one axis, got a scalar")
    (ax,) = normalize_axes(name, axis, x.ndim)
    out = fn(x, axis=ax, dtype=dtype)
    if not include_initial:
        return out
    shape = list(out.shape)
    shape[ax] = 1
    first = lax.broadcast_to(np.asarray(identity, out.dtype), tuple(shape))
    return lax.concatenate([first, out], ax)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """The cumulative sum along ``axis`` (required unless ``x`` is 1-D), starting with 0
    when ``include_initial``, as the array API's cumulative_sum.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.cumulative_sum(fnp.array([[1, 2], [3, 4]]), axis=1)
        Array([[1, 3],
               [3, 7]], dtype=int32)
    """
    return _cumulative("cumulative_sum", cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """The cumulative product along ``axis`` (required unless ``x`` is 1-D), starting with
    1 when ``include_initial``, as the array API's cumulative_prod.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.cumulative_prod(fnp.array([2, 3, 4]), include_initial=True)
        Array([ 1,  2,  6, 24], dtype=int32)
    """
    return _cumulative("cumulative_prod", cumprod, 1, x, axis, dtype, include_initial)


def isdtype(dtype, kind) -> bool:
    """Whether ``dtype`` is of ``kind`` ('bool', 'signed integer', 'unsigned integer',
    'integral', 'real floating', 'complex floating', 'numeric', a dtype, or a tuple of
    these), as the array API's isdtype.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.isdtype(fnp.float32, "real floating"), fnp.isdtype(fnp.int32, ("bool", "integral"))
        (True, True)
    """
    return bool(np.isdtype(np.dtype(dtype), kind))


class UniqueAllResult(NamedTuple):
    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCountsResult(NamedTuple):
    values: Array
    counts: Array


class UniqueInverseResult(NamedTuple):
    values: Array
    inverse_indices: Array


def _unique_parts(x, size, fill_value, **flags):
    x = asarray(x)
    parts = unique(x, equal_nan=False, size=size, fill_value=fill_value, **flags)
    return x, parts if isinstance(parts, tuple) else (parts,)


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted unique values of the flattened (concrete) ``x``; ``size`` pads or
    truncates to a fixed length, as in JAX.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unique_values(fnp.array([3, 1, 3]))
        Array([1, 3], dtype=int32)
    """
    return _unique_parts(x, size, fill_value)[1][0]


def unique_counts(x, /, *, size=None, fill_value=None) -> UniqueCountsResult:
    """The unique values and how often each occurs.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unique_counts(fnp.array([3, 1, 3])).counts
        Array([1, 2], dtype=int32)
    """
    _, (values, counts) = _unique_parts(x, size, fill_value, return_counts=True)
    return UniqueCountsResult(values, counts)


def unique_inverse(x, /, *, size=None, fill_value=None) -> UniqueInverseResult:
    """The unique values and, for each element of ``x`` (in ``x``'s shape), the index of
    its value among them.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unique_inverse(fnp.array([[3, 1], [3, 2]])).inverse_indices
        Array([[2, 0],
               [2, 1]], dtype=int32)
    """
    x, (values, inverse) = _unique_parts(x, size, fill_value, return_inverse=True)
    return UniqueInverseResult(values, lax.reshape(inverse, x.shape))


def unique_all(x, /, *, size=None, fill_value=None) -> UniqueAllResult:
    """The unique values, the index of each one's first occurrence in the flattened
    ``x``, the inverse indices (in ``x``'s shape) and the counts.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unique_all(fnp.array([3, 1, 3])).indices
        Array([1, 0], dtype=int32)
    """
    x, (values, index, inverse, counts) = _unique_parts(
        x, size, fill_value, return_index=True, return_inverse=True, return_counts=True
    )
    return UniqueAllResult(values, index, lax.reshape(inverse, x.shape), counts)
