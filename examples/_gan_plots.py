"""The GAN example's pictures: a grid of samples, the per-epoch judgement, and the
three pictures of a finished run (:func:`plot_run`).

They use matplotlib's Figure with the Agg canvas (no display, pyplot's state untouched)
and write the PNG atomically.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from fnn.train import plot_history
from fnn.train._atomic import atomic_write_bytes


def _write(fig: Any, path: str | os.PathLike, dpi: int = 100) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def tile(images: np.ndarray, cols: int = 10, gap: int = 2) -> np.ndarray:
    """NHWC (one channel) or NHW images as one 2-D mosaic, rows of ``cols``, grey gaps.

    Example:
        >>> tile(np.ones((3, 2, 2, 1)), cols=2, gap=1).shape
        (5, 5)
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), 0.5, np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        mosaic[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = img
    return mosaic


def save_grid(
    images: np.ndarray,
    path: str | os.PathLike,
    title: str = "",
    *,
    labels: np.ndarray | None = None,
    confidences: np.ndarray | None = None,
    threshold: float = 0.9,
    cols: int = 10,
) -> Path:
    """A PNG grid of images in [0, 1]; each optionally tagged with the judge's label.

    A tag is green when the judge's confidence reaches ``threshold``, red otherwise.

    Example:
        >>> import tempfile
        >>> p = save_grid(np.zeros((4, 28, 28, 1)), Path(tempfile.mkdtemp()) / "g.png", "demo",
        ...               labels=np.array([1, 2, 3, 4]), confidences=np.array([1, 1, 0.5, 1]))
        >>> p.read_bytes()[:4]
        b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    gap = 2
    h, w = images.shape[1:3]
    mosaic = tile(images, cols, gap)
    width = 6.4
    fig = Figure(figsize=(width, width * mosaic.shape[0] / mosaic.shape[1] + 0.6))
    FigureCanvasAgg(fig)
    # The image keeps its aspect ratio inside these bounds; the top 0.6 inch holds the title.
    top = 1.0 - 0.6 / fig.get_figheight()
    ax = fig.add_axes((0.01, 0.01, 0.98, top - 0.01))
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if labels is not None:
        for i, label in enumerate(np.asarray(labels)[: len(images)]):
            r, c = divmod(i, cols)
            ok = confidences is None or confidences[i] >= threshold
            ax.text(
                c * (w + gap) + 1,
                r * (h + gap) + 1,
                str(int(label)),
                color="lime" if ok else "red",
                fontsize=6,
                va="top",
                ha="left",
            )
    if title:
        note = "" if labels is None else f"\n(judge's label: green if confidence >= {threshold})"
        fig.suptitle(title + note, fontsize=9, y=0.995)
    return _write(fig, path)


def plot_frechet(
    history: Any, path: str | os.PathLike, reference: dict[str, float] | None = None
) -> Path:
    """Fréchet distance (left axis) and quality (right axis) per epoch, epoch 0 included.

    ``history`` is a ``fnn.train.History`` with ``frechet_distance`` and ``quality``;
    ``reference`` (``frechet_distance`` and ``quality`` of real digits judged the same
    way) is drawn as dotted lines.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    epochs, fd = history.series("frechet_distance")
    ax.plot(epochs, fd, "o-", color="tab:blue", ms=4, label="Fréchet distance")
    if reference:
        ax.axhline(reference["frechet_distance"], color="tab:blue", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Fréchet distance to real test images (log)", color="tab:blue")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="both", alpha=0.3)
    ax2 = ax.twinx()
    epochs, q = history.series("quality")
    ax2.plot(epochs, [100 * v for v in q], "s--", color="tab:orange", ms=4, label="quality")
    ax2.axhline(90, color="tab:orange", lw=0.8, alpha=0.5)
    if reference:
        ax2.axhline(100 * reference["quality"], color="tab:orange", ls=":", lw=1)
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("quality: % of samples with confidence >= 0.9", color="tab:orange")
    title = "Samples judged by a ConvNet trained on real MNIST"
    if reference:
        title += "\n(dotted: real test digits judged the same way; thin line: 90 %)"
    fig.suptitle(title, fontsize=10)
    return _write(fig, path)


def plot_run(
    out: str | os.PathLike,
    judged: dict[str, Any],
    history: Any,
    reference: dict[str, float],
    epochs: int,
    num_grid: int = 100,
) -> None:
    """A finished run's pictures in ``out``: samples.png, loss.png and frechet.png.

    samples.png: the first ``num_grid`` of the last judged samples (``judged`` from
    ``EpochJudge.judge_pending``), tagged with the judge's labels; loss.png: both
    losses per epoch (``history`` rows from epoch 1); frechet.png: :func:`plot_frechet`.
    """
    out = Path(out)
    save_grid(
        judged["images"][:num_grid],
        out / "samples.png",
        f"DCGAN on MNIST after {epochs} epochs: quality {100 * judged['quality']:.1f} %, "
        f"Fréchet distance {judged['frechet_distance']:.1f}",
        labels=judged["labels"][:num_grid],
        confidences=judged["confidences"][:num_grid],
    )
    losses = {k: history[k][1:] for k in ("epoch", "d_loss", "g_loss")}
    plot_history(losses, out / "loss.png", title="DCGAN on MNIST: discriminator and generator loss")
    plot_frechet(history, out / "frechet.png", reference)
