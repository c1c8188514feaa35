import io
import sys

import numpy as np

from fnn.train import progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_quiet_when_not_a_tty(capsys):
    bar = progress(range(5), desc="epoch 1/2")
    for i in bar:
        bar.set_postfix(loss=1.0 / (i + 1))
    err = capsys.readouterr().err
    assert "\r" not in err
    assert err.count("\n") == 1
    assert err.startswith("epoch 1/2: 5/5 it in ")
    assert err.rstrip().endswith("loss=0.2")
    assert capsys.readouterr().out == ""


def test_disable_prints_nothing(capsys):
    assert list(progress(range(3), disable=True, force=True)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_forced_updates(capsys):
    bar = progress(range(4), desc="epoch 3/10", force=True, min_interval=0.0)
    seen = []
    for x in bar:
        seen.append(x)
        bar.set_postfix(loss=np.float32(0.5))
    assert seen == [0, 1, 2, 3]
    err = capsys.readouterr().err
    frames = err.split("\r")[1:]
    assert len(frames) >= 4
    assert err.endswith("\n")
    last = frames[-1].strip()
    assert last.startswith("epoch 3/10: 100%|####################| 4/4 [")
    assert "it/s" in last or "s/it" in last
    assert last.endswith("loss=0.5")


def test_throttled():
    out = FakeTTY()  # a terminal: live without force
    for _ in progress(range(1000), file=out, min_interval=60.0):
        pass
    # First draw, then nothing for 60 s, then the final frame on close.
    assert out.getvalue().count("\r") == 2
    assert "1000/1000" in out.getvalue()


def test_unknown_total_and_manual_update():
    out = FakeTTY()
    with progress(total=None, file=out, min_interval=0.0, unit="batch") as bar:
        bar.update(3)
    assert "3 batch [" in out.getvalue()
    gen = (i for i in range(2))
    quiet = io.StringIO()
    list(progress(gen, file=quiet))
    assert quiet.getvalue().startswith("2 it in ")


def test_defaults_to_current_stderr(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    list(progress([1, 2], desc="x"))
    assert buf.getvalue().startswith("x: 2/2 it")
