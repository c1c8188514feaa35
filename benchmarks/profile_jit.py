"""Where fnn.jit's generated code spends its time: per-line timings and a cProfile.

    python benchmarks/profile_jit.py mlp [--steps 50] [--top 15] [--threads N] [--cprofile]

Compiles the workload's step with ``fnn.jit``, then re-executes its generated source
with a timer around every line (same namespace, so the same constants and buffers),
and prints the lines that dominate, with the jaxpr primitive each line comes from.
The timers add about a microsecond per line, negligible beside these workloads' lines.
It profiles the unsplit program (``jit_threads`` 1); the batch split of
``fnn/backend/batch_split.py`` runs chunks of it on several threads.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def instrument(fn):
    """A copy of a generated function that adds each line's time to ``timings``."""
    lines = fn.source.split("\n")
    body_indent = len(lines[2]) - len(lines[2].lstrip())
    out, stmts = lines[:2], []
    for line in lines[2:]:
        stmt = line.strip()
        pad = " " * body_indent
        if stmt.startswith("return"):
            out.append(line)
            continue
        k = len(stmts)
        stmts.append(stmt)
        out += [f"{pad}_t0 = _pc()", line, f"{pad}_T[{k}] += _pc() - _t0"]
    timings = [0.0] * len(stmts)
    ns = dict(fn.namespace, _pc=time.perf_counter, _T=timings)
    exec(compile("\n".join(out), "<instrumented>", "exec"), ns)
    name = lines[0].split()[1].split("(")[0]
    instrumented = ns[name]
    if fn.arena is not None:  # the generated body takes the arena's buffers last
        slots = fn.arena.acquire()
        return (lambda *args: instrumented(*args, slots)), stmts, timings
    return instrumented, stmts, timings


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("workload")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--size", default="bench")
    p.add_argument("--threads", type=int, help="set BLAS/OpenMP threads (before numpy loads)")
    p.add_argument("--cprofile", action="store_true", help="also cProfile the jitted step")
    args = p.parse_args(argv)
    if args.threads:
        os.environ.update(
            {k: str(args.threads) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
        )

    import numpy as np

    import fnn

    # Profile the whole program: a batch split runs it as several programs on threads.
    fnn.config.update("jit_threads", 1)
    from benchmarks import functional
    from benchmarks.backends import fnn_ops
    from benchmarks.workloads import make_data

    model = importlib.import_module(f"benchmarks.workloads.{args.workload}.functional")
    ops = fnn_ops(jit=True)
    data = make_data(args.workload, args.size)
    jitted = functional.compiled(model, ops)
    params = ops.tree_map(ops.np.asarray, data["params"])
    batch = ops.tree_map(ops.np.asarray, data["batch"])
    compiled = jitted.lower(params, batch)
    flat = [np.asarray(x) for x in _leaves(params, batch)]
    fn, stmts, timings = instrument(compiled.fn)
    for _ in range(3):
        fn(*flat)
    timings[:] = [0.0] * len(timings)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        fn(*flat)
    total = (time.perf_counter() - t0) / args.steps
    # The plain (uninstrumented) jitted call, wrapper included, for comparison.
    for _ in range(3):
        jitted(params, batch)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        jitted(params, batch)
    plain = (time.perf_counter() - t0) / args.steps
    per = [t / args.steps for t in timings]
    print(f"{args.workload}: {len(stmts)} generated lines, {len(compiled.jaxpr.eqns)} equations")
    print(
        f"instrumented body {1e3 * total:.2f} ms/step (lines sum {1e3 * sum(per):.2f} ms); plain jitted call {1e3 * plain:.2f} ms/step"
    )
    print(f"{'ms':>8} {'share':>6}  line")
    order = sorted(range(len(per)), key=lambda i: -per[i])
    for i in order[: args.top]:
        print(f"{1e3 * per[i]:8.3f} {100 * per[i] / sum(per):5.1f}%  {stmts[i][:150]}")
    eqns = compiled.jaxpr.eqns
    by_call = {}
    for k, (s, t) in enumerate(zip(stmts, per)):
        # One line per equation: group by primitive; otherwise by the numpy calls made.
        call = (
            eqns[k].primitive.name
            if len(eqns) == len(stmts)
            else "+".join(re.findall(r"np\.(\w+)\(", s))
        )
        by_call[call] = by_call.get(call, 0.0) + t
    print("\nby primitive:" if len(eqns) == len(stmts) else "\nby numpy calls:")
    for call, t in sorted(by_call.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{1e3 * t:8.3f} {100 * t / sum(per):5.1f}%  {call}")
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.steps):
            jitted(params, batch)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(args.top)
        print(s.getvalue())


def _leaves(params, batch):
    from fnn.tree_util import tree_leaves

    return tree_leaves(([params, batch], {}))


if __name__ == "__main__":
    main()
