"""The ViT example's helpers: cutting images into patches, and the attention picture.

``patchify`` is the model's first step; the rest draws attention.png, the class
token's attention over the patches of a trained model (``vit_mnist.ViT``).

Example:
    >>> patchify(np.zeros((2, 28, 28, 1)), 7).shape
    (2, 16, 49)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import fnn

# -- patches -----------------------------------------------------------------------------


def patchify(x, patch: int):
    """(N, H, W, C) images -> (N, (H/p) * (W/p), p * p * C) flattened patches, row-major.

    Token ``i * (W/p) + j`` is the patch at grid row ``i``, column ``j``. Works on numpy
    and fnn arrays (and under jit): it is one reshape and one transpose.

    Example:
        >>> patchify(np.zeros((2, 28, 28, 1)), 7).shape
        (2, 16, 49)
    """
    n, h, w, c = x.shape
    if h % patch or w % patch:
        raise ValueError(f"patchify: image size {h}x{w} is not a multiple of patch={patch}")
    gh, gw = h // patch, w // patch
    x = x.reshape(n, gh, patch, gw, patch, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, gh * gw, patch * patch * c)


def unpatchify(tokens, patch: int, height: int, width: int):
    """The inverse of :func:`patchify`: (N, T, p * p * C) -> (N, H, W, C).

    Example:
        >>> x = np.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3)
        >>> bool((unpatchify(patchify(x, 4), 4, 8, 8) == x).all())
        True
    """
    n, t, d = tokens.shape
    gh, gw = height // patch, width // patch
    c = d // (patch * patch)
    if t != gh * gw or d != patch * patch * c:
        raise ValueError(f"unpatchify: {tokens.shape} is not {gh}x{gw} patches of {patch}x{patch}")
    x = tokens.reshape(n, gh, gw, patch, patch, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, height, width, c)


# -- the attention picture ---------------------------------------------------------------


def cls_attention_maps(weights, grid: tuple[int, int]) -> np.ndarray:
    """The class token's attention over the patches as images: (N, heads, gh, gw).

    ``weights`` is (N, heads, T, T) with the class token first. The class token's
    weight on itself is dropped, so a map sums to 1 minus that weight.

    Example:
        >>> w = np.full((1, 2, 5, 5), 0.2)
        >>> cls_attention_maps(w, (2, 2)).shape
        (1, 2, 2, 2)
    """
    w = np.asarray(weights)
    return w[:, :, 0, 1:].reshape(w.shape[0], w.shape[1], *grid)


def ink_following_head(maps: np.ndarray, images: np.ndarray, patch: int) -> tuple[int, float]:
    """The head whose class-token attention best follows the digit's ink, and how well.

    ``maps`` is (N, heads, gh, gw) (see :func:`cls_attention_maps`), ``images`` the N
    images. Per image and head: the correlation, across patches, between attention
    and the patch's mean brightness; averaged over images. Returns (head, correlation).
    Heads of one block barely differ in how much they attend to the patches at all
    (docs/experiments/vit_mnist.md), so that is no criterion.

    Example:
        >>> imgs = np.random.default_rng(0).random((3, 4, 4, 1))
        >>> ink = patchify(imgs, 2).mean(-1).reshape(3, 2, 2)
        >>> maps = np.stack([np.ones_like(ink) / 4, ink], axis=1)  # head 1 = the ink
        >>> ink_following_head(maps, imgs, 2)
        (1, 1.0)
    """
    ink = patchify(images, patch).mean(-1)
    ink = ink - ink.mean(-1, keepdims=True)
    att = maps.reshape(*maps.shape[:2], -1)
    att = att - att.mean(-1, keepdims=True)
    cov = (att * ink[:, None]).sum(-1)
    norm = np.sqrt((att**2).sum(-1) * (ink**2).sum(-1)[:, None])
    corr = (cov / np.maximum(norm, 1e-12)).mean(0)
    head = int(np.argmax(corr))
    return head, round(float(corr[head]), 4)


def attention_examples(predicted: np.ndarray, true: np.ndarray, n: int = 8) -> np.ndarray:
    """The first ``n - 2`` correctly classified test images and the first 2 mistakes.

    Example:
        >>> attention_examples(np.array([0, 1, 2, 0]), np.array([0, 1, 0, 3]), n=4)
        array([0, 1, 2, 3])
    """
    right = np.flatnonzero(predicted == true)
    wrong = np.flatnonzero(predicted != true)[:2]
    return np.sort(np.concatenate([right[: n - len(wrong)], wrong]))


def plot_attention(
    images: np.ndarray,
    maps: np.ndarray,
    predicted: np.ndarray,
    true: np.ndarray,
    path: Path,
    title: str,
) -> Path:
    """Digits (top row) and the same digits with an attention map overlaid (bottom row).

    ``images`` (N, H, W), ``maps`` (N, gh, gw): one head's class-token attention over
    the patches, drawn as blocks of one patch each. Captions: predicted (true), and the
    largest patch weight; wrong predictions in red.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n, (h, w) = len(images), images.shape[1:3]
    fig = Figure(figsize=(1.6 * n + 0.9, 4.1))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, n, squeeze=False)
    vmax = float(maps.max())
    heat = None
    for i in range(n):
        wrong = int(predicted[i]) != int(true[i])
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, i].imshow(images[i], cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(
            f"{int(predicted[i])} ({int(true[i])})", fontsize=9, color="red" if wrong else "black"
        )
        # The map at full strength, one block per patch (extent stretches it over the
        # image), and the digit's outline on top: both stay readable.
        heat = axes[1, i].imshow(
            maps[i], cmap="inferno", vmin=0, vmax=vmax, interpolation="nearest",
            extent=(-0.5, w - 0.5, h - 0.5, -0.5),
        )  # fmt: skip
        axes[1, i].contour(images[i], levels=[0.5], colors="cyan", linewidths=1.0)
        axes[1, i].set_xlabel(f"max {maps[i].max():.2f}", fontsize=8)
    axes[0, 0].set_ylabel("digit\npredicted (true)", fontsize=8)
    axes[1, 0].set_ylabel("class-token attention\n(digit outlined)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    cax = fig.add_axes((0.94, 0.08, 0.012, 0.38))
    fig.colorbar(heat, cax=cax, label="weight").ax.tick_params(labelsize=7)
    fig.savefig(path, dpi=110)
    return path


def write_attention_plot(
    model: Any,
    params: dict,
    x: np.ndarray,
    y: np.ndarray,
    predicted: np.ndarray,
    path: Path,
    head: int = -1,
) -> int:
    """attention.png: one head of the last block, for 6 right and 2 wrong test digits.

    ``model`` is a ``vit_mnist.ViT`` (its ``patch``, ``depth``, ``num_heads`` and
    ``attention_weights`` are used).
    The last block's attention is the one that feeds the class token to the
    classifier. ``head=-1`` picks :func:`ink_following_head` over the first 1000 test
    images. Returns the head shown.
    """
    grid = (x.shape[1] // model.patch, x.shape[2] // model.patch)
    attention = fnn.jit(model.attention_weights)
    maps = cls_attention_maps(attention(params, x[:1000]), grid)
    best, corr = ink_following_head(maps, x[:1000], model.patch)
    head = best if head < 0 else head
    why = f", the one whose attention best follows the ink (r = {corr:.2f})" if head == best else ""
    few = attention_examples(predicted, y)
    weights = np.asarray(attention(params, x[few]))
    self_weight = float(np.mean(weights[:, head, 0, 0]))
    plot_attention(
        x[few, ..., 0],
        cls_attention_maps(weights, grid)[:, head],
        predicted[few],
        y[few],
        path,
        f"class-token attention over the {grid[0]}x{grid[1]} patches: last block (of "
        f"{model.depth}), head {head} of {model.num_heads}{why};\non these digits the "
        f"class token keeps {100 * self_weight:.0f} % of its attention on itself",
    )
    return head
