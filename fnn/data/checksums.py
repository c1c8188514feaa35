"""Checksums of data files, and the error when one does not match.

Example:
    >>> from fnn.data.checksums import hexdigest, check_digest
    >>> check_digest(hexdigest(b"abc", "sha256"),
    ...     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ...     name="abc.bin", what="SHA-256")
"""

from __future__ import annotations

import hashlib
import os

from .errors import DatasetError

_CHUNK = 1 << 20


def _new(algorithm: str):
    # MD5 is used only to match the hashes data set authors published, not for security.
    return hashlib.new(algorithm, usedforsecurity=False)


def hexdigest(data: bytes, algorithm: str = "sha256") -> str:
    """The hex digest of ``data``; ``algorithm`` is a hashlib name ("sha256", "md5")."""
    h = _new(algorithm)
    h.update(data)
    return h.hexdigest()


def file_hexdigest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in chunks (CIFAR-10's archive is 170 MB)."""
    h = _new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(actual: str, expected: str, *, name: str, what: str) -> None:
    """Raise a DatasetError naming the file if ``actual != expected``."""
    if actual.lower() != expected.lower():
        raise DatasetError(
            f"{name}: checksum mismatch: {what} is {actual}, expected {expected}. The file "
            "is corrupt, truncated or not the original; delete it and load again to "
            "download a fresh copy."
        )
