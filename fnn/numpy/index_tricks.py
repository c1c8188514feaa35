"""numpy's index tricks: ``r_`` and ``c_`` (concatenation by slicing notation),
``mgrid`` and ``ogrid`` (grids), ``ix_`` (an open mesh for fancy indexing), and
``s_``/``index_exp`` (index expressions as values).

The objects are used with square brackets, as in numpy: ``fnp.r_[0:3, 7, x]``. A slice
``start:stop:step`` becomes ``arange(start, stop, step)``, or ``linspace(start, stop,
n)`` when the step is the imaginary number ``nj``. Array items may be traced (so
``r_`` works inside jit and grad); slices and directives must be concrete.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.r_[0:3, 9, fnp.array([7, 8])]
    Array([0, 1, 2, 9, 7, 8], dtype=int32)
    >>> fnp.c_[fnp.array([1, 2]), fnp.array([3, 4])]
    Array([[1, 3],
           [2, 4]], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.creation import arange, linspace
from fnn.numpy.indexing import nonzero
from fnn.numpy.shape import concatenate, transpose

__all__ = ["r_", "c_", "mgrid", "ogrid", "ix_", "s_", "index_exp"]


def _slice_values(item: slice, dtype=None):
    """The values a slice stands for: arange, or linspace for an imaginary step."""
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if isinstance(step, complex):
        return linspace(start, item.stop, int(abs(step)), dtype=dtype)
    if item.stop is None:
        raise FnnTypeError(f"index tricks: the slice {item!r} needs a stop")
    return arange(start, item.stop, step, dtype=dtype)


def _with_ndmin(x, ndmin: int, trans1d: int):
    """``x`` with leading axes of length 1 up to rank ``ndmin``; with ``trans1d`` >= 0
    (or < -1) the original axes move to that place, as numpy's AxisConcatenator does."""
    nd = x.ndim
    if nd >= ndmin:
        return x
    x = lax.reshape(x, (1,) * (ndmin - nd) + x.shape)
    if trans1d == -1:
        return x
    k2 = ndmin - nd
    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
    axes = list(range(ndmin))
    return transpose(x, axes[:k1] + axes[k2:] + axes[k1:k2])


def _directive(text: str):
    """(axis, ndmin, trans1d) from a string such as '0,2,1'."""
    if text in ("r", "c"):
        raise NotImplementedError(
            f"r_/c_: the {text!r} directive makes a numpy.matrix, which fnn does not have"
        )
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise FnnTypeError(
            f"r_/c_: unknown special directive {text!r}: expected 'axis', 'axis,ndmin' or "
            "'axis,ndmin,trans1d' (integers)"
        ) from None
    if len(values) > 3:
        raise FnnTypeError(f"r_/c_: a directive has at most 3 integers, got {text!r}")
    return values + [None] * (3 - len(values))


class _AxisConcatenator:
    """Translates ``obj[items]`` into a concatenation along an axis."""

    def __init__(self, axis: int = 0, ndmin: int = 1, trans1d: int = -1, name: str = "r_"):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if items and isinstance(items[0], str):
            a, n, t = _directive(items[0])
            axis = a
            ndmin = ndmin if n is None else n
            trans1d = trans1d if t is None else t
            items = items[1:]
        parts = []
        for item in items:
            if isinstance(item, str):
                raise FnnTypeError(
                    f"{self.name}: a directive string must be the first entry, got {item!r}"
                )
            if isinstance(item, slice):
                values = _slice_values(item)
                parts.append(_with_ndmin(values, ndmin, trans1d))
            else:
                x = asarray(item)
                if x.ndim == 0:
                    parts.append(lax.reshape(x, (1,) * max(ndmin, 1)))
                else:
                    parts.append(_with_ndmin(x, ndmin, trans1d))
        if not parts:
            return asarray(np.zeros((0,), np.float32))
        parts = [asarray(p) for p in promote_args(self.name, *parts)]
        return concatenate(parts, axis=axis)


r_ = _AxisConcatenator(0, name="r_")
r_.__doc__ = "Concatenate along the first axis by slicing notation, as ``numpy.r_``."
c_ = _AxisConcatenator(-1, ndmin=2, trans1d=0, name="c_")
c_.__doc__ = "Stack 1-D items as columns (and join others along the last axis), as ``numpy.c_``."


class _Grid:
    """``mgrid`` (dense) and ``ogrid`` (open) grids from slices."""

    def __init__(self, sparse: bool):
        self.sparse = sparse

    def __getitem__(self, key):
        slices = key if isinstance(key, tuple) else (key,)
        for s in slices:
            if not isinstance(s, slice):
                raise FnnTypeError(f"mgrid/ogrid: expected slices such as 0:5, got {s!r}")
        bounds = [v for s in slices for v in (s.start, s.stop, s.step) if v is not None]
        is_float = any(isinstance(v, float | complex | np.floating) for v in bounds)
        dtype = float if is_float else int
        axes = [_slice_values(s, dtype) for s in slices]
        if len(axes) == 1 and not isinstance(key, tuple):
            return axes[0]
        n = len(axes)
        shaped = []
        for i, a in enumerate(axes):
            shape = [1] * n
            shape[i] = a.shape[0]
            shaped.append(lax.reshape(a, tuple(shape)))
        if self.sparse:
            return tuple(shaped)
        full = tuple(a.shape[0] for a in axes)
        return concatenate([lax.broadcast_to(a, full)[None] for a in shaped], axis=0)


mgrid = _Grid(sparse=False)
mgrid.__doc__ = "A dense grid: ``mgrid[0:2, 0:3]`` has shape (2, 2, 3), as numpy.mgrid."
ogrid = _Grid(sparse=True)
ogrid.__doc__ = "An open grid: one broadcastable array per slice, as numpy.ogrid."


def ix_(*args):
    """An open mesh from 1-D sequences: ``x[ix_(rows, cols)]`` picks the cross product
    of ``rows`` and ``cols``; a boolean sequence stands for its True positions (it must
    be concrete).

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.arange(12).reshape(3, 4)
        >>> x[fnp.ix_(fnp.array([0, 2]), fnp.array([1, 3]))]
        Array([[ 1,  3],
               [ 9, 11]], dtype=int32)
    """
    n = len(args)
    out = []
    for k, a in enumerate(args):
        a = asarray(a)
        if a.ndim != 1:
            raise FnnTypeError(f"ix_: every argument must be 1-D, argument {k} has shape {a.shape}")
        if a.dtype == np.bool_:
            (a,) = nonzero(a)  # a clear error if the mask is traced
        shape = [1] * n
        shape[k] = a.shape[0]
        out.append(lax.reshape(a, tuple(shape)))
    return tuple(out)


class _IndexExpression:
    """``s_[...]`` and ``index_exp[...]``: the index written in brackets, as a value."""

    def __init__(self, maketuple: bool):
        self.maketuple = maketuple

    def __getitem__(self, item):
        if self.maketuple and not isinstance(item, tuple):
            return (item,)
        return item


s_ = _IndexExpression(maketuple=False)
s_.__doc__ = "The index in brackets as a value: ``s_[1:3, ::2]`` is a tuple of slices."
index_exp = _IndexExpression(maketuple=True)
index_exp.__doc__ = "As ``s_``, but always a tuple: ``index_exp[1:3]`` is ``(slice(1, 3),)``."
