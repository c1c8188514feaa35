"""Loss-vs-epoch plots of a History, as PNG files.

Uses ``matplotlib.figure.Figure`` with the Agg canvas directly: no display needed and
the caller's pyplot backend and global figure list are left alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from fnn.distributed import runtime
from fnn.train._atomic import atomic_write_bytes
from fnn.train.history import History

__all__ = ["plot_history"]


def _metric_keys(history: History) -> tuple[list[str], list[str]]:
    keys = [k for k in history.keys() if k != "epoch"]
    numeric = [k for k in keys if any(isinstance(v, (int, float)) for v in history.series(k)[1])]
    losses = [k for k in numeric if k.endswith("loss")]
    accs = [k for k in numeric if "acc" in k and k not in losses]
    return losses, accs


def plot_history(
    history: History | Mapping[str, list[Any]],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    logy: bool = False,
    all_processes: bool = False,
) -> str:
    """Plot every ``*loss`` metric against epoch, and ``*acc*`` metrics on a second panel.

    ``history`` is a :class:`History` or its ``to_dict()`` columns. The PNG is written
    atomically; returns ``path`` as a string. ``logy`` puts the loss axis on a log scale.
    Under several processes (``fnn.distributed``) only the main process draws and
    writes, unless ``all_processes=True``.

    Example:
        >>> import tempfile, os
        >>> h = History()
        >>> for e in range(1, 4):
        ...     h.append(epoch=e, train_loss=1 / e, test_loss=1.2 / e, test_accuracy=0.3 * e)
        >>> p = plot_history(h, os.path.join(tempfile.mkdtemp(), "loss.png"), title="demo")
        >>> open(p, "rb").read(4)
        b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if not isinstance(history, History):
        history = History.from_dict(history)
    losses, accs = _metric_keys(history)
    if not losses and not accs:
        raise ValueError(
            "plot_history: nothing to plot; expected metrics whose names end in 'loss' "
            f"or contain 'acc', got keys {history.keys()}"
        )

    if not (all_processes or runtime.is_main_process()):
        return os.fspath(path)
    panels = [("loss", losses)] * bool(losses) + [("accuracy", accs)] * bool(accs)
    fig = Figure(figsize=(5.5 * len(panels), 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, (ylabel, keys) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key in keys:
            xs, ys = history.series(key)
            # Markers keep short runs (a single epoch) visible; long runs read better as lines.
            ax.plot(xs, ys, marker="o" if len(xs) <= 30 else None, ms=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        if logy and ylabel == "loss":
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return os.fspath(path)
