"""The agreement every collective starts with, as plain numpy: no MPI here.

Before a collective moves any data, the processes exchange a small fixed-size header
(an allgather of :data:`HEADER_LEN` int64 each): a status (ok, or "this process has
failed"), the process's count of collectives so far, the collective's kind and a hash
of its signature (pytree structure, leaf shapes and dtypes, root). If every header
agrees, the data moves. If not, a second allgather carries each process's description
(its signature in words, or its error message), and every process raises the same
clear error, instead of a deadlock or a silent wrong sum:

- a process reported a failure: :class:`ProcessFailedError` naming that process;
- the signatures or the counts differ: :class:`CollectiveMismatchError` listing what
  each process called.

The length of each description travels in the header, so the second exchange is a
fixed-size allgather too (the longest description, padded).

Example:
    >>> import numpy as np
    >>> h = header(OK, 3, "psum", 12345, 40)
    >>> int(h[1]), kind_name(int(h[2]))
    (3, 'psum')
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from fnn.core import FnnTypeError

__all__ = [
    "HEADER_LEN",
    "OK",
    "FAILED",
    "DistributedError",
    "ProcessFailedError",
    "CollectiveMismatchError",
    "header",
    "signature_hash",
    "describe_leaves",
    "check_headers",
]

HEADER_LEN = 6
OK, FAILED = 1, 2
# Header fields.
STATUS, SEQ, KIND, SIG, DESC_LEN = range(5)
KINDS = ("psum", "all_gather", "broadcast", "barrier")


class DistributedError(RuntimeError):
    """A collective over processes could not complete (see the message for which process)."""

    # Every process raises it together, so no process needs to tell the others again.
    all_processes_know = True


class ProcessFailedError(DistributedError):
    """Another process failed; its rank and error are in the message."""

    def __init__(self, message: str, failed: Sequence[int] = ()):
        super().__init__(message)
        self.failed = tuple(failed)


class CollectiveMismatchError(FnnTypeError):
    """The processes called different collectives, or one with different shapes,
    dtypes or pytree structures."""

    all_processes_know = True


def kind_name(code: int) -> str:
    return KINDS[code] if 0 <= code < len(KINDS) else f"collective {code}"


def header(status: int, seq: int, kind: str, sig: int, desc_len: int) -> np.ndarray:
    """This process's header for its ``seq``-th collective."""
    h = np.zeros(HEADER_LEN, np.int64)
    h[STATUS], h[SEQ], h[KIND], h[SIG], h[DESC_LEN] = status, seq, KINDS.index(kind), sig, desc_len
    return h


def signature_hash(text: str) -> int:
    """A 63-bit hash of a signature's text (the same on every process and run)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


def describe_leaves(arrays) -> str:
    """``f32[3,4], i32[]``: the leaves' shapes and dtypes as fnn prints them."""
    from_arrays = [f"{np.dtype(a.dtype).name}[{','.join(map(str, a.shape))}]" for a in arrays]
    return ", ".join(from_arrays) if from_arrays else "no leaves"


def check_headers(headers: np.ndarray) -> bool:
    """Whether every process's header agrees with process 0's and reports no failure."""
    if np.any(headers[:, STATUS] != OK):
        return False
    first = headers[0, [SEQ, KIND, SIG]]
    return bool(np.all(headers[:, [SEQ, KIND, SIG]] == first))


def disagreement(headers: np.ndarray, texts: list[str]) -> DistributedError | FnnTypeError:
    """The error every process raises when the headers disagree (``texts``: each
    process's description: its signature, or its error message)."""
    n = len(headers)
    failed = [r for r in range(n) if headers[r, STATUS] != OK]
    if failed:
        lines = [f"process {r} of {n} failed: {texts[r]}" for r in failed]
        return ProcessFailedError(
            "; ".join(lines) + " (its traceback is in its own output; this process stops too)",
            failed,
        )
    lines = "\n".join(
        f"  process {r}: collective #{int(headers[r, SEQ])}: {texts[r]}" for r in range(n)
    )
    return CollectiveMismatchError(
        "the processes disagree on a collective: every process must call the same "
        "collectives in the same order, on pytrees of the same structure, shapes and "
        f"dtypes (their data may differ). What each called:\n{lines}"
    )
