"""Downloading a file from a list of mirrors: verified, atomic, with a progress display.

The file is streamed into a temporary file in the destination folder, checked, then
renamed over the destination: a reader never sees a half-written or unverified file,
and an interrupted download (any exception, Ctrl-C or SystemExit included) removes its
temporary file and leaves nothing under the real name. Files get mode 0o666 less the
umask, like any file the user creates.

Example:
    >>> from fnn.data.download import download
    >>> download(["https://example.org/a.gz", "https://mirror.example.org/a.gz"],
    ...          Path("~/.cache/fnn/a/a.gz").expanduser())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from fnn.train._atomic import atomic_write_bytes, create_temp

from .errors import DatasetError, DownloadError

TIMEOUT = 10.0  # seconds per socket operation: an offline machine fails fast
_CHUNK = 1 << 16

# The function that opens a URL; tests replace it to serve local bytes.
_urlopen = urllib.request.urlopen


class Progress:
    """A one-line progress display on a terminal; silent when the stream is not a tty."""

    def __init__(self, name: str, total: int | None, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.name, self.total, self.done, self._last = name, total, 0, 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last > 0.1:  # redraw at most 10 times a second
            self._last = now
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        mb = self.done / 1e6
        if self.total:
            pct = 100 * self.done / self.total
            text = f"{pct:5.1f}%  {mb:.1f}/{self.total / 1e6:.1f} MB"
        else:
            text = f"{mb:.1f} MB"
        self.stream.write(f"\rDownloading {self.name}  {text}")
        self.stream.flush()


def download(
    urls: Sequence[str],
    dest: str | os.PathLike,
    *,
    verify: Callable[[Path], None] | None = None,
    timeout: float = TIMEOUT,
    stream: TextIO | None = None,
) -> Path:
    """Fetch ``dest`` from the first mirror that works, verify it, and rename it into place.

    Mirrors are tried in turn; one that fails (network error, or ``verify`` raising a
    DatasetError on the downloaded file) is skipped. ``verify(tmp_path)`` sees the
    complete temporary file before it gets the real name. Raises DownloadError listing
    every mirror's failure when none works.

    Example:
        >>> download(["file:///srv/mirror/train-labels-idx1-ubyte.gz"],
        ...          "/tmp/data/train-labels-idx1-ubyte.gz")  # doctest: +SKIP
        PosixPath('/tmp/data/train-labels-idx1-ubyte.gz')
    """
    dest = Path(dest)
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, verify, timeout, stream)
            return dest
        except (OSError, urllib.error.URLError, http.client.HTTPException, DatasetError) as e:
            failures.append(f"  {url}: {_reason(e)}")
    raise DownloadError(f"{dest.name}: could not download from any mirror:\n" + "\n".join(failures))


def _fetch(url, dest: Path, verify, timeout, stream) -> None:
    # Connect before creating anything, so an offline attempt leaves no empty folders.
    with _urlopen(url, timeout=timeout) as resp:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = None
        try:
            # Mode 0o666 less the umask, like any file the user creates (not mkstemp's 0600).
            fd, tmp_name = create_temp(dest, suffix=".part")
            tmp = Path(tmp_name)
            _copy(resp, fd, dest.name, stream)
            if verify is not None:
                verify(tmp)
            os.replace(tmp, dest)  # atomic on POSIX and Windows within one folder
        finally:
            # Also on KeyboardInterrupt/SystemExit; after the rename the name is gone.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _copy(resp, fd: int, name: str, stream) -> None:
    """Stream the response into the open file ``fd``, showing progress."""
    length = resp.headers.get("Content-Length") if resp.headers else None
    total = int(length) if length and length.isdigit() else None
    progress = Progress(name, total, stream)
    with os.fdopen(fd, "wb") as out:
        for chunk in iter(lambda: resp.read(_CHUNK), b""):
            out.write(chunk)
            progress.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())  # on disk before it is renamed over the destination
    progress.close()
    if total is not None and progress.done != total:
        raise DatasetError(f"{name}: connection closed after {progress.done} of {total} bytes")


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        return f"{e.reason}"
    return str(e) or type(e).__name__


def write_atomic(dest: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``dest`` through a temporary file renamed into place.

    The folder is created if needed; see :func:`fnn.train._atomic.atomic_write`.

    Example:
        >>> write_atomic("/tmp/fnn-example.bin", b"abc")  # doctest: +SKIP
        PosixPath('/tmp/fnn-example.bin')
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest, data)
    return dest
