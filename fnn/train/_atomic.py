"""Atomic file writes: a temporary file in the target folder, then ``os.replace``.

The data is written to a new hidden file beside the target (``.<name>.<random>.tmp``),
flushed and ``fsync``-ed, then renamed over the target. Readers only ever see a
complete old or a complete new file, and the old file stays intact until the new one
is complete on disk.

Any exception before the rename, including ``KeyboardInterrupt`` and ``SystemExit``,
removes the temporary file. A training script that wants the same on SIGTERM installs
a handler that raises, e.g. ``signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))``;
without one (or on SIGKILL, a power cut) the process dies at once and a hidden
``.tmp`` file may stay behind, while the target itself is never damaged.

Files are created with mode ``0o666`` filtered by the process umask, like ``open(path,
"w")``, so a checkpoint written under umask 022 is readable by the group (a
``tempfile.mkstemp`` file would be 0600 and keep that mode after the rename).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from typing import IO

__all__ = ["atomic_write", "atomic_write_bytes", "create_temp"]

_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOINHERIT", 0)
)


def create_temp(path: str | os.PathLike, suffix: str = ".tmp") -> tuple[int, str]:
    """Create a new empty file beside ``path`` under a unique hidden name.

    Returns ``(fd, temp_path)``, ``fd`` open for writing. The file is created with
    ``O_EXCL`` and mode ``0o666``, so the kernel applies the process umask (reading the
    umask would mean setting it, which is process-wide and races with other threads).
    The caller owns both: it closes ``fd`` and removes or renames the file.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "out.bin")
        >>> fd, tmp = create_temp(p)
        >>> os.path.dirname(tmp) == os.path.dirname(p), os.path.basename(tmp)[:9]
        (True, '.out.bin.')
        >>> os.close(fd); os.remove(tmp)
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue  # someone else's file under that name: leave it alone, draw again
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", os.path.join(folder, name))


def _remove(path: str) -> None:
    """Remove ``path`` if it is there, never raising (the caller is already failing)."""
    with contextlib.suppress(OSError):
        os.remove(path)


def _fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; best effort, a no-op elsewhere)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit, move it over ``path``.

    On any exception in the ``with`` body (``KeyboardInterrupt`` and ``SystemExit``
    included) the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "out.txt")
        >>> with atomic_write(p, "w") as f:
        ...     _ = f.write("hello")
        >>> open(p).read(), os.listdir(os.path.dirname(p))
        ('hello', ['out.txt'])
    """
    path = os.fspath(path)
    tmp = None
    try:
        # Same folder as the target: os.replace is only atomic within one filesystem.
        fd, tmp = create_temp(path)
        try:
            f = os.fdopen(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            _remove(tmp)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(path)))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as f:
        f.write(data)
