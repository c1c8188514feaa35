import json
import os
import zipfile

import numpy as np
import pytest

from fnn.train import CheckpointError, load, save
from fnn.train.checkpoint import TREEDEF_KEY


def params():
    rng = np.random.default_rng(0)
    return {
        "dense_0": {
            "w": rng.standard_normal((3, 4)).astype(np.float32),
            "b": np.zeros(4, np.float32),
        },
        "layers": [(np.arange(5, dtype=np.int32), None), {"scale": np.float64(2.5)}],
        "step": 7,
        "lr": 0.125,
        "flag": np.array(True),
        "empty": {},
        "none": None,
        "half": np.ones((2, 0), np.float16),
    }


def assert_same(a, b):
    if isinstance(a, dict):
        assert type(b) is dict and set(a) == set(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif a is None:
        assert b is None
    else:
        ref = np.asarray(a)
        assert isinstance(b, np.ndarray)
        assert b.dtype == ref.dtype and b.shape == ref.shape
        np.testing.assert_array_equal(b, ref)


def test_round_trip(tmp_path):
    path = tmp_path / "ckpt.npz"
    p = params()
    save(path, p)
    back = load(path)
    assert_same(p, back)
    assert isinstance(back["layers"][0], tuple)
    assert back["layers"][0][1] is None
    assert back["none"] is None and back["empty"] == {}
    assert back["step"].dtype == np.int64 and back["step"] == 7  # scalars -> 0-d arrays
    np.testing.assert_array_equal(back["dense_0"]["w"], p["dense_0"]["w"])
    # Matching the template passes and returns the same values.
    assert_same(p, load(path, like=params()))


def test_file_is_plain_npz_with_path_keys(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"dense_0": {"w": np.ones(2)}, "layers": [np.zeros(1), (np.ones(1),)]})
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted([TREEDEF_KEY, "dense_0/w", "layers/0", "layers/1/0"])
        header = json.loads(str(npz[TREEDEF_KEY][()]))
    assert header["format"] == "fnn.checkpoint" and header["version"] == 1
    assert header["tree"]["dict"][0][0] == "dense_0"


def test_root_leaf_and_colliding_paths(tmp_path):
    path = tmp_path / "x.npz"
    save(path, np.arange(3))
    np.testing.assert_array_equal(load(path), np.arange(3))
    tricky = {"a": {"b": np.ones(1)}, "a/b": np.zeros(1), TREEDEF_KEY: np.full(1, 2.0)}
    save(path, tricky)
    back = load(path)
    np.testing.assert_array_equal(back["a"]["b"], [1.0])
    np.testing.assert_array_equal(back["a/b"], [0.0])
    np.testing.assert_array_equal(back[TREEDEF_KEY], [2.0])


def test_fnn_like_leaf_via_array_protocol(tmp_path):
    class Wrapped:  # stands in for fnn.Array, which implements __array__
        def __init__(self, x):
            self.x = x

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self.x, dtype=dtype)

    path = tmp_path / "w.npz"
    save(path, {"w": Wrapped(np.eye(2, dtype=np.float32))})
    w = load(path)["w"]
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, np.eye(2))


def test_atomic_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save(path, {"w": np.ones(3)})
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated crash"):
        save(path, {"w": np.zeros(3), "b": np.zeros(1)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))


def test_failed_save_before_write_leaves_no_temp(tmp_path):
    path = tmp_path / "ckpt.npz"
    with pytest.raises(TypeError):
        save(path, {"w": np.array([object()])})
    assert os.listdir(tmp_path) == []


def test_object_leaf_refused(tmp_path):
    with pytest.raises(TypeError, match="'bad'.*object array.*pickle"):
        save(tmp_path / "o.npz", {"bad": np.array([1, "a", None], dtype=object)})
    with pytest.raises(TypeError, match="'f'.*pickle"):
        save(tmp_path / "o.npz", {"f": lambda x: x})


def test_bad_containers_refused(tmp_path):
    with pytest.raises(TypeError, match="dict keys must be str.*1"):
        save(tmp_path / "k.npz", {"a": {1: np.ones(1)}})
    from collections import namedtuple

    Point = namedtuple("Point", "x y")
    with pytest.raises(TypeError, match="Point container at 'p'.*_asdict"):
        save(tmp_path / "k.npz", {"p": Point(np.ones(1), np.ones(1))})


def test_wrong_structure(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"dense": {"w": np.ones((2, 3), np.float32), "b": np.zeros(3, np.float32)}})
    template = {"dense": {"w": np.ones((2, 3), np.float32), "b": np.zeros(3, np.float32)}}
    assert load(path, like=template)["dense"]["w"].shape == (2, 3)

    missing = {"dense": {"w": np.ones((2, 3), np.float32)}}
    with pytest.raises(
        CheckpointError, match="ckpt.npz.*at 'dense'.*keys \\['b', 'w'\\].*\\['w'\\]"
    ):
        load(path, like=missing)

    shape = {"dense": {"w": np.ones((3, 3), np.float32), "b": np.zeros(3, np.float32)}}
    with pytest.raises(CheckpointError, match="at 'dense/w'.*float32\\[2, 3\\].*float32\\[3, 3\\]"):
        load(path, like=shape)

    dtype = {"dense": {"w": np.ones((2, 3), np.float64), "b": np.zeros(3, np.float32)}}
    with pytest.raises(CheckpointError, match="at 'dense/w'.*float32.*float64"):
        load(path, like=dtype)

    kinds = {"dense": [np.ones(1), np.ones(1)]}
    with pytest.raises(CheckpointError, match="at 'dense'.*dict.*list of length 2"):
        load(path, like=kinds)

    save(path, {"t": (np.ones(1), np.ones(1))})
    with pytest.raises(CheckpointError, match="at 't'.*tuple.*list"):
        load(path, like={"t": [np.ones(1), np.ones(1)]})
    with pytest.raises(CheckpointError, match="at 't/1'.*array leaf.*None"):
        load(path, like={"t": (np.ones(1), None)})


def test_like_accepts_shape_dtype_descriptors(tmp_path):
    class Spec:
        def __init__(self, shape, dtype):
            self.shape, self.dtype = shape, dtype

    path = tmp_path / "s.npz"
    save(path, {"w": np.zeros((2, 2), np.float32)})
    assert load(path, like={"w": Spec((2, 2), "float32")})["w"].shape == (2, 2)
    with pytest.raises(CheckpointError, match="'w'"):
        load(path, like={"w": Spec((2, 2), "int32")})


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt.*not an npz file"):
        load(text)

    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2), b=np.zeros(1))
    with pytest.raises(CheckpointError, match="plain.npz.*not written by fnn.*\\['a', 'b'\\]"):
        load(plain)

    npy = tmp_path / "arr.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(CheckpointError, match="arr.npy.*not an npz"):
        load(npy)

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{TREEDEF_KEY: np.array([{"x": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="pickled.npz") as info:
        load(pickled)
    assert isinstance(info.value, ValueError)

    other = tmp_path / "other.npz"
    np.savez(other, **{TREEDEF_KEY: np.array('{"format": "something else"}')})
    with pytest.raises(CheckpointError, match="other.npz.*not an fnn checkpoint"):
        load(other)

    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


def test_truncated_and_tampered_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"w": np.ones(1000)})
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="trunc.npz"):
        load(tmp_path / "trunc.npz")

    # Flip bytes inside the leaf's data: the zip CRC check catches it.
    i = data.index(np.ones(1000).tobytes()[:64]) + 100
    corrupt = data[:i] + bytes(b ^ 0xFF for b in data[i : i + 8]) + data[i + 8 :]
    (tmp_path / "corrupt.npz").write_bytes(corrupt)
    with pytest.raises(CheckpointError, match="corrupt.npz.*corrupt or truncated"):
        load(tmp_path / "corrupt.npz")

    # A structure that points at an entry that is not there.
    with zipfile.ZipFile(tmp_path / "tampered.npz", "w") as zf:
        header = {"format": "fnn.checkpoint", "version": 1, "tree": {"leaf": "w"}}
        with zf.open(TREEDEF_KEY + ".npy", "w") as f:
            np.lib.format.write_array(f, np.array(json.dumps(header)))
    with pytest.raises(CheckpointError, match="tampered.npz.*missing.*'w'"):
        load(tmp_path / "tampered.npz")

    save(path, {"w": np.ones(1)})
    with zipfile.ZipFile(tmp_path / "future.npz", "w") as zf:
        header = {"format": "fnn.checkpoint", "version": 99, "tree": None}
        with zf.open(TREEDEF_KEY + ".npy", "w") as f:
            np.lib.format.write_array(f, np.array(json.dumps(header)))
    with pytest.raises(CheckpointError, match="future.npz.*version 99"):
        load(tmp_path / "future.npz")


def test_no_pickle_on_load(tmp_path, monkeypatch):
    import pickle

    def forbidden(*a, **k):
        raise AssertionError("pickle used")

    path = tmp_path / "ckpt.npz"
    monkeypatch.setattr(pickle, "dumps", forbidden)
    monkeypatch.setattr(pickle, "dump", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    save(path, params())
    assert_same(params(), load(path))
