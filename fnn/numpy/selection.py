"""Choosing elements by conditions or indices: select, piecewise, choose, compress, extract.

``select``, ``piecewise`` and ``choose`` are elementwise choices (``lax.select`` and a
gather), so they are differentiable in the chosen values, batchable and jittable.
``compress`` and ``extract`` keep the elements where a condition holds, so their output
shape depends on the condition's values, which must be concrete (as in JAX).

Example:
    >>> import fnn.numpy as fnp
    >>> x = fnp.arange(5.0)
    >>> fnp.select([x < 1, x > 3], [x, x**2], default=-1.0)
    Array([ 0., -1., -1., -1., 16.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, is_array, promote_args
from fnn.numpy.indexing import take, take_along_axis
from fnn.numpy.shape import broadcast_arrays, broadcast_shapes, ravel, stack

__all__ = ["select", "piecewise", "choose", "compress", "extract"]


def _conditions(name, condlist):
    conds = [asarray(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != np.bool_:
            raise FnnTypeError(
                f"{name}: condition {i} must be a boolean array, got dtype {c.dtype} "
                "(compare explicitly, e.g. x > 0)"
            )
    return conds


def select(condlist, choicelist, default=0):
    """Elementwise, the entry of the first ``choicelist[i]`` whose ``condlist[i]`` holds,
    or ``default`` where none does; all broadcast together, as numpy.select.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.select([fnp.array([True, False]), fnp.array([True, True])], [1, 2], 0)
        Array([1, 2], dtype=int32)
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise FnnTypeError(
            f"select: {len(condlist)} conditions but {len(choicelist)} choices; give one "
            "choice per condition"
        )
    if not condlist:
        raise FnnTypeError("select: needs at least one condition, got an empty condlist")
    conds = _conditions("select", condlist)
    values = promote_args("select", *choicelist, default)
    shape = broadcast_shapes(*[asarray(v).shape for v in values], *[c.shape for c in conds])
    out = lax.broadcast_to(asarray(values[-1]), shape)
    # The last condition is applied first, so the first one that holds wins.
    for c, v in zip(reversed(conds), reversed(values[:-1]), strict=True):
        out = lax.select(lax.broadcast_to(c, shape), lax.broadcast_to(asarray(v), shape), out)
    return out


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` where ``condlist[i]`` holds (the last one that holds wins, as in
    numpy); an extra last entry of ``funclist`` applies where no condition holds, else 0.
    Entries may be constants instead of functions. Every function is evaluated on the
    whole of ``x`` and the results are chosen elementwise (so it works under jit).

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.array([-2.0, 0.5, 3.0])
        >>> fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v**2])
        Array([2.  , 0.25, 9.  ], dtype=float32)
    """
    x = asarray(x)
    if is_array(condlist) or isinstance(condlist, np.ndarray | bool | np.bool_):
        condlist = [condlist] if np.ndim(condlist) <= x.ndim else list(condlist)
    elif x.ndim and condlist and not _is_sequence(condlist[0]):
        condlist = [condlist]  # numpy: a flat list of booleans is one condition
    conds = [lax.broadcast_to(c, x.shape) for c in _conditions("piecewise", condlist)]
    funcs = list(funclist)
    n = len(conds)
    if len(funcs) == n + 1:
        otherwise = funcs.pop()
    elif len(funcs) == n:
        otherwise = 0
    else:
        raise FnnTypeError(
            f"piecewise: with {n} conditions give {n} or {n + 1} functions, got {len(funcs)}"
        )

    def value(f):
        out = f(x, *args, **kw) if isinstance(f, Callable) else f
        return lax.convert_element_type(lax.broadcast_to(asarray(out), x.shape), x.dtype)

    out = value(otherwise)
    for c, f in zip(conds, funcs, strict=True):
        out = lax.select(c, value(f), out)
    return out


def _is_sequence(c) -> bool:
    return isinstance(c, list | tuple | np.ndarray) or is_array(c)


def choose(a, choices, out=None, mode="raise"):
    """Elementwise ``choices[a]``: an index array picks, at each position, the entry of
    one of the (broadcast) ``choices``. ``mode`` handles indices outside
    ``[0, len(choices))``: ``'raise'`` (they must be concrete to check), ``'wrap'``
    or ``'clip'``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.choose(fnp.array([0, 1, 0]), [fnp.array([1, 2, 3]), fnp.array([10, 20, 30])])
        Array([ 1, 20,  3], dtype=int32)
    """
    if out is not None:
        raise NotImplementedError("choose: out= is not supported (fnn arrays are immutable)")
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        raise FnnTypeError(f"choose: the index array must hold integers, got dtype {a.dtype}")
    choices = list(choices) if not is_array(choices) else [choices[i] for i in range(len(choices))]
    if not choices:
        raise FnnTypeError("choose: needs at least one choice")
    n = len(choices)
    if mode == "wrap":
        a = lax.rem(lax.add(lax.rem(a, np.asarray(n, a.dtype)), np.asarray(n, a.dtype)),
                    np.asarray(n, a.dtype))  # fmt: skip
    elif mode == "clip":
        a = lax.min(lax.max(a, np.zeros((), a.dtype)), np.asarray(n - 1, a.dtype))
    elif mode == "raise":
        concrete = a.concrete_value() if isinstance(a, Tracer) else np.asarray(a)
        if concrete is None:
            raise FnnTypeError(
                "choose: mode='raise' checks the indices, which needs concrete values; under "
                "jit use mode='wrap' or mode='clip'"
            )
        if concrete.size and (concrete.min() < 0 or concrete.max() >= n):
            raise FnnTypeError(
                f"choose: indices must lie in [0, {n}) for {n} choices, got values from "
                f"{concrete.min()} to {concrete.max()}"
            )
    else:
        raise FnnTypeError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    values = broadcast_arrays(a, *[asarray(c) for c in promote_args("choose", *choices)])
    index, stacked = values[0], stack(values[1:], axis=0)
    return take_along_axis(stacked, index[None], axis=0)[0]


def _concrete_mask(name, condition):
    if isinstance(condition, Tracer):
        val = condition.concrete_value()
        if val is None:
            raise FnnTypeError(
                f"{name}: its output's length is the number of True conditions, so the "
                "condition must be concrete, not traced; use fnn.numpy.where to keep the shape"
            )
        condition = val
    return np.asarray(condition).astype(bool)


def compress(condition, a, axis=None, out=None):
    """The slices of ``a`` along ``axis`` (of the flattened ``a`` when None) where the 1-D
    ``condition`` holds; a shorter condition counts as False beyond its end. The
    condition must be concrete (it fixes the output's shape).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.compress([False, True, True], fnp.array([[1, 2], [3, 4], [5, 6]]), axis=0)
        Array([[3, 4],
               [5, 6]], dtype=int32)
    """
    if out is not None:
        raise NotImplementedError("compress: out= is not supported (fnn arrays are immutable)")
    mask = _concrete_mask("compress", condition)
    if mask.ndim != 1:
        raise FnnTypeError(f"compress: condition must be 1-D, got shape {mask.shape}")
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    length = a.shape[axis % a.ndim] if a.ndim else 0
    if mask.shape[0] > length and mask[length:].any():
        raise FnnTypeError(
            f"compress: condition of length {mask.shape[0]} selects past the end of axis "
            f"{axis}, which has length {length}"
        )
    return take(a, np.nonzero(mask[:length])[0], axis=axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of the flattened ``arr`` where the flattened (concrete) ``condition``
    is non-zero; ``size`` pads with ``fill_value`` or truncates to a fixed length, as in
    JAX.

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.arange(6)
        >>> fnp.extract(x % 2 == 0, x)
        Array([0, 2, 4], dtype=int32)
    """
    arr = ravel(arr)
    mask = _concrete_mask("extract", condition).reshape(-1)
    if mask.shape[0] != arr.shape[0]:
        raise FnnTypeError(
            f"extract: condition has {mask.shape[0]} elements but arr has {arr.shape[0]}"
        )
    picked = take(arr, np.nonzero(mask)[0])
    if size is None:
        return picked
    n = picked.shape[0]
    if n >= size:
        return picked[:size]
    pad = lax.broadcast_to(asarray(fill_value, arr.dtype), (size - n,))
    return lax.concatenate([picked, pad], 0)
