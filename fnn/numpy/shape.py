"""Shape manipulation of fnn.numpy: reshape, transpose, stack, split, pad, roll, ..."""

from __future__ import annotations

import builtins
import math

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.indexing import take
from fnn.numpy.reductions import normalize_axes

__all__ = [
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "moveaxis", "swapaxes",
    "broadcast_to", "broadcast_arrays", "broadcast_shapes", "concatenate", "stack", "hstack",
    "vstack", "dstack", "column_stack", "split", "array_split", "tile", "repeat", "pad", "flip",
    "fliplr", "flipud", "roll", "atleast_1d", "atleast_2d", "atleast_3d", "shape", "ndim",
    "size", "append", "rollaxis", "rot90", "vsplit", "hsplit", "dsplit",
]  # fmt: skip


def shape(a):
    return asarray(a).shape


def ndim(a):
    return asarray(a).ndim


def size(a, axis=None):
    a = asarray(a)
    return a.size if axis is None else a.shape[axis]


def _resolve_shape(name, size_, newshape):
    if isinstance(newshape, int | np.integer):
        newshape = (int(newshape),)
    newshape = [int(d) for d in newshape]
    if newshape.count(-1) > 1:
        raise FnnTypeError(f"{name}: can only specify one unknown dimension (-1), got {newshape}")
    if -1 in newshape:
        known = math.prod([d for d in newshape if d != -1])
        if known == 0 or size_ % known:
            raise FnnTypeError(
                f"{name}: cannot reshape array of size {size_} into shape {tuple(newshape)}"
            )
        newshape[newshape.index(-1)] = size_ // known
    if math.prod(newshape) != size_:
        raise FnnTypeError(
            f"{name}: cannot reshape array of size {size_} into shape {tuple(newshape)}"
        )
    return tuple(newshape)


def _check_order(name, order):
    # fnn arrays have no memory layout of their own (jit may lay a value out either
    # way), so 'A' and 'K', which follow the layout, have no meaning; JAX refuses them too.
    if order not in ("C", "F"):
        raise NotImplementedError(
            f"{name}: order must be 'C' (row-major) or 'F' (column-major), got {order!r}; "
            "fnn arrays have no memory layout for 'A' or 'K' to follow"
        )


def reshape(a, newshape=None, order="C", *, shape=None):
    """Give ``a`` a new shape (one dimension may be -1), reading and writing the elements
    in row-major (``order='C'``) or column-major (``'F'``) order.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.reshape(fnp.arange(6), (2, -1)).shape
        (2, 3)
        >>> fnp.reshape(fnp.arange(6), (2, 3), order="F")
        Array([[0, 2, 4],
               [1, 3, 5]], dtype=int32)
    """
    _check_order("reshape", order)
    newshape = shape if newshape is None else newshape
    a = asarray(a)
    newshape = _resolve_shape("reshape", a.size, newshape)
    if order == "F":
        # Column-major is row-major on the reversed axes: transpose, reshape, transpose.
        flipped = lax.reshape(transpose(a), tuple(reversed(newshape)))
        return transpose(flipped)
    return lax.reshape(a, newshape)


def ravel(a, order="C"):
    """The elements of ``a`` in a 1-D array, in row-major (``'C'``) or column-major
    (``'F'``) order; also ``x.flatten(order)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.ravel(fnp.arange(6).reshape(2, 3), order="F")
        Array([0, 3, 1, 4, 2, 5], dtype=int32)
    """
    _check_order("ravel", order)
    a = asarray(a)
    return reshape(a, (a.size,), order=order)


def squeeze(a, axis=None):
    a = asarray(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = normalize_axes("squeeze", axis, a.ndim)
        for i in axes:
            if a.shape[i] != 1:
                raise FnnTypeError(
                    f"squeeze: cannot select axis {i} of shape {a.shape}: its size is not 1"
                )
    return lax.reshape(a, tuple(d for i, d in enumerate(a.shape) if i not in axes))


def expand_dims(a, axis):
    a = asarray(a)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out_ndim = a.ndim + len(axes)
    axes = normalize_axes("expand_dims", axes, out_ndim)
    shape_ = list(a.shape)
    for ax in axes:
        shape_.insert(ax, 1)
    return lax.reshape(a, shape_)


def transpose(a, axes=None):
    a = asarray(a)
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    else:
        axes = tuple(int(x) % a.ndim if -a.ndim <= x < a.ndim else x for x in axes)
    return lax.transpose(a, axes)


def moveaxis(a, source, destination):
    a = asarray(a)
    src = (source,) if isinstance(source, int | np.integer) else tuple(source)
    dst = (destination,) if isinstance(destination, int | np.integer) else tuple(destination)
    if len(src) != len(dst):
        raise FnnTypeError(
            f"moveaxis: source {source} and destination {destination} differ in length"
        )
    src = [normalize_axes("moveaxis", s, a.ndim)[0] for s in src]
    dst = [normalize_axes("moveaxis", d, a.ndim)[0] for d in dst]
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return lax.transpose(a, order)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    (i,) = normalize_axes("swapaxes", axis1, a.ndim)
    (j,) = normalize_axes("swapaxes", axis2, a.ndim)
    perm = list(range(a.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, perm)


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise FnnTypeError(f"broadcast_shapes: shapes {shapes} do not broadcast together") from None


def broadcast_to(array, shape):
    a = asarray(array)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    try:
        ok = np.broadcast_shapes(a.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise FnnTypeError(f"broadcast_to: cannot broadcast an array of shape {a.shape} to {shape}")
    return lax.broadcast_to(a, shape)


def broadcast_arrays(*args):
    arrays = [asarray(a) for a in args]
    target = broadcast_shapes(*[a.shape for a in arrays])
    return [lax.broadcast_to(a, target) for a in arrays]


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (``axis=None`` flattens them first)."""
    arrays = list(arrays)
    if not arrays:
        raise FnnTypeError("concatenate: need at least one array")
    arrays = [asarray(a) for a in promote_args("concatenate", *arrays)]
    if dtype is not None:
        arrays = [a.astype(dtype) for a in arrays]
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    ndim_ = arrays[0].ndim
    if ndim_ == 0:
        raise FnnTypeError("concatenate: zero-dimensional arrays cannot be concatenated")
    for i, a in enumerate(arrays):
        if a.ndim != ndim_:
            raise FnnTypeError(
                f"concatenate: all arrays need the same rank; array 0 has shape "
                f"{arrays[0].shape} and array {i} has shape {a.shape}"
            )
    (ax,) = normalize_axes("concatenate", axis, ndim_)
    return lax.concatenate(arrays, ax)


def stack(arrays, axis=0):
    """Join arrays of the same shape along a new axis."""
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise FnnTypeError("stack: need at least one array")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise FnnTypeError(
            f"stack: all arrays must have the same shape, got {[a.shape for a in arrays]}"
        )
    (ax,) = normalize_axes("stack", axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, ax) for a in arrays], axis=ax)


def hstack(tup):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(tup):
    return concatenate([atleast_2d(a) for a in tup], axis=0)


def dstack(tup):
    return concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    arrays = [asarray(a) for a in tup]
    return concatenate([a.reshape(-1, 1) if a.ndim < 2 else a for a in arrays], axis=1)


def atleast_1d(a):
    a = asarray(a)
    return a.reshape(1) if a.ndim == 0 else a


def atleast_2d(a):
    a = asarray(a)
    return a.reshape((1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a


def atleast_3d(a):
    a = asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1, 1)
    if a.ndim == 2:
        return a.reshape(a.shape + (1,))
    return a


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections (an int that must divide the axis) or at indices."""
    a = asarray(ary)
    (ax,) = normalize_axes("split", axis, a.ndim)
    n = a.shape[ax]
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise FnnTypeError(
                f"split: array split does not result in an equal division ({n} into {k})"
            )
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), n) for i in indices_or_sections] + [n]
    return [
        lax.slice_in_dim(a, lo, builtins.max(lo, hi), axis=ax)
        for lo, hi in zip(bounds[:-1], bounds[1:])
    ]


def _split_at_least(name, ary, indices_or_sections, rank, axis):
    a = asarray(ary)
    if a.ndim < rank:
        raise FnnTypeError(
            f"{name}: only works on arrays of {rank} or more dimensions, got shape {a.shape}"
        )
    return split(a, indices_or_sections, axis)


def vsplit(ary, indices_or_sections):
    """Split into rows (along axis 0) of an array of rank >= 2, as numpy.vsplit.

    Example:
        >>> import fnn.numpy as fnp
        >>> [p.shape for p in fnp.vsplit(fnp.ones((4, 3)), 2)]
        [(2, 3), (2, 3)]
    """
    return _split_at_least("vsplit", ary, indices_or_sections, 2, 0)


def hsplit(ary, indices_or_sections):
    """Split into columns (axis 1; axis 0 of a 1-D array), as numpy.hsplit.

    Example:
        >>> import fnn.numpy as fnp
        >>> [p.shape for p in fnp.hsplit(fnp.ones((4, 3)), [1])]
        [(4, 1), (4, 2)]
    """
    a = asarray(ary)
    if a.ndim == 0:
        raise FnnTypeError("hsplit: only works on arrays of 1 or more dimensions, got a scalar")
    return split(a, indices_or_sections, 1 if a.ndim > 1 else 0)


def dsplit(ary, indices_or_sections):
    """Split along the third axis (depth) of an array of rank >= 3, as numpy.dsplit.

    Example:
        >>> import fnn.numpy as fnp
        >>> [p.shape for p in fnp.dsplit(fnp.ones((1, 2, 4)), 2)]
        [(1, 2, 2), (1, 2, 2)]
    """
    return _split_at_least("dsplit", ary, indices_or_sections, 3, 2)


def array_split(ary, indices_or_sections, axis=0):
    a = asarray(ary)
    if isinstance(indices_or_sections, int | np.integer):
        n, k = a.shape[axis], int(indices_or_sections)
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        return split(a, list(np.cumsum(sizes)[:-1]), axis)
    return split(a, indices_or_sections, axis)


def tile(A, reps):
    a = asarray(A)
    reps = (reps,) if isinstance(reps, int | np.integer) else tuple(reps)
    d = builtins.max(len(reps), a.ndim)
    reps = (1,) * (d - len(reps)) + reps
    a = a.reshape((1,) * (d - a.ndim) + a.shape)
    # Broadcast a new axis of size r before each axis, then merge the pairs.
    shape_ = []
    dims = []
    for i, (r, s) in enumerate(zip(reps, a.shape, strict=True)):
        shape_ += [r, s]
        dims.append(2 * i + 1)
    b = lax.broadcast_in_dim(a, shape_, dims)
    return lax.reshape(b, tuple(r * s for r, s in zip(reps, a.shape, strict=True)))


def repeat(a, repeats, axis=None):
    """Repeat each element ``repeats`` times (an int or a concrete sequence)."""
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    (ax,) = normalize_axes("repeat", axis, a.ndim)
    if isinstance(repeats, int | np.integer):
        r = int(repeats)
        shape_ = list(a.shape)
        b = lax.broadcast_in_dim(
            a,
            shape_[: ax + 1] + [r] + shape_[ax + 1 :],
            tuple(i if i <= ax else i + 1 for i in range(a.ndim)),
        )
        shape_[ax] *= r
        return lax.reshape(b, shape_)
    reps = np.asarray(repeats)
    if reps.size == 0:
        reps = reps.astype(np.intp)  # [] is float64 to numpy, which np.repeat refuses

    return take(a, np.repeat(np.arange(a.shape[ax]), reps), axis=ax)


def pad(array, pad_width, mode="constant", constant_values=0):
    """Pad with a constant (``mode="constant"``) or by ``"edge"``/``"reflect"``/``"wrap"``."""
    a = asarray(array)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2)).tolist()
    if any(lo < 0 or hi < 0 for lo, hi in pw):
        raise FnnTypeError(f"pad: pad_width must be non-negative, got {pad_width}")
    if mode == "constant":
        value = np.asarray(constant_values, a.dtype)
        if value.ndim:
            raise NotImplementedError("pad: only a scalar constant_values is supported")
        return lax.pad(a, value, [(lo, hi, 0) for lo, hi in pw])
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        out = a
        for ax, (lo, hi) in enumerate(pw):
            n = a.shape[ax]
            idx = np.pad(np.arange(n), (lo, hi), mode=mode)
            out = take(out, idx, axis=ax)
        return out
    raise NotImplementedError(f"pad: mode {mode!r} is not supported")


def flip(m, axis=None):
    m = asarray(m)
    return lax.rev(m, normalize_axes("flip", axis, m.ndim))


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Roll elements along ``axis`` (the flattened array when None), as numpy.roll."""
    a = asarray(a)
    if axis is None:
        return roll(ravel(a), shift, 0).reshape(a.shape)
    shifts = (shift,) if isinstance(shift, int | np.integer) else tuple(shift)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    for s, ax in zip(shifts, axes, strict=True):
        (ax,) = normalize_axes("roll", ax, a.ndim)
        n = a.shape[ax]
        if n == 0:
            continue
        s = int(s) % n
        if s:
            a = lax.concatenate(
                [lax.slice_in_dim(a, n - s, n, axis=ax), lax.slice_in_dim(a, 0, n - s, axis=ax)], ax
            )
    return a


def append(arr, values, axis=None):
    """``values`` appended to ``arr``: both flattened when ``axis`` is None, else joined
    along ``axis`` (shapes must match elsewhere), as numpy.append.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.append(fnp.array([[1, 2]]), fnp.array([[3, 4]]), axis=0)
        Array([[1, 2],
               [3, 4]], dtype=int32)
    """
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def rollaxis(a, axis, start=0):
    """Move ``axis`` so that it lies before position ``start`` (numpy's older form of
    :func:`moveaxis`; ``start`` may be ``a.ndim``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.rollaxis(fnp.ones((3, 4, 5)), 2).shape
        (5, 3, 4)
    """
    a = asarray(a)
    n = a.ndim
    (axis,) = normalize_axes("rollaxis", axis, n)
    if not -n <= start <= n:
        raise FnnTypeError(
            f"rollaxis: start must satisfy {-n} <= start <= {n} for an array of rank {n}, "
            f"got {start}"
        )
    start = int(start) + n if start < 0 else int(start)
    if start > axis:
        start -= 1  # the axis leaves its place first
    return moveaxis(a, axis, start)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``, from the first axis
    towards the second, as numpy.rot90.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.rot90(fnp.array([[1, 2], [3, 4]]))
        Array([[2, 4],
               [1, 3]], dtype=int32)
    """
    m = asarray(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise FnnTypeError(f"rot90: axes must name exactly 2 axes, got {axes!r}")
    if m.ndim < 2:
        raise FnnTypeError(f"rot90: needs an array of rank 2 or more, got shape {m.shape}")
    a0, a1 = (normalize_axes("rot90", ax, m.ndim)[0] for ax in axes)
    if a0 == a1:
        raise FnnTypeError(f"rot90: the two axes must differ, got {axes!r}")
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return lax.transpose(flip(m, a1), perm)
    return flip(lax.transpose(m, perm), a1)
