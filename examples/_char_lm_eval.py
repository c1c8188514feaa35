"""The character LM's measures: bits per character of the model and of n-gram
baselines on fixed validation windows, and their plot (``char_lm.py``).

Example:
    >>> stream = np.arange(50) % 7
    >>> windows = validation_windows(stream, 4, 8)
    >>> windows.shape
    (4, 9)
    >>> round(ngram_bits_per_char(stream, windows)["bigram"], 3) < 1.0
    True
"""

from __future__ import annotations

import math

import numpy as np
from _stdlib_text import VOCAB_SIZE

import fnn.numpy as fnp
from fnn.train import History

LN2 = math.log(2.0)


def validation_windows(stream: np.ndarray, n_windows: int, length: int) -> np.ndarray:
    """``n_windows`` windows of ``length + 1`` ids at evenly spaced offsets of ``stream``."""
    starts = np.linspace(0, len(stream) - length - 1, n_windows).astype(np.int64)
    return stream[starts[:, None] + np.arange(length + 1)].astype(np.int32)


def model_bits_per_char(predict, params, windows: np.ndarray, batch_size: int) -> float:
    """Mean -log2 p(next char) over every target of ``windows``."""
    total = 0.0
    for i in range(0, len(windows), batch_size):
        w = windows[i : i + batch_size]
        total += float(predict(params, fnp.asarray(w[:, :-1]), fnp.asarray(w[:, 1:])))
    return total / (windows[:, 1:].size * LN2)


def ngram_bits_per_char(train: np.ndarray, windows: np.ndarray) -> dict[str, float]:
    """Unigram (add-one) and bigram bits/char on the targets of ``windows``.

    The bigram is ``p(c | a) = (n(a, c) + p_uni(c)) / (n(a) + 1)``: counts shrunk towards
    the unigram, so unseen pairs keep a non-zero probability.
    """
    v = VOCAB_SIZE
    uni = np.bincount(train, minlength=v).astype(np.float64) + 1.0
    uni /= uni.sum()
    pairs = np.bincount(train[:-1].astype(np.int64) * v + train[1:], minlength=v * v)
    pairs = pairs.reshape(v, v).astype(np.float64)
    bi = (pairs + uni[None, :]) / (pairs.sum(1, keepdims=True) + 1.0)
    prev, target = windows[:, :-1].ravel(), windows[:, 1:].ravel()
    return {
        "unigram": float(-np.log2(uni[target]).mean()),
        "bigram": float(-np.log2(bi[prev, target]).mean()),
    }


# -- plots ---------------------------------------------------------------------------------


def plot_bits(history: History, baselines: dict, target: float, path) -> None:
    """Validation bits/char against training steps, with the n-gram baselines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _, train = history.series("train_bits_per_char")
    ax.plot(history["step"], train, "o-", ms=3, label="train (mean over each epoch's batches)")
    ax.plot(history["step"], history["valid_bits_per_char"], "o-", ms=3, label="validation")
    styles = {"unigram": ":", "bigram": "--"}
    for name, bits in baselines.items():
        ax.axhline(bits, color="gray", ls=styles[name], label=f"{name} baseline ({bits:.2f})")
    ax.axhline(target, color="red", lw=1, label=f"target ({target})")
    ax.set_xlabel("training step")
    ax.set_ylabel("bits per character")
    top = max([*baselines.values(), *train, *history["valid_bits_per_char"]])
    ax.set_ylim(0, top + 0.3)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Character LM of the Python standard library")
    fig.savefig(path, dpi=110)
