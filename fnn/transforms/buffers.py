"""Memory planning for generated code: in-place donation and a persistent buffer arena.

Two ways to avoid allocating a fresh temporary for an equation's output:

* **Donation**: an elementwise ufunc writes into the buffer of an input that dies at
  this equation (``np.add(a, b, out=a)``).
* **Arena slots**: every other temporary that an out-capable equation produces gets a
  slot: an array allocated once per compiled program (per concurrent call) and reused by
  every later call, and by later temporaries of the same shape and dtype whose lifetimes
  do not overlap. A fresh numpy temporary of a few hundred KiB comes from ``mmap`` and
  costs its page faults on every call; measured on the PINN benchmark step these were
  about a quarter of the time.

A buffer is only reused when nothing can still see it: values that may share memory
(views, donation chains, and conservatively the inputs and outputs of any equation not
known to allocate) form one group, and a group that contains a program output, an
argument or a constant never gets a slot: what the caller receives is always freshly
allocated and never overwritten by a later call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fnn.jaxpr import Jaxpr, Var

__all__ = ["BufferPlan", "plan_buffers", "Arena"]

# Temporaries smaller than this many bytes are left to numpy's small-block cache.
MIN_SLOT_BYTES = 16 * 1024


@dataclass
class BufferPlan:
    """``donors[i]``: the input var equation i writes into; ``slots[i]``: the arena slot
    equation i writes into; ``slot_specs[k]``: slot k's (shape, dtype);
    ``column_major``: the slots allocated in Fortran order (see :func:`tall_skinny`)."""

    donors: dict[int, Var] = field(default_factory=dict)
    slots: dict[int, int] = field(default_factory=dict)
    slot_specs: list[tuple[tuple[int, ...], np.dtype]] = field(default_factory=list)
    column_major: set[int] = field(default_factory=set)

    @property
    def arena_bytes(self) -> int:
        return sum(int(np.prod(s)) * np.dtype(d).itemsize for s, d in self.slot_specs)


# A float matrix of at most this many columns and at least this many rows is "tall and
# skinny": the activations of a narrow network over many points (the PINN's (N, 20)).
TALL_MAX_COLUMNS = 32
TALL_MIN_ROWS = 1024


def tall_skinny(shape: tuple[int, ...], dtype) -> bool:
    """Whether a slot of this shape is kept column-major (Fortran order).

    OpenBLAS multiplies an (M, 20) matrix by a 20 x 20 one about twice as fast when the
    M rows run down contiguous columns (its small-matrix kernel then vectorizes along
    M; measured 4.7 against 9.0 ns per row up to 2,500 rows, 7.7 against 9.3 at 5,000),
    and numpy's elementwise loops run the same over either order, as long as every
    operand has it. So such slots are allocated column-major, for writers that accept
    any order (:func:`plan_buffers`' ``column_major_out``).

    Example:
        >>> tall_skinny((5000, 20), np.float32), tall_skinny((128, 512), np.float32)
        (True, False)
    """
    return (
        len(shape) == 2
        and shape[0] >= TALL_MIN_ROWS
        and 1 < shape[1] <= TALL_MAX_COLUMNS
        and np.dtype(dtype).kind == "f"
    )


def plan_buffers(
    jaxpr: Jaxpr,
    *,
    is_ufunc: Callable,
    is_view: Callable,
    allocates: Callable,
    can_write_out: Callable[[int], bool],
    max_arena_bytes: int,
    column_major_out: Callable[[int], bool] = lambda i: False,
) -> BufferPlan:
    """Plan donations and arena slots for ``jaxpr``'s equations.

    ``is_ufunc(eqn)``: a plain ufunc call (may take a donor); ``is_view(eqn)``: the output
    may be a view of the first input; ``allocates(eqn)``: the output is a fresh array
    sharing memory with no input; ``can_write_out(i)``: equation i can write into a
    given buffer (ufuncs and rules with an ``out`` form); ``column_major_out(i)``: it
    writes correctly into a Fortran-ordered buffer too (no reshape of ``out`` that
    would copy). A tall-and-skinny slot is column-major when all its writers are.
    """
    plan = BufferPlan(donors=_donors(jaxpr, is_ufunc, is_view))
    if max_arena_bytes <= 0:
        return plan
    groups = _alias_groups(jaxpr, plan.donors, is_view, allocates)
    candidates = _slot_candidates(jaxpr, groups, plan.donors, is_view, can_write_out)
    _assign_slots(candidates, plan)
    if plan.arena_bytes > max_arena_bytes:  # too big to keep between calls
        plan.slots, plan.slot_specs = {}, []
    writers: dict[int, list[int]] = {}
    for i, k in plan.slots.items():
        writers.setdefault(k, []).append(i)
    # Donations write into a slot with ufuncs (any order); the slot's own writers decide.
    plan.column_major = {
        k
        for k, eqns in writers.items()
        if tall_skinny(*plan.slot_specs[k]) and all(column_major_out(i) for i in eqns)
    }
    return plan


def _donors(jaxpr: Jaxpr, is_ufunc, is_view) -> dict[int, Var]:
    """For each ufunc equation, an input whose buffer can receive the output.

    A buffer is reusable when it was allocated by this program (not an argument, a
    constant, or a view of one), when no live value views it, and when this equation
    is its last use; shapes and dtypes must match the output exactly.
    """
    # Root buffer of each value: views share their source's root.
    root: dict[Var, Var | None] = {}
    for v in jaxpr.invars + jaxpr.constvars:
        root[v] = None  # not owned by the program
    for eqn in jaxpr.eqns:
        if is_view(eqn):
            # A view of a literal (a broadcast constant) is read-only: nobody owns it.
            src = eqn.inputs[0]
            r = root.get(src) if type(src) is Var else None
            for o in eqn.out_binders:
                root[o] = r
        else:
            for o in eqn.out_binders:
                root[o] = o
    # Last use of each root buffer, through any of its views.
    last_use: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for x in eqn.inputs:
            if type(x) is Var and root.get(x) is not None:
                last_use[root[x]] = i
    n = len(jaxpr.eqns)
    for x in jaxpr.outvars:
        if type(x) is Var and root.get(x) is not None:
            last_use[root[x]] = n  # outputs are never overwritten
    donors: dict[int, Var] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        if not is_ufunc(eqn):
            continue
        out_aval = eqn.out_binders[0].aval
        if out_aval.ndim == 0:
            continue  # numpy returns scalars for 0-d results: nothing to write into
        for x in eqn.inputs:
            if type(x) is not Var or root.get(x) is not x:
                continue
            if last_use.get(x) != i or x.aval != out_aval:
                continue
            if sum(1 for y in eqn.inputs if y is x) > 1:
                continue
            donors[i] = x
            last_use[x] = -1  # consumed
            break
    return donors


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        p = self.parent.setdefault(x, x)
        while p is not self.parent.setdefault(p, p):
            p = self.parent[p]
        self.parent[x] = p
        return p

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[ra] = rb


def _alias_groups(jaxpr, donors, is_view, allocates) -> _UnionFind:
    """Union the values that may share memory."""
    uf = _UnionFind()
    for i, eqn in enumerate(jaxpr.eqns):
        outs = eqn.out_binders
        if i in donors:
            tied = [donors[i]]
        elif is_view(eqn):
            tied = [x for x in eqn.inputs[:1] if type(x) is Var]
        elif allocates(eqn):
            tied = []
        else:  # unknown: its outputs may view any input
            tied = [x for x in eqn.inputs if type(x) is Var]
        for o in outs:
            uf.find(o)
            for x in tied:
                uf.union(o, x)
    return uf


@dataclass
class _Candidate:
    origin: int  # the equation that allocates the group's buffer
    end: int  # the last equation reading any value of the group
    spec: tuple


def _slot_candidates(jaxpr, uf, donors, is_view, can_write_out) -> list[_Candidate]:
    forbidden = set()
    for v in jaxpr.invars + jaxpr.constvars:
        forbidden.add(uf.find(v))
    for v in jaxpr.outvars:
        if type(v) is Var:
            forbidden.add(uf.find(v))
    # Each group's allocating equation; groups with several are merged aliases: skip.
    origin: dict = {}
    for i, eqn in enumerate(jaxpr.eqns):
        if i in donors or is_view(eqn):
            continue  # these write into (or view) a buffer allocated elsewhere
        for o in eqn.out_binders:
            g = uf.find(o)
            origin[g] = None if g in origin or len(eqn.out_binders) != 1 else i
    end: dict = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for x in eqn.inputs:
            if type(x) is Var:
                end[uf.find(x)] = i
    out = []
    for g, i in origin.items():
        if i is None or g in forbidden or not can_write_out(i):
            continue
        aval = jaxpr.eqns[i].out_binders[0].aval
        nbytes = int(np.prod(aval.shape)) * np.dtype(aval.dtype).itemsize
        if aval.ndim == 0 or nbytes < MIN_SLOT_BYTES:
            continue
        out.append(_Candidate(i, end.get(g, i), (tuple(aval.shape), np.dtype(aval.dtype))))
    return out


def _assign_slots(candidates: list[_Candidate], plan: BufferPlan) -> None:
    """Greedy interval colouring per (shape, dtype): a slot is free once its previous
    group's last reader has run (strictly before the new group's origin, so that no
    equation reads and writes one buffer)."""
    busy_until: dict[tuple, list[list[int]]] = {}  # spec -> [[slot, end], ...]
    for c in sorted(candidates, key=lambda c: c.origin):
        slots = busy_until.setdefault(c.spec, [])
        for entry in slots:
            if entry[1] < c.origin:
                entry[1] = c.end
                plan.slots[c.origin] = entry[0]
                break
        else:
            k = len(plan.slot_specs)
            plan.slot_specs.append(c.spec)
            slots.append([k, c.end])
            plan.slots[c.origin] = k


class Arena:
    """The slot buffers of one compiled program, one set per concurrent call.

    ``acquire()`` hands out a free set (allocating one when every set is in use, e.g.
    by another thread), ``release(s)`` returns it; list ``pop``/``append`` are atomic.
    """

    def __init__(self, specs, column_major=()):
        self.specs = list(specs)
        self.orders = ["F" if k in column_major else "C" for k in range(len(self.specs))]
        self._free: list[list[np.ndarray]] = []

    def acquire(self) -> list[np.ndarray]:
        try:
            return self._free.pop()
        except IndexError:
            return [
                np.empty(shape, dtype, order=order)
                for (shape, dtype), order in zip(self.specs, self.orders, strict=True)
            ]

    def release(self, buffers: list[np.ndarray]) -> None:
        self._free.append(buffers)
