"""Keep freed numpy buffers in the process instead of returning them to the kernel.

glibc serves every allocation above its mmap threshold (128 KiB at start) with a fresh
``mmap`` and returns it with ``munmap`` when freed, so each large temporary costs its
page faults again on every use; numpy has no buffer cache of its own for such sizes.
fnn's eager code makes many temporaries of a few hundred KiB (one per primitive): the
eager benchmark MLP step runs markedly faster with temporaries up to 64 MiB served from
the heap (benchmarks/README.md has the measurement).
PyTorch and JAX keep such memory in their own caching allocators; this is ours.

This changes the allocator of the whole process (freed memory up to the trim threshold
stays in it, so its resident size grows), so fnn never does it on its own: a program
that wants it calls :func:`fnn.tune_malloc` once, as it would set a BLAS thread count.
"""

from __future__ import annotations

import ctypes

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 2**20
TRIM_THRESHOLD = 256 * 2**20


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds for this whole process; True if applied.

    Opt-in: large numpy temporaries are then reused from the heap instead of being
    mapped and page-faulted on every use, at the cost of a larger resident size.
    Returns False (and changes nothing) where the C library is not glibc.

    Example:
        >>> import fnn
        >>> fnn.tune_malloc() in (True, False)  # doctest: +SKIP
        True
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return bool(ok)
