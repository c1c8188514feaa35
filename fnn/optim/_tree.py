"""Small pytree arithmetic shared by the optimizers (private).

Every helper maps over leaves with fnn.numpy ops, so it traces under ``fnn.jit``.
Scalars are cast to each leaf's dtype first: a float64 schedule value (x64 on) must
not promote float32 parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import fnn.numpy as fnp
from fnn.tree_util import tree_leaves, tree_map

INT32_MAX = int(np.iinfo(np.int32).max)


def zeros_count():
    """A fresh int32 step counter (int32 even with x64 on, as in optax)."""
    return fnp.zeros([], fnp.int32)


def safe_increment(count):
    """``count + 1``, saturating at the int32 maximum instead of wrapping around."""
    return fnp.where(count < INT32_MAX, count + 1, count)


def as_dtype(x, dtype):
    """``x`` (a Python number or an array) as an fnn array of ``dtype``."""
    return fnp.asarray(x).astype(dtype)


def zeros_like(tree: Any, dtype=None) -> Any:
    return tree_map(lambda x: fnp.zeros_like(x, dtype=dtype), tree)


def full_like(tree: Any, value) -> Any:
    return tree_map(lambda x: fnp.full_like(x, value), tree)


def scale(s, tree: Any) -> Any:
    """``s * tree`` leafwise, ``s`` cast to each leaf's dtype."""
    return tree_map(lambda x: as_dtype(s, x.dtype) * x, tree)


def add_scale(a: Any, s, b: Any) -> Any:
    """``a + s * b`` leafwise (the same arithmetic as ``apply_updates(a, scale(s, b))``)."""
    return tree_map(lambda x, y: (x + as_dtype(s, y.dtype) * y).astype(x.dtype), a, b)


def sub(a: Any, b: Any) -> Any:
    return tree_map(lambda x, y: x - y, a, b)


def vdot(a: Any, b: Any):
    """``sum_i <a_i, b_i>`` over matching leaves, a scalar."""
    parts = [fnp.sum(x * y) for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True)]
    return sum(parts[1:], parts[0]) if parts else fnp.asarray(0.0)


def where(cond, a: Any, b: Any) -> Any:
    """Leafwise ``cond ? a : b`` for a scalar predicate, keeping ``a``'s dtypes."""
    return tree_map(lambda x, y: fnp.where(cond, x, y).astype(fnp.asarray(x).dtype), a, b)


def cast(tree: Any, dtype) -> Any:
    if dtype is None:
        return tree
    return tree_map(lambda x: fnp.asarray(x).astype(dtype), tree)


def first_float_dtype(tree: Any):
    """The dtype of the first leaf (the dtype line-search scalars are kept in)."""
    leaves = tree_leaves(tree)
    if not leaves:
        raise ValueError("expected a pytree with at least one array leaf, got an empty tree")
    return fnp.asarray(leaves[0]).dtype
