import dataclasses
import gzip

import numpy as np
import pytest

import fnn.data.idx_datasets as mnist_module
from fnn.data import DatasetError, DatasetNotFoundError, fashion_mnist, mnist
from fnn.data.checksums import hexdigest

from .formats import IDX_FILES, idx_bytes, small_idx_set, write_idx_set

N_TRAIN, N_TEST = 6, 4


@pytest.fixture
def small_fashion(monkeypatch):
    """Fashion-MNIST that expects 6 train and 4 test examples, so tests write tiny files."""
    spec = dataclasses.replace(mnist_module.FASHION_MNIST, sizes=(N_TRAIN, N_TEST))
    monkeypatch.setattr(mnist_module, "FASHION_MNIST", spec)
    return spec


def _assert_matches(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (N_TRAIN, 28, 28, 1) and x_test.shape == (N_TEST, 28, 28, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train[..., 0], arrays[IDX_FILES[0]])
    np.testing.assert_array_equal(y_train, arrays[IDX_FILES[1]])
    np.testing.assert_array_equal(x_test[..., 0], arrays[IDX_FILES[2]])
    np.testing.assert_array_equal(y_test, arrays[IDX_FILES[3]])


# --- the real MNIST ----------------------------------------------------------------


def test_real_mnist_through_env(real_data_dir, monkeypatch):
    monkeypatch.setenv("FNN_DATA_DIR", str(real_data_dir))  # its mnist/ subfolder holds them
    (x_train, y_train), (x_test, y_test) = mnist(download=False)  # checks SHA-256 too
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == x_test.dtype == y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.mean() == pytest.approx(33.318, abs=0.01)
    assert x_train.max() == 255 and x_train.min() == 0
    assert np.bincount(y_train).tolist()[:3] == [5923, 6742, 5958]


def test_real_mnist_gz_hashes_against_uncompressed_sums(real_data_dir):
    sums = dict(
        reversed(line.split())
        for line in (real_data_dir / "mnist/SHA256SUMS.uncompressed").read_text().splitlines()
    )
    assert sums == mnist_module.MNIST.sha256
    for base in IDX_FILES:
        data = gzip.decompress((real_data_dir / "mnist" / (base + ".gz")).read_bytes())
        assert hexdigest(data) == sums[base]


def test_real_mnist_downloaded_from_file_mirror(real_data_dir, tmp_path, monkeypatch):
    mirror = (real_data_dir / "mnist").as_uri() + "/"
    spec = dataclasses.replace(mnist_module.MNIST, mirrors=("https://offline.invalid/", mirror))
    monkeypatch.setattr(mnist_module, "MNIST", spec)
    _, (x_test, y_test) = mnist(tmp_path / "dl")
    assert sorted(p.name for p in (tmp_path / "dl" / "mnist").iterdir()) == sorted(
        f + ".gz" for f in IDX_FILES
    )
    assert x_test.shape == (10000, 28, 28, 1) and y_test[:3].tolist() == [7, 2, 1]


def test_mnist_checksum_rejects_other_data(tmp_path):
    write_idx_set(tmp_path / "mnist", small_idx_set(60000 // 10000, 4))
    with pytest.raises(DatasetError) as e:
        mnist(tmp_path, download=False)
    msg = str(e.value)
    assert msg.startswith("train-images-idx3-ubyte.gz: checksum mismatch: SHA-256 of the")
    assert mnist_module.MNIST.sha256["train-images-idx3-ubyte"] in msg


# --- Fashion-MNIST on small files in the exact format -------------------------------


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["direct", "subfolder"])
def test_fashion_parses_files(tmp_path, small_fashion, gz, layout):
    arrays = small_idx_set(N_TRAIN, N_TEST)
    folder = tmp_path if layout == "direct" else tmp_path / "fashion_mnist"
    write_idx_set(folder, arrays, gz=gz)
    _assert_matches(fashion_mnist(tmp_path, download=False), arrays)


def test_search_order_argument_before_env_before_cache(tmp_path, small_fashion, monkeypatch):
    sets = {name: small_idx_set(N_TRAIN, N_TEST, seed=i) for i, name in enumerate("aec")}
    write_idx_set(tmp_path / "arg", sets["a"])
    write_idx_set(tmp_path / "env" / "fashion_mnist", sets["e"])
    write_idx_set(tmp_path / "xdg" / "fnn" / "fashion_mnist", sets["c"])
    monkeypatch.setenv("FNN_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _assert_matches(fashion_mnist(tmp_path / "arg", download=False), sets["a"])
    _assert_matches(fashion_mnist(download=False), sets["e"])
    monkeypatch.delenv("FNN_DATA_DIR")
    _assert_matches(fashion_mnist(download=False), sets["c"])


def test_results_are_fresh_arrays(tmp_path, small_fashion):
    write_idx_set(tmp_path, small_idx_set(N_TRAIN, N_TEST))
    (x1, _), _ = fashion_mnist(tmp_path)
    x1[:] = 0  # writable, and no memoised copy is affected
    (x2, _), _ = fashion_mnist(tmp_path)
    assert x2.any()


def test_incomplete_folder_is_skipped_and_reported(tmp_path, small_fashion, fake_web):
    paths = write_idx_set(tmp_path, small_idx_set(N_TRAIN, N_TEST))
    paths[IDX_FILES[3]].unlink()
    with pytest.raises(DatasetNotFoundError) as e:
        fashion_mnist(tmp_path, download=False)
    assert f"{tmp_path} holds some of the files but lacks t10k-labels-idx1-ubyte.gz" in str(e.value)
    assert fake_web.requests == []


# Each case: the new file contents, made from the original uncompressed bytes; the error.
CORRUPTIONS = {
    "labels-as-images": (
        lambda raw: gzip.compress(idx_bytes(np.zeros(N_TRAIN, np.uint8))),
        "train-images-idx3-ubyte.gz: expected magic 2051 (images), found 2049 (labels)",
    ),
    "truncated-gzip": (
        lambda raw: gzip.compress(raw)[:-100],
        "train-images-idx3-ubyte.gz: corrupt or truncated gzip",
    ),
    "truncated-idx": (
        lambda raw: gzip.compress(raw[:-1]),
        "train-images-idx3-ubyte.gz: truncated: 4719 bytes, but dimensions 6x28x28 need "
        "exactly 4720",
    ),
    "wrong-dims": (
        lambda raw: gzip.compress(idx_bytes(np.zeros((N_TRAIN, 28, 27)))),
        "train-images-idx3-ubyte.gz: wrong dimensions: expected 6x28x28, found 6x28x27",
    ),
    "test-split-as-train": (
        lambda raw: gzip.compress(idx_bytes(np.zeros((N_TEST, 28, 28)))),
        "train-images-idx3-ubyte.gz: wrong dimensions: expected 6x28x28, found 4x28x28",
    ),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_corrupt_train_images(tmp_path, small_fashion, case):
    make, expected = CORRUPTIONS[case]
    path = write_idx_set(tmp_path, small_idx_set(N_TRAIN, N_TEST))[IDX_FILES[0]]
    path.write_bytes(make(gzip.decompress(path.read_bytes())))
    with pytest.raises(DatasetError) as e:
        fashion_mnist(tmp_path, download=False)
    assert str(e.value).startswith(expected)


def test_label_out_of_range(tmp_path, small_fashion):
    arrays = small_idx_set(N_TRAIN, N_TEST)
    arrays[IDX_FILES[3]][2] = 10
    write_idx_set(tmp_path, arrays, gz=False)
    with pytest.raises(
        DatasetError, match="t10k-labels-idx1-ubyte: label 10 at index 2 is outside 0-9"
    ):
        fashion_mnist(tmp_path)


# --- downloading and the offline error ----------------------------------------------


def _serve_fashion(fake_web, arrays, mirror_index=1):
    mirror = mnist_module.FASHION_MNIST.mirrors[mirror_index]
    md5 = {}
    for base, arr in arrays.items():
        blob = gzip.compress(idx_bytes(arr))
        fake_web.serve(mirror + base + ".gz", blob)
        md5[base] = hexdigest(blob, "md5")
    return md5


def test_download_to_cache_verified_and_atomic(tmp_path, small_fashion, fake_web, monkeypatch):
    arrays = small_idx_set(N_TRAIN, N_TEST)
    md5 = _serve_fashion(fake_web, arrays)  # only the second mirror answers
    monkeypatch.setattr(
        mnist_module, "FASHION_MNIST", dataclasses.replace(small_fashion, md5_gz=md5)
    )
    _assert_matches(fashion_mnist(), arrays)
    cache = tmp_path / "xdg-cache" / "fnn" / "fashion_mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f + ".gz" for f in IDX_FILES)
    first, second = small_fashion.mirrors
    assert [u for u, _ in fake_web.requests[:2]] == [
        first + IDX_FILES[0] + ".gz",
        second + IDX_FILES[0] + ".gz",
    ]
    # Now local: no more requests.
    n = len(fake_web.requests)
    _assert_matches(fashion_mnist(), arrays)
    assert len(fake_web.requests) == n


def test_download_goes_to_data_dir_and_fetches_only_missing(
    tmp_path, small_fashion, fake_web, monkeypatch
):
    arrays = small_idx_set(N_TRAIN, N_TEST)
    md5 = _serve_fashion(fake_web, arrays)
    monkeypatch.setattr(
        mnist_module, "FASHION_MNIST", dataclasses.replace(small_fashion, md5_gz=md5)
    )
    dest = tmp_path / "mine" / "fashion_mnist"
    write_idx_set(dest, {IDX_FILES[0]: arrays[IDX_FILES[0]]}, gz=False)
    _assert_matches(fashion_mnist(tmp_path / "mine"), arrays)
    fetched = {u.rsplit("/", 1)[1] for u, _ in fake_web.requests}
    assert fetched == {f + ".gz" for f in IDX_FILES[1:]}
    assert (dest / IDX_FILES[0]).exists() and not (dest / (IDX_FILES[0] + ".gz")).exists()


def test_download_checksum_mismatch(tmp_path, small_fashion, fake_web):
    _serve_fashion(fake_web, small_idx_set(N_TRAIN, N_TEST))  # not the published MD5s
    with pytest.raises(DatasetNotFoundError) as e:
        fashion_mnist()
    msg = str(e.value)
    assert "the download failed" in msg
    assert "train-images-idx3-ubyte.gz: checksum mismatch: MD5 is" in msg
    assert "expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d" in msg
    cache = tmp_path / "xdg-cache" / "fnn" / "fashion_mnist"
    assert list(cache.iterdir()) == []  # nothing unverified was kept


def test_offline_error_says_where_to_put_which_files(tmp_path, fake_web):
    with pytest.raises(DatasetNotFoundError) as e:
        mnist(tmp_path / "mine")
    msg = str(e.value)
    assert msg.startswith("MNIST: no local copy found and the download failed")
    for f in IDX_FILES:
        assert f"    {f}\n" in msg
    for folder in (tmp_path / "mine", tmp_path / "xdg-cache" / "fnn"):
        assert f"    {folder}\n" in msg
    assert "FNN_DATA_DIR" in msg and "'mnist/' subfolder" in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz" in msg
    assert "Name or service not known" in msg
    assert all(t == 10.0 for _, t in fake_web.requests)
    assert not (tmp_path / "mine").exists()  # a failed attempt creates no folders


def test_no_download_when_disabled(tmp_path, fake_web, monkeypatch):
    monkeypatch.setenv("FNN_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(DatasetNotFoundError) as e:
        fashion_mnist(download=False)
    assert fake_web.requests == []
    assert f"    {tmp_path / 'env'}\n" in str(e.value)
    assert "'fashion_mnist/' subfolder" in str(e.value)
