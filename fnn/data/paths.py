"""Where the loaders look for data files, and the error when they find none.

Search order: the ``data_dir`` argument, then ``$FNN_DATA_DIR``, then the user cache
folder (``$XDG_CACHE_HOME/fnn``, by default ``~/.cache/fnn``). Within each folder a
data set's files may sit directly in it or in a subfolder named after the data set
(``mnist/``, ``fashion_mnist/``, ``cifar10/``, ``burgers/``).

Example:
    >>> from fnn.data.paths import search_dirs
    >>> dirs = search_dirs("/my/data")  # /my/data, $FNN_DATA_DIR, ~/.cache/fnn
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .errors import DatasetNotFoundError

ENV_VAR = "FNN_DATA_DIR"


def cache_dir() -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/fnn``, or ``~/.cache/fnn``.

    Example:
        >>> cache_dir().name
        'fnn'
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fnn"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders to search, in order, without duplicates.

    Example:
        >>> search_dirs("/tmp/x")[0]
        PosixPath('/tmp/x')
    """
    dirs = [data_dir, os.environ.get(ENV_VAR) or None, cache_dir()]
    out: list[Path] = []
    for d in dirs:
        if d is None:
            continue
        p = Path(d).expanduser()
        if p not in out:
            out.append(p)
    return out


def candidate_dirs(dirs: Sequence[Path], subdirs: Sequence[str]) -> list[Path]:
    """Each search folder itself, then its data-set subfolders, in search order."""
    return [c for d in dirs for c in (d, *(d / s for s in subdirs))]


def find_file(folder: Path, names: Sequence[str]) -> Path | None:
    """The first of ``names`` (alternative spellings of one file) present in ``folder``."""
    for name in names:
        p = folder / name
        if p.is_file():
            return p
    return None


def find_all(
    dirs: Sequence[Path], subdirs: Sequence[str], files: Sequence[Sequence[str]]
) -> tuple[list[Path] | None, list[str]]:
    """The first folder that holds every file; each file given by its accepted names.

    A complete set from one folder is required so that a train split is never paired
    with a test split from another copy. Returns ``(paths, notes)``: ``paths`` is None
    when no folder holds them all, and ``notes`` say which folders held only some.
    """
    notes = []
    for folder in candidate_dirs(dirs, subdirs):
        found = [find_file(folder, names) for names in files]
        if all(p is not None for p in found):
            return found, notes  # type: ignore[return-value]
        missing = [names[0] for names, p in zip(files, found, strict=True) if p is None]
        if len(missing) < len(files):
            notes.append(f"{folder} holds some of the files but lacks {', '.join(missing)}")
    return None, notes


def not_found_error(
    dataset: str,
    files: Sequence[str],
    dirs: Sequence[Path],
    subdir: str,
    *,
    notes: Sequence[str] = (),
    hint: str = "",
    download_error: Exception | None = None,
) -> DatasetNotFoundError:
    """An error telling the user which files to put where (and why downloading failed).

    Example:
        >>> print(not_found_error("Tiny", ["a.bin"], [Path("/data")], "tiny"))
        Tiny: no local copy found.
        Put these files
            a.bin
        in one of these folders (or in a 'tiny/' subfolder of one):
            /data
        or pass data_dir=..., or set the environment variable FNN_DATA_DIR to the folder.
    """
    failed = " and the download failed (details below)" if download_error is not None else ""
    lines = [f"{dataset}: no local copy found{failed}.", "Put these files"]
    lines += [f"    {f}" for f in files]
    if hint:
        lines.append(hint)
    lines.append(f"in one of these folders (or in a '{subdir}/' subfolder of one):")
    lines += [f"    {d}" for d in dirs]
    lines.append(f"or pass data_dir=..., or set the environment variable {ENV_VAR} to the folder.")
    lines += notes
    if download_error is not None:
        lines.append(f"Download error: {download_error}")
    return DatasetNotFoundError("\n".join(lines))
