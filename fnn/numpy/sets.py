"""Set operations on arrays: isin, intersect1d, union1d, setdiff1d, setxor1d.

``isin`` compares every element with every test element, so it is traceable. The
others return as many values as the data holds, so, like :func:`unique`, they need
concrete input; ``size=`` (with ``fill_value``) pads or truncates the result to a fixed
length, as in JAX.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.union1d(fnp.array([3, 1]), fnp.array([2, 1]))
    Array([1, 2, 3], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from fnn import config
from fnn.core import Array, FnnTypeError, Tracer
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import equal, logical_not
from fnn.numpy.reductions import any as _any
from fnn.numpy.shape import ravel

__all__ = ["isin", "intersect1d", "union1d", "setdiff1d", "setxor1d"]


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None, method="auto"):
    """Elementwise: whether each element of ``element`` occurs in ``test_elements``
    (``invert`` negates), in ``element``'s shape, as numpy.isin.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.isin(fnp.array([[1, 2], [3, 4]]), fnp.array([2, 4, 6]))
        Array([[False,  True],
               [False,  True]], dtype=bool)
    """
    del assume_unique, kind, method  # one algorithm: compare with every test element
    e, t = (asarray(v) for v in promote_args("isin", element, test_elements))
    found = _any(equal(e[..., None], ravel(t)), axis=-1)
    return logical_not(found) if invert else found


def _concrete(name, x):
    if isinstance(x, Tracer):
        val = x.concrete_value()
        if val is None:
            raise FnnTypeError(
                f"{name}: the result's length depends on the values, so the input must be "
                "concrete, not traced; compute it outside jit (isin is traceable)"
            )
        return np.asarray(val)
    return np.asarray(asarray(x))


def _pair(name, ar1, ar2):
    a, b = promote_args(name, asarray(ar1), asarray(ar2))
    return _concrete(name, a), _concrete(name, b)


def _fixed(values, size, fill_value):
    values = values.astype(config.canonicalize_dtype(values.dtype), copy=False)
    if size is None:
        return Array(values)
    if values.shape[0] >= size:
        return Array(values[:size])
    if fill_value is None:
        fill = values[0] if values.shape[0] else np.zeros((), values.dtype)
    else:
        fill = fill_value
    pad = np.full(size - values.shape[0], fill, values.dtype)
    return Array(np.concatenate([values, pad]))


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):  # fmt: skip
    """The sorted values in both arrays (flattened); with ``return_indices`` also the
    indices of their first occurrences in each, as numpy.intersect1d.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.intersect1d(fnp.array([1, 3, 4, 3]), fnp.array([3, 1, 2, 1]))
        Array([1, 3], dtype=int32)
    """
    a, b = _pair("intersect1d", ar1, ar2)
    out = np.intersect1d(a, b, assume_unique=assume_unique, return_indices=return_indices)
    if not return_indices:
        return _fixed(out, size, fill_value)
    values, i1, i2 = out
    index_dtype = config.default_int()
    return (
        _fixed(values, size, fill_value),
        _fixed(i1.astype(index_dtype), size, 0),
        _fixed(i2.astype(index_dtype), size, 0),
    )


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values in either array (flattened), as numpy.union1d.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.union1d(fnp.array([-1, 0, 1]), fnp.array([-2, 0, 2]))
        Array([-2, -1,  0,  1,  2], dtype=int32)
    """
    a, b = _pair("union1d", ar1, ar2)
    return _fixed(np.union1d(a, b), size, fill_value)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The unique values of ``ar1`` not in ``ar2`` (sorted; in ``ar1``'s order when
    ``assume_unique``), as numpy.setdiff1d.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.setdiff1d(fnp.array([1, 2, 3, 2, 4, 1]), fnp.array([3, 4, 5, 6]))
        Array([1, 2], dtype=int32)
    """
    a, b = _pair("setdiff1d", ar1, ar2)
    return _fixed(np.setdiff1d(a, b, assume_unique=assume_unique), size, fill_value)


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values in exactly one of the arrays, as numpy.setxor1d.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.setxor1d(fnp.array([1, 2, 3, 2, 4]), fnp.array([2, 3, 5, 7, 5]))
        Array([1, 4, 5, 7], dtype=int32)
    """
    a, b = _pair("setxor1d", ar1, ar2)
    return _fixed(np.setxor1d(a, b, assume_unique=assume_unique), size, fill_value)
