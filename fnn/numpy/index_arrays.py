"""Index arrays: the positions of diagonals and triangles (diag_indices, tril_indices,
triu_indices and their *_from forms, mask_indices), and conversions between flat and
multi-dimensional indices (ravel_multi_index, unravel_index).

Shapes and offsets are static, so the results of the first group are constants;
ravel_multi_index and unravel_index compute on (possibly traced) index arrays.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.unravel_index(fnp.array([5, 7]), (2, 4))
    (Array([1, 1], dtype=int32), Array([1, 3], dtype=int32))
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray
from fnn.numpy.math import where
from fnn.numpy.shape import broadcast_arrays

__all__ = [
    "diag_indices", "diag_indices_from", "tril_indices", "triu_indices",
    "tril_indices_from", "triu_indices_from", "mask_indices", "ravel_multi_index",
    "unravel_index",
]  # fmt: skip


def _ints(arrays):
    return tuple(asarray(a.astype(config.default_int())) for a in arrays)


def diag_indices(n, ndim=2):
    """The index arrays of the main diagonal of an ``(n,) * ndim`` array.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.diag_indices(3)
        (Array([0, 1, 2], dtype=int32), Array([0, 1, 2], dtype=int32))
    """
    return _ints(np.diag_indices(n, ndim))


def diag_indices_from(arr):
    """:func:`diag_indices` for ``arr``, whose axes must all have one length (rank >= 2).

    Example:
        >>> import fnn.numpy as fnp
        >>> len(fnp.diag_indices_from(fnp.ones((2, 2, 2))))
        3
    """
    shape = asarray(arr).shape
    if len(shape) < 2 or len(set(shape)) != 1:
        raise FnnTypeError(
            f"diag_indices_from: needs rank >= 2 and equal axis lengths, got shape {shape}"
        )
    return diag_indices(shape[0], len(shape))


def tril_indices(n, k=0, m=None):
    """The row and column indices of the lower triangle (on and below diagonal ``k``) of
    an (n, m) array.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.tril_indices(2)
        (Array([0, 1, 1], dtype=int32), Array([0, 0, 1], dtype=int32))
    """
    return _ints(np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
    """The row and column indices of the upper triangle (on and above diagonal ``k``) of
    an (n, m) array.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.triu_indices(2)
        (Array([0, 0, 1], dtype=int32), Array([0, 1, 1], dtype=int32))
    """
    return _ints(np.triu_indices(n, k, m))


def _matrix_shape(name, arr):
    shape = asarray(arr).shape
    if len(shape) != 2:
        raise FnnTypeError(f"{name}: needs a 2-D array, got shape {shape}")
    return shape


def tril_indices_from(arr, k=0):
    """:func:`tril_indices` for the shape of the 2-D ``arr``."""
    n, m = _matrix_shape("tril_indices_from", arr)
    return tril_indices(n, k, m)


def triu_indices_from(arr, k=0):
    """:func:`triu_indices` for the shape of the 2-D ``arr``."""
    n, m = _matrix_shape("triu_indices_from", arr)
    return triu_indices(n, k, m)


def mask_indices(n, mask_func, k=0):
    """The indices where ``mask_func(ones((n, n)), k)`` is non-zero (``mask_func`` such as
    fnn.numpy.triu), as numpy.mask_indices.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.mask_indices(2, fnp.triu)
        (Array([0, 0, 1], dtype=int32), Array([0, 1, 1], dtype=int32))
    """
    mask = np.asarray(mask_func(np.ones((n, n), np.int32), k)) != 0
    return _ints(np.nonzero(mask))


def _concrete(x):
    return x.concrete_value() if isinstance(x, Tracer) else np.asarray(x)


def _dims(name, dims):
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise FnnTypeError(f"{name}: dimensions must be non-negative, got {dims}")
    return dims


def _strides(dims, order):
    if order not in ("C", "F"):
        raise FnnTypeError(f"order must be 'C' or 'F', got {order!r}")
    axes = range(len(dims)) if order == "C" else reversed(range(len(dims)))
    strides = [0] * len(dims)
    step = 1
    for i in reversed(list(axes)):
        strides[i] = step
        step *= dims[i]
    return strides


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Flat indices of the index tuple ``multi_index`` into an array of shape ``dims``.
    ``mode`` is 'raise' (indices must be concrete and in bounds), 'wrap' or 'clip', or
    a tuple of these per dimension.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.ravel_multi_index((fnp.array([1, 0]), fnp.array([2, 3])), (2, 4))
        Array([6, 3], dtype=int32)
    """
    dims = _dims("ravel_multi_index", dims)
    idx = [asarray(i) for i in multi_index]
    if len(idx) != len(dims):
        raise FnnTypeError(
            f"ravel_multi_index: {len(idx)} index arrays for {len(dims)} dimensions {dims}"
        )
    for i in idx:
        if not np.issubdtype(i.dtype, np.integer):
            raise FnnTypeError(f"ravel_multi_index: indices must be integers, got {i.dtype}")
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    idx = broadcast_arrays(*idx) if idx else []
    out = None
    for i, d, m, stride in zip(idx, dims, modes, _strides(dims, order), strict=True):
        i = lax.convert_element_type(i, config.default_int())
        if m == "wrap":
            i = i % d
        elif m == "clip":
            i = lax.min(lax.max(i, np.zeros((), i.dtype)), np.asarray(d - 1, i.dtype))
        elif m == "raise":
            val = _concrete(i)
            if val is None:
                raise FnnTypeError(
                    "ravel_multi_index: mode='raise' checks the indices, which needs concrete "
                    "values; under jit use mode='wrap' or mode='clip'"
                )
            if val.size and (val.min() < 0 or val.max() >= d):
                raise FnnTypeError(
                    f"ravel_multi_index: an index is out of bounds for a dimension of {d}: "
                    f"values from {val.min()} to {val.max()}"
                )
        else:
            raise FnnTypeError(f"ravel_multi_index: mode must be raise, wrap or clip, got {m!r}")
        term = i * stride
        out = term if out is None else out + term
    return out


def unravel_index(indices, shape, order="C"):
    """The multi-dimensional indices of flat ``indices`` into an array of ``shape``, as a
    tuple of arrays. Concrete out-of-bounds indices raise, as in numpy; traced ones are
    clipped to the array, as in JAX (a traced program cannot raise).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unravel_index(22, (7, 6))
        (Array(3, dtype=int32), Array(4, dtype=int32))
    """
    dims = _dims("unravel_index", shape)
    idx = asarray(indices)
    if not np.issubdtype(idx.dtype, np.integer):
        raise FnnTypeError(f"unravel_index: indices must be integers, got dtype {idx.dtype}")
    size = math.prod(dims)
    val = _concrete(idx)
    if val is not None and val.size and (val.min() < 0 or val.max() >= size):
        raise FnnTypeError(
            f"unravel_index: indices must lie in [0, {size}) for shape {dims}, got values "
            f"from {val.min()} to {val.max()}"
        )
    idx = lax.convert_element_type(idx, config.default_int())
    if size:
        idx = where(idx < 0, 0, where(idx >= size, size - 1, idx))
    out = []
    for d, stride in zip(dims, _strides(dims, order), strict=True):
        out.append((idx // stride) % d if d else idx * 0)
    return tuple(out)
