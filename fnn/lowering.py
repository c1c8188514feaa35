"""How jit lowers each primitive: one record per primitive, registered beside its rules.

A :class:`Lowering` says everything the jit backend needs to know about a primitive:
how to emit it as numpy code, whether it can write into a given ``out=`` buffer, what
its result may share memory with, whether it loops elementwise (so its operands had
better share a memory order), and how it splits over a batch. Codegen, the buffer
planner, the batch split and the passes read only these records.

A primitive without a record is still compiled, by calling its ``impl``, and its output
is assumed to possibly share memory with every input: a missing fact costs speed, never
correctness.

Example:
    >>> import numpy as np
    >>> from fnn.lowering import Lowering, FRESH
    >>> sin = Lowering(ufunc="sin", memory=FRESH, elementwise=True)
    >>> sin.memory_of(None)
    'fresh'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FRESH",
    "VIEW",
    "UNKNOWN",
    "INTERPRETED",
    "Lowering",
    "lowerings",
    "register",
    "lowering_of",
    "Mapped",
    "Partial",
    "Unsplittable",
]

# What a primitive's result may share memory with.
FRESH = "fresh"  # a new array, sharing no input's memory
VIEW = "view"  # possibly a view of its first input, of no other
UNKNOWN = "unknown"  # possibly (a view of) any input


class Unsplittable(Exception):
    """The program has no batch structure the batch split can use."""


@dataclass(frozen=True)
class Mapped:
    """A value that holds batch rows along ``axis``, ``unit`` entries per row."""

    axis: int
    unit: int = 1


@dataclass(frozen=True)
class Partial:
    """A reduction over the batch: chunk results are combined with ``combine``."""

    combine: str  # "add", "max" or "min"


@dataclass(frozen=True)
class Lowering:
    """The jit lowering of one primitive.

    * ``ufunc``: the name of a numpy ufunc computing the primitive on its (broadcast)
      inputs when it has no parameters: emitted as ``np.<ufunc>(a, b)``, and free to
      write into a dead input's buffer (``out=a``).
    * ``emit(args, eqn, out=None)``: the numpy expression of the result from the
      argument names; with ``out`` (a C-contiguous buffer of the output's shape and
      dtype) the expression that writes into it, or None where this equation has no
      such form. None: the primitive's ``impl`` is called.
    * ``memory``: :data:`FRESH`, :data:`VIEW` or :data:`UNKNOWN`, or a function of the
      equation returning one.
    * ``fortran_out``: whether the ``out`` form also writes correctly into a
      Fortran-ordered buffer (bool, or a function of the equation).
    * ``elementwise``: computed elementwise over operands broadcast to its output.
    * ``split(eqn, infos, B)``: the batch split rule (``fnn/backend/batch_split.py``);
      elementwise primitives share one and need none.
    * ``helpers``: names the emitted code calls, and the objects they stand for.
    * ``bodies``: the parameters holding sub-programs (jaxprs, or tuples of them) that
      the backend compiles and passes to the ``impl`` in their place (control flow).
    * ``collective``: the result depends on other processes too (``fnn.distributed``):
      never evaluated at compile time, even on constant inputs (two processes may
      compile at different moments, and a collective must run in step on all of them).
    """

    ufunc: str | None = None
    emit: Callable[..., str | None] | None = None
    memory: str | Callable[[Any], str] = UNKNOWN
    fortran_out: bool | Callable[[Any], bool] = False
    elementwise: bool = False
    split: Callable | None = None
    helpers: Mapping[str, Any] = field(default_factory=dict)
    bodies: tuple[str, ...] = ()
    collective: bool = False

    def memory_of(self, eqn) -> str:
        """What this equation's result may share memory with."""
        return self.memory(eqn) if callable(self.memory) else self.memory

    def fortran_out_for(self, eqn) -> bool:
        return self.fortran_out(eqn) if callable(self.fortran_out) else self.fortran_out


NONE = Lowering()  # no record: call the impl, assume it may alias every input
# The record of a primitive that jit runs by calling its impl (linear algebra, loops,
# random bits): declared, so that a primitive without any record stands out.
INTERPRETED = Lowering()

lowerings: dict[Any, Lowering] = {}


def register(prim, lowering: Lowering) -> Lowering:
    """Record ``prim``'s lowering (once per primitive)."""
    if prim in lowerings:
        raise ValueError(f"{prim.name}: lowering registered twice")
    lowerings[prim] = lowering
    return lowering


def lowering_of(prim) -> Lowering:
    """``prim``'s record, or :data:`NONE`."""
    return lowerings.get(prim, NONE)
