import numpy as np
import pytest

import fnn.data.cifar as cifar_module
from fnn.data import DatasetError, DatasetNotFoundError, cifar10
from fnn.data.checksums import hexdigest
from fnn.data.cifar import parse_cifar_batch, read_archive

from .formats import (
    CIFAR_FILES,
    cifar_archive_bytes,
    cifar_bytes,
    small_cifar_set,
    write_cifar_set,
)

R = 3  # records per file in these tests (the real files hold 10,000)


@pytest.fixture
def small_cifar(monkeypatch):
    monkeypatch.setattr(cifar_module, "RECORDS_PER_FILE", R)
    return small_cifar_set(R)


def _assert_matches(result, data):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (5 * R, 32, 32, 3) and x_test.shape == (R, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert x_train.flags.c_contiguous
    np.testing.assert_array_equal(x_train, np.concatenate([data[f][0] for f in CIFAR_FILES[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([data[f][1] for f in CIFAR_FILES[:5]]))
    np.testing.assert_array_equal(x_test, data["test_batch.bin"][0])
    np.testing.assert_array_equal(y_test, data["test_batch.bin"][1])


def test_record_layout_label_then_rgb_planes():
    planes = np.zeros((3, 32, 32), np.uint8)
    planes[0] = 10
    planes[1] = 20
    planes[2] = 30
    planes[0, 1, 2] = 255  # red at row 1, column 2
    planes[2, 31, 0] = 7  # blue at row 31, column 0
    record = bytes([3]) + planes.tobytes()
    x, y = parse_cifar_batch(record + bytes([9]) + bytes(3072), name="b.bin", records=2)
    assert y.tolist() == [3, 9]
    assert x.shape == (2, 32, 32, 3)
    assert x[0, 0, 0].tolist() == [10, 20, 30]
    assert x[0, 1, 2].tolist() == [255, 20, 30]
    assert x[0, 31, 0].tolist() == [10, 20, 7]
    assert not x[1].any()


@pytest.mark.parametrize(
    "layout", [".", "cifar10", "cifar10/cifar-10-batches-bin", "cifar-10-batches-bin"]
)
def test_loads_bin_files(tmp_path, small_cifar, layout):
    write_cifar_set(tmp_path / layout, small_cifar)
    _assert_matches(cifar10(tmp_path, download=False), small_cifar)


def test_env_and_cache_folders(tmp_path, small_cifar, monkeypatch):
    other = small_cifar_set(R, seed=1)
    write_cifar_set(tmp_path / "env" / "cifar10", small_cifar)
    write_cifar_set(tmp_path / "xdg" / "fnn" / "cifar10", other)
    monkeypatch.setenv("FNN_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _assert_matches(cifar10(download=False), small_cifar)
    monkeypatch.delenv("FNN_DATA_DIR")
    _assert_matches(cifar10(download=False), other)


def test_reads_local_archive(tmp_path, small_cifar):
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(cifar_archive_bytes(small_cifar))
    _assert_matches(cifar10(tmp_path, download=False), small_cifar)
    assert [p.name for p in (tmp_path / "cifar10").iterdir()] == ["cifar-10-binary.tar.gz"]


def test_archive_with_wrong_layout(tmp_path, small_cifar):
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(cifar_archive_bytes(small_cifar, top="other"))
    with pytest.raises(
        DatasetError,
        match="cifar-10-binary.tar.gz: the archive lacks cifar-10-batches-bin/data_batch_1.bin",
    ):
        read_archive(path)


def test_truncated_archive(tmp_path, small_cifar):
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(cifar_archive_bytes(small_cifar)[:-200])
    with pytest.raises(DatasetError, match="cifar-10-binary.tar.gz: corrupt or truncated archive"):
        cifar10(tmp_path, download=False)


def test_wrong_record_length(tmp_path, small_cifar):
    write_cifar_set(tmp_path, small_cifar)
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DatasetError) as e:
        cifar10(tmp_path, download=False)
    assert str(e.value).startswith(
        "data_batch_3.bin: 9218 bytes is not a whole number of 3073-byte records (1 label "
        "byte + 3072 pixel bytes): 3072 bytes left over"
    )


def test_wrong_record_count(tmp_path, small_cifar):
    write_cifar_set(tmp_path, small_cifar)
    x, y = small_cifar["test_batch.bin"]
    (tmp_path / "test_batch.bin").write_bytes(cifar_bytes(x[:2], y[:2]))
    with pytest.raises(
        DatasetError,
        match=r"test_batch.bin: expected 3 records of 3073 bytes "
        r"\(9219 bytes\), found 2 \(6146 bytes\)",
    ):
        cifar10(tmp_path, download=False)


def test_real_size_is_required_by_default():
    with pytest.raises(DatasetError, match="expected 10000 records"):
        parse_cifar_batch(bytes(3073), name="data_batch_1.bin")


def test_bad_label(tmp_path, small_cifar):
    small_cifar["data_batch_5.bin"][1][1] = 200
    write_cifar_set(tmp_path, small_cifar)
    with pytest.raises(
        DatasetError, match="data_batch_5.bin: label 200 in record 1 is outside 0-9"
    ):
        cifar10(tmp_path, download=False)


def test_missing_file_offline_error(tmp_path, small_cifar, fake_web):
    write_cifar_set(tmp_path, small_cifar)
    (tmp_path / "data_batch_4.bin").unlink()
    with pytest.raises(DatasetNotFoundError) as e:
        cifar10(tmp_path)
    msg = str(e.value)
    assert msg.startswith("CIFAR-10: no local copy found and the download failed")
    for name in CIFAR_FILES:
        assert f"    {name}\n" in msg
    assert f"    {tmp_path}\n" in msg and "'cifar10/' subfolder" in msg and "FNN_DATA_DIR" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz: " in msg
    assert f"{tmp_path} holds some of the files but lacks data_batch_4.bin" in msg
    assert [u for u, _ in fake_web.requests] == list(cifar_module.MIRRORS)


def test_download_verifies_md5_then_extracts(tmp_path, small_cifar, fake_web, monkeypatch):
    blob = cifar_archive_bytes(small_cifar)
    fake_web.serve(cifar_module.MIRRORS[0], blob)
    monkeypatch.setattr(cifar_module, "ARCHIVE_MD5", hexdigest(blob, "md5"))
    _assert_matches(cifar10(), small_cifar)
    cache = tmp_path / "xdg-cache" / "fnn" / "cifar10"
    assert sorted(p.name for p in cache.iterdir()) == sorted(CIFAR_FILES)  # archive removed
    n = len(fake_web.requests)
    _assert_matches(cifar10(download=False), small_cifar)
    assert len(fake_web.requests) == n


def test_download_with_wrong_md5_keeps_nothing(tmp_path, small_cifar, fake_web):
    fake_web.serve(cifar_module.MIRRORS[0], cifar_archive_bytes(small_cifar))
    with pytest.raises(DatasetNotFoundError) as e:
        cifar10(tmp_path / "mine")
    msg = str(e.value)
    assert "cifar-10-binary.tar.gz: checksum mismatch: MD5 is" in msg
    assert "expected c32a1d4ab5d03f1284b67883e8d87530" in msg
    assert list((tmp_path / "mine" / "cifar10").iterdir()) == []
