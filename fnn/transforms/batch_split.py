"""Data-parallel execution of a jitted program over its batch axis, on several threads.

A training step is mostly a map over the examples of a batch followed by sums over
them (the mean loss, the weight gradients). This pass finds that structure in an
optimized jaxpr and splits the program in three:

* ``pre``: equations that do not depend on the batch (run once);
* ``chunk``: the per-example work, run on contiguous chunks of the batch in a thread
  pool (numpy releases the GIL in its loops and in BLAS), each producing *partial*
  results of the reductions over the batch axis;
* ``post``: equations that depend on the combined reductions (run once), e.g. the
  optimizer update.

Chunks also keep each intermediate small enough to stay in cache, which pays off even
on one core. The analysis tracks, for every value, whether and along which axis it is
*mapped* (holds batch rows), in the manner of vmap's batching rules; an equation it has
no rule for, or a per-example value that needs a combined reduction (batch norm), makes
the program run unsplit. The split is exact up to the order of floating-point sums.

Values: ``None`` (not mapped), ``Mapped(axis, unit)`` (``unit`` entries per batch row
along ``axis``: a reshape of (B, S, D) to (B*S, D) has unit S), or ``Partial(op)``
(a reduction over the batch: chunk results are combined with ``op``). The per-primitive
rules are in ``split_rules.py``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from fnn import _blas_threads, config, core
from fnn.jaxpr import Jaxpr, Literal, Var, trace_to_jaxpr
from fnn.transforms.split_rules import Mapped, Partial, Unsplittable, rule_for

__all__ = ["plan_split", "SplitProgram", "describe"]


# A program is split only when its per-example part produces at least this many elements
# (tens of milliseconds of numpy work). Below it the hand-offs and the smaller matmuls
# cost more than they save: the benchmark MLP step (0.9 M elements, matmul-bound) took
# 2.4 ms whole with two BLAS threads and 3.3 ms split in two chunks.
MIN_MAPPED_ELEMENTS = 1 << 22
# Aim for chunks whose largest intermediate is about this many bytes (cache-sized).
TARGET_CHUNK_BYTES = 2 * 1024 * 1024
MAX_CHUNKS_PER_THREAD = 4


# -- the analysis ------------------------------------------------------------------------

PRE, CHUNK, POST = "pre", "chunk", "post"


@dataclass
class _Analysis:
    B: int
    phase: list[str]  # per equation
    info: dict  # Var -> None | Mapped | Partial
    slices: dict  # eqn index -> {input index: Mapped}
    params: dict  # eqn index -> params(c)
    mapped_elements: int
    row_bytes: int  # bytes per batch row of the largest mapped intermediate


def _analyse(jaxpr: Jaxpr, B: int, mapped_inputs) -> _Analysis:
    """Classify every equation when the ``mapped_inputs`` hold the batch along axis 0."""
    info: dict = {}
    phase_of: dict = {}  # Var -> PRE / CHUNK / POST
    for v in jaxpr.constvars:
        info[v], phase_of[v] = None, PRE
    for v in jaxpr.invars:
        mapped = v in mapped_inputs
        info[v], phase_of[v] = (Mapped(0) if mapped else None), (CHUNK if mapped else PRE)
    phases, slices, params = [], {}, {}
    mapped_elements, row_bytes = 0, 0
    for i, eqn in enumerate(jaxpr.eqns):
        infos = [info[x] if type(x) is Var else None for x in eqn.inputs]
        in_phases = {phase_of[x] for x in eqn.inputs if type(x) is Var}
        ph = CHUNK if CHUNK in in_phases else POST if POST in in_phases else PRE
        if ph == CHUNK and any(isinstance(f, Partial) for f in infos) or POST in in_phases:
            # Combined reductions (partials) are only available after the chunks ran.
            if any(isinstance(f, Mapped) for f in infos):
                raise Unsplittable(
                    f"per-example work needs a reduction over the batch ({_show(eqn, info)})"
                )
            ph = POST
        if ph == CHUNK:
            prim = eqn.primitive
            rule = rule_for(prim)
            if rule is None:
                raise Unsplittable(f"no split rule for {prim.name}")
            outs, sl, pfun = rule(eqn, infos, B)
            slices[i], params[i] = sl, pfun
            for o, f in zip(eqn.out_binders, outs, strict=True):
                info[o], phase_of[o] = f, CHUNK
                if isinstance(f, Mapped):
                    size = math.prod(o.aval.shape)
                    mapped_elements += size
                    row_bytes = max(row_bytes, size // B * o.aval.dtype.itemsize)
        else:
            for o in eqn.out_binders:
                info[o], phase_of[o] = None, ph
        phases.append(ph)
    return _Analysis(B, phases, info, slices, params, mapped_elements, row_bytes)


def _show(eqn, info) -> str:
    """An equation with each input's shape and split info, for error messages."""
    ins = [f"{x.aval.str_short()}:{info.get(x) if type(x) is Var else 'lit'}" for x in eqn.inputs]
    return f"{eqn.primitive.name}({', '.join(ins)})"


# -- building and running the three programs ----------------------------------------------


@dataclass
class SplitProgram:
    """The split form of one jaxpr; call it like the generated function."""

    analysis: _Analysis
    chunk_sizes: list[int]
    run: Callable
    source: str


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


def plan_split(jaxpr: Jaxpr, consts, compile_fn, name: str) -> SplitProgram | None:
    """The split program for ``jaxpr``, or None when it has no worthwhile batch split.

    ``compile_fn(jaxpr, consts, name)`` turns each part into a numpy function (codegen).
    """
    threads = config.jit_threads
    if threads <= 1:
        return None
    best = None
    for B in sorted({v.aval.shape[0] for v in jaxpr.invars if v.aval.ndim >= 1}, reverse=True):
        if B < 2 * threads:
            continue
        # Which inputs hold the batch is a guess: a parameter may have a batch-sized axis
        # by coincidence (a 128-unit bias in a batch of 128). Try the likely subsets.
        for subset in _input_subsets([v for v in jaxpr.invars if v.aval.shape[:1] == (B,)]):
            try:
                a = _analyse(jaxpr, B, subset)
            except Unsplittable:
                continue
            if best is None or a.mapped_elements > best.mapped_elements:
                best = a
    if best is None or best.mapped_elements < MIN_MAPPED_ELEMENTS:
        return None
    try:
        return _build(jaxpr, consts, best, threads, compile_fn, name)
    except Unsplittable:
        return None
    except (core.FnnTypeError, TypeError, ValueError, IndexError, KeyError) as e:
        # A rule produced an inconsistent chunk program: run the program whole.
        warnings.warn(
            f"fnn.jit: batch split of {name} failed ({e!r}); running it unsplit", stacklevel=3
        )
        return None


def _input_subsets(candidates: list) -> list[set]:
    """Every non-empty subset of up to 5 candidates; for more, all, all-but-one, each."""
    n = len(candidates)
    if n <= 5:
        return [{v for k, v in enumerate(candidates) if mask >> k & 1} for mask in range(1, 1 << n)]
    subsets = [set(candidates)]
    subsets += [set(candidates) - {v} for v in candidates]
    return subsets + [{v} for v in candidates]


def _chunk_sizes(a: _Analysis, threads: int) -> list[int]:
    by_cache = math.ceil(a.B * a.row_bytes / TARGET_CHUNK_BYTES)
    n = max(threads, min(by_cache, threads * MAX_CHUNKS_PER_THREAD, a.B))
    n = math.ceil(n / threads) * threads  # whole rounds of the pool
    n = min(n, a.B)
    base, extra = divmod(a.B, n)
    return [base + 1] * extra + [base] * (n - extra)


def _build(jaxpr, consts, a: _Analysis, threads, compile_fn, name) -> SplitProgram:
    eqns = list(enumerate(jaxpr.eqns))
    pre_eqns = [(i, e) for i, e in eqns if a.phase[i] == PRE]
    chunk_eqns = [(i, e) for i, e in eqns if a.phase[i] == CHUNK]
    post_eqns = [(i, e) for i, e in eqns if a.phase[i] == POST]
    const_env = dict(zip(jaxpr.constvars, consts, strict=True))

    # Inputs of each part, as vars of the original program.
    chunk_defined = {o for _, e in chunk_eqns for o in e.out_binders}
    post_defined = {o for _, e in post_eqns for o in e.out_binders}
    mapped_in = [v for v in jaxpr.invars if isinstance(a.info[v], Mapped)]
    if not mapped_in:
        raise Unsplittable("no mapped input")
    chunk_uses: list[tuple[Var, Mapped | None]] = []  # pre values (sliced or whole)
    for i, e in chunk_eqns:
        for k, x in enumerate(e.inputs):
            if type(x) is not Var or x in chunk_defined or x in mapped_in:
                continue
            use = (x, a.slices[i].get(k))
            if use not in chunk_uses:
                chunk_uses.append(use)
    outs_needed = [v for v in jaxpr.outvars if type(v) is Var]
    partial_out = []  # chunk results combined and passed on (to post or the outputs)
    mapped_out = []  # chunk results concatenated into outputs
    for _, e in post_eqns:
        for x in e.inputs:
            if type(x) is Var and x in chunk_defined and x not in partial_out:
                if not isinstance(a.info[x], Partial):
                    raise Unsplittable("post needs a per-example value")
                partial_out.append(x)
    for v in outs_needed:
        if v in chunk_defined:
            target = partial_out if isinstance(a.info[v], Partial) else mapped_out
            if v not in target:
                target.append(v)
    post_pre_in = []
    for _, e in post_eqns:
        for x in e.inputs:
            if (
                type(x) is Var
                and x not in post_defined
                and x not in chunk_defined
                and x not in jaxpr.constvars
                and x not in post_pre_in
            ):
                if x in mapped_in:
                    raise Unsplittable("post needs a per-example input")
                post_pre_in.append(x)
    pre_in = [v for v in jaxpr.invars if v not in mapped_in]
    pre_defined = {o for _, e in pre_eqns for o in e.out_binders}
    # Pre outputs: every pre value a later part or the caller needs.
    pre_out = []
    for v in [u for u, _ in chunk_uses] + post_pre_in + outs_needed:
        if (v in pre_defined or v in pre_in or v in jaxpr.constvars) and v not in pre_out:
            if v in mapped_in:
                continue
            pre_out.append(v)

    # pre: a program of (unmapped inputs) -> pre_out
    def pre_fun(*vals):
        env = dict(const_env)
        env.update(zip(pre_in, vals, strict=True))
        _eval_eqns(pre_eqns, env)
        return [env[v] for v in pre_out]

    pre_jaxpr, pre_consts, _ = trace_to_jaxpr(pre_fun, [v.aval for v in pre_in], f"{name}_pre")
    pre_fn = compile_fn(pre_jaxpr, pre_consts, f"{name}_pre")

    sizes = _chunk_sizes(a, threads)
    chunk_fns = {}
    for c in sorted(set(sizes)):

        def chunk_fun(*vals, c=c):
            env = dict(const_env)
            it = iter(vals)
            for v in mapped_in:
                env[v] = next(it)
            for v, sl in chunk_uses:
                env[(v, sl)] = next(it)

            # Pre values reach chunk equations under (var, slice) keys; shape parameters
            # are those of a chunk of c rows.
            for idx, eqn in chunk_eqns:
                ins = []
                for k, x in enumerate(eqn.inputs):
                    if type(x) is Literal:
                        ins.append(x.val)
                    elif x in env and (x in chunk_defined or x in mapped_in):
                        ins.append(env[x])
                    else:
                        ins.append(env[(x, a.slices[idx].get(k))])
                outs = eqn.primitive.bind(*ins, **a.params[idx](c))
                if not eqn.primitive.multiple_results:
                    outs = [outs]
                for o, val in zip(eqn.out_binders, outs, strict=True):
                    env[o] = val
            return [env[v] for v in partial_out + mapped_out]

        avals = [_chunk_aval(v.aval, Mapped(0), c) for v in mapped_in]
        avals += [_chunk_aval(v.aval, sl, c) if sl else v.aval for v, sl in chunk_uses]
        cj, cc, _ = trace_to_jaxpr(chunk_fun, avals, f"{name}_chunk")
        chunk_fns[c] = compile_fn(cj, cc, f"{name}_chunk{c}")

    def post_fun(*vals):
        env = dict(const_env)
        env.update(zip(post_pre_in + partial_out, vals, strict=True))
        _eval_eqns(post_eqns, env)
        return [env[v] for v in outs_needed if v in post_defined]

    post_avals = [v.aval for v in post_pre_in + partial_out]
    post_jaxpr, post_consts, _ = trace_to_jaxpr(post_fun, post_avals, f"{name}_post")
    post_fn = compile_fn(post_jaxpr, post_consts, f"{name}_post")

    run = _executor(
        jaxpr, a, sizes, threads, pre_fn, chunk_fns, post_fn, mapped_in, pre_in, pre_out,
        chunk_uses, partial_out, mapped_out, post_pre_in, post_defined, const_env,
    )  # fmt: skip
    source = "\n\n".join([pre_fn.source, *(f.source for f in chunk_fns.values()), post_fn.source])
    return SplitProgram(a, sizes, run, source)


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


def _executor(
    jaxpr, a, sizes, threads, pre_fn, chunk_fns, post_fn, mapped_in, pre_in, pre_out,
    chunk_uses, partial_out, mapped_out, post_pre_in, post_defined, const_env,
):  # fmt: skip
    invar_pos = {v: k for k, v in enumerate(jaxpr.invars)}
    pre_in_pos = [invar_pos[v] for v in pre_in]
    mapped_pos = [invar_pos[v] for v in mapped_in]
    pre_out_pos = {v: k for k, v in enumerate(pre_out)}
    bounds = np.cumsum([0, *sizes]).tolist()
    chunk_args_spec = [(pre_out_pos[v], sl) for v, sl in chunk_uses]
    combines = [_COMBINE[a.info[v].combine] for v in partial_out]
    mapped_axes = [a.info[v] for v in mapped_out]
    post_in_pre = [pre_out_pos[v] for v in post_pre_in]
    post_out = [v for v in jaxpr.outvars if type(v) is Var and v in post_defined]
    # Where each output comes from: ("post", k), ("partial", k), ("mapped", k),
    # ("pre", k) or ("literal", value).
    sources = []
    for v in jaxpr.outvars:
        if type(v) is Literal:
            sources.append(("literal", v.val))
        elif v in post_defined:
            sources.append(("post", post_out.index(v)))
        elif v in partial_out:
            sources.append(("partial", partial_out.index(v)))
        elif v in mapped_out:
            sources.append(("mapped", mapped_out.index(v)))
        elif v in mapped_in:
            sources.append(("arg", invar_pos[v]))
        else:
            sources.append(("pre", pre_out_pos[v]))
    n_chunks = len(sizes)
    blas = _blas_threads.controller()

    def cut(x, sl: Mapped, k: int):
        lo, hi = bounds[k] * sl.unit, bounds[k + 1] * sl.unit
        idx = (slice(None),) * sl.axis + (slice(lo, hi),)
        return x[idx]

    def run(*args):
        pre_vals = pre_fn(*[args[p] for p in pre_in_pos])
        mapped_args = [args[p] for p in mapped_pos]

        def one(k):
            vals = [cut(x, Mapped(0), k) for x in mapped_args]
            vals += [cut(pre_vals[p], sl, k) if sl else pre_vals[p] for p, sl in chunk_args_spec]
            return chunk_fns[sizes[k]](*vals)

        # One BLAS thread per chunk while the chunks share the cores (see _blas_threads).
        prev = blas.get() if blas is not None else 1
        if prev > 1:
            blas.set(1)
        try:  # the pool is looked up per call: a forked child gets a fresh one
            results = list(_pool(threads).map(one, range(n_chunks)))
        finally:
            if prev > 1:
                blas.set(prev)
        n_part = len(partial_out)
        partials = []
        for j, combine in enumerate(combines):
            total = np.array(results[0][j], copy=True)
            for r in results[1:]:
                combine(total, r[j], out=total)
            partials.append(total)
        mapped = [
            np.concatenate([r[n_part + j] for r in results], axis=mapped_axes[j].axis)
            for j in range(len(mapped_out))
        ]
        post_vals = post_fn(*[pre_vals[p] for p in post_in_pre], *partials)
        out = []
        for kind, k in sources:
            if kind == "literal":
                out.append(k)
            elif kind == "post":
                out.append(post_vals[k])
            elif kind == "partial":
                out.append(partials[k])
            elif kind == "mapped":
                out.append(mapped[k])
            elif kind == "arg":
                out.append(args[k])
            else:
                out.append(pre_vals[k])
        return out

    return run


def describe(program: SplitProgram) -> dict[str, Any]:
    """Batch size, chunk sizes and equation counts per part (for tests and profiling)."""
    a = program.analysis
    return {
        "batch": a.B,
        "chunks": list(program.chunk_sizes),
        "pre": a.phase.count(PRE),
        "chunk": a.phase.count(CHUNK),
        "post": a.phase.count(POST),
    }
