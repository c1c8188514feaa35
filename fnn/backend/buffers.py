"""Memory planning for generated code: in-place donation and a persistent buffer arena.

Two ways to avoid allocating a fresh temporary for an equation's output:

* **Donation**: an elementwise ufunc writes into the buffer of an input that dies at
  this equation (``np.add(a, b, out=a)``).
* **Arena slots**: every other temporary that an out-capable equation produces gets a
  slot: an array allocated once per compiled program (per concurrent call) and reused by
  every later call, and by later temporaries of the same shape and dtype whose lifetimes
  do not overlap. A fresh numpy temporary of a few hundred KiB comes from ``mmap`` and
  costs its page faults on every call, a large share of a step made of many such
  temporaries (the PINN's; benchmarks/README.md has the measurements).

A buffer is only reused when nothing can still see it: values that may share memory
(views, donation chains, and conservatively the inputs and outputs of any equation not
known to allocate) form one group, and a group that contains a program output, an
argument or a constant never gets a slot: what the caller receives is always freshly
allocated and never overwritten by a later call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fnn.jaxpr import Jaxpr, Var
from fnn.lax.dot import dot_general_p
from fnn.lax.reductions import reduce_max_p, reduce_min_p
from fnn.lax.structural import broadcast_in_dim_p, reduce_sum_p, reshape_p, transpose_p

__all__ = ["BufferPlan", "plan_buffers", "Arena"]

# Temporaries smaller than this many bytes are left to numpy's small-block cache.
MIN_SLOT_BYTES = 16 * 1024


@dataclass
class BufferPlan:
    """``donors[i]``: the input var equation i writes into; ``slots[i]``: the arena slot
    equation i writes into; ``slot_specs[k]``: slot k's (shape, dtype);
    ``column_major``: the slots allocated in Fortran order (see :func:`prefers_column_major`)."""

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
# A float matrix with at least this many rows and at least twice as many columns as rows
# is "short and wide": a dense layer's activations over a batch (the MLP's (128, 512)),
# or over a chunk of one (the CNN's (8, 3136) input gradient of its dense layer, which
# BLAS writes faster column-major down to 2 rows; measurements in benchmarks/README.md).
WIDE_MIN_ROWS = 2


def tall_skinny(shape: tuple[int, ...], dtype) -> bool:
    """Whether a matrix of this shape is "tall and skinny" (see :func:`prefers_column_major`).

    OpenBLAS multiplies an (M, 20) matrix by a 20 x 20 one faster when the M rows run
    down contiguous columns: its small-matrix kernel then vectorizes along M (the gain
    is largest up to 2,500 rows, where that kernel applies; measurements in
    benchmarks/README.md).

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


def short_and_wide(shape: tuple[int, ...], dtype) -> bool:
    """Whether a matrix of this shape is "short and wide" (see :func:`prefers_column_major`).

    OpenBLAS writes an (M, N) product with N >= 2M faster into a column-major output,
    above all on two threads and for small M. That holds for every operand layout of a
    dense layer's forward and backward products (``np.matmul(a, b, out=...)``): (128, 512)
    and (16, 512) outputs of K = 512 products, (8, 3136) ones of K = 128 (measurements in
    benchmarks/README.md).

    Example:
        >>> short_and_wide((128, 512), np.float32), short_and_wide((512, 128), np.float32)
        (True, False)
    """
    return (
        len(shape) == 2
        and shape[0] >= WIDE_MIN_ROWS
        and shape[1] >= 2 * shape[0]
        and np.dtype(dtype).kind == "f"
    )


def prefers_column_major(shape: tuple[int, ...], dtype) -> bool:
    """Whether matrices of this shape are kept column-major (Fortran order) in the arena.

    Tall-and-skinny and short-and-wide float matrices multiply faster that way, and
    numpy's elementwise loops run the same over either order *as long as every operand
    has it*: a ufunc over one C and one Fortran operand walks one of them strided (a
    128 x 512 bit-pattern select then runs many times slower). So :func:`plan_buffers`
    makes a shape column-major only where every value it meets in such loops can be (see
    ``_column_major_slots``).

    Example:
        >>> prefers_column_major((5000, 20), np.float32), prefers_column_major((64, 64), np.float32)
        (True, False)
    """
    return tall_skinny(shape, dtype) or short_and_wide(shape, dtype)


def plan_buffers(
    jaxpr: Jaxpr,
    *,
    is_ufunc: Callable,
    is_view: Callable,
    allocates: Callable,
    can_write_out: Callable[[int], bool],
    max_arena_bytes: int,
    column_major_out: Callable[[int], bool] = lambda i: False,
    is_elementwise: Callable | None = None,
) -> BufferPlan:
    """Plan donations and arena slots for ``jaxpr``'s equations.

    ``is_ufunc(eqn)``: a plain ufunc call (may take a donor); ``is_view(eqn)``: the output
    may be a view of the first input; ``allocates(eqn)``: the output is a fresh array
    sharing memory with no input; ``can_write_out(i)``: equation i can write into a
    given buffer (ufuncs and rules with an ``out`` form); ``column_major_out(i)``: it
    writes correctly into a Fortran-ordered buffer too (no reshape of ``out`` that
    would copy); ``is_elementwise(eqn)``: it loops over operands of its output's shape
    elementwise (ufuncs, by default), so they had better share an order
    (:func:`_column_major_slots`).
    """
    is_elementwise = is_elementwise or is_ufunc
    plan = BufferPlan(donors=_donors(jaxpr, is_ufunc, is_view, allocates))
    if max_arena_bytes <= 0:
        return plan
    groups = _alias_groups(jaxpr, plan.donors, is_view, allocates)
    candidates = _slot_candidates(jaxpr, groups, plan.donors, is_view, can_write_out)
    _assign_slots(candidates, plan)
    if plan.arena_bytes > max_arena_bytes:  # too big to keep between calls
        plan.slots, plan.slot_specs = {}, []
    plan.column_major = _column_major_slots(jaxpr, plan, is_elementwise, column_major_out)
    return plan


def _column_major_slots(
    jaxpr: Jaxpr, plan: BufferPlan, is_elementwise, column_major_out
) -> set[int]:
    """The slots to allocate column-major: those of shapes :func:`prefers_column_major`
    names, wherever no elementwise loop would then mix orders.

    Values that meet in an elementwise equation (operands of the output's shape, masks,
    casts and other dtypes included) form a component, which is column-major as a whole
    or not at all. A value can be column-major when an equation that accepts a Fortran
    ``out`` writes it into a slot, when an elementwise equation writes it into a donated
    buffer or (numpy keeping its inputs' order) a fresh one from an operand of its
    component, or when it broadcasts a smaller value (stride 0: any order runs at full
    speed). Arguments and constants (unless tall and skinny) and other producers (a
    product without a slot allocates C-ordered, views keep their source's order) keep
    their component row-major, and so does a short-and-wide value read by anything but
    elementwise loops and :func:`_reads_column_major_well` readers. A slot holds values
    of several components over time: it is column-major only if all of them are, and a
    row-major slot keeps each of its components row-major.
    """
    wanted = {shape for shape, dtype in plan.slot_specs if prefers_column_major(shape, dtype)}
    if not wanted:
        return set()
    components = _UnionFind()
    for eqn in jaxpr.eqns:
        out = eqn.out_binders[0] if eqn.out_binders else None
        if out is not None and out.aval.shape in wanted and is_elementwise(eqn):
            for x in eqn.inputs:
                if type(x) is Var and x.aval.shape == out.aval.shape:
                    components.union(x, out)
    row_major = set()  # components (their roots) that must stay row-major
    for eqn in jaxpr.eqns:
        for x in eqn.inputs:
            if (
                type(x) is Var
                and x.aval.shape in wanted
                and not tall_skinny(x.aval.shape, x.aval.dtype)
                and not (is_elementwise(eqn) or _reads_column_major_well(eqn))
            ):
                row_major.add(components.find(x))
    for v in jaxpr.invars + jaxpr.constvars:
        # A C-ordered argument slows the elementwise loops where it meets column-major
        # values, far more for a short-and-wide shape than for a tall-and-skinny one:
        # only the latter still gains overall (the PINN's chunks take arguments of their
        # activations' shape and run faster with column-major slots; measurements in
        # benchmarks/README.md).
        if v.aval.shape in wanted and not tall_skinny(v.aval.shape, v.aval.dtype):
            row_major.add(components.find(v))
    slot_of: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for out in eqn.out_binders:
            shape = out.aval.shape
            if shape not in wanted:
                continue
            if i in plan.slots:
                ok = column_major_out(i)
                slot_of[out] = plan.slots[i]
            elif eqn.primitive is broadcast_in_dim_p:
                ok = math.prod(eqn.inputs[0].aval.shape) < math.prod(shape)
            else:
                ok = is_elementwise(eqn) and (
                    i in plan.donors
                    or any(type(x) is Var and x.aval.shape == shape for x in eqn.inputs)
                )
            if not ok:
                row_major.add(components.find(out))
    while True:
        slots = {k: True for k in slot_of.values()}
        for v, k in slot_of.items():
            if components.find(v) in row_major:
                slots[k] = False
        forced = {components.find(v) for v, k in slot_of.items() if not slots[k]}
        if forced <= row_major:
            return {k for k, ok in slots.items() if ok}
        row_major |= forced


# Readers of a short-and-wide matrix, besides elementwise loops, that run as fast on it
# column-major: products (BLAS takes either order), a reshape (one copy, cheaper than the
# row-major product it follows), a transpose (a C-ordered view), and reductions over its
# rows (axis 0). A reduction along a row walks a column-major matrix strided, many times
# slower than over a C-ordered one (benchmarks/README.md).
_COLUMN_MAJOR_READERS = {dot_general_p, reshape_p, transpose_p}
_ROW_REDUCTIONS = {reduce_sum_p, reduce_max_p, reduce_min_p}


def _reads_column_major_well(eqn) -> bool:
    prim = eqn.primitive
    if prim in _COLUMN_MAJOR_READERS:
        return True
    return prim in _ROW_REDUCTIONS and tuple(eqn.params.get("axes", ())) == (0,)


def _donors(jaxpr: Jaxpr, is_ufunc, is_view, allocates) -> dict[int, Var]:
    """For each ufunc equation, an input whose buffer can receive the output.

    A value may share memory with any buffer its lowering does not rule out: a view
    with its first input's, a value of unknown provenance (an impl call, say) with
    every input's, and only an allocating equation's output is a buffer of its own. A
    buffer is reusable when this program allocated it (not an argument, a constant or
    a literal), when the value donating it owns it alone, and when this equation is
    the last to read any value that may see it; shapes and dtypes must match exactly.
    """
    # The buffers each value may see: None stands for memory the program does not own.
    sees: dict = {}
    for v in jaxpr.invars + jaxpr.constvars:
        sees[v] = frozenset([None])

    def seen_by(x):
        return sees.get(x, frozenset([None])) if type(x) is Var else frozenset([None])

    for eqn in jaxpr.eqns:
        if is_view(eqn):
            shared = seen_by(eqn.inputs[0]) if eqn.inputs else frozenset()
            for o in eqn.out_binders:
                sees[o] = shared
        elif is_ufunc(eqn) or allocates(eqn):
            for o in eqn.out_binders:
                sees[o] = frozenset([o])
        else:  # unknown: may return (a view of) any input, or fresh memory
            shared = frozenset().union(*(seen_by(x) for x in eqn.inputs))
            for o in eqn.out_binders:
                sees[o] = shared | {o}
    # Last read of each buffer, through any value that may see it.
    last_use: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for x in eqn.inputs:
            for b in seen_by(x):
                if b is not None:
                    last_use[b] = i
    n = len(jaxpr.eqns)
    for x in jaxpr.outvars:
        for b in seen_by(x):
            if b is not None:
                last_use[b] = n  # outputs are never overwritten
    donors: dict[int, Var] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        if not is_ufunc(eqn):
            continue
        out_aval = eqn.out_binders[0].aval
        if out_aval.ndim == 0:
            continue  # numpy returns scalars for 0-d results: nothing to write into
        for x in eqn.inputs:
            if type(x) is not Var or sees.get(x) != frozenset([x]):
                continue  # not a buffer this value owns alone
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
