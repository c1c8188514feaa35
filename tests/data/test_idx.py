import gzip

import numpy as np
import pytest

from fnn.data import DatasetError
from fnn.data.idx import IMAGES, LABELS, parse_idx, read_bytes

from .formats import idx_bytes


def test_parse_images_and_labels_round_trip():
    x = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    y = np.array([7, 1], np.uint8)
    out = parse_idx(idx_bytes(x), IMAGES, name="x")
    np.testing.assert_array_equal(out, x)
    assert out.dtype == np.uint8 and out.flags.writeable
    np.testing.assert_array_equal(parse_idx(idx_bytes(y), LABELS, name="y"), y)


def test_header_is_big_endian():
    data = bytes([0, 0, 8, 1, 0, 0, 1, 0]) + bytes(256)  # 256 labels: 0x00000100
    assert parse_idx(data, LABELS, name="y").shape == (256,)


def test_labels_file_where_images_expected_names_file_and_magic():
    data = idx_bytes(np.zeros(5, np.uint8))
    with pytest.raises(DatasetError) as e:
        parse_idx(data, IMAGES, name="train-images-idx3-ubyte.gz")
    assert str(e.value).startswith(
        "train-images-idx3-ubyte.gz: expected magic 2051 (images), found 2049 (labels)"
    )


def test_unknown_magic():
    with pytest.raises(DatasetError, match=r"lab\.idx: expected magic 2049 \(labels\), found 0"):
        parse_idx(bytes(8), LABELS, name="lab.idx")


@pytest.mark.parametrize("cut", [1, 100, 28 * 28 + 1])
def test_truncated_data(cut):
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DatasetError) as e:
        parse_idx(data[:-cut], IMAGES, name="imgs")
    msg = str(e.value)
    assert msg.startswith("imgs: truncated:")
    assert f"{len(data) - cut} bytes" in msg and f"exactly {len(data)}" in msg


def test_truncated_header_and_tiny_file():
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="imgs: truncated header: 9 bytes"):
        parse_idx(data[:9], IMAGES, name="imgs")
    with pytest.raises(DatasetError, match="imgs: 2 bytes is too short"):
        parse_idx(data[:2], IMAGES, name="imgs")


def test_trailing_bytes():
    data = idx_bytes(np.zeros(4, np.uint8)) + b"\x00"
    with pytest.raises(DatasetError, match="y: has trailing bytes: 13 bytes.*exactly 12"):
        parse_idx(data, LABELS, name="y")


def test_wrong_dimensions():
    data = idx_bytes(np.zeros((2, 27, 28), np.uint8))
    with pytest.raises(
        DatasetError, match="a.idx: wrong dimensions: expected Nx28x28, found 2x27x28"
    ):
        parse_idx(data, IMAGES, name="a.idx", shape=(None, 28, 28))
    data = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="expected 5x28x28, found 2x28x28"):
        parse_idx(data, IMAGES, name="a.idx", shape=(5, 28, 28))


def test_read_bytes_gzip_or_raw_by_content(tmp_path):
    payload = idx_bytes(np.arange(10, dtype=np.uint8))
    raw, gz, misnamed = tmp_path / "raw", tmp_path / "f.gz", tmp_path / "plain-named"
    raw.write_bytes(payload)
    gz.write_bytes(gzip.compress(payload))
    misnamed.write_bytes(gzip.compress(payload))
    assert read_bytes(raw) == read_bytes(gz) == read_bytes(misnamed) == payload


def test_read_bytes_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(1000))[:-20])
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: corrupt or truncated gzip"):
        read_bytes(path)


def test_read_bytes_corrupt_gzip(tmp_path):
    good = bytearray(gzip.compress(np.random.default_rng(0).bytes(5000)))
    good[30:40] = b"\xff" * 10
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(good))
    with pytest.raises(DatasetError, match="x.gz: corrupt or truncated gzip"):
        read_bytes(path)
