"""Merge the children's measurements, compute ratios and targets, and format them."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from benchmarks.systems import REFERENCE, SYSTEMS

# (workload, system, against, limit): system's median <= limit x against's median.
# ``against`` "fastest of jax, torch" takes the faster of the two in the same run.
TARGETS = [
    ("mlp", "fnn-jit", "numpy", 1.05),
    ("mlp", "fnn-jit", "jax", 1.2),
    ("mlp", "fnn-eager", "numpy", 2.0),
    ("cnn", "fnn-jit", "jax", 1.0),
    ("cnn", "fnn-jit", "torch", 1.5),
    ("pinn", "fnn-jit", "jax|torch", 1.0),
    ("transformer", "fnn-jit", "torch", 1.5),
]
# Issue #22: fnn's forward Laplacian and Taylor mode against the fastest other idiom,
# each in its own workload of the group ("workload:system" names a cell of another row).
LAPLACIAN_RIVALS = "|".join(
    ["laplacian_hessian:jax", "laplacian_hvp:jax", "laplacian_jet:jax"]
    + ["laplacian_hessian:torch", "laplacian_hvp:torch"]
)
UXXX_RIVALS = "|".join(
    ["uxxx_nested:fnn-jit", "uxxx_nested:jax", "uxxx_taylor:jax", "uxxx_nested:torch"]
)
TARGETS += [
    ("laplacian_forward", "fnn-jit", LAPLACIAN_RIVALS, 1 / 3),
    ("laplacian_directional", "fnn-jit", LAPLACIAN_RIVALS, 1 / 3),
    ("uxxx_taylor", "fnn-jit", UXXX_RIVALS, 1 / 2),
    ("uxxx_pde", "fnn-jit", UXXX_RIVALS, 1 / 2),
]
LABELS = {
    LAPLACIAN_RIVALS: "fastest of JAX's and PyTorch's idioms",
    UXXX_RIVALS: "fastest of nested jvp (fnn, JAX), JAX's jet, PyTorch's autograd",
}


def markers(section: str) -> tuple[str, str]:
    """The README comments that enclose the generated table of ``section``."""
    return (
        f"<!-- BEGIN RESULTS: {section} (written by run.py) -->",
        f"<!-- END RESULTS: {section} -->",
    )


def merge(runs: list[dict]) -> dict:
    """One cell from its rounds (one fresh process each): pooled step times, the median
    first call, and the largest peak memory."""
    times = [t for r in runs for t in r["times_ms"]]
    q1, med, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else times * 3
    return {
        "median_ms": statistics.median(times),
        "q1_ms": q1,
        "q3_ms": q3,
        "min_ms": min(times),
        "repeats": len(times),
        "processes": len(runs),
        "first_call_ms": statistics.median(r["first_call_ms"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
    }


def _median(results, workload, against):
    """The smallest median among the cells ``against`` ("jax|torch", "other_workload:jax")."""
    meds = []
    for name in against.split("|"):
        w, _, s = name.rpartition(":")
        cell = results.get(w or workload, {}).get(s, {})
        if "median_ms" in cell:
            meds.append(cell["median_ms"])
    return min(meds) if meds else None


def add_ratios(results: dict) -> None:
    """Each cell's median over the reference's (numpy, else the fastest system measured)."""
    for cells in results.values():
        measured = {s: c for s, c in cells.items() if "median_ms" in c}
        if not measured:
            continue
        ref = (
            REFERENCE
            if REFERENCE in measured
            else min(measured, key=lambda s: measured[s]["median_ms"])
        )
        for c in measured.values():
            c["reference"] = ref
            c["ratio"] = c["median_ms"] / measured[ref]["median_ms"]


def targets(results: dict) -> list[dict]:
    """The issue's targets, measured (ratio None where a side is missing)."""
    rows = []
    for workload, system, against, limit in TARGETS:
        if workload not in results:
            continue  # not part of this run
        mine, theirs = _median(results, workload, system), _median(results, workload, against)
        ratio = mine / theirs if mine and theirs else None
        rival = LABELS.get(against, against.replace("|", " or "))
        rows.append(
            {
                "what": f"{workload}: {system} / {rival} (median)",
                "limit": limit,
                "ratio": ratio,
            }
        )
    for workload, cells in results.items():
        mine = cells.get("fnn-jit", {}).get("first_call_ms")
        theirs = cells.get("jax", {}).get("first_call_ms")
        ratio = mine / theirs if mine and theirs else None
        rows.append(
            {"what": f"{workload}: fnn-jit / jax (first call)", "limit": 1.0, "ratio": ratio}
        )
    for r in rows:
        r["met"] = None if r["ratio"] is None else r["ratio"] <= r["limit"]
    return rows


def _fmt(v, spec):
    return "—" if v is None else format(v, spec)


def results_table(results: dict) -> str:
    lines = [
        "| workload | system | median ms | IQR | vs ref | first call ms | peak MiB | steps |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for workload, cells in results.items():
        for system in SYSTEMS:
            c = cells.get(system)
            if c is None:
                continue
            if "skipped" in c:
                lines.append(f"| {workload} | {system} | skipped: {c['skipped']} | | | | | |")
                continue
            iqr = (c["q3_ms"] - c["q1_ms"]) / c["median_ms"] * 100
            ratio = f"{c['ratio']:.2f}x {c['reference']}" if system != c["reference"] else "ref"
            lines.append(
                f"| {workload} | {system} | {c['median_ms']:.2f} | {iqr:.0f}% | {ratio} | "
                f"{c['first_call_ms']:.0f} | {c['peak_mib']:.0f} | {c['repeats']} |"
            )
    return "\n".join(lines)


def targets_table(rows: list[dict]) -> str:
    lines = ["| target | limit | measured | met |", "|---|--:|--:|:-:|"]
    for r in rows:
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['what']} | {r['limit']:.2f}x | {_fmt(r['ratio'], '.2f')}x | {met} |")
    return "\n".join(lines)


def _threads(n: int) -> str:
    return "1 thread" if n == 1 else f"{n} threads"


def machine_text(m: dict) -> str:
    others = ", ".join(f"{k} {m[k]}" for k in ("jax", "torch") if m.get(k)) or "no JAX, no PyTorch"
    load = lambda v: " / ".join(f"{x:.1f}" for x in v)  # noqa: E731
    return (
        f"Run on {m['date']} (fnn {m.get('fnn', 'unknown')}): {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
        f"numpy {m['numpy']} ({m['blas']}); {others}; {_threads(m.get('threads', m['cores']))} per process. "
        f"Load average (1/5/15 min) {load(m['loadavg_start'])} at the start and "
        f"{load(m['loadavg_end'])} at the end, on a machine shared with other work."
    )


def noise_text(results: dict) -> str:
    spreads = [
        (c["q3_ms"] - c["q1_ms"]) / c["median_ms"]
        for cells in results.values()
        for c in cells.values()
        if "median_ms" in c
    ]
    if not spreads:
        return ""
    return (
        f"Noise: the interquartile range of the step times is {100 * statistics.median(spreads):.0f}% "
        f"of the median for the typical cell and {100 * max(spreads):.0f}% for the worst "
        "(the IQR column); medians pool every round's fresh process."
    )


def markdown(payload: dict) -> str:
    res = payload["results"]
    parts = [
        machine_text(payload["machine"]),
        "",
        f"Command: `{payload['command']}`",
        "",
        results_table(res),
        "",
        noise_text(res),
        "",
        "Targets (ratios of medians from this same run):",
        "",
        targets_table(payload["targets"]),
    ]
    return "\n".join(parts)


def update_readme(path: Path, section: str, text: str) -> None:
    """Replace what lies between ``section``'s markers in ``path`` by ``text``."""
    begin, end = markers(section)
    doc = path.read_text()
    if begin not in doc or end not in doc:
        raise ValueError(f"{path} lacks the markers {begin!r} and {end!r}")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    path.write_text(pattern.sub(lambda _: f"{begin}\n{text}\n{end}", doc))
