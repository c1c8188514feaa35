"""CIFAR-10 from its binary version: 32x32 colour images, 50,000 train + 10,000 test.

Each of data_batch_1.bin .. data_batch_5.bin and test_batch.bin holds 10,000 records
of 3073 bytes: one label byte (0-9), then 1024 red, 1024 green and 1024 blue bytes
(row-major 32x32 planes). The pickled "python version" is never read: unpickling a
downloaded file can run arbitrary code.

Example:
    >>> from fnn.data import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10()  # doctest: +SKIP
    >>> x_train.shape, y_train.dtype  # doctest: +SKIP
    ((50000, 32, 32, 3), dtype('uint8'))
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .checksums import check_digest, file_hexdigest
from .download import download as _download
from .download import write_atomic
from .errors import DatasetError, DownloadError
from .paths import cache_dir, candidate_dirs, find_all, find_file, not_found_error, search_dirs

Split = tuple[np.ndarray, np.ndarray]

NAME = "CIFAR-10"
SUBDIR = "cifar10"
ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_DIR = "cifar-10-batches-bin"  # the folder the archive unpacks to
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
FILES = (*TRAIN_FILES, TEST_FILE)
MIRRORS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
# The MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html for the binary version.
ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
RECORDS_PER_FILE = 10000
RECORD_BYTES = 1 + 3 * 32 * 32
NUM_CLASSES = 10
_HINT = f"(from the binary version; or put the archive {ARCHIVE} itself there)"


def cifar10(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[Split, Split]:
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    Images are uint8 of shape (N, 32, 32, 3) (NHWC, RGB), labels uint8 of shape (N,) in
    0-9; N = 50000 for train and 10000 for test. The six .bin files are looked for in
    ``data_dir``, then ``$FNN_DATA_DIR``, then ``~/.cache/fnn`` (each folder, its
    ``cifar10/`` subfolder, or a ``cifar-10-batches-bin/`` folder inside either); failing
    that, a ``cifar-10-binary.tar.gz`` in one of those folders is read directly; failing
    that, the archive is downloaded (unless ``download=False``), its MD5 checked, and the
    six files extracted into ``data_dir/cifar10`` or the cache.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = cifar10()  # doctest: +SKIP
        >>> x_test.shape  # doctest: +SKIP
        (10000, 32, 32, 3)
    """
    dirs = search_dirs(data_dir)
    subdirs = (SUBDIR, f"{SUBDIR}/{ARCHIVE_DIR}", ARCHIVE_DIR)
    paths, notes = find_all(dirs, subdirs, [(f,) for f in FILES])
    if paths is not None:
        contents = [(p.name, p.read_bytes()) for p in paths]
    else:
        archive = _find_archive(dirs)
        if archive is None:
            if not download:
                raise not_found_error(NAME, FILES, dirs, SUBDIR, notes=notes, hint=_HINT)
            dest = (Path(data_dir) if data_dir is not None else cache_dir()) / SUBDIR
            try:
                contents = _download_and_extract(dest)
            except DownloadError as e:
                raise not_found_error(
                    NAME, FILES, dirs, SUBDIR, notes=notes, hint=_HINT, download_error=e
                ) from e
        else:
            contents = read_archive(archive)

    batches = [parse_cifar_batch(data, name=name) for name, data in contents]
    x_train = np.concatenate([x for x, _ in batches[:-1]])
    y_train = np.concatenate([y for _, y in batches[:-1]])
    return (x_train, y_train), batches[-1]


def parse_cifar_batch(
    data: bytes, *, name: str, records: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary file into (images (N, 32, 32, 3) uint8, labels (N,) uint8).

    ``records`` is the number of records required (default: ``RECORDS_PER_FILE``, 10,000).
    Raises DatasetError naming ``name`` when the length is not a whole number of
    3073-byte records, the count is wrong, or a label is outside 0-9.

    Example:
        >>> rec = bytes([7]) + bytes(3072)
        >>> x, y = parse_cifar_batch(rec * 2, name="tiny.bin", records=2)
        >>> x.shape, y.tolist()
        ((2, 32, 32, 3), [7, 7])
    """
    records = RECORDS_PER_FILE if records is None else records
    n, rest = divmod(len(data), RECORD_BYTES)
    if rest:
        raise DatasetError(
            f"{name}: {len(data)} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + 3072 pixel bytes): {rest} bytes left over; the file is "
            "truncated or not CIFAR-10 binary"
        )
    if n != records:
        raise DatasetError(
            f"{name}: expected {records} records of {RECORD_BYTES} bytes "
            f"({records * RECORD_BYTES} bytes), found {n} ({len(data)} bytes)"
        )
    rows = np.frombuffer(data, np.uint8).reshape(n, RECORD_BYTES)
    labels = rows[:, 0].copy()
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{name}: label {labels[i]} in record {i} is outside 0-{NUM_CLASSES - 1}; the "
            "file is corrupt or not CIFAR-10 binary"
        )
    # Stored channel-planar (N, C, H, W); NHWC is what the conv layers take.
    images = np.ascontiguousarray(rows[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels


def read_archive(path: str | os.PathLike) -> list[tuple[str, bytes]]:
    """The six .bin files of the official archive, as (name, bytes), without unpacking.

    Example:
        >>> contents = read_archive("cifar-10-binary.tar.gz")  # doctest: +SKIP
        >>> [name for name, _ in contents][-1]  # doctest: +SKIP
        'test_batch.bin'
    """
    path = Path(path)
    out = []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in FILES:
                member_name = f"{ARCHIVE_DIR}/{name}"
                try:
                    member = tar.getmember(member_name)
                except KeyError:
                    raise DatasetError(f"{path.name}: the archive lacks {member_name}") from None
                f = tar.extractfile(member) if member.isfile() else None
                if f is None:
                    raise DatasetError(f"{path.name}: {member_name} is not a regular file")
                out.append((name, f.read()))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DatasetError(f"{path.name}: corrupt or truncated archive ({e})") from e
    return out


def _find_archive(dirs) -> Path | None:
    for folder in candidate_dirs(dirs, (SUBDIR,)):
        found = find_file(folder, (ARCHIVE,))
        if found is not None:
            return found
    return None


def _download_and_extract(dest: Path) -> list[tuple[str, bytes]]:
    def verify(tmp: Path) -> None:
        check_digest(file_hexdigest(tmp, "md5"), ARCHIVE_MD5, name=ARCHIVE, what="MD5")

    archive = _download(MIRRORS, dest / ARCHIVE, verify=verify)
    contents = read_archive(archive)
    for name, data in contents:
        write_atomic(dest / name, data)
    # The six .bin files now hold everything; keeping the 170 MB archive too would
    # double the disk use.
    archive.unlink()
    return contents
