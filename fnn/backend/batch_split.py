"""Data-parallel execution of a jitted program over its batch axis, on several threads.

A training step is mostly a map over the examples of a batch followed by sums over
them (the mean loss, the weight gradients). This pass finds that structure in an
optimized jaxpr and splits the program into parts run in turn:

* global segments: equations that hold no per-example values, run once. The first
  ("pre") needs only the arguments; the last ("post") is typically the optimizer update;
* chunk rounds between them: the per-example work, run on contiguous chunks of the
  batch in a thread pool (numpy releases the GIL in its loops and in BLAS). Each chunk
  returns *partial* results of the reductions over the batch, which are combined before
  the next segment; per-example values a later round needs stay with their chunk.

Everything runs in the calling process: the library never forks its caller. Whether
to split, and into which chunks, is decided by the cost model below from the program's
shapes alone, never by timing, and the chunks' partial reductions are combined in a
fixed order: the same program on the same inputs gives the same bits on every run.

One round suffices for a plain training step. Batch norm needs a round per statistic
(the mean, then the variance of the centred values, then the sums of its backward
pass), and a GAN step that updates the discriminator and then differentiates through
it needs a round after that update. A large global segment is split in its turn along
another axis (an Adam update of a 1024 x 3136 weight runs on blocks of rows).

Chunks also keep each intermediate small enough to stay in cache, which pays off even
on one core. The analysis tracks, for every value, whether and along which axis it is
*mapped* (holds batch rows), in the manner of vmap's batching rules; an equation it has
no rule for makes the program run unsplit. The split is exact up to the order of
floating-point sums.

Values: ``None`` (not mapped), ``Mapped(axis, unit)`` (``unit`` entries per batch row
along ``axis``: a reshape of (B, S, D) to (B*S, D) has unit S), or ``Partial(op)``
(a reduction over the batch: chunk results are combined with ``op``). The per-primitive
rules are named by each primitive's lowering record (``fnn/lowering.py``), most of
them written in ``fnn/lax/split_rules.py``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fnn import config, core
from fnn.backend.program import Program
from fnn.jaxpr import Jaxpr, Literal, Var, trace_to_jaxpr
from fnn.lowering import Mapped, Partial, Unsplittable, lowering_of

__all__ = ["plan_split", "SplitProgram", "describe"]


# A program is split only when its per-example part produces at least this many elements.
# Below it the hand-offs and the smaller matmuls cost more than they save: the benchmark
# MLP step (0.9 M elements, matmul-bound) runs faster whole with two BLAS threads than
# split in two chunks (measurements in benchmarks/README.md).
MIN_MAPPED_ELEMENTS = 1 << 22
# Aim for chunks whose largest intermediate is about this many bytes (cache-sized).
TARGET_CHUNK_BYTES = 2 * 1024 * 1024
MAX_CHUNKS_PER_THREAD = 4
# At most this many rows per chunk of a program whose per-row values are narrow (the
# PINN's points, 20 units wide): OpenBLAS's small-matrix kernel takes a column-major
# (M, 20) @ (20, 20) product only up to M * 400 = 10**6 multiply-adds, faster per row
# than the kernel beyond (buffers.tall_skinny); the benchmark PINN step (10,000 points)
# runs faster in chunks of 2,500 rows than of 5,000 (benchmarks/README.md).
MAX_NARROW_CHUNK_ROWS = 2500
NARROW_ROW_BYTES = 32 * 8
PARTIAL_SHARE = 8
# Analyses per batch size tried (each walks the program once): bounds compile time.
MAX_ANALYSES = 32
# Elementwise equations at least this large in a global segment are expected to be
# split along another axis (see plan_split's split_segments).
PARALLEL_ELEMENTWISE = 1 << 16


# -- the analysis ------------------------------------------------------------------------

# Parts of a split program, in execution order: global segment s is part 2s (run once),
# chunk round r (r >= 1) is part 2r - 1 (run on every chunk). Part 0 is "pre" and the
# last global segment is "post".
MAX_ROUNDS = 64


@dataclass
class _Analysis:
    B: int
    part: list[int]  # per equation
    info: dict  # Var -> None | Mapped | Partial
    slices: dict  # eqn index -> {input index: Mapped}
    params: dict  # eqn index -> params(c)
    mapped_elements: int
    row_bytes: int  # bytes per batch row of the largest mapped intermediate
    partial_elements: int  # elements of the reductions each chunk returns
    chunk_elements: int  # outputs of the equations in chunk rounds
    elementwise_elements: int  # outputs of large elementwise equations in global segments
    serial_elements: int  # outputs of the other equations (run once, on one thread)
    rounds: int

    def cost(self, threads: int, split_segments: bool) -> float:
        """Elements produced per thread: a proxy of the split program's time.

        With ``split_segments``, large elementwise equations in global segments count
        as parallel: the segments are split in their turn.
        """
        elementwise = self.elementwise_elements / (threads if split_segments else 1)
        return self.serial_elements + elementwise + self.chunk_elements / threads


def _analyse(jaxpr: Jaxpr, B: int, mapped_inputs) -> _Analysis:
    """Place every equation in a part when the ``mapped_inputs`` hold the batch on axis 0.

    An equation with a per-example (mapped) input runs in the earliest chunk round after
    its inputs exist: a global value made in segment s is usable from round s + 1, a
    reduction over the batch (``Partial``) made in round r is combined in segment r and
    usable from round r + 1. Other equations run in the earliest global segment after
    their inputs. Batch norm thus takes one round per statistic.
    """
    info: dict = {}
    made: dict = {}  # Var -> the part that produces it
    for v in jaxpr.constvars:
        info[v], made[v] = None, 0
    for v in jaxpr.invars:
        mapped = v in mapped_inputs
        info[v], made[v] = (Mapped(0) if mapped else None), (1 if mapped else 0)
    parts, slices, params = [], {}, {}
    mapped_elements, row_bytes, partial_elements = 0, 0, 0
    in_chunks, elementwise, serial = 0, 0, 0
    for i, eqn in enumerate(jaxpr.eqns):
        vars_in = [x for x in eqn.inputs if type(x) is Var]
        infos = [info[x] if type(x) is Var else None for x in eqn.inputs]
        if any(isinstance(f, Mapped) for f in infos):
            p = 1
            for x in vars_in:
                f, m = info[x], made[x]
                p = max(
                    p, m if isinstance(f, Mapped) else m + 2 if isinstance(f, Partial) else m + 1
                )
            if p > 2 * MAX_ROUNDS:
                raise Unsplittable(f"more than {MAX_ROUNDS} rounds of batch reductions")
            rule = lowering_of(eqn.primitive).split
            if rule is None:
                raise Unsplittable(f"no split rule for {eqn.primitive.name}")
            # Combined reductions are whole values, not per-example ones.
            rule_infos = [None if isinstance(f, Partial) else f for f in infos]
            outs, sl, pfun = rule(eqn, rule_infos, B)
            slices[i], params[i] = sl, pfun
            for o, f in zip(eqn.out_binders, outs, strict=True):
                info[o], made[o] = f, p
                if isinstance(f, Mapped):
                    size = math.prod(o.aval.shape)
                    mapped_elements += size
                    row_bytes = max(row_bytes, size // B * o.aval.dtype.itemsize)
                elif isinstance(f, Partial):
                    partial_elements += math.prod(o.aval.shape)
        else:
            p = max(
                (made[x] + 1 if isinstance(info[x], Partial) else made[x] for x in vars_in),
                default=0,
            )
            for o in eqn.out_binders:
                info[o], made[o] = None, p
        size = sum(math.prod(o.aval.shape) for o in eqn.out_binders)
        if p % 2 == 1:
            in_chunks += size
        elif size >= PARALLEL_ELEMENTWISE and lowering_of(eqn.primitive).elementwise:
            elementwise += size
        else:
            serial += size
        parts.append(p)
    rounds = (max(parts, default=0) + 1) // 2
    return _Analysis(
        B, parts, info, slices, params, mapped_elements, row_bytes, partial_elements,
        in_chunks, elementwise, serial, rounds,
    )  # fmt: skip


# -- building and running the parts ------------------------------------------------------


@dataclass
class SplitProgram:
    """The split form of one jaxpr; call it like the generated function."""

    analysis: _Analysis
    chunk_sizes: list[int]
    run: Callable
    source: str
    inner: list  # the split programs of global segments (split_segments)


def _eval_eqns(eqns, env):
    """Bind ``eqns`` (pairs of index and equation) on the values in ``env``; under
    ``trace_to_jaxpr`` this stages them into a new program."""

    def read(x):
        return x.val if type(x) is Literal else env[x]

    for _, eqn in eqns:
        outs = eqn.primitive.bind(*[read(x) for x in eqn.inputs], **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        for o, v in zip(eqn.out_binders, outs, strict=True):
            env[o] = v


def plan_split(
    jaxpr: Jaxpr, consts, compile_fn, name: str, *, split_segments: bool = True
) -> SplitProgram | None:
    """The split program for ``jaxpr``, or None when it has no worthwhile batch split.

    ``compile_fn(jaxpr, consts, name)`` turns each part into a numpy function (codegen).
    With ``split_segments``, each global segment is itself split if it can be, along
    another axis: the optimizer update of a large weight matrix runs on blocks of its
    rows (one level deep).
    """
    threads = config.jit_threads
    if threads <= 1:
        return None

    def cost(a: _Analysis) -> float:
        return a.cost(threads, split_segments)

    best = None
    for B in sorted({v.aval.shape[0] for v in jaxpr.invars if v.aval.ndim >= 1}, reverse=True):
        # Which inputs hold the batch is a guess: a parameter may have a batch-sized axis
        # by coincidence (a 128-unit bias in a batch of 128). A batch is only looked for
        # along the leading axis of some input of rank 2 or more (data, a weight matrix).
        candidates = [v for v in jaxpr.invars if v.aval.shape[:1] == (B,)]
        if B < 2 * threads or all(v.aval.ndim < 2 for v in candidates):
            continue
        a = _best_analysis(jaxpr, B, candidates, cost, [MAX_ANALYSES])
        if a is not None and (best is None or cost(a) < cost(best)):
            best = a
    if best is None or best.mapped_elements < MIN_MAPPED_ELEMENTS:
        return None
    try:
        return _build(jaxpr, consts, best, threads, compile_fn, name, split_segments)
    except Unsplittable:
        return None
    except (core.FnnTypeError, TypeError, ValueError, IndexError, KeyError) as e:
        # A rule produced an inconsistent chunk program: run the program whole.
        warnings.warn(
            f"fnn.jit: batch split of {name} failed ({e!r}); running it unsplit", stacklevel=3
        )
        return None


def _best_analysis(jaxpr: Jaxpr, B: int, candidates: list, cost, budget) -> _Analysis | None:
    """The analysis of least cost over subsets of the candidate inputs.

    Every subset of up to 5 candidates is tried; with more (a GAN step has its images,
    its latent vectors and a dozen batch-sized biases and optimizer moments), one pass
    from the largest input down keeps each input that lowers the cost. ``budget`` (a
    one-item list) bounds the analyses: each walks the whole program, and a ViT step
    has hundreds of parameters.
    """

    def analyse(subset):
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        try:
            return _analyse(jaxpr, B, subset)
        except Unsplittable:
            return None

    def better(a, b):
        return a if b is None or (a is not None and cost(a) < cost(b)) else b

    best = None
    if len(candidates) <= 5:
        for mask in range(1, 1 << len(candidates)):
            best = better(analyse({v for k, v in enumerate(candidates) if mask >> k & 1}), best)
        return best
    chosen: set = set()
    for v in sorted(candidates, key=lambda v: -math.prod(v.aval.shape)):
        a = analyse(chosen | {v})
        if a is not None and better(a, best) is a:
            best, chosen = a, chosen | {v}
    return best


def _chunk_sizes(a: _Analysis, threads: int, per_thread: int) -> list[int]:
    by_cache = math.ceil(a.B * a.row_bytes / TARGET_CHUNK_BYTES)
    # Every chunk returns its own copy of each reduction (a weight gradient) to be
    # summed: keep that traffic under an eighth of the per-example work.
    by_partials = a.mapped_elements // max(1, PARTIAL_SHARE * a.partial_elements)
    if a.row_bytes <= NARROW_ROW_BYTES:
        by_cache = max(by_cache, math.ceil(a.B / MAX_NARROW_CHUNK_ROWS))
    n = max(threads, min(by_cache, by_partials, threads * per_thread, a.B))
    n = math.ceil(n / threads) * threads  # whole rounds of the pool
    n = min(n, a.B)
    base, extra = divmod(a.B, n)
    return [base + 1] * extra + [base] * (n - extra)


@dataclass
class _Part:
    """One part of the split program and how its values flow.

    A global segment reads ``inputs`` (global values) and writes ``outputs``. A chunk
    round reads ``inputs`` (per-chunk values: mapped arguments or carries of earlier
    rounds) and ``uses`` (global values, whole or cut per chunk), and writes ``outputs``:
    per-chunk carries (``Mapped``) and reductions combined across chunks (``Partial``).
    """

    index: int
    eqns: list = field(default_factory=list)  # (index in the jaxpr, equation)
    inputs: list = field(default_factory=list)
    uses: list = field(default_factory=list)  # (var, Mapped slice or None)
    outputs: list = field(default_factory=list)
    fns: dict = field(default_factory=dict)  # chunk size -> function (a segment: key None)

    @property
    def is_chunk(self) -> bool:
        return self.index % 2 == 1


def _build(jaxpr, consts, a: _Analysis, threads, compile_fn, name, split_segments) -> SplitProgram:
    const_env = dict(zip(jaxpr.constvars, consts, strict=True))
    if not any(isinstance(a.info[v], Mapped) for v in jaxpr.invars):
        raise Unsplittable("no mapped input")
    n_parts = 2 * a.rounds + 1
    parts = [_Part(p) for p in range(n_parts)]
    for i, e in enumerate(jaxpr.eqns):
        parts[a.part[i]].eqns.append((i, e))
    # The last part that reads each value (program outputs are read after every part).
    last_use: dict = {}
    for i, e in enumerate(jaxpr.eqns):
        for x in e.inputs:
            if type(x) is Var:
                last_use[x] = max(last_use.get(x, -1), a.part[i])
    for v in jaxpr.outvars:
        if type(v) is Var:
            last_use[v] = n_parts
    constvars = set(jaxpr.constvars)
    for part in parts:
        defined = {o for _, e in part.eqns for o in e.out_binders}
        part.outputs = [
            o for _, e in part.eqns for o in e.out_binders if last_use.get(o, -1) > part.index
        ]
        for i, e in part.eqns:
            for k, x in enumerate(e.inputs):
                if type(x) is not Var or x in defined:
                    continue
                sl = a.slices[i].get(k) if part.is_chunk else None
                if x in constvars and sl is None:
                    continue  # a constant of the part's program
                if not part.is_chunk or isinstance(a.info[x], Mapped):
                    if x not in part.inputs:
                        part.inputs.append(x)
                elif (x, sl) not in part.uses:
                    part.uses.append((x, sl))
    sizes = _chunk_sizes(a, threads, MAX_CHUNKS_PER_THREAD)
    sources = []
    for part in parts:
        if not part.eqns:
            continue
        if part.is_chunk:
            for c in sorted(set(sizes)):
                fn = _compile_chunk(
                    part, a, c, const_env, compile_fn, f"{name}_round{part.index // 2 + 1}"
                )
                part.fns[c] = fn
                sources.append(fn.source)
        else:
            fn = _compile_global(
                part, const_env, compile_fn, f"{name}_part{part.index}", split_segments
            )
            part.fns[None] = fn
            sources.append(fn.source)
    run = ChunkExecutor(jaxpr, a, parts, sizes, threads, const_env)
    inner = [f.split for p in parts if not p.is_chunk for f in p.fns.values() if f.split]
    return SplitProgram(a, sizes, run, "\n\n".join(sources), inner)


def _compile_global(part: _Part, const_env, compile_fn, name, split_segments: bool):
    def fun(*vals):
        env = dict(const_env)
        env.update(zip(part.inputs, vals, strict=True))
        _eval_eqns(part.eqns, env)
        return [env[v] for v in part.outputs]

    j, c, _ = trace_to_jaxpr(fun, [v.aval for v in part.inputs], name)
    if split_segments:
        inner = plan_split(j, c, compile_fn, name, split_segments=False)
        if inner is not None:
            return Program(inner.run, inner.source, split=inner)
    return compile_fn(j, c, name)


def _compile_chunk(part: _Part, a: _Analysis, c: int, const_env, compile_fn, name):
    def fun(*vals):
        env = dict(const_env)
        it = iter(vals)
        for v in part.inputs:
            env[v] = next(it)
        for use in part.uses:
            env[use] = next(it)
        # Global values reach the equations under (var, slice) keys; shape parameters are
        # those of a chunk of c rows.
        for idx, eqn in part.eqns:
            ins = []
            for k, x in enumerate(eqn.inputs):
                if type(x) is Literal:
                    ins.append(x.val)
                else:
                    use = (x, a.slices[idx].get(k))
                    ins.append(env[use] if use in env else env[x])
            outs = eqn.primitive.bind(*ins, **a.params[idx](c))
            if not eqn.primitive.multiple_results:
                outs = [outs]
            for o, val in zip(eqn.out_binders, outs, strict=True):
                env[o] = val
        return [env[v] for v in part.outputs]

    avals = [_chunk_aval(v.aval, a.info[v], c) for v in part.inputs]
    avals += [_chunk_aval(v.aval, sl, c) if sl else v.aval for v, sl in part.uses]
    j, consts, _ = trace_to_jaxpr(fun, avals, name)
    return compile_fn(j, consts, f"{name}_{c}")


def _chunk_aval(aval, sl: Mapped, c: int):
    shape = list(aval.shape)
    shape[sl.axis] = c * sl.unit
    return core.ShapedArray(tuple(shape), aval.dtype)


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _forget_pools() -> None:
    # A forked child has none of the parent's threads; a pool copied from the parent
    # would accept work and never run it. The child makes its own on first use.
    _POOLS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _pool(threads: int) -> ThreadPoolExecutor:
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="fnn-jit")
    return _POOLS[threads]


_COMBINE = {"add": np.add, "max": np.maximum, "min": np.minimum}


@dataclass
class _Round:
    """How one part of a split program reads its inputs and returns its outputs."""

    part: _Part
    reads: list  # per input: (argument position or None for a carry, var)
    carried: list  # (output index, var): per-example outputs kept with their chunk
    combined: list  # (output index, var, combine ufunc): reductions over the batch


class ChunkExecutor:
    """Runs a split program: its global parts once, its chunk rounds on the thread pool.

    Each pool thread runs a fixed, contiguous run of chunks and combines their
    reductions in chunk order; the partials of the threads are then combined in thread
    order. Which thread finishes first never changes the order of the sums, so a
    program gives the same bits on every run.
    """

    def __init__(self, jaxpr, a: _Analysis, parts: list[_Part], sizes, threads, const_env):
        self.analysis, self.sizes, self.threads = a, sizes, threads
        self.const_env = const_env
        self.bounds = np.cumsum([0, *sizes]).tolist()
        self.invars = list(jaxpr.invars)
        self.rounds = [self._round(part) for part in parts if part.fns]
        self.outputs = [self._output(v) for v in jaxpr.outvars]
        n = len(sizes)
        self.per_thread = [range(n * t // threads, n * (t + 1) // threads) for t in range(threads)]

    def _round(self, part: _Part) -> _Round:
        info, invars = self.analysis.info, self.invars
        reads = [(invars.index(v) if v in invars else None, v) for v in part.inputs]
        carried = [(k, v) for k, v in enumerate(part.outputs) if isinstance(info[v], Mapped)]
        combined = [
            (k, v, _COMBINE[info[v].combine])
            for k, v in enumerate(part.outputs)
            if isinstance(info[v], Partial)
        ]
        return _Round(part, reads, carried, combined)

    def _output(self, v):
        """("literal", value) | ("arg", position) | ("mapped", var) | ("global", var)."""
        info = self.analysis.info
        if type(v) is Literal:
            return ("literal", v.val)
        if v in self.invars and isinstance(info[v], Mapped):
            return ("arg", self.invars.index(v))
        return ("mapped" if isinstance(info[v], Mapped) else "global", v)

    def __call__(self, *args) -> list:
        info = self.analysis.info
        env = dict(self.const_env)  # constants cut per chunk are read from here
        env.update(
            (v, x)
            for v, x in zip(self.invars, args, strict=True)
            if not isinstance(info[v], Mapped)
        )
        carries = [{} for _ in self.sizes]
        for r in self.rounds:
            if r.part.is_chunk:
                self._run_chunks(r, args, env, carries)
            else:
                outs = r.part.fns[None](*[env[v] for v in r.part.inputs])
                env.update(zip(r.part.outputs, outs, strict=True))
        return [self._result(kind, x, args, env, carries) for kind, x in self.outputs]

    def _result(self, kind, x, args, env, carries):
        if kind == "literal":
            return x
        if kind == "arg":
            return args[x]
        if kind == "mapped":
            return np.concatenate([c[x] for c in carries], axis=self.analysis.info[x].axis)
        return env[x]

    def _cut(self, x, sl: Mapped, k: int):
        lo, hi = self.bounds[k] * sl.unit, self.bounds[k + 1] * sl.unit
        return x[(slice(None),) * sl.axis + (slice(lo, hi),)]

    def _run_chunks(self, r: _Round, args, env, carries) -> None:
        """Run a chunk round on the pool and combine its reductions into ``env``."""

        def one(k):
            cut = self._cut
            vals = [carries[k][v] if p is None else cut(args[p], Mapped(0), k) for p, v in r.reads]
            vals += [cut(env[v], sl, k) if sl else env[v] for v, sl in r.part.uses]
            return r.part.fns[self.sizes[k]](*vals)

        def run_thread(ks):
            totals = None
            for k in ks:
                out = one(k)
                if r.carried:
                    carries[k].update((v, out[j]) for j, v in r.carried)
                if totals is None:
                    totals = [np.array(out[j], copy=True) for j, _, _ in r.combined]
                    continue
                for total, (j, _, combine) in zip(totals, r.combined, strict=True):
                    combine(total, out[j], out=total)
            return totals

        # The pool is looked up per call: a forked child gets a fresh one.
        pool = _pool(self.threads)
        partials = [t for t in pool.map(run_thread, self.per_thread) if t is not None]
        for i, (_, v, combine) in enumerate(r.combined):
            total = partials[0][i]
            for other in partials[1:]:
                combine(total, other[i], out=total)
            env[v] = total


def describe(program: SplitProgram) -> dict[str, Any]:
    """Batch size, chunk sizes, rounds and equation counts per kind of part (for tests)."""
    a = program.analysis
    last = 2 * a.rounds
    return {
        "batch": a.B,
        "chunks": list(program.chunk_sizes),
        "rounds": a.rounds,
        "pre": a.part.count(0),
        "chunk": sum(1 for p in a.part if p % 2 == 1),
        "middle": sum(1 for p in a.part if p % 2 == 0 and 0 < p < last),
        "post": a.part.count(last) if last else 0,
        "split_segments": [describe(p) for p in program.inner],
    }
