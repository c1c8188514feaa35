from pathlib import Path

from fnn.data import DatasetNotFoundError
from fnn.data.paths import cache_dir, find_all, not_found_error, search_dirs


def test_search_order_argument_env_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FNN_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert search_dirs(tmp_path / "arg") == [
        tmp_path / "arg",
        tmp_path / "env",
        tmp_path / "xdg/fnn",
    ]
    assert search_dirs() == [tmp_path / "env", tmp_path / "xdg/fnn"]


def test_cache_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "fnn"


def test_duplicates_and_empty_env_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("FNN_DATA_DIR", "")
    assert search_dirs(str(tmp_path)) == [tmp_path, cache_dir()]
    monkeypatch.setenv("FNN_DATA_DIR", str(tmp_path))
    assert search_dirs(tmp_path) == [tmp_path, cache_dir()]


def test_find_all_wants_a_complete_set_from_one_folder(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b" / "ds"
    a.mkdir()
    b.mkdir(parents=True)
    (a / "one").write_bytes(b"")  # a holds only one of the two files
    (b / "one.gz").write_bytes(b"")
    (b / "two").write_bytes(b"")
    paths, notes = find_all([a, tmp_path / "b"], ["ds"], [("one.gz", "one"), ("two.gz", "two")])
    assert paths == [b / "one.gz", b / "two"]
    assert notes == [f"{a} holds some of the files but lacks two.gz"]


def test_not_found_message():
    err = not_found_error("MNIST", ["f1", "f2"], [Path("/d1"), Path("/d2")], "mnist")
    assert isinstance(err, DatasetNotFoundError) and isinstance(err, FileNotFoundError)
    msg = str(err)
    for text in ("MNIST: no local copy found", "    f1", "    f2", "    /d1", "    /d2"):
        assert text in msg
    assert "'mnist/' subfolder" in msg and "FNN_DATA_DIR" in msg and "data_dir" in msg
