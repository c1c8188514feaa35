"""Forked worker processes for batch-split chunks that threads cannot run in parallel.

A split program's chunks run on threads (``batch_split.py``); numpy releases the GIL
inside each loop, so large operations overlap. A program of many short operations does
not: every call drops and retakes the GIL around a loop of a few microseconds, and two
threads spend as long handing it over as the second core gains. Measured on the
benchmark PINN (chunks of 2,500 points, ~630 numpy calls of ~8.5 us each): 5.4 ms per
chunk alone, 5.2-5.3 ms in each of two processes at once, 11 ms in each of two threads.

So a split program with one chunk round, whose chunks return only reductions, runs the
chunks of every thread but the first in worker processes, forked from the caller at the
program's first call (they inherit its generated code; no pickling of programs). Each
call copies the program's arguments and the values its chunks read into memory shared
with the workers, and reads back the sums of their reductions (:class:`SharedArrays`).
Measured, steady state on 2 cores: the benchmark PINN step 24 -> 12 ms, the CNN step
51.9-52.6 -> 47.7-48.1 ms (its large operations lose less to the GIL), the transformer
step 33.7 -> 33.6 ms. Forking at the first call matters: forked at the third call of the
CNN step, its calls took 50-60 ms for a dozen calls (the caller's pages copied on write
one by one) before settling. A program whose shared values would outweigh an eighth of
its per-example work keeps to threads (``batch_split``).

Only on Linux (fork is unsafe on macOS and absent on Windows), not in a process that
has imported JAX (whose runtime threads make forking unsafe), and only when
``fnn.config.jit_fork_workers`` is "auto" (the default; "never" keeps threads). A
worker ignores SIGINT, exits when its pipe closes (the program is garbage collected, or
the caller exits) and never runs the caller's exit handlers.
"""

from __future__ import annotations

import mmap
import os
import signal
import sys
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

import numpy as np

__all__ = [
    "Workers",
    "WorkerError",
    "SharedArrays",
    "available",
    "can_fork_more",
]


def available() -> bool:
    """Whether forked workers can be used here: Linux with ``os.fork``, and no JAX in
    the process (its runtime threads make a fork unsafe, and it warns of deadlocks)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and "jax" not in sys.modules


class WorkerError(RuntimeError):
    """A chunk failed in a worker process; the message carries its traceback."""


def _serve(conn: Connection, work: Callable) -> None:
    """The worker's loop: ``work(*message)`` for each message until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    from fnn import _blas_threads

    blas = _blas_threads.controller()
    if blas is not None:
        blas.set(1)  # one process per core already
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", work(*message))
        except BaseException as e:  # reported to the caller, who raises it
            import traceback

            reply = ("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class Workers:
    """``count`` forked processes that each call ``work(*message)`` on request.

    ``send(i, message)`` starts worker i; ``receive(i)`` waits for its result (raising
    :class:`WorkerError` if it failed). ``close()`` (also on garbage collection) ends
    them.

    Example:
        >>> w = Workers(lambda x: x * 2, 1)  # doctest: +SKIP
        >>> w.send(0, (21,)); w.receive(0)  # doctest: +SKIP
        42
    """

    def __init__(self, work: Callable, count: int):
        self._conns: list[Connection] = []
        self._pids: list[int] = []
        self.owner = os.getpid()  # a process forked from the owner must not use them
        try:
            for _ in range(count):
                self._fork_one(work)
        except BaseException:  # e.g. out of processes: end the ones already forked
            _shut_down(self._conns, self._pids, self.owner)
            raise
        self._finalizer = weakref.finalize(self, _shut_down, self._conns, self._pids, self.owner)
        _LIVE.add(self)

    def _fork_one(self, work: Callable) -> None:
        parent, child = Pipe()
        try:
            pid = os.fork()
        except BaseException:
            parent.close()
            child.close()
            raise
        if pid == 0:  # the worker: serve, then leave without the caller's atexit
            code = 0
            try:
                parent.close()
                # Ends inherited from the caller's other workers must not keep their
                # pipes open (they exit when the caller closes its end).
                for other in list(_LIVE):
                    other._forget()
                for conn in self._conns:
                    conn.close()
                _serve(child, work)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        child.close()
        self._conns.append(parent)
        self._pids.append(pid)

    def _forget(self) -> None:
        """In a forked process: close this process's copies of the pipe ends only."""
        self._finalizer.detach()
        for conn in self._conns:
            conn.close()

    def send(self, i: int, message: tuple) -> None:
        self._conns[i].send(message)

    def receive(self, i: int) -> Any:
        status, value = self._conns[i].recv()
        if status == "error":
            raise WorkerError(f"a batch-split chunk failed in worker process: {value}")
        return value

    def close(self) -> None:
        self._finalizer()


class SharedArrays:
    """Arrays in one shared anonymous mapping, made before the fork so that caller and
    workers see the same memory: the inputs of a chunk round (written by the caller,
    read by every worker) and each worker's reductions (written by it, read by the
    caller). Shapes and dtypes are fixed when the program is compiled, so each call
    copies values in and out instead of pickling them through the pipe. Measured on the
    benchmark CNN step, whose 1.6 MB weight goes out and whose 1.6 MB gradient comes
    back every call: workers 6 % faster than threads with pickled values (51.1 against
    54.3 ms), 7 % with shared arrays (47.2-48.2 against 50.3-50.7 ms, another window);
    the PINN step 13.5 -> 12.2 ms.

    Example:
        >>> shared = SharedArrays([((2, 3), np.float32)], [((3,), np.float32)], workers=2)
        >>> [x.shape for x in shared.inputs], [x.shape for x in shared.outputs(1)]
        ([(2, 3)], [(3,)])
    """

    def __init__(self, in_specs, out_specs, workers: int):
        specs = list(in_specs) + [spec for _ in range(workers) for spec in out_specs]
        offsets, end = [], 0
        for shape, dtype in specs:
            offsets.append(end)
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            end += -(-max(nbytes, 1) // 64) * 64  # 64-byte aligned (cache lines)
        self._map = mmap.mmap(-1, max(end, 64))  # MAP_SHARED | MAP_ANONYMOUS
        views = [
            np.ndarray(shape, dtype, buffer=self._map, offset=off)
            for (shape, dtype), off in zip(specs, offsets, strict=True)
        ]
        n_in, n_out = len(in_specs), len(out_specs)
        self.inputs = views[:n_in]
        self._outputs = [views[n_in + w * n_out : n_in + (w + 1) * n_out] for w in range(workers)]

    def outputs(self, worker: int) -> list[np.ndarray]:
        """Worker ``worker``'s (0-based) reductions."""
        return self._outputs[worker]


# Every live Workers of this process (a worker closes its copies of their pipe ends).
_LIVE: weakref.WeakSet = weakref.WeakSet()
# At most this many programs keep workers at once; later ones run on threads (a loop
# that compiles program after program must not fork process after process).
MAX_LIVE = 8


def can_fork_more() -> bool:
    """Whether another program may fork its workers now (see ``MAX_LIVE``)."""
    return len(_LIVE) < MAX_LIVE


def _shut_down(conns: list[Connection], pids: list[int], owner: int) -> None:
    for conn in conns:
        conn.close()  # the worker's recv sees EOF and it exits
    if os.getpid() != owner:
        return  # inherited by a fork: the workers are not this process's children
    deadline = time.monotonic() + 2.0
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            if time.monotonic() > deadline:  # stuck in a chunk: do not hang the caller
                os.kill(pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.001)
