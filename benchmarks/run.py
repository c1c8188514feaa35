"""Run the benchmarks: each workload on each system, in a fresh process per measurement.

    flock /tmp/fnn_cpu.lock python benchmarks/run.py [--only mlp,pinn] [--repeats 30]
        [--rounds 3] [--systems fnn-jit,numpy] [--json PATH] [--no-readme]

Every (workload, system) cell runs ``--rounds`` times, each time in a new Python process
(``benchmarks/child.py``), interleaved with the other systems so that a burst of load
from other users of the machine hits all systems alike. A process builds the program,
times its first call (trace and compile for the compiling systems), warms up, then
times ``--repeats`` steps. Prints a Markdown table, writes JSON (default
benchmarks/results/threads-N.json) and, for a full run on every core or on one thread,
the matching table in benchmarks/README.md. ``--from-json PATH`` re-renders a saved run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks import machine, report  # noqa: E402
from benchmarks.systems import SYSTEMS, thread_env  # noqa: E402
from benchmarks.workloads import GROUPS, WORKLOADS  # noqa: E402


def _names(text: str | None, allowed: tuple[str, ...], what: str, groups=None) -> list[str]:
    if not text:
        return list(allowed)
    names = [n.strip() for n in text.split(",") if n.strip()]
    names = [m for n in names for m in (groups or {}).get(n, (n,))]  # a group: its members
    bad = [n for n in names if n not in allowed]
    if bad:
        raise SystemExit(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return names


def run_child(workload: str, system: str, args) -> dict:
    cmd = [
        sys.executable, "-m", "benchmarks.child", workload, system,
        "--repeats", str(args.repeats), "--warmup", str(args.warmup),
        "--max-seconds", str(args.max_seconds), "--seed", str(args.seed),
    ]  # fmt: skip
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    env.update(thread_env(args.threads))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"failed: {tail[:200]}"}
    return json.loads(lines[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--only", help="comma-separated workloads or groups (laplacian, uxxx) (default: all)"
    )
    p.add_argument("--systems", help="comma-separated systems (default: all)")
    p.add_argument("--repeats", type=int, default=30, help="timed steps per process")
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per cell")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=30.0, help="time cap per process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="BLAS/OpenMP/torch/XLA threads (default: every core)",
    )
    p.add_argument("--json", type=Path, help="where to write (default results/threads-N.json)")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite README's table")
    p.add_argument("--from-json", type=Path, help="only re-render a saved run (table, README)")
    args = p.parse_args(argv)
    if args.from_json:
        payload = json.loads(args.from_json.read_text())
        publish(payload, readme=not args.no_readme)
        return
    workloads = _names(args.only, WORKLOADS, "workload", GROUPS)
    systems = _names(args.systems, SYSTEMS, "system")

    info = machine.describe()
    info["threads"] = args.threads
    raw: dict[str, dict[str, list]] = {w: {s: [] for s in systems} for w in workloads}
    for rnd in range(args.rounds):
        for w in workloads:
            for s in systems:
                if raw[w][s] and "skipped" in raw[w][s][-1]:
                    continue  # unavailable here: no need to ask again
                t0 = time.perf_counter()
                r = run_child(w, s, args)
                raw[w][s].append(r)
                got = (
                    r.get("skipped")
                    or f"{r['median_ms']:.2f} ms (first {r['first_call_ms']:.0f} ms)"
                )
                print(
                    f"[round {rnd + 1}/{args.rounds}] {w:12s} {s:10s} {got}  [{time.perf_counter() - t0:.0f}s]",
                    file=sys.stderr,
                )
    info["loadavg_end"] = list(os.getloadavg())

    results = {}
    for w in workloads:
        results[w] = {}
        for s in systems:
            runs = raw[w][s]
            ok = [r for r in runs if "skipped" not in r]
            results[w][s] = report.merge(ok) if ok else {"skipped": runs[-1]["skipped"]}
    report.add_ratios(results)
    payload = {
        "machine": info,
        "command": "python benchmarks/run.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "results": results,
        "targets": report.targets(results),
        "raw": raw,
    }
    path = args.json or HERE / "results" / f"threads-{args.threads}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    publish(payload, readme=not args.no_readme)


def readme_section(payload: dict) -> str | None:
    """Which README table a run may replace: full runs on every core, or on one thread."""
    res, threads = payload["results"], payload["machine"]["threads"]
    full = set(res) == set(WORKLOADS) and all(set(c) == set(SYSTEMS) for c in res.values())
    if not full:
        return None
    return {1: "1 thread", payload["machine"]["cores"]: "all cores"}.get(threads)


def publish(payload: dict, readme: bool) -> None:
    """Print the run's Markdown and, for a full run, put it in README.md."""
    text = report.markdown(payload)
    print(text)
    section = readme_section(payload)
    if readme and section:
        report.update_readme(HERE / "README.md", section, text)
        print(f"updated the '{section}' table in {HERE / 'README.md'}", file=sys.stderr)
    elif readme:
        print(
            "README not updated: only full runs on every core or on 1 thread go there",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
