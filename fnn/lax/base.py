"""Shared machinery for defining primitives: shape checks, registration helpers.

A primitive is defined in one place with ``defprim``, its rules registered into the
tables of ``fnn.rules`` (``jvp_rules``, ``transpose_rules``, ``batching_rules``, which
this module re-exports for the primitive modules) and its jit lowering into
``fnn.lowering``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fnn import core
from fnn.core import FnnTypeError, Primitive, ShapedArray
from fnn.rules import (
    Zero,
    batching_rules,
    is_undefined_primal,
    is_zero,
    jvp_rules,
    not_mapped,
    transpose_rules,
)

__all__ = [
    "defprim",
    "Zero",
    "jvp_rules",
    "transpose_rules",
    "batching_rules",
    "is_undefined_primal",
    "is_zero",
    "not_mapped",
    "is_float",
    "broadcast_shapes",
    "check_same_dtype",
    "real_dtype",
    "complex_dtype",
]


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


_REAL_OF = {
    np.dtype(np.complex64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.float64),
}
_COMPLEX_OF = {
    np.dtype(np.float32): np.dtype(np.complex64),
    np.dtype(np.float64): np.dtype(np.complex128),
}


def real_dtype(dtype) -> np.dtype:
    """The real dtype of a complex one's parts (complex64 -> float32); others unchanged."""
    dtype = np.dtype(dtype)
    return _REAL_OF.get(dtype, dtype)


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype with parts of a float dtype (float32 -> complex64; float16 too,
    as JAX); complex dtypes unchanged."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return dtype
    return _COMPLEX_OF.get(dtype, np.dtype(np.complex64))


def aval_of(x) -> ShapedArray:
    return core.get_aval(x)


def is_float(dtype) -> bool:
    """Whether values of ``dtype`` have tangents (floating and complex types do)."""
    return np.issubdtype(dtype, np.inexact)


def normalize_axis(name: str, axis: int, ndim: int, argname: str = "axis") -> int:
    if not isinstance(axis, int | np.integer):
        raise FnnTypeError(f"{name}: {argname} must be an integer, got {axis!r}")
    if not -ndim <= axis < max(ndim, 1):
        raise FnnTypeError(
            f"{name}: {argname}={axis} is out of bounds for an array of rank {ndim} "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return int(axis) % max(ndim, 1)
