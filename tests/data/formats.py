"""Writers of small files in the exact IDX and CIFAR-10 binary formats, for the tests."""

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file of unsigned bytes: magic, big-endian uint32 dims, data."""
    arr = np.asarray(arr, np.uint8)
    if magic is None:
        magic = 0x0800 + arr.ndim
    dims = b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return magic.to_bytes(4, "big") + dims + arr.tobytes()


def small_idx_set(n_train=6, n_test=4, seed=0):
    """Random images and labels: {file base name: array}."""
    rng = np.random.default_rng(seed)
    return {
        IDX_FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        IDX_FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        IDX_FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        IDX_FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_idx_set(folder: Path, arrays: dict, gz: bool = True) -> dict:
    """Write each array as an IDX file (gzipped if gz); return {base: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for base, arr in arrays.items():
        data = idx_bytes(arr)
        path = folder / (base + ".gz" if gz else base)
        path.write_bytes(gzip.compress(data) if gz else data)
        paths[base] = path
    return paths


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of 1 label byte + R, G, B planes of 32x32 bytes, from NHWC images."""
    n = len(labels)
    planes = np.asarray(images, np.uint8).transpose(0, 3, 1, 2).reshape(n, 3072)
    return np.concatenate([np.asarray(labels, np.uint8)[:, None], planes], axis=1).tobytes()


CIFAR_FILES = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")


def small_cifar_set(records=3, seed=0):
    """{file name: (images NHWC, labels)} for the six CIFAR-10 files."""
    rng = np.random.default_rng(seed)
    return {
        name: (
            rng.integers(0, 256, (records, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, records, dtype=np.uint8),
        )
        for name in CIFAR_FILES
    }


def write_cifar_set(folder: Path, data: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in data.items():
        (folder / name).write_bytes(cifar_bytes(x, y))


def cifar_archive_bytes(data: dict, top="cifar-10-batches-bin") -> bytes:
    """A .tar.gz laid out like the official cifar-10-binary.tar.gz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (x, y) in data.items():
            payload = cifar_bytes(x, y)
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()
