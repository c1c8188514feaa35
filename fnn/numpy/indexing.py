"""Indexing: ``x[idx]``, ``x.at[idx].set(...)``, take, take_along_axis, nonzero.

Basic indices (ints, slices, None, Ellipsis) become ``slice``/``rev``/``reshape``;
integer arrays (and concrete boolean masks, turned into integer arrays) become a
``gather`` or ``scatter`` with a static template, so indexing is differentiable and
batchable. A boolean mask needs concrete values: under jit use ``fnp.where``.
"""

from __future__ import annotations

import numpy as np

from fnn import core, lax
from fnn.core import Array, FnnTypeError, Tracer
from fnn.lax.slicing import _gather_shape
from fnn.numpy._core import asarray, convert, is_array

__all__ = ["take", "take_along_axis", "nonzero", "argwhere", "flatnonzero"]


def _as_index_array(i):
    """An integer index array, or a tuple of them for a concrete boolean mask."""
    if isinstance(i, list):
        i = np.asarray(i)
    if isinstance(i, np.ndarray):
        if i.dtype == np.bool_:
            return ("mask", np.nonzero(i))
        if not np.issubdtype(i.dtype, np.integer):
            raise FnnTypeError(
                f"indexing: index arrays must be integers or booleans, got {i.dtype}"
            )
        return ("array", i)
    if is_array(i):
        if i.dtype == np.bool_:
            if isinstance(i, Tracer) and i.concrete_value() is None:
                raise FnnTypeError(
                    f"indexing: a boolean mask of shape {i.shape} needs concrete values, but it "
                    "is traced (its result's shape would depend on the values). Use "
                    "fnn.numpy.where(mask, x, 0) or a sum with the mask instead."
                )
            mask = np.asarray(i.concrete_value() if isinstance(i, Tracer) else i)
            return ("mask", np.nonzero(mask))
        if not np.issubdtype(i.dtype, np.integer):
            raise FnnTypeError(
                f"indexing: index arrays must be integers or booleans, got {i.dtype}"
            )
        return ("array", i)
    return None


def _expand(idx, ndim):
    """Index tuple with Ellipsis expanded; masks split into their integer arrays."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    items = []
    for i in idx:
        flag = _scalar_bool(i)
        if flag is not None:
            # numpy: a scalar boolean adds a length-1 axis, kept (True) or emptied (False)
            items.append(("new", np.arange(1 if flag else 0)))
            continue
        conv = (
            None
            if (i is None or i is Ellipsis or isinstance(i, slice | int | np.integer))
            else _as_index_array(i)
        )
        if conv is None:
            if not (i is None or i is Ellipsis or isinstance(i, slice | int | np.integer)):
                raise FnnTypeError(f"indexing: unsupported index {i!r} of type {type(i).__name__}")
            items.append(("basic", i))
        elif conv[0] == "mask":
            for arr in conv[1]:
                items.append(("array", arr))
        else:
            items.append(conv)
    consumed = sum(
        1
        for kind, i in items
        if kind != "new" and not (kind == "basic" and (i is None or i is Ellipsis))
    )
    n_ell = sum(1 for kind, i in items if kind == "basic" and i is Ellipsis)
    if n_ell > 1:
        raise FnnTypeError("indexing: an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        # IndexError, as numpy and JAX raise (callers catch IndexError, not TypeError).
        raise IndexError(
            f"indexing: too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed"
        )
    out = []
    for kind, i in items:
        if kind == "basic" and i is Ellipsis:
            out += [("basic", slice(None))] * (ndim - consumed)
        else:
            out.append((kind, i))
    if not n_ell:
        out += [("basic", slice(None))] * (ndim - consumed)
    return out


def _scalar_bool(i):
    """The value of a scalar boolean index (Python, numpy or a concrete 0-d array), else None."""
    if isinstance(i, bool | np.bool_):
        return bool(i)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype == np.bool_:
        return bool(i)
    if is_array(i) and i.ndim == 0 and i.dtype == np.bool_:
        val = i.concrete_value() if isinstance(i, Tracer) else np.asarray(i)
        if val is None:
            raise FnnTypeError(
                "indexing: a traced scalar boolean index needs concrete values (it decides the "
                "result's shape); use fnn.numpy.where or fnn.lax.cond instead"
            )
        return bool(val)
    return None


def _with_new_axes(x, items):
    """``x`` with a length-1 axis for each None and scalar boolean of ``items``, and the
    items indexing those axes: ``x[None, i]`` is ``x.reshape(1, ...)[:, i]``, which keeps
    numpy's placement rules for advanced indices (None separates them like a slice)."""
    shape, out, axis = [], [], 0
    for kind, i in items:
        if kind == "new":
            shape.append(1)
            out.append(("array", i))
        elif kind == "basic" and i is None:
            shape.append(1)
            out.append(("basic", slice(None)))
        else:
            shape.append(x.shape[axis])
            out.append((kind, i))
            axis += 1
    return lax.reshape(x, tuple(shape)), out


def _has_new_axes(items) -> bool:
    return any(kind == "new" or (kind == "basic" and i is None) for kind, i in items)


def _check_int(i, dim, axis):
    i = int(i)
    if not -dim <= i < dim:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {dim}")
    return i % dim


def _getitem(x, idx):
    x = asarray(x)
    items = _expand(idx, x.ndim)
    if any(kind in ("array", "new") for kind, _ in items):
        if _has_new_axes(items):
            x, items = _with_new_axes(x, items)
        return _advanced_getitem(x, items)
    start, limit, strides, rev_axes = [], [], [], []
    out_shape = []
    axis = 0
    for _kind, i in items:
        if i is None:
            out_shape.append(1)
            continue
        dim = x.shape[axis]
        if isinstance(i, int | np.integer):
            j = _check_int(i, dim, axis)
            start.append(j), limit.append(j + 1), strides.append(1)
        else:
            s, e, st = i.indices(dim)
            n = len(range(s, e, st))
            if st > 0:
                (
                    start.append(s),
                    limit.append(s + max(n - 1, 0) * st + (1 if n else 0)),
                    strides.append(st),
                )
            else:
                first = s + (n - 1) * st if n else 0
                (
                    start.append(first),
                    limit.append(first + max(n - 1, 0) * (-st) + (1 if n else 0)),
                    strides.append(-st),
                )
                rev_axes.append(axis)
            out_shape.append(n)
        axis += 1
    y = x
    if tuple(start) != (0,) * x.ndim or tuple(limit) != x.shape or any(s != 1 for s in strides):
        y = lax.slice(x, start, limit, strides)
    y = lax.rev(y, rev_axes)
    return lax.reshape(y, tuple(out_shape))


def _advanced_getitem(x, items):
    template, arrays = _template(x, items)
    return lax.gather(x, arrays, template)


def _template(x, items):
    template, arrays = [], []
    axis = 0
    for kind, i in items:
        dim = x.shape[axis]
        if kind == "array":
            arrays.append(i if is_array(i) else np.asarray(i))
            _check_bounds(i, dim, axis)
            template.append(("a",))
        elif isinstance(i, int | np.integer):
            arrays.append(np.asarray(_check_int(i, dim, axis)))
            template.append(("a",))
        else:
            s, e, st = i.indices(dim)
            template.append(("s", s, e if e >= 0 else None, st))
        axis += 1
    return tuple(template), arrays


def _check_bounds(i, dim, axis):
    val = (
        i
        if isinstance(i, np.ndarray)
        else (i.concrete_value() if isinstance(i, Tracer) else np.asarray(i))
    )
    if val is not None and val.size and (val.max() >= dim or val.min() < -dim):
        bad = val.max() if val.max() >= dim else val.min()
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {dim}")


def _index_update(x, idx, values, mode):
    """``x.at[idx].<mode>(values)`` as one scatter."""
    x = asarray(x)
    items = _expand(idx, x.ndim)
    if _has_new_axes(items):
        x_new, items = _with_new_axes(x, items)
        return lax.reshape(_update(x_new, items, values, mode), x.shape)
    return _update(x, items, values, mode)


def _update(x, items, values, mode):
    has_arrays = any(kind == "array" for kind, _ in items)
    values = convert(values, x.dtype) if not is_array(values) else asarray(values, x.dtype)
    if has_arrays:
        template, arrays = _template(x, items)
        return lax.scatter(
            x, _broadcast_updates(values, x, template, arrays), arrays, template, mode
        )
    # Basic indices only: ints become length-1 slices; values gain those axes back.
    template, numpy_shape, kept_shape = [], [], []
    for axis, (_, i) in enumerate(items):
        dim = x.shape[axis]
        if isinstance(i, int | np.integer):
            j = _check_int(i, dim, axis)
            template.append(("s", j, j + 1, 1))
            kept_shape.append(1)
        else:
            s, e, st = i.indices(dim)
            n = len(range(s, e, st))
            template.append(("s", s, e if e >= 0 else None, st))
            numpy_shape.append(n)
            kept_shape.append(n)
    v = values
    vshape = core.get_aval(v).shape
    try:
        ok = np.broadcast_shapes(vshape, tuple(numpy_shape)) == tuple(numpy_shape)
    except ValueError:
        ok = False
    if not ok:
        raise FnnTypeError(
            f"x.at[...]: values of shape {vshape} do not broadcast to the indexed shape {tuple(numpy_shape)}"
        )
    v = lax.reshape(lax.broadcast_to(v, tuple(numpy_shape)), tuple(kept_shape))
    return lax.scatter(x, v, [], tuple(template), mode)


def _broadcast_updates(values, x, template, arrays):

    target = _gather_shape(x.shape, [core.get_aval(a) for a in arrays], template)
    vshape = core.get_aval(values).shape
    try:
        ok = np.broadcast_shapes(vshape, tuple(target)) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise FnnTypeError(
            f"x.at[...]: values of shape {vshape} do not broadcast to the indexed shape {tuple(target)}"
        )
    return lax.broadcast_to(values, tuple(target))


def take(a, indices, axis=None, mode=None):
    """Elements of ``a`` at integer ``indices`` along ``axis`` (flattened when None)."""
    a = asarray(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    axis = axis % a.ndim
    idx = (slice(None),) * axis + (indices if is_array(indices) else np.asarray(indices),)
    return _getitem(a, idx)


def take_along_axis(arr, indices, axis):
    """``arr`` gathered with ``indices`` that match its shape except along ``axis``."""
    arr = asarray(arr)
    if axis is None:
        return take(arr.reshape(-1), indices)
    axis = axis % arr.ndim
    indices = indices if is_array(indices) else np.asarray(indices)
    ishape = core.get_aval(indices).shape
    if len(ishape) != arr.ndim:
        raise FnnTypeError(
            f"take_along_axis: indices of shape {ishape} need the rank of arr {arr.shape}"
        )
    idx = []
    for d in range(arr.ndim):
        if d == axis:
            idx.append(indices)
        else:
            shape = [1] * arr.ndim
            shape[d] = arr.shape[d] if ishape[d] != 1 else 1
            idx.append(np.arange(shape[d]).reshape(shape))
    return lax.gather(arr, idx, (("a",),) * arr.ndim)


def nonzero(a, *, size=None, fill_value=None):
    """Indices of non-zero elements; needs concrete values (its shape depends on them)."""
    if isinstance(a, Tracer):
        val = a.concrete_value()
        if val is None:
            raise FnnTypeError(
                "nonzero: its output's shape depends on the values, so it cannot run on a traced "
                f"array of shape {a.shape}; use fnn.numpy.where(cond, x, y) instead"
            )
        a = val
    res = np.nonzero(np.asarray(a))
    if size is not None:
        fill = 0 if fill_value is None else fill_value
        res = tuple(
            np.concatenate([r[:size], np.full(max(0, size - len(r)), fill, r.dtype)]) for r in res
        )
    return tuple(Array(r.astype(np.int32)) for r in res)


def flatnonzero(a):
    return nonzero(asarray(a).reshape(-1))[0]


def argwhere(a):
    return Array(np.argwhere(np.asarray(a)).astype(np.int32))
