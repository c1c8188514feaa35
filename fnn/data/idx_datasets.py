"""MNIST and Fashion-MNIST: 28x28 grayscale images in IDX files, 60,000 train + 10,000 test.

Example:
    >>> from fnn.data import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, y_train[:5]  # doctest: +SKIP
    ((60000, 28, 28, 1), dtype('uint8'), array([5, 0, 4, 1, 9], dtype=uint8))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checksums import check_digest, file_hexdigest, hexdigest
from .download import download as _download
from .errors import DatasetError, DownloadError
from .idx import IMAGES, LABELS, parse_idx, read_bytes
from .paths import cache_dir, find_all, find_file, not_found_error, search_dirs

Split = tuple[np.ndarray, np.ndarray]

# The four files, in the order (train images, train labels, test images, test labels).
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_HINT = "(each gzipped with .gz added to its name, as published, or uncompressed)"


@dataclass(frozen=True)
class IdxDataset:
    """Where an IDX data set lives and how to recognise the genuine files."""

    name: str
    subdir: str
    mirrors: tuple[str, ...]
    # SHA-256 of each *uncompressed* file: checked on every load, gzipped or raw.
    sha256: dict[str, str] = field(default_factory=dict)
    # Published MD5 of each .gz file: checked on download only, because a local copy
    # may be raw or recompressed, which changes these bytes but not the data.
    md5_gz: dict[str, str] = field(default_factory=dict)
    sizes: tuple[int, int] = (60000, 10000)
    num_classes: int = 10


MNIST = IdxDataset(
    name="MNIST",
    subdir="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte": (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        ),
        "train-labels-idx1-ubyte": (
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        ),
        "t10k-images-idx3-ubyte": (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        ),
        "t10k-labels-idx1-ubyte": (
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        ),
    },
)

# Fashion-MNIST publishes MD5s of its .gz files only (README of zalandoresearch/
# fashion-mnist); no hash of the uncompressed data is published, so a local copy is
# verified by structure: magic numbers, exact dimensions and length, labels 0-9.
FASHION_MNIST = IdxDataset(
    name="Fashion-MNIST",
    subdir="fashion_mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    md5_gz={
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    },
)


def mnist(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[Split, Split]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Images are uint8 of shape (N, 28, 28, 1) (NHWC), labels uint8 of shape (N,) in 0-9;
    N = 60000 for train and 10000 for test. Files are looked for in ``data_dir``, then
    ``$FNN_DATA_DIR``, then ``~/.cache/fnn`` (each folder or its ``mnist/`` subfolder,
    gzipped or raw), otherwise downloaded (unless ``download=False``) into
    ``data_dir/mnist`` or the cache. Every load checks the SHA-256 of the data.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist()  # doctest: +SKIP
        >>> x_train.shape, y_test.shape  # doctest: +SKIP
        ((60000, 28, 28, 1), (10000,))
    """
    return load_idx_dataset(MNIST, data_dir, download=download)


def fashion_mnist(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[Split, Split]:
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``, like :func:`mnist`.

    Looks in the ``fashion_mnist/`` subfolder of each search folder too.

    Example:
        >>> (x_train, y_train), _ = fashion_mnist()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28, 1)
    """
    return load_idx_dataset(FASHION_MNIST, data_dir, download=download)


def load_idx_dataset(
    spec: IdxDataset, data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[Split, Split]:
    """Find (or download), verify and parse the four files of an IDX data set."""
    dirs = search_dirs(data_dir)
    accepted = [(f + ".gz", f) for f in FILES]
    paths, notes = find_all(dirs, [spec.subdir], accepted)
    if paths is None:
        if not download:
            raise not_found_error(spec.name, FILES, dirs, spec.subdir, notes=notes, hint=_HINT)
        dest = (Path(data_dir) if data_dir is not None else cache_dir()) / spec.subdir
        try:
            paths = _download_missing(spec, dest)
        except DownloadError as e:
            raise not_found_error(
                spec.name, FILES, dirs, spec.subdir, notes=notes, hint=_HINT, download_error=e
            ) from e

    n_train, n_test = spec.sizes
    x_train, y_train, x_test, y_test = (
        _read(spec, path, base, n)
        for path, base, n in zip(paths, FILES, (n_train, n_train, n_test, n_test), strict=True)
    )
    return (x_train[..., None], y_train), (x_test[..., None], y_test)


def _read(spec: IdxDataset, path: Path, base: str, n: int) -> np.ndarray:
    data = read_bytes(path)
    if base in spec.sha256:
        check_digest(
            hexdigest(data, "sha256"),
            spec.sha256[base],
            name=path.name,
            what="SHA-256 of the uncompressed data",
        )
    is_images = "images" in base
    kind, shape = (IMAGES, (n, 28, 28)) if is_images else (LABELS, (n,))
    arr = parse_idx(data, kind, name=path.name, shape=shape)
    if not is_images:
        _check_labels(arr, spec.num_classes, path.name)
    return arr


def _check_labels(labels: np.ndarray, num_classes: int, name: str) -> None:
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{name}: label {labels[i]} at index {i} is outside 0-{num_classes - 1} "
            f"({bad.size} such labels)"
        )


def _download_missing(spec: IdxDataset, dest: Path) -> list[Path]:
    """Download into ``dest`` each file it lacks; return the four paths."""
    paths = []
    for base in FILES:
        existing = find_file(dest, (base + ".gz", base))
        if existing is None:
            gz = base + ".gz"
            urls = [m + gz for m in spec.mirrors]
            existing = _download(urls, dest / gz, verify=_verifier(spec, base))
        paths.append(existing)
    return paths


def _verifier(spec: IdxDataset, base: str):
    def verify(tmp: Path) -> None:
        gz = base + ".gz"
        if base in spec.md5_gz:
            check_digest(file_hexdigest(tmp, "md5"), spec.md5_gz[base], name=gz, what="MD5")
        if base in spec.sha256:
            data = read_bytes(tmp, name=gz)
            check_digest(
                hexdigest(data, "sha256"),
                spec.sha256[base],
                name=gz,
                what="SHA-256 of the uncompressed data",
            )

    return verify
