import json
import math

import numpy as np
import pytest

from fnn.train import History


def make_history():
    h = History()
    h.append(epoch=1, train_loss=1.0, test_loss=1.5, test_accuracy=0.5, time=0.1)
    h.append(epoch=2, train_loss=np.float32(0.5), test_loss=np.array(0.75), time=0.2)
    h.append(epoch=3, train_loss=0.25, test_loss=0.8, test_accuracy=0.875, time=0.3)
    return h


def test_append_and_columns():
    h = make_history()
    assert len(h) == 3
    assert h.keys() == ["epoch", "train_loss", "test_loss", "test_accuracy", "time"]
    assert h["train_loss"] == [1.0, 0.5, 0.25]
    assert type(h["train_loss"][1]) is float  # numpy scalars become Python numbers
    assert h["test_loss"] == [1.5, 0.75, 0.8]
    assert h["test_accuracy"] == [0.5, None, 0.875]
    assert h.series("test_accuracy") == ([1, 3], [0.5, 0.875])
    assert "time" in h and "nope" not in h
    with pytest.raises(KeyError, match="nope"):
        h["nope"]


def test_last_and_best():
    h = make_history()
    assert h.last("test_accuracy") == 0.875
    assert h.last() == {
        "epoch": 3,
        "train_loss": 0.25,
        "test_loss": 0.8,
        "test_accuracy": 0.875,
        "time": 0.3,
    }
    assert h.best("test_loss")["epoch"] == 2
    assert h.best("test_accuracy")["epoch"] == 3  # "acc" keys default to max
    assert h.best("time", mode="max")["epoch"] == 3
    h.append(epoch=4, test_loss=float("nan"))
    assert h.best("test_loss")["epoch"] == 2  # NaN never wins
    with pytest.raises(ValueError, match="mode"):
        h.best("test_loss", mode="lowest")
    with pytest.raises(IndexError):
        History().last()


def test_rejects_non_scalar_metric():
    with pytest.raises(TypeError, match="'loss'.*shape \\(3,\\)"):
        History().append(loss=np.zeros(3))
    with pytest.raises(ValueError):
        History().append()


def test_to_dict_from_dict_round_trip():
    h = make_history()
    d = h.to_dict()
    assert d["test_accuracy"] == [0.5, None, 0.875]
    assert d["epoch"] == [1, 2, 3]
    back = History.from_dict(d)
    assert back == h
    assert back.records[1] == {"epoch": 2, "train_loss": 0.5, "test_loss": 0.75, "time": 0.2}


def test_save_load_json(tmp_path):
    h = make_history()
    h.append(epoch=4, train_loss=float("nan"))
    path = tmp_path / "history.json"
    h.save_json(path)
    data = json.loads(path.read_text())
    assert data["train_loss"][:3] == [1.0, 0.5, 0.25]
    back = History.load_json(path)
    assert back["train_loss"][:3] == [1.0, 0.5, 0.25]
    assert math.isnan(back["train_loss"][3])
    assert back["test_accuracy"] == [0.5, None, 0.875, None]
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temp file left


def test_save_json_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "history.json"
    make_history().save_json(path)
    before = path.read_bytes()

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    h = History()
    h.append(epoch=1, train_loss=9.0)
    with pytest.raises(OSError, match="disk full"):
        h.save_json(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_load_json_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(ValueError, match="bad.json.*not JSON"):
        History.load_json(bad)
    ragged = tmp_path / "ragged.json"
    ragged.write_text('{"a": [1, 2], "b": [1]}')
    with pytest.raises(ValueError, match="ragged.json.*differ in length"):
        History.load_json(ragged)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[1, 2]")
    with pytest.raises(ValueError, match="dict of lists"):
        History.load_json(wrong)
