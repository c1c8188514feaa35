"""Time one program in this process: first call, warm-up, repeated steps, peak memory.

Peak memory is the resident-set high-water mark, which sees every allocation (BLAS
workspaces, numpy internals, XLA and PyTorch arenas), unlike tracemalloc. It is reset
just before the first call (Linux's ``/proc/self/clear_refs``), so that imports and
data set-up do not mask the step's peak, and read as ``VmHWM`` from
``/proc/self/status``: ``getrusage(RUSAGE_SELF).ru_maxrss`` is the same counter but
never drops below the RSS of the process that forked us (the kernel carries it across
exec), which would hide the step's peak entirely in a child of run.py. Without /proc
it falls back to ``ru_maxrss`` minus the current RSS.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time


def _maxrss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0.0
    return pages * resource.getpagesize() / 2**20


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure(step, state, repeats: int, warmup: int, max_seconds: float) -> dict:
    """Statistics of ``state = step(state)``, times in milliseconds, memory in MiB.

    Runs the first call (trace and compile, for the compiling systems), ``warmup`` more
    calls, then ``repeats`` timed calls, fewer (at least 5) if they exceed
    ``max_seconds``.
    """
    gc.collect()
    reset = _reset_peak()
    base = _maxrss_mib() if reset else _rss_mib()
    t0 = time.perf_counter()
    state = step(state)
    first = time.perf_counter() - t0
    for _ in range(warmup):
        state = step(state)
    times = []
    start = time.perf_counter()
    while len(times) < repeats:
        t0 = time.perf_counter()
        state = step(state)
        times.append(time.perf_counter() - t0)
        if len(times) >= 5 and time.perf_counter() - start > max_seconds:
            break
    q1, median, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else times * 3
    return {
        "median_ms": 1e3 * statistics.median(times),
        "q1_ms": 1e3 * q1,
        "q3_ms": 1e3 * q3,
        "min_ms": 1e3 * min(times),
        "repeats": len(times),
        "first_call_ms": 1e3 * first,
        "peak_mib": _maxrss_mib() - base,
        "peak_method": "VmHWM after clear_refs" if reset else "ru_maxrss minus current rss",
        "times_ms": [1e3 * t for t in times],
    }
