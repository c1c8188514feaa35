"""Atomic file writes: a temporary file in the target folder, then ``os.replace``.

A crash or an exception mid-write leaves any existing file untouched and removes
the temporary file, so readers only ever see a complete old or a complete new file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO

__all__ = ["atomic_write", "atomic_write_bytes"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit, move it over ``path``.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "out.txt")
        >>> with atomic_write(p, "w") as f:
        ...     _ = f.write("hello")
        >>> open(p).read()
        'hello'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    # Same folder as the target: os.replace is only atomic within one filesystem.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as f:
        f.write(data)
