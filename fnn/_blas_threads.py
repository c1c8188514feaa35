"""Read and set the thread count of the OpenBLAS that numpy loaded.

jit's batch split (``transforms/batch_split.py``) runs chunks of a program on several
Python threads; if each chunk's matmuls also spread over every core, the BLAS threads
oversubscribe the machine and wait for each other (measured: the MLP step went from
2.3 to 3.4 ms). While chunks run, BLAS is limited to one thread per chunk.

Found through the shared library's exported ``*openblas*_set_num_threads*`` symbols
(the same route as threadpoolctl); on other BLAS builds ``controller()`` is None and the
batch split keeps BLAS as it is.
"""

from __future__ import annotations

import ctypes
import functools

__all__ = ["controller", "BlasThreads", "loaded_openblas"]

_SUFFIXES = ("", "64_")
_PREFIXES = ("scipy_openblas", "openblas")


class BlasThreads:
    """``get()`` / ``set(n)`` on one loaded OpenBLAS."""

    def __init__(self, get, set_):
        self._get, self._set = get, set_

    def get(self) -> int:
        return int(self._get())

    def set(self, n: int) -> None:
        self._set(int(n))


def loaded_openblas() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries loaded in this process (numpy's first), opened by ctypes."""
    import numpy  # noqa: F401  (loads its BLAS)

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return []
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs


@functools.cache
def controller() -> BlasThreads | None:
    """The OpenBLAS numpy uses, or None when it cannot be found (not Linux, MKL...)."""
    for lib in loaded_openblas():
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype = ctypes.c_int
                    set_.argtypes = [ctypes.c_int]
                    return BlasThreads(get, set_)
    return None
