"""Measure one workload on one system in this (fresh) process; print one JSON line.

Usage (run.py does this): ``python -m benchmarks.child WORKLOAD SYSTEM --repeats N``.
A system that cannot run here prints ``{"skipped": reason}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("workload")
    p.add_argument("system")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from benchmarks import systems
    from benchmarks.measure import measure
    from benchmarks.workloads import make_data

    t0 = time.perf_counter()
    try:
        prog = systems.program(args.workload, args.system)
    except systems.Unavailable as e:
        print(json.dumps({"skipped": str(e)}))
        return
    data = make_data(args.workload, "bench", args.seed)
    step, state = prog.build(data)
    setup_s = time.perf_counter() - t0
    result = measure(step, state, args.repeats, args.warmup, args.max_seconds)
    result["setup_s"] = setup_s
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
