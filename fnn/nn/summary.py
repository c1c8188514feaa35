"""Counting and listing parameters: ``param_count`` and a printable ``summary`` table.

Example:
    >>> import fnn.numpy as fnp
    >>> params = {"dense_0": {"kernel": fnp.zeros((3, 2)), "bias": fnp.zeros(2)}}
    >>> param_count(params)
    8
    >>> print(summary(params))
    name            shape   dtype    params
    ---------------------------------------
    dense_0/kernel  (3, 2)  float32       6
    dense_0/bias    (2,)    float32       2
    ---------------------------------------
    total                                 8
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from fnn.tree_util import tree_leaves

__all__ = ["param_count", "named_leaves", "summary"]


def param_count(params: Any) -> int:
    """The total number of scalars in a pytree of arrays.

    Example:
        >>> param_count({"w": fnp.zeros((3, 4)), "b": fnp.zeros(4)})
        16
    """
    return sum(math.prod(np.shape(leaf)) for leaf in tree_leaves(params))


def _natural(key: Any):
    # "block_10" after "block_2": compare digit runs as numbers.
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(key))]


def named_leaves(params: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(path, leaf)`` pairs, paths joined with "/" as Flax does.

    Dicts keep their insertion order (params from ``init``) unless their keys carry
    layer indices, which are then ordered numerically.

    Example:
        >>> [name for name, _ in named_leaves({"a": {"w": 1}, "b": [2, 3]})]
        ['a/w', 'b/0', 'b/1']
    """
    if isinstance(params, dict):
        items = list(params.items())
        if any(re.search(r"\d", str(k)) for k in params):
            items.sort(key=lambda kv: _natural(kv[0]))
    elif isinstance(params, list | tuple):
        items = list(enumerate(params))
    elif params is None:
        return []
    else:
        return [(prefix or "<root>", params)]
    out = []
    for k, v in items:
        out += named_leaves(v, f"{prefix}/{k}" if prefix else str(k))
    return out


def summary(params: Any) -> str:
    """A table of every parameter's path, shape, dtype and size, with the total.

    Example:
        >>> print(summary({"scale": fnp.ones(4)}).splitlines()[2])
        scale  (4,)   float32       4
    """
    rows = [("name", "shape", "dtype", "params")]
    for name, leaf in named_leaves(params):
        shape = tuple(np.shape(leaf))
        dtype = getattr(leaf, "dtype", np.asarray(leaf).dtype)
        rows.append((name, str(shape), str(np.dtype(dtype)), f"{math.prod(shape):,}"))
    total = f"{param_count(params):,}"
    widths = [max(len(r[i]) for r in [*rows, ("total", "", "", total)]) for i in range(4)]

    def fmt(r):
        return "  ".join(
            [
                r[0].ljust(widths[0]),
                r[1].ljust(widths[1]),
                r[2].ljust(widths[2]),
                r[3].rjust(widths[3]),
            ]
        )

    rule = "-" * (sum(widths) + 6)
    lines = [fmt(rows[0]), rule, *(fmt(r) for r in rows[1:]), rule, fmt(("total", "", "", total))]
    return "\n".join(line.rstrip() for line in lines)
