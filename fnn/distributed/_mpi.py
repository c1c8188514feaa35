"""The MPI backend: the only module of fnn that imports mpi4py.

``import fnn`` never loads this module: ``fnn.distributed.initialize()`` loads it with
``importlib.import_module`` when the process was started by an MPI launcher (or the
user asks for MPI). A module-level ``import mpi4py`` anywhere else would make mpi4py a
hard dependency, and importing it inside a function is what the import rules forbid
(tests/test_import_direction.py); loading a whole module on demand keeps both: every
import here is at the top, and only users of MPI pay for it. Importing
``mpi4py.MPI`` initializes MPI (``MPI_Init_thread``), which is why it must not
happen at ``import fnn``.

All collectives run on a duplicate of ``COMM_WORLD``, so a user's own mpi4py messages
on ``COMM_WORLD`` never match fnn's. Each collective first agrees on a header
(``fnn/distributed/protocol.py``), then moves the data: leaves of the same dtype are
packed into one buffer, so a gradient pytree is one ``Allreduce`` per dtype.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from mpi4py import MPI

from fnn.distributed import protocol
from fnn.distributed.protocol import FAILED, OK

__all__ = ["MPIBackend"]


class MPIBackend:
    """Collectives over every process of ``MPI.COMM_WORLD``."""

    def __init__(self):
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        local = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        self.local_size = local.Get_size()
        local.Free()
        self.seq = 0  # collectives this process has started
        # One send buffer per (dtype, size), reused: a fresh buffer of megabytes costs
        # its page faults again at every step (and the results must be fresh anyway).
        self._send: dict[tuple, np.ndarray] = {}
        self.failed: BaseException | None = None  # set once another process failed
        self.library = MPI.Get_library_version().splitlines()[0].strip()

    # -- the agreement --------------------------------------------------------------

    def _exchange(self, mine: np.ndarray, timeout: float | None = None) -> np.ndarray | None:
        """Allgather of ``mine`` (fixed size); None if it did not finish in ``timeout``."""
        out = np.empty((self.size, *mine.shape), mine.dtype)
        request = self.comm.Iallgather(mine, out)
        if timeout is None:
            request.Wait()
            return out
        deadline = time.monotonic() + timeout
        while not request.Test():
            if time.monotonic() > deadline:
                return None  # left pending: the caller aborts the whole job
            time.sleep(1e-3)
        return out

    def _texts(self, headers: np.ndarray, text: str, timeout: float | None = None):
        width = int(headers[:, protocol.DESC_LEN].max())
        mine = np.zeros(max(width, 1), np.uint8)
        raw = text.encode()[:width]
        mine[: len(raw)] = np.frombuffer(raw, np.uint8)
        got = self._exchange(mine, timeout)
        if got is None:
            return None
        return [
            bytes(row[: int(n)]).decode(errors="replace")
            for row, n in zip(got, headers[:, protocol.DESC_LEN], strict=True)
        ]

    def agree(self, kind: str, signature: str) -> None:
        """Check that every process is at the same collective with the same signature;
        raise the same clear error on every process otherwise."""
        if self.failed is not None:
            raise protocol.DistributedError(
                f"a collective after another process failed ({self.failed}); the processes "
                "can no longer communicate"
            )
        self.seq += 1
        text = f"{kind} of {signature}"
        mine = protocol.header(
            OK, self.seq, kind, protocol.signature_hash(text), len(text.encode())
        )
        headers = self._exchange(mine)
        if protocol.check_headers(headers):
            return
        error = protocol.disagreement(headers, self._texts(headers, text))
        if isinstance(error, protocol.ProcessFailedError):
            self.failed = error
        raise error

    def report_failure(self, message: str, timeout: float) -> bool:
        """Tell the other processes that this one failed: they raise
        :class:`~fnn.distributed.protocol.ProcessFailedError` at (or in) their next
        collective. False if they did not all take part within ``timeout`` seconds."""
        if self.failed is not None:
            return True  # the failure came from another process: everyone knows
        self.seq += 1
        raw = message.encode()[:2000]
        mine = protocol.header(FAILED, self.seq, "barrier", 0, len(raw))
        headers = self._exchange(mine, timeout)
        if headers is None:
            return False
        self.failed = RuntimeError("this process failed")
        return self._texts(headers, raw.decode(errors="replace"), timeout) is not None

    def abort(self, code: int = 1) -> None:
        """End every process of the job now (``MPI_Abort``)."""
        sys.stderr.flush()
        self.comm.Abort(code)
        os._exit(code)  # not reached: Abort does not return

    # -- the data ---------------------------------------------------------------------

    def _packed(self, arrays, op):
        """``op(buffer)`` on one contiguous buffer per dtype; results in input order."""
        groups: dict[np.dtype, list[int]] = {}
        for i, a in enumerate(arrays):
            groups.setdefault(a.dtype, []).append(i)
        outs: list = [None] * len(arrays)
        for dtype, idx in groups.items():
            size = sum(arrays[i].size for i in idx)
            buf = self._send.get((dtype, size))
            if buf is None:
                buf = self._send[dtype, size] = np.empty(size, dtype)
            np.concatenate([np.ravel(arrays[i]) for i in idx], out=buf)
            result = op(buf)
            start = 0
            for i in idx:
                n = arrays[i].size
                outs[i] = result[..., start : start + n].reshape(
                    result.shape[:-1] + arrays[i].shape
                )
                start += n
        return outs

    def allreduce_sum(self, arrays):
        def op(buf):
            # In place in the reused buffer (a fresh one slows MPI down by its page
            # faults), then one copy out: the results must not share it.
            self.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            return buf.copy()

        return self._packed(arrays, op)

    def allgather(self, arrays):
        def op(buf):
            out = np.empty((self.size, buf.size), buf.dtype)
            self.comm.Allgather(buf, out)
            return out

        return self._packed(arrays, op)

    def bcast(self, arrays, root: int):
        def op(buf):
            out = buf.copy()
            self.comm.Bcast(out, root=root)
            return out

        return self._packed(arrays, op)

    def barrier(self) -> None:
        pass  # the agreement itself is the barrier
