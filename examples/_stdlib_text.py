"""Python's standard library as a character corpus, with a fixed train/validation split.

Files: every ``*.py`` under ``sysconfig.get_paths()["stdlib"]``, except ``site-packages``
(installed packages, not the standard library). A file is held out for validation when
the MD5 of its path relative to the stdlib folder (with ``/`` separators), read as a
hexadecimal number, is 0 modulo 20: about 5 % of the files, the same files on every
machine with the same Python version, whatever the order of the directory listing.

Characters: tab, newline and the 95 printable ASCII characters get their own ids;
everything else (non-ASCII letters, carriage returns, ...) shares ``UNK``.

Example:
    >>> encode("a\\n").tolist()
    [68, 2]
    >>> decode(encode("x = 1\\n"))
    'x = 1\\n'
"""

from __future__ import annotations

import hashlib
import sysconfig
from pathlib import Path

import numpy as np

UNK = 0
# id 0 is UNK; then tab, newline, and ' ' .. '~'.
CHARS = "\t\n" + "".join(chr(c) for c in range(32, 127))
VOCAB_SIZE = 1 + len(CHARS)
_TABLE = np.full(128, UNK, np.uint8)
for _i, _c in enumerate(CHARS):
    _TABLE[ord(_c)] = _i + 1
_UNK_CHAR = "\N{REPLACEMENT CHARACTER}"


def encode(text: str) -> np.ndarray:
    """Character ids (uint8) of ``text``, one per character."""
    points = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    return np.where(points < 128, _TABLE[np.minimum(points, 127)], UNK).astype(np.uint8)


def decode(ids) -> str:
    """The text of character ids; ``UNK`` shows as U+FFFD."""
    return "".join(CHARS[i - 1] if i else _UNK_CHAR for i in np.asarray(ids).tolist())


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def is_validation(relative_path: str) -> bool:
    """The documented hold-out rule: MD5 of the relative path, mod 20 == 0.

    Example:
        >>> is_validation("ast.py"), is_validation("json/decoder.py")
        (False, False)
    """
    return int(hashlib.md5(relative_path.encode()).hexdigest(), 16) % 20 == 0


def stdlib_files(root: Path | None = None) -> list[str]:
    """Relative paths (``/``-separated, sorted) of the standard library's ``.py`` files."""
    root = stdlib_root() if root is None else root
    paths = (p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    return sorted(p for p in paths if "site-packages" not in p.split("/"))


def load_corpus(max_files: int | None = None, root: Path | None = None) -> dict:
    """``{"train", "valid"}`` id streams (files concatenated in sorted order), plus the
    file lists. ``max_files`` keeps every n-th file for a quick run (both splits)."""
    root = stdlib_root() if root is None else root
    files = stdlib_files(root)
    if max_files is not None and len(files) > max_files:
        files = files[:: len(files) // max_files][:max_files]
    split: dict[str, list[str]] = {"train": [], "valid": []}
    for f in files:
        split["valid" if is_validation(f) else "train"].append(f)
    if max_files is not None and not split["valid"]:  # a tiny quick run still validates
        split["valid"].append(split["train"].pop())
    streams = {}
    for name, names in split.items():
        texts = [(root / f).read_text(encoding="utf-8", errors="replace") for f in names]
        streams[name] = encode("".join(texts))
    return {**streams, "train_files": split["train"], "valid_files": split["valid"]}
