"""The transforms' rule tables, keyed by primitive, and the symbolic values rules see.

Every primitive registers its rules here, beside its definition in ``fnn.lax``; the
interpreters in ``fnn.transforms`` read them. The tables sit at the bottom of the import
graph so that both sides import them and neither imports the other's internals:

- ``jvp_rules[prim](primals, tangents, **params) -> (primal_out, tangent_out)``, where a
  tangent may be the symbolic ``Zero`` (forward mode, ``fnn.transforms.jvp``);
- ``transpose_rules[prim](cts, *args, **params) -> cotangents of args``, where the
  linear inputs are ``UndefinedPrimal`` (reverse mode, ``fnn.transforms.vjp``);
- ``batching_rules[prim](vals, dims, **params) -> (out, out_dim)``, a dim being an axis
  or ``not_mapped`` (vmap, ``fnn.transforms.batching``);
- ``partial_eval_rules[prim](trace, tracers, **params) -> tracers``, for primitives that
  hold sub-programs (cond, scan, while) and split themselves into known and unknown parts;
- ``jet_rules[prim](primals, series, **params) -> (primal_out, series_out)``: Taylor mode
  (``fnn.transforms.jet``). Each input's series is a list of K *normalized* Taylor
  coefficients (the input is ``x(t) = x0 + s1 t + s2 t**2 + ... + sK t**K``), any of
  which may be None (a zero coefficient); the output's series is the same for ``f(x(t))`` (a list of lists
  for multiple results). A primitive without an entry is expanded by nested JVPs.

Example:
    >>> from fnn import rules
    >>> from fnn.lax.elementwise import sin_p
    >>> sin_p in rules.jvp_rules and sin_p in rules.batching_rules
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnn.core import Primitive, ShapedArray

__all__ = [
    "jvp_rules",
    "transpose_rules",
    "batching_rules",
    "partial_eval_rules",
    "jet_rules",
    "Zero",
    "UndefinedPrimal",
    "is_undefined_primal",
    "is_zero",
    "not_mapped",
]

jvp_rules: dict[Primitive, Callable[..., Any]] = {}
transpose_rules: dict[Primitive, Callable[..., Any]] = {}
batching_rules: dict[Primitive, Callable[..., Any]] = {}
partial_eval_rules: dict[Primitive, Callable[..., Any]] = {}
jet_rules: dict[Primitive, Callable[..., Any]] = {}

# The batch dimension of a value that is the same for every example.
not_mapped = None


class Zero:
    """A symbolic zero tangent (or cotangent) of a known abstract value."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def is_zero(t) -> bool:
    return type(t) is Zero


class UndefinedPrimal:
    """Stands for a linear input of an equation during transposition."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined_primal(x) -> bool:
    return type(x) is UndefinedPrimal
