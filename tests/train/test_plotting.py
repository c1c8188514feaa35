import struct

import pytest

from fnn.train import History, plot_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def history(with_accuracy):
    h = History()
    for e in range(1, 6):
        row = dict(epoch=e, train_loss=1.0 / e, test_loss=1.2 / e, time=0.01)
        if with_accuracy:
            row["test_accuracy"] = 0.5 + 0.08 * e
        h.append(**row)
    return h


def test_loss_only_plot(tmp_path):
    path = tmp_path / "loss.png"
    out = plot_history(history(False), path, title="loss only", logy=True)
    assert out == str(path)
    assert path.stat().st_size > 1000
    w, h = png_size(path)
    assert 300 <= w <= 1000 and 200 <= h <= 800
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_loss_and_accuracy_plot_is_wider(tmp_path):
    one = png_size_of(plot_history(history(False), tmp_path / "a.png"))
    two = png_size_of(plot_history(history(True), tmp_path / "b.png"))
    assert two[0] > 1.5 * one[0]  # a second panel
    assert two[1] == one[1]


def png_size_of(path):
    from pathlib import Path

    return png_size(Path(path))


def test_accepts_dict_and_sparse_metrics(tmp_path):
    cols = {"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.0], "val_loss": [None, 2.5, None]}
    path = plot_history(cols, tmp_path / "p.png")
    assert png_size_of(path)[0] > 0


def test_nothing_to_plot(tmp_path):
    h = History()
    h.append(epoch=1, time=1.0)
    with pytest.raises(ValueError, match="nothing to plot.*'time'"):
        plot_history(h, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_does_not_touch_pyplot_backend(tmp_path):
    import matplotlib

    before = matplotlib.get_backend()
    plot_history(history(True), tmp_path / "c.png")
    assert matplotlib.get_backend() == before
