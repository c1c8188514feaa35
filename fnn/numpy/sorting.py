"""Sorting and searching: sort, argsort (stable), searchsorted, unique.

``sort`` is differentiable (its tangent is the input tangent permuted like the values)
and every function here is batchable and jittable, except ``unique``, whose output
shape depends on the values and so needs a concrete input.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.sort(fnp.array([3.0, 1.0, 2.0]))
    Array([1., 2., 3.], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, lax
from fnn.core import Array, FnnTypeError, Tracer
from fnn.lax import sorting as lax_sorting
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.indexing import take, take_along_axis
from fnn.numpy.math import bitwise_or, imag, isnan, logical_and, logical_not, real, subtract, where
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import flip, ravel

__all__ = [
    "sort", "argsort", "partition", "argpartition", "searchsorted", "unique", "lexsort",
    "sort_complex",
]  # fmt: skip


def _prepare(name, a, axis, kind, order):
    if order is not None:
        raise NotImplementedError(f"{name}: 'order' (sorting structured arrays) is not supported")
    del kind  # every sort is stable; the algorithm is numpy's choice
    a = asarray(a)
    if axis is None:
        return ravel(a), 0
    (ax,) = normalize_axes(name, axis, a.ndim)
    return a, ax


def sort(a, axis: int | None = -1, *, kind=None, order=None, stable=True, descending=False):
    """``a`` sorted along ``axis`` (flattened when None); NaNs go last (first if descending).

    Differentiable: the gradient flows back to each value's original position.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.sort(fnp.array([[3, 1], [0, 2]]), axis=0)
        Array([[0, 1],
               [3, 2]], dtype=int32)
    """
    del stable  # sorted values do not depend on stability
    a, ax = _prepare("sort", a, axis, kind, order)
    out = lax_sorting.sort(a, ax)
    return flip(out, ax) if descending else out


def argsort(a, axis: int | None = -1, *, kind=None, order=None, stable=True, descending=False):
    """Indices that sort ``a`` along ``axis``; always stable (equal values keep their order,
    also when ``descending``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.argsort(fnp.array([2.0, 1.0, 2.0]), descending=True)
        Array([0, 2, 1], dtype=int32)
    """
    del stable
    a, ax = _prepare("argsort", a, axis, kind, order)
    if not descending:
        return lax_sorting.argsort(a, ax)
    # Stable descending: sort the reversed array, reverse the order, map indices back.
    n = a.shape[ax]
    rev = lax_sorting.argsort(flip(a, ax), ax)
    return subtract(np.asarray(n - 1, rev.dtype), flip(rev, ax))


def lexsort(keys, axis=-1):
    """Indices that sort by several keys along ``axis``: by the last key first, ties
    broken by the one before it, and so on (stable), as numpy.lexsort. ``keys`` is a
    sequence of arrays of one shape, or an array whose first axis runs over the keys.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.lexsort((fnp.array([1, 5, 1, 4, 3]), fnp.array([9, 4, 0, 4, 0])))
        Array([2, 4, 3, 1, 0], dtype=int32)
    """
    keys = [asarray(k) for k in keys]
    if not keys:
        raise FnnTypeError("lexsort: needs at least one key")
    shapes = {k.shape for k in keys}
    if len(shapes) != 1:
        raise FnnTypeError(f"lexsort: all keys must have one shape, got {[k.shape for k in keys]}")
    if keys[0].ndim == 0:
        raise FnnTypeError("lexsort: the keys must have at least one axis")
    (ax,) = normalize_axes("lexsort", axis, keys[0].ndim)
    order = lax_sorting.argsort(keys[0], ax)
    for key in keys[1:]:
        # Stable sorts from the least to the most significant key keep earlier orders on ties.
        step = lax_sorting.argsort(take_along_axis(key, order, ax), ax)
        order = take_along_axis(order, step, ax)
    return order


def sort_complex(a):
    """``a`` sorted by real part, then imaginary part, as a complex array (numpy.sort_complex).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.sort_complex(fnp.array([1 + 2j, 1 - 1j, 5j]))
        Array([0.+5.j, 1.-1.j, 1.+2.j], dtype=complex64)
    """
    a = asarray(a)
    if a.ndim == 0:
        raise FnnTypeError("sort_complex: needs an array with at least one axis")
    if a.dtype.kind == "c":
        return take_along_axis(a, lexsort((imag(a), real(a))), -1)
    small = (a.dtype.kind in "bf" and a.dtype.itemsize <= 4) or a.dtype.itemsize <= 2
    target = config.canonicalize_dtype(np.complex64 if small else np.complex128)
    return lax.convert_element_type(lax_sorting.sort(a, a.ndim - 1), target)


def _check_kth(name, kth, n):
    kths = [kth] if isinstance(kth, int | np.integer) else list(np.asarray(kth).reshape(-1))
    for k in kths:
        if not isinstance(k, int | np.integer):
            raise FnnTypeError(f"{name}: kth must be an integer or integers, got {kth!r}")
        if not -n <= k < n:
            raise FnnTypeError(
                f"{name}: kth={int(k)} is out of bounds for an axis of length {n} "
                f"(valid: {-n} to {n - 1})"
            )


def partition(a, kth, axis: int | None = -1, kind="introselect", order=None):
    """``a`` rearranged along ``axis`` so that the element at each ``kth`` position is
    the one a sort puts there, with no larger element before it and no smaller one
    after, as numpy.partition.

    The order inside the two parts is unspecified (numpy's and JAX's differ); fnn sorts
    the whole axis, which is one valid answer, with sort's derivative.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.partition(fnp.array([3.0, 1.0, 2.0, 0.0]), 1)[1]
        Array(1., dtype=float32)
    """
    a, ax = _prepare("partition", a, axis, kind, order)
    _check_kth("partition", kth, a.shape[ax])
    return lax_sorting.sort(a, ax)


def argpartition(a, kth, axis: int | None = -1, kind="introselect", order=None):
    """Indices that partition ``a`` along ``axis`` around each ``kth`` position (see
    :func:`partition`); fnn gives the stable sorting order, one valid answer.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.argpartition(fnp.array([3.0, 1.0, 2.0, 0.0]), 0)[0]
        Array(3, dtype=int32)
    """
    a, ax = _prepare("argpartition", a, axis, kind, order)
    _check_kth("argpartition", kth, a.shape[ax])
    return lax_sorting.argsort(a, ax)


def _less(a, v):
    """a < v in numpy's sort order, where NaN is the largest value."""
    return bitwise_or(a < v, isnan(v) & logical_not(isnan(a)))


def _less_equal(a, v):
    return bitwise_or(a <= v, isnan(v))


def searchsorted(a, v, side: str = "left", sorter=None, *, method: str = "scan"):
    """Indices at which to insert ``v`` into the sorted 1-D ``a`` to keep it sorted.

    ``side='left'`` gives the first suitable index, ``'right'`` the last. ``method`` is
    JAX's: ``'scan'`` (the default; ``'scan_unrolled'`` and ``'sort'`` mean the same
    here) is a binary search, ``ceil(log2(len(a) + 1))`` halving steps over all of ``v``
    at once; ``'compare_all'`` compares every ``v`` with every ``a`` (more work, fewer
    steps: for short ``a``). Both are traceable and give numpy's answer, NaNs included.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.searchsorted(fnp.array([1.0, 2.0, 2.0, 3.0]), fnp.array([2.0, 2.5]), side="right")
        Array([3, 3], dtype=int32)
    """
    if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
        raise FnnTypeError(
            f"searchsorted: method must be 'scan', 'scan_unrolled', 'sort' or 'compare_all', "
            f"got {method!r}"
        )
    if side not in ("left", "right"):
        raise FnnTypeError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = (asarray(x) for x in promote_args("searchsorted", a, v))
    if a.ndim != 1:
        raise FnnTypeError(f"searchsorted: a must be 1-D, got shape {a.shape}")
    if sorter is not None:
        a = take(a, sorter)
    before = _less if side == "left" else _less_equal
    if method == "compare_all":
        return _sum(before(a, v[..., None]), axis=-1, dtype=config.default_int())
    return _binary_search(a, v, before)


def _binary_search(a, v, before):
    """How many elements of the sorted ``a`` satisfy ``before(a_i, v)`` (a prefix of
    ``a``), for every element of ``v``: a binary search of a fixed number of steps."""
    n = a.shape[0]
    int_dtype = config.default_int()
    lo = lax.broadcast_to(np.zeros((), int_dtype), v.shape)
    if n == 0:
        return lo
    hi = lax.broadcast_to(np.asarray(n, int_dtype), v.shape)
    for _ in range(math.ceil(math.log2(n + 1))):
        active = lo < hi
        mid = lax.shift_right(lo + hi, np.ones((), int_dtype))
        go = before(take(a, lax.min(mid, np.asarray(n - 1, int_dtype))), v)
        lo = where(logical_and(active, go), mid + 1, lo)
        hi = where(logical_and(active, logical_not(go)), mid, hi)
    return lo


def _concrete(name, x):
    if isinstance(x, Tracer):
        val = x.concrete_value()
        if val is None:
            raise FnnTypeError(
                f"{name}: its output's shape depends on the values, so it needs a concrete "
                f"array, but got a traced array of shape {x.shape}. Call it outside jit/vmap, "
                "or use fnn.numpy.sort and comparisons with a fixed-size result."
            )
        return np.asarray(val)
    return np.asarray(asarray(x))


def unique(
    ar,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    *,
    equal_nan: bool = True,
    size: int | None = None,
    fill_value=None,
):
    """The sorted unique values of a concrete array, as ``numpy.unique``.

    ``size`` pads (with ``fill_value``, default the smallest unique value) or truncates
    the unique values to a fixed length, as in JAX; indices and counts pad with 0.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unique(fnp.array([3, 1, 3, 2]))
        Array([1, 2, 3], dtype=int32)
    """
    x = _concrete("unique", ar)
    res = np.unique(
        x,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=equal_nan,
    )
    res = list(res) if isinstance(res, tuple) else [res]
    if size is not None:
        res = _fixed_size(res, size, fill_value, axis, return_index, return_inverse)
    index_dtype = config.default_int()
    out = [Array(_canonical(res[0]))] + [Array(r.astype(index_dtype)) for r in res[1:]]
    return out[0] if len(out) == 1 else tuple(out)


def _canonical(x):
    return x.astype(config.canonicalize_dtype(x.dtype), copy=False)


def _fixed_size(res, size, fill_value, axis, return_index, return_inverse):
    values = res[0]
    ax = 0 if axis is None else axis % values.ndim
    n = values.shape[ax]
    if n >= size:
        values = np.take(values, np.arange(size), axis=ax)
    else:
        fill = np.take(values, [0], axis=ax) if fill_value is None else fill_value
        pad_shape = list(values.shape)
        pad_shape[ax] = size - n
        values = np.concatenate([values, np.broadcast_to(fill, pad_shape).astype(values.dtype)], ax)
    out = [values]
    for k, r in enumerate(res[1:]):
        is_inverse = return_inverse and k == int(return_index)
        if is_inverse:
            out.append(r)  # the inverse maps input positions; its length is the input's
        else:
            out.append(np.concatenate([r[:size], np.zeros(max(0, size - len(r)), r.dtype)]))
    return out
