"""Time per line of a compiled program: where a jitted step spends its time.

The program's generated source runs again with a timer around every line, in the same
namespace (the same constants and buffers). Each line ends in a comment naming the
user's source line it came from, so the report reads in the user's terms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["LineTime", "profile_program", "format_profile"]


@dataclass(frozen=True)
class LineTime:
    """One generated line: its mean ``seconds`` per call, the statement and the user's
    ``source`` line (or None)."""

    seconds: float
    statement: str
    source: str | None


def _instrument(program):
    """A copy of ``program``'s generated function that adds each line's time to a list,
    and the (statement, source) of each timed line."""
    lines = program.source.split("\n")
    header = [lines[0], lines[1]]  # def ...: and the errstate block
    body = lines[2:]
    pad = body[0][: len(body[0]) - len(body[0].lstrip())]
    out, timed = list(header), []
    for line in body:
        text = line.strip()
        if text.startswith("return") or not text or text.startswith("_k."):
            out.append(line)
            continue
        statement, _, source = text.partition("  # ")
        timed.append((statement, source or None))
        k = len(timed) - 1
        out += [f"{pad}_t0 = _pc()", line, f"{pad}_T[{k}] += _pc() - _t0"]
    timings = [0.0] * len(timed)
    ns = dict(program.namespace, _pc=time.perf_counter, _T=timings)
    exec(compile("\n".join(out), "<fnn.jit profile>", "exec"), ns)
    fn = ns[lines[0].split()[1].split("(")[0]]
    if program.arena is not None:  # the generated body takes the arena's buffers last
        slots = program.arena.acquire()
        return (lambda *args: fn(*args, slots)), timed, timings
    return fn, timed, timings


def profile_program(program, args, repeats: int = 10, warmup: int = 2) -> list[LineTime]:
    """Each line's mean time over ``repeats`` calls of ``program(*args)``, slowest first.

    Example:
        >>> import fnn, fnn.numpy as fnp, numpy as np
        >>> lowered = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2)).lower(fnp.ones(4))
        >>> rows = profile_program(lowered.fn, [np.ones(4, np.float32)], repeats=2)
        >>> rows[0].statement.startswith("t")
        True
    """
    fn, timed, timings = _instrument(program)
    for _ in range(warmup):
        fn(*args)
    timings[:] = [0.0] * len(timings)
    for _ in range(repeats):
        fn(*args)
    rows = [LineTime(t / repeats, s, src) for t, (s, src) in zip(timings, timed, strict=True)]
    return sorted(rows, key=lambda r: -r.seconds)


def format_profile(rows: list[LineTime], top: int = 15) -> str:
    """The slowest ``top`` lines and the time per user line, as text."""
    total = sum(r.seconds for r in rows) or 1.0
    out = [f"{'ms':>9} {'share':>6}  user line / generated statement"]
    for r in rows[:top]:
        out.append(
            f"{1e3 * r.seconds:9.3f} {100 * r.seconds / total:5.1f}%  "
            f"{r.source or '?'}: {r.statement[:100]}"
        )
    by_line: dict[str, float] = {}
    for r in rows:
        by_line[r.source or "?"] = by_line.get(r.source or "?", 0.0) + r.seconds
    out.append("")
    out.append(f"{'ms':>9} {'share':>6}  per user line")
    for line, seconds in sorted(by_line.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"{1e3 * seconds:9.3f} {100 * seconds / total:5.1f}%  {line}")
    return "\n".join(out)
