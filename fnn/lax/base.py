"""Shared machinery for defining primitives: shape checks, registration helpers.

A primitive is defined in one place with ``defprim`` and its rules registered into
the transforms' tables (``jvp_rules``, ``transpose_rules``, ``batching_rules``) and its
jit lowering into ``fnn.lowering``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fnn import core
from fnn.core import FnnTypeError, Primitive, ShapedArray
from fnn.transforms import batching, jvp, vjp
from fnn.transforms.jvp import Zero

__all__ = [
    "defprim",
    "Zero",
    "jvp_rules",
    "transpose_rules",
    "batching_rules",
    "broadcast_shapes",
    "check_same_dtype",
]

jvp_rules = jvp.jvp_rules
transpose_rules = vjp.transpose_rules
batching_rules = batching.batching_rules


def defprim(
    name: str,
    impl: Callable,
    abstract_eval: Callable,
    *,
    multiple_results: bool = False,
    silent: bool = False,
) -> Primitive:
    p = Primitive(name, multiple_results, silent)
    p.impl = impl
    p.abstract_eval = abstract_eval
    return p


def broadcast_shapes(name: str, *shapes) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise FnnTypeError(
            f"{name}: operands of shapes {', '.join(map(str, shapes))} do not broadcast "
            "together (numpy broadcasting: trailing dimensions must be equal or 1)"
        ) from None


def check_same_dtype(name: str, avals) -> np.dtype:
    dtypes = {a.dtype for a in avals}
    if len(dtypes) != 1:
        raise FnnTypeError(
            f"{name}: operands must have the same dtype, got "
            f"{', '.join(str(a.dtype) for a in avals)} (fnn.numpy promotes; lax does not)"
        )
    return avals[0].dtype


def aval_of(x) -> ShapedArray:
    return core.get_aval(x)


def is_zero(t) -> bool:
    return type(t) is Zero


def normalize_axis(name: str, axis: int, ndim: int, argname: str = "axis") -> int:
    if not isinstance(axis, int | np.integer):
        raise FnnTypeError(f"{name}: {argname} must be an integer, got {axis!r}")
    if not -ndim <= axis < max(ndim, 1):
        raise FnnTypeError(
            f"{name}: {argname}={axis} is out of bounds for an array of rank {ndim} "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return int(axis) % max(ndim, 1)
