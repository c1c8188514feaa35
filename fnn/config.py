"""Global configuration, read with ``fnn.config.x64_enabled`` and set with ``update``.

Example:
    >>> import fnn
    >>> fnn.config.update("enable_x64", True)   # float64/int64 defaults from now on
    >>> fnn.config.update("enable_x64", False)
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["update", "x64_enabled", "default_float", "default_int", "canonicalize_dtype"]

x64_enabled = False
# Largest buffer arena (MiB) a jit-compiled program keeps between calls for its
# temporaries (fnn/backend/buffers.py); 0 allocates every temporary afresh. Read when
# a program is compiled.
jit_arena_mb = 1024.0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Threads a jit-compiled program may split its batch over (fnn/backend/batch_split.py);
# 1 runs every program whole. Read when a program is compiled. FNN_JIT_THREADS sets the
# default (like OMP_NUM_THREADS for OpenMP). Without it, programs split over every core
# only when the environment limits BLAS to one thread: chunks that each call a
# multi-threaded BLAS at once oversubscribe the cores, and fnn never changes the BLAS
# thread count of the process itself.
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def blas_single_threaded_by_environment() -> bool:
    """Whether the environment sets numpy's OpenBLAS to one thread (its first variable set
    among OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS and OMP_NUM_THREADS is 1)."""
    for name in _BLAS_THREAD_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value == "1"
    return False


def default_jit_threads() -> int:
    """``jit_threads``' value at import: FNN_JIT_THREADS; else every core when the
    environment keeps BLAS on one thread (``OPENBLAS_NUM_THREADS=1``); else 1.

    Example:
        >>> default_jit_threads() >= 1
        True
    """
    if os.environ.get("FNN_JIT_THREADS"):
        return int(os.environ["FNN_JIT_THREADS"])
    return _cores() if blas_single_threaded_by_environment() else 1


jit_threads = default_jit_threads()

# Whether jit checks every compiled program against the eager impls as it runs
# (fnn/backend/jit_check.py): slow, for tests and debugging. Read when a program is
# compiled; FNN_JIT_CHECK=1 sets the default.
jit_check = os.environ.get("FNN_JIT_CHECK", "0") not in ("", "0")
# How many calls of each compiled program the checking mode checks: 0 checks every
# call; N checks the first N (the plan and the code are the same on every call, and the
# second call already reuses the arena), then runs unchecked. FNN_JIT_CHECK_CALLS sets
# the default.
jit_check_calls = int(os.environ.get("FNN_JIT_CHECK_CALLS") or 0)

_OPTIONS = {
    "enable_x64": "x64_enabled",
    "jit_arena_mb": "jit_arena_mb",
    "jit_threads": "jit_threads",
    "jit_check": "jit_check",
    "jit_check_calls": "jit_check_calls",
}


def update(name: str, value) -> None:
    """Set a configuration option: ``"enable_x64"`` (bool), ``"jit_arena_mb"`` (float),
    ``"jit_threads"`` (int), ``"jit_check"`` (bool) or ``"jit_check_calls"`` (int).

    Example:
        >>> update("jit_arena_mb", 0)     # jit allocates every temporary afresh
        >>> update("jit_arena_mb", 1024)
    """
    if name not in _OPTIONS:
        known = ", ".join(repr(k) for k in _OPTIONS)
        raise ValueError(f"fnn.config.update: unknown option {name!r}; known: {known}")
    if name in ("enable_x64", "jit_check"):
        value = bool(value)
    elif name == "jit_threads":
        if int(value) != value or value < 1:
            raise ValueError(f"fnn.config.update: jit_threads must be an integer >= 1, got {value}")
        value = int(value)
    elif name == "jit_check_calls":
        if int(value) != value or value < 0:
            raise ValueError(
                f"fnn.config.update: jit_check_calls must be an integer >= 0, got {value}"
            )
        value = int(value)
    else:
        value = float(value)
        if value < 0:
            raise ValueError(f"fnn.config.update: {name} must be >= 0, got {value}")
    globals()[_OPTIONS[name]] = value


def default_float() -> np.dtype:
    return np.dtype(np.float64 if x64_enabled else np.float32)


def default_int() -> np.dtype:
    return np.dtype(np.int64 if x64_enabled else np.int32)


_NARROW = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.uint32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}


def canonicalize_dtype(dtype) -> np.dtype:
    """The dtype fnn stores for ``dtype``: 64-bit types narrow unless x64 is enabled."""
    dtype = np.dtype(dtype)
    if not x64_enabled:
        return _NARROW.get(dtype, dtype)
    return dtype
