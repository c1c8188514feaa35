import json
import os
import select
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fnn.train import CheckpointError, load, save
from fnn.train._atomic import atomic_write, atomic_write_bytes
from fnn.train.checkpoint import TREEDEF_KEY

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT = 60.0  # seconds; a child takes about one second when all is well
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and umask")


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


# -- interrupted saves and file modes -------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _old_checkpoint(path: Path) -> bytes:
    save(path, {"w": np.arange(5.0), "step": 3})
    return path.read_bytes()


def _assert_old_checkpoint(path: Path, before: bytes) -> None:
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind
    assert path.read_bytes() == before
    back = load(path, like={"w": np.zeros(5), "step": 0})
    np.testing.assert_array_equal(back["w"], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert back["step"] == 3


# The child starts a save of 200 leaves of 1 MB each and writes them slowly (50 ms per
# leaf), says "writing" once the temporary file holds the header and two leaves, and is
# then signalled by the parent. Under SIGTERM it behaves like a training script that
# saves on SIGTERM: a handler turns the signal into SystemExit. Under SIGINT, Python's
# own handler raises KeyboardInterrupt (installed explicitly: a child of a shell
# background job starts with SIGINT ignored).
INTERRUPTED_SAVE = """
import os, signal, sys, time
import numpy as np
from fnn.train import save

path, how = sys.argv[1], sys.argv[2]
if how == "SIGTERM":
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
else:
    signal.signal(signal.SIGINT, signal.default_int_handler)

real_write, entries = np.lib.format.write_array, []
def slow_write(f, arr, **kw):
    real_write(f, arr, **kw)
    entries.append(arr.nbytes)
    if len(entries) == 3:
        print("writing", flush=True)
    time.sleep(0.05)
np.lib.format.write_array = slow_write

leaf = np.arange(1 << 17, dtype=np.float64)  # 1 MB, shared by every leaf
save(path, {f"layer{i}": leaf for i in range(200)})
print("finished", flush=True)
"""


def _wait_for_line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"the child said nothing within {timeout} s"
    return proc.stdout.readline().strip()


@posix_only
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_interrupted_save_removes_temp_and_keeps_old(tmp_path, how):
    folder = tmp_path / "run"
    folder.mkdir()
    path = folder / "ckpt.npz"
    before = _old_checkpoint(path)
    cmd = [sys.executable, "-c", INTERRUPTED_SAVE, str(path), how]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = _wait_for_line(proc, CHILD_TIMEOUT)
        assert line == "writing", proc.communicate(timeout=CHILD_TIMEOUT)
        # Mid-write: a hidden temporary file of 2+ MB sits beside the old checkpoint.
        temps = [n for n in os.listdir(folder) if n != "ckpt.npz"]
        assert len(temps) == 1 and temps[0].startswith(".ckpt.npz.")
        assert (folder / temps[0]).stat().st_size > 2_000_000
        assert path.read_bytes() == before
        proc.send_signal(getattr(signal, how))
        out, err = proc.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=CHILD_TIMEOUT)
    assert "finished" not in out  # the save really was cut short
    if how == "SIGTERM":
        assert proc.returncode == 143, err
    else:
        # An uncaught KeyboardInterrupt ends Python by SIGINT, after unwinding.
        assert proc.returncode == -signal.SIGINT and "KeyboardInterrupt" in err, err
    _assert_old_checkpoint(path, before)


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt(), SystemExit(1)])
def test_error_during_serialisation_removes_temp_and_keeps_old(tmp_path, monkeypatch, exc):
    path = tmp_path / "ckpt.npz"
    before = _old_checkpoint(path)
    real_write, seen = np.lib.format.write_array, []

    def failing_write(f, arr, **kw):
        # Fail on the third entry, when the temporary file already holds data.
        if len(seen) == 2:
            assert len(os.listdir(tmp_path)) == 2  # the old file and the temporary
            raise exc
        seen.append(arr.nbytes)
        real_write(f, arr, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(type(exc)):
        save(path, {"w": np.ones(1000), "b": np.zeros(10), "c": np.ones(3)})
    monkeypatch.undo()
    assert len(seen) == 2
    _assert_old_checkpoint(path, before)


def test_atomic_write_error_inside_body(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path, "w") as f:
        f.write("new, but never finished")
        f.flush()
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["notes.txt"]
    assert path.read_text() == "old"
    with pytest.raises(ValueError), atomic_write(path, "no such mode"):
        pass  # fdopen refuses the mode: the temporary file goes too
    assert os.listdir(tmp_path) == ["notes.txt"]


# For each umask, the child (umask is process-wide, hence a child) writes a new
# checkpoint, overwrites an old 0600 one (as mkstemp used to leave them) and writes a
# plot-style file, in a folder of its own, and prints the umask and the three modes.
MODES = """
import os, stat, sys
import numpy as np
from fnn.train import save
from fnn.train._atomic import atomic_write_bytes

for arg in sys.argv[2:]:
    folder = os.path.join(sys.argv[1], arg)
    os.mkdir(folder)
    os.umask(int(arg, 8))
    new, old, raw = (os.path.join(folder, n) for n in ("new.npz", "old.npz", "plot.png"))
    save(new, {"w": np.ones(3)})
    with open(old, "wb"):
        pass
    os.chmod(old, 0o600)
    save(old, {"w": np.ones(3)})
    atomic_write_bytes(raw, b"png")
    print(arg, *(oct(stat.S_IMODE(os.stat(p).st_mode)) for p in (new, old, raw)))
"""


@posix_only
def test_saved_files_follow_umask(tmp_path):
    modes = {"022": 0o644, "077": 0o600, "002": 0o664, "027": 0o640, "000": 0o666}
    assert all(mode == 0o666 & ~int(umask, 8) for umask, mode in modes.items())
    proc = subprocess.run(
        [sys.executable, "-c", MODES, str(tmp_path), *modes],
        cwd=ROOT,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    got = {umask: rest for umask, *rest in map(str.split, proc.stdout.splitlines())}
    assert got == {umask: [oct(mode)] * 3 for umask, mode in modes.items()}
    for umask in modes:
        folder = tmp_path / umask
        assert sorted(os.listdir(folder)) == ["new.npz", "old.npz", "plot.png"]
        np.testing.assert_array_equal(load(folder / "old.npz")["w"], np.ones(3))
        assert (folder / "plot.png").read_bytes() == b"png"


def test_temp_names_are_hidden_unique_and_beside_target(tmp_path, monkeypatch):
    from fnn.train import _atomic

    # A file already under the first name drawn is left alone; another name is drawn.
    names = iter(["aaaaaaaaaaaa", "bbbbbbbbbbbb", "aaaaaaaaaaaa", "cccccccccccc"])
    monkeypatch.setattr(_atomic.secrets, "token_hex", lambda n: next(names))
    squatter = tmp_path / ".out.bin.aaaaaaaaaaaa.tmp"
    squatter.write_bytes(b"not ours")
    fd, tmp = _atomic.create_temp(tmp_path / "out.bin")
    os.close(fd)
    assert tmp == str(tmp_path / ".out.bin.bbbbbbbbbbbb.tmp")
    assert squatter.read_bytes() == b"not ours"
    os.remove(tmp)
    atomic_write_bytes(tmp_path / "out.bin", b"x")  # draws the squatter's name, then c...
    assert sorted(os.listdir(tmp_path)) == [squatter.name, "out.bin"]
    assert squatter.read_bytes() == b"not ours" and (tmp_path / "out.bin").read_bytes() == b"x"
    assert next(names, None) is None
