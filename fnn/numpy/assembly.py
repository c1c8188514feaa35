"""Building arrays from parts and taking parts out: block, insert, delete, resize,
trim_zeros, diagflat; and the functional forms of numpy's in-place writes: fill_diagonal,
put, put_along_axis, place.

Positions (``obj`` of insert/delete, the mask of place, the zeros trim_zeros removes)
fix the output's shape, so they must be concrete; the values may be traced and are
differentiable. fnn arrays are immutable, so the in-place functions return the updated
array and, as in JAX, need ``inplace=False`` to say that this is understood.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.insert(fnp.array([1, 2, 3]), 1, 9)
    Array([1, 9, 2, 3], dtype=int32)
"""

from __future__ import annotations

import math

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, is_array
from fnn.numpy.contraction import diag
from fnn.numpy.indexing import take
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.shape import broadcast_to, concatenate, moveaxis, ravel, reshape

__all__ = [
    "block", "insert", "delete", "resize", "trim_zeros", "diagflat", "fill_diagonal",
    "put", "put_along_axis", "place",
]  # fmt: skip


def _concrete(name, x, what):
    if isinstance(x, Tracer):
        val = x.concrete_value()
        if val is None:
            raise FnnTypeError(
                f"{name}: {what} decides the output's shape, so it must be concrete, not "
                "traced (pass it as a static argument under jit)"
            )
        return np.asarray(val)
    return np.asarray(x)


def _axis_of(name, arr, axis):
    if axis is None:
        return ravel(arr), 0
    (ax,) = normalize_axes(name, axis, arr.ndim)
    return arr, ax


# ---- block ----------------------------------------------------------------------------------


def _depth(name, arrays, where="arrays"):
    """The nesting depth of lists, checked to be the same everywhere."""
    if isinstance(arrays, tuple):
        raise FnnTypeError(f"{name}: {where} is a tuple; only lists nest blocks (as in numpy)")
    if not isinstance(arrays, list):
        return 0
    if not arrays:
        raise FnnTypeError(f"{name}: {where} is an empty list")
    depths = {_depth(name, a, f"{where}[{i}]") for i, a in enumerate(arrays)}
    if len(depths) != 1:
        raise FnnTypeError(f"{name}: the lists in {where} are nested to different depths")
    return depths.pop() + 1


def _leaves(arrays):
    if isinstance(arrays, list):
        return [leaf for a in arrays for leaf in _leaves(a)]
    return [asarray(arrays)]


def block(arrays):
    """An array assembled from nested lists of blocks, as numpy.block: the innermost
    lists join along the last axis, the next ones along the one before, and so on.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.block([[fnp.eye(2), fnp.zeros((2, 1))], [fnp.ones((1, 2)), fnp.ones((1, 1))]])
        Array([[1., 0., 0.],
               [0., 1., 0.],
               [1., 1., 1.]], dtype=float32)
    """
    depth = _depth("block", arrays)
    rank = max([depth] + [leaf.ndim for leaf in _leaves(arrays)])

    def build(part, level):
        if level == depth:
            x = asarray(part)
            return lax.reshape(x, (1,) * (rank - x.ndim) + x.shape)
        return concatenate([build(p, level + 1) for p in part], axis=level - depth)

    return build(arrays, 0)


# ---- insert and delete ------------------------------------------------------------------------


def _positions(name, obj, n):
    """Concrete integer positions of ``obj`` (an int, slice, sequence or mask) in [0, n)."""
    if isinstance(obj, slice):
        return np.arange(n)[obj], False
    idx = _concrete(name, obj, "obj")
    if idx.dtype == np.bool_:
        if idx.shape != (n,):
            raise FnnTypeError(f"{name}: a boolean obj must have shape ({n},), got {idx.shape}")
        return np.nonzero(idx)[0], False
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise FnnTypeError(f"{name}: obj must hold integers, got dtype {idx.dtype}")
    return idx.astype(np.int64), idx.ndim == 0


def delete(arr, obj, axis=None):
    """``arr`` without the entries at ``obj`` (an int, slice, sequence of ints or a mask)
    along ``axis`` (of the flattened array when None), as numpy.delete.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.delete(fnp.arange(6).reshape(2, 3), [0, 2], axis=1)
        Array([[1],
               [4]], dtype=int32)
    """
    a, ax = _axis_of("delete", asarray(arr), axis)
    n = a.shape[ax]
    idx, _ = _positions("delete", obj, n)
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise FnnTypeError(f"delete: index out of bounds for axis {ax} of length {n}: {obj!r}")
    keep = np.ones(n, bool)
    keep[idx % n if n else idx] = False
    return take(a, np.nonzero(keep)[0], axis=ax)


def insert(arr, obj, values, axis=None):
    """``values`` inserted into ``arr`` before the positions ``obj`` along ``axis`` (of
    the flattened array when None), with numpy.insert's broadcasting: for an integer
    ``obj`` the values' first axis runs along ``axis``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.insert(fnp.zeros((2, 2)), 1, fnp.array([5.0, 6.0]), axis=1)
        Array([[0., 5., 0.],
               [0., 6., 0.]], dtype=float32)
    """
    a, ax = _axis_of("insert", asarray(arr), axis)
    n = a.shape[ax]
    idx, scalar = _positions("insert", obj, n)
    values = asarray(values, a.dtype)
    if idx.size and (idx.min() < -n or idx.max() > n):
        raise FnnTypeError(f"insert: index out of bounds for axis {ax} of length {n}: {obj!r}")
    idx = np.where(idx < 0, idx + n, idx)
    if scalar:
        v = lax.reshape(values, (1,) * max(0, a.ndim - values.ndim) + values.shape)
        v = moveaxis(v, 0, ax)
        count = v.shape[ax]
        idx = np.full(count, int(idx))
    else:
        idx = idx.reshape(-1)
        count = idx.size
        v = values
    shape = list(a.shape)
    shape[ax] = count
    try:
        v = broadcast_to(v, tuple(shape))
    except FnnTypeError:
        raise FnnTypeError(
            f"insert: values of shape {values.shape} do not fit {count} new entries along "
            f"axis {ax} of an array of shape {a.shape}"
        ) from None
    # Where each new entry lands: numpy sorts the positions stably and shifts them.
    order = np.argsort(idx, kind="stable")
    new_at = np.empty(count, np.int64)
    new_at[order] = idx[order] + np.arange(count)
    is_new = np.zeros(n + count, bool)
    is_new[new_at] = True
    source = np.empty(n + count, np.int64)
    source[~is_new] = np.arange(n)
    source[new_at] = n + np.arange(count)
    return take(concatenate([a, v], axis=ax), source, axis=ax)


# ---- resize, trim_zeros, diagflat ---------------------------------------------------------


def resize(a, new_shape):
    """An array of ``new_shape`` filled with the elements of ``a`` repeated in order (zeros
    if ``a`` is empty), as numpy.resize.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.resize(fnp.array([1, 2, 3]), (2, 4))
        Array([[1, 2, 3, 1],
               [2, 3, 1, 2]], dtype=int32)
    """
    a = ravel(asarray(a))
    shape = (new_shape,) if isinstance(new_shape, int | np.integer) else tuple(new_shape)
    if any(d < 0 for d in shape):
        raise FnnTypeError(f"resize: the new shape must be non-negative, got {shape}")
    size = math.prod(shape)
    if a.size == 0:
        return lax.broadcast_to(np.zeros((), a.dtype), shape)
    return reshape(take(a, np.arange(size) % a.size), shape)


def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` without its leading ('f') and/or trailing ('b') zeros: along each of
    ``axis`` (all axes when None) the slices that hold only zeros are cut, as
    numpy.trim_zeros. The values must be concrete (they decide the shape).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.trim_zeros(fnp.array([0, 0, 1, 2, 0]))
        Array([1, 2], dtype=int32)
    """
    x = asarray(filt)
    trim = trim.lower()
    if not set(trim) <= {"f", "b"}:
        raise FnnTypeError(f"trim_zeros: trim must be made of 'f' and 'b', got {trim!r}")
    nonzero = _concrete("trim_zeros", x, "filt's values") != 0
    axes = normalize_axes("trim_zeros", axis, x.ndim)
    if not nonzero.any():
        start = [0] * x.ndim
        stop = list(x.shape)
        for ax in axes:
            if "f" in trim:
                start[ax] = x.shape[ax]
            else:
                stop[ax] = 0
        start = [min(s, e) for s, e in zip(start, stop, strict=True)]
        return lax.slice(x, start, [max(s, e) for s, e in zip(start, stop, strict=True)])
    start, stop = [0] * x.ndim, list(x.shape)
    for ax in axes:
        other = tuple(i for i in range(x.ndim) if i != ax)
        hits = np.nonzero(nonzero.any(axis=other))[0]
        if "f" in trim:
            start[ax] = int(hits[0])
        if "b" in trim:
            stop[ax] = int(hits[-1]) + 1
    return lax.slice(x, start, stop)


def diagflat(v, k=0):
    """A 2-D array with the flattened ``v`` on diagonal ``k``, as numpy.diagflat.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.diagflat(fnp.array([[1, 2]]), 1)
        Array([[0, 1, 0],
               [0, 0, 2],
               [0, 0, 0]], dtype=int32)
    """
    return diag(ravel(asarray(v)), k)


# ---- the functional forms of in-place writes ---------------------------------------------------


def _not_inplace(name, inplace):
    if inplace:
        raise FnnTypeError(
            f"{name}: fnn arrays are immutable, so it cannot write into its input; pass "
            f"inplace=False to get the updated array (as in JAX)"
        )


def _cycled(values, count, dtype):
    """``values`` flattened and repeated (or cut) to ``count`` entries, as numpy's flat
    assignments do."""
    v = ravel(asarray(values, dtype))
    if v.size == 0:
        raise FnnTypeError("need at least one value to write")
    return take(v, np.arange(count) % v.size) if v.size != count else v


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """``a`` with ``val`` (repeated as needed) on its main diagonal; a tall matrix's
    diagonal starts again below it when ``wrap``, as numpy.fill_diagonal. Needs
    ``inplace=False``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fill_diagonal(fnp.zeros((2, 3)), 7.0, inplace=False)
        Array([[7., 0., 0.],
               [0., 7., 0.]], dtype=float32)
    """
    _not_inplace("fill_diagonal", inplace)
    a = asarray(a)
    if a.ndim < 2:
        raise FnnTypeError(f"fill_diagonal: needs an array of rank >= 2, got shape {a.shape}")
    if a.ndim == 2:
        step = a.shape[1] + 1
        end = None if wrap else a.shape[1] * a.shape[1]
    else:
        if len(set(a.shape)) != 1:
            raise FnnTypeError(
                f"fill_diagonal: all axes of a rank > 2 array must have one length, got {a.shape}"
            )
        step = 1 + int(np.cumprod(a.shape[:-1]).sum())
        end = None
    flat_idx = np.arange(a.size)[:end:step]
    flat = ravel(a).at[flat_idx].set(_cycled(val, flat_idx.size, a.dtype))
    return reshape(flat, a.shape)


def put(a, ind, v, mode="raise", *, inplace=True):
    """The flattened ``a`` with ``v`` (repeated as needed) written at the flat indices
    ``ind``; ``mode`` is 'raise' (indices concrete and in bounds), 'wrap' or 'clip', as
    numpy.put. Needs ``inplace=False``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.put(fnp.zeros(4), fnp.array([0, 2]), fnp.array([5.0, 6.0]), inplace=False)
        Array([5., 0., 6., 0.], dtype=float32)
    """
    _not_inplace("put", inplace)
    a = asarray(a)
    ind = asarray(ind)
    if not np.issubdtype(ind.dtype, np.integer):
        raise FnnTypeError(f"put: ind must hold integers, got dtype {ind.dtype}")
    n = a.size
    ind = ravel(ind)
    if mode == "wrap":
        ind = ind % n
    elif mode == "clip":
        ind = lax.min(lax.max(ind, np.zeros((), ind.dtype)), np.asarray(n - 1, ind.dtype))
    elif mode == "raise":
        val = _concrete("put", ind, "with mode='raise', ind")
        if val.size and (val.min() < -n or val.max() >= n):
            raise FnnTypeError(f"put: an index is out of bounds for an array of size {n}")
    else:
        raise FnnTypeError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    flat = ravel(a).at[ind].set(_cycled(v, ind.shape[0], a.dtype))
    return reshape(flat, a.shape)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """``arr`` with ``values`` written at ``indices`` along ``axis`` (the inverse of
    take_along_axis; ``axis=None`` means the flattened array), as numpy.put_along_axis.
    Needs ``inplace=False``.

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.array([[10, 30, 20], [60, 40, 50]])
        >>> fnp.put_along_axis(x, fnp.argmax(x, axis=1, keepdims=True), 0, axis=1, inplace=False)
        Array([[10,  0, 20],
               [ 0, 40, 50]], dtype=int32)
    """
    _not_inplace("put_along_axis", inplace)
    if mode not in (None, "clip", "fill", "promise_in_bounds"):
        raise FnnTypeError(f"put_along_axis: unknown mode {mode!r}")
    arr = asarray(arr)
    if axis is None:
        return reshape(put_along_axis(ravel(arr), ravel(indices), values, 0, False), arr.shape)
    (ax,) = normalize_axes("put_along_axis", axis, arr.ndim)
    indices = indices if is_array(indices) else np.asarray(indices)
    if indices.ndim != arr.ndim:
        raise FnnTypeError(
            f"put_along_axis: indices of shape {indices.shape} need the rank of arr {arr.shape}"
        )
    shape = np.broadcast_shapes(
        tuple(1 if i == ax else d for i, d in enumerate(arr.shape)),
        tuple(1 if i == ax else d for i, d in enumerate(indices.shape)),
    )
    shape = tuple(indices.shape[ax] if i == ax else d for i, d in enumerate(shape))
    index = []
    for d in range(arr.ndim):
        if d == ax:
            index.append(broadcast_to(indices, shape))
        else:
            grid = [1] * arr.ndim
            grid[d] = shape[d]
            index.append(np.broadcast_to(np.arange(shape[d]).reshape(grid), shape))
    v = broadcast_to(asarray(values, arr.dtype), shape)
    return arr.at[tuple(index)].set(v)


def place(arr, mask, vals, *, inplace=True):
    """``arr`` with the entries where the (concrete) ``mask`` holds replaced by ``vals``
    in order, repeated as needed, as numpy.place. Needs ``inplace=False``.

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.arange(5)
        >>> fnp.place(x, x > 2, fnp.array([9, 8]), inplace=False)
        Array([0, 1, 2, 9, 8], dtype=int32)
    """
    _not_inplace("place", inplace)
    arr = asarray(arr)
    m = _concrete("place", mask, "the mask").astype(bool)
    if m.size != arr.size:
        raise FnnTypeError(f"place: mask of size {m.size} must match arr of size {arr.size}")
    positions = np.nonzero(m.reshape(-1))[0]
    if positions.size == 0:
        return arr
    flat = ravel(arr).at[positions].set(_cycled(vals, positions.size, arr.dtype))
    return reshape(flat, arr.shape)
