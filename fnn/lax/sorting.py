"""Sorting primitives: ``sort`` (differentiable) and ``argsort`` (stable, zero derivative).

The tangent of a sort is the input tangent permuted like the values: gathered with the
stable argsort along the sorted dimension. Ties therefore take the tangent of the
element that comes first, and the rule is differentiable again (a gather is linear).

Example:
    >>> import numpy as np
    >>> from fnn.lax import sorting
    >>> sorting.sort(np.array([3.0, 1.0, 2.0], np.float32))
    Array([1., 2., 3.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import split_rules
from fnn.lax.base import (
    Zero,
    batching_rules,
    defprim,
    is_zero,
    jvp_rules,
    normalize_axis,
)
from fnn.lax.slicing import gather
from fnn.lax.structural import linearized_jet, moveaxis
from fnn.lowering import Lowering
from fnn.rules import jet_rules

__all__ = ["sort", "argsort", "take_along_dimension"]


def _check(name, x, dimension):
    if np.issubdtype(x.dtype, np.complexfloating):
        raise FnnTypeError(f"{name}: complex values have no order, got dtype {x.dtype}")
    if x.ndim == 0:
        raise FnnTypeError(f"{name}: expected an array of rank >= 1, got a scalar")
    if not 0 <= dimension < x.ndim:
        raise FnnTypeError(
            f"{name}: dimension {dimension} is out of bounds for an array of shape {x.shape}"
        )


def _sort_abstract(x, *, dimension):
    _check("sort", x, dimension)
    return ShapedArray(x.shape, x.dtype)


def _argsort_abstract(x, *, dimension, index_dtype):
    _check("argsort", x, dimension)
    return ShapedArray(x.shape, index_dtype)


sort_p = defprim("sort", lambda x, *, dimension: np.sort(x, axis=dimension), _sort_abstract)
argsort_p = defprim(
    "argsort",
    lambda x, *, dimension, index_dtype: np.argsort(x, axis=dimension, kind="stable").astype(
        index_dtype
    ),
    _argsort_abstract,
)


def sort(x, dimension: int = -1):
    """``x`` sorted ascending along ``dimension`` (NaNs last, as numpy).

    Example:
        >>> import numpy as np
        >>> sort(np.array([[2.0, 1.0], [0.0, 5.0]], np.float32), dimension=0)
        Array([[0., 1.],
               [2., 5.]], dtype=float32)
    """
    aval = core.get_aval(x)
    d = normalize_axis("sort", dimension, aval.ndim, "dimension")
    _sort_abstract(aval, dimension=d)
    return sort_p.bind(x, dimension=d)


def argsort(x, dimension: int = -1, index_dtype=None):
    """Indices that sort ``x`` along ``dimension``; stable (ties keep their order).

    Example:
        >>> import numpy as np
        >>> argsort(np.array([3.0, 1.0, 3.0, 0.0], np.float32))
        Array([3, 1, 0, 2], dtype=int32)
    """
    aval = core.get_aval(x)
    d = normalize_axis("argsort", dimension, aval.ndim, "dimension")
    dt = np.dtype(config.default_int() if index_dtype is None else index_dtype)
    _argsort_abstract(aval, dimension=d, index_dtype=dt)
    return argsort_p.bind(x, dimension=d, index_dtype=dt)


def take_along_dimension(x, indices, dimension: int):
    """``x`` gathered with ``indices`` of the same shape along ``dimension``
    (``numpy.take_along_axis`` for equal shapes), as one ``gather``."""
    shape = core.get_aval(x).shape
    idx = []
    for d, n in enumerate(shape):
        if d == dimension:
            idx.append(indices)
        else:
            s = [1] * len(shape)
            s[d] = n
            idx.append(np.arange(n).reshape(s))
    return gather(x, idx, (("a",),) * len(shape))


def _sort_jvp(primals, tangents, *, dimension):
    (x,), (t,) = primals, tangents
    out = sort_p.bind(x, dimension=dimension)
    if is_zero(t):
        return out, Zero(core.get_aval(out))
    perm = argsort_p.bind(x, dimension=dimension, index_dtype=config.default_int())
    return out, take_along_dimension(t, perm, dimension)


def _argsort_jvp(primals, tangents, **params):
    out = argsort_p.bind(*primals, **params)
    return out, Zero(core.get_aval(out))


def _batch(prim):
    def rule(vals, dims, *, dimension, **params):
        x = moveaxis(vals[0], dims[0], 0)
        return prim.bind(x, dimension=dimension + 1, **params), 0

    batching_rules[prim] = rule


jvp_rules[sort_p] = _sort_jvp
jet_rules[sort_p] = linearized_jet(sort_p)
jvp_rules[argsort_p] = _argsort_jvp
_batch(sort_p)
_batch(argsort_p)
lowering.register(
    sort_p,
    Lowering(
        emit=lambda a, eqn, out=None: (
            None if out else f"np.sort({a[0]}, axis={eqn.params['dimension']})"
        ),
        split=split_rules.axis_param_rule("dimension"),
    ),
)
lowering.register(
    argsort_p,
    Lowering(
        emit=lambda a, eqn, out=None: (
            None
            if out
            else f"np.argsort({a[0]}, axis={eqn.params['dimension']}, kind='stable')"
            f".astype(np.{eqn.params['index_dtype']})"
        ),
        split=split_rules.axis_param_rule("dimension"),
    ),
)
