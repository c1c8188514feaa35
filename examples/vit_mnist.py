"""A Vision Transformer (Dosovitskiy et al., 2021) on MNIST.

Each 28x28 image is cut into non-overlapping square patches (7x7 by default: a 4x4
grid of 16 tokens), each patch is flattened and projected by one Dense layer, a learned
class token is prepended, a learned position embedding is added, and the 17 tokens go
through pre-norm Transformer encoder blocks from ``fnn.nn``. A final LayerNorm and a
Dense head read the class token's output.

The whole training step (forward pass, loss, gradients, AdamW update on a
warm-up-cosine schedule) is one ``fnn.jit``-compiled function; evaluation is another.
The data is reshuffled every epoch with an ``fnn.random`` key.

Usage:
    python examples/vit_mnist.py                          # full run: >= 97.5 % test accuracy
    python examples/vit_mnist.py --quick --out /tmp/vit   # a seconds-long smoke run

Outputs in --out (default runs/vit_mnist/): metrics.json (per-epoch train loss, test
loss, test accuracy, wall time, and the run's settings and machine), loss.png (loss
and accuracy per epoch), predictions.png (test digits, mistakes in red),
attention.png (one head's attention from the class token over the patches, under
the outlines of test digits) and params.npz (the trained params, fnn.train.load).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One BLAS thread unless the caller sets it: on the busy 2-core machine OpenBLAS threads
# spin-wait for each other (see mlp_mnist.py), and this model's matmuls are small.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _shared

import numpy as np  # noqa: E402
from _shared import (  # noqa: E402
    choose_examples,
    example_args,
    load_image_dataset,
    machine_info,
    make_eval_step,
    plot_predictions,
    prepare_out,
    timer,
    write_metrics,
)
from _shared import evaluate as evaluate_batches  # noqa: E402

import fnn  # noqa: E402
import fnn.numpy as fnp  # noqa: E402
from fnn import nn, optim  # noqa: E402
from fnn.data import batches  # noqa: E402
from fnn.nn.base import split_key  # noqa: E402
from fnn.train import History, plot_history, progress, save  # noqa: E402

EVAL_BATCH = 1000


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


# -- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ViT:
    """Patch embedding, class token, learned positions, pre-norm encoder blocks, head.

    Params: ``patch_embed`` (Dense), ``cls_token`` (1, 1, d), ``pos_embed``
    (LearnedPositionalEmbedding), ``block_0`` ... ``block_{depth-1}``, ``final_norm``,
    ``head`` (Dense). ``apply(params, x, key=None, train=False)`` maps (N, H, W, C)
    images to (N, num_classes) logits.

    Example:
        >>> model = ViT(patch=7, d_model=16, depth=1, num_heads=2, mlp_dim=32)
        >>> params = model.init(fnn.random.key(0), (1, 28, 28, 1))
        >>> model.apply(params, fnp.zeros((3, 28, 28, 1))).shape
        (3, 10)
    """

    patch: int = 7
    d_model: int = 64
    depth: int = 4
    num_heads: int = 4
    mlp_dim: int = 128
    num_classes: int = 10
    dropout_rate: float = 0.0

    def _block(self) -> nn.TransformerEncoderBlock:
        return nn.TransformerEncoderBlock(
            num_heads=self.num_heads,
            mlp_dim=self.mlp_dim,
            dropout_rate=self.dropout_rate,
            pre_norm=True,
            # ReLU, not GELU: ~8 % less CPU per step here (measured), and the budget is
            # time. (nn.gelu's x**3 is also np.power(x, 3), ~150x slower than x*x*x.)
            activation=nn.relu,
        )

    def num_tokens(self, image_shape) -> int:
        """Patches per image plus the class token."""
        h, w = image_shape[-3], image_shape[-2]
        return (h // self.patch) * (w // self.patch) + 1

    def init(self, key: Any, input_shape) -> dict:
        """Params for images of ``input_shape`` (N, H, W, C)."""
        t = self.num_tokens(input_shape)
        patch_dim = self.patch * self.patch * input_shape[-1]
        tokens_shape = (1, t, self.d_model)
        keys = split_key(key, self.depth + 5)
        params = {
            "patch_embed": nn.Dense(self.d_model).init(keys[0], (1, t - 1, patch_dim)),
            # Small random class token and positions, as in the ViT reference code.
            "cls_token": nn.initializers.normal(0.02)(keys[1], (1, 1, self.d_model)),
            "pos_embed": nn.LearnedPositionalEmbedding(t).init(keys[2], tokens_shape),
        }
        for i in range(self.depth):
            params[f"block_{i}"] = self._block().init(keys[5 + i], tokens_shape)
        params["final_norm"] = nn.LayerNorm().init(keys[3], tokens_shape)
        # A zero head starts at uniform predictions (loss log 10), as in the ViT code.
        head = nn.Dense(self.num_classes, kernel_init=nn.initializers.zeros)
        params["head"] = head.init(keys[4], (1, self.d_model))
        return params

    def embed(self, params: dict, x):
        """(N, H, W, C) images -> (N, T, d_model) tokens: class token first, positions added."""
        tokens = nn.Dense(self.d_model).apply(params["patch_embed"], patchify(x, self.patch))
        cls = fnp.broadcast_to(params["cls_token"], (x.shape[0], 1, self.d_model))
        tokens = fnp.concatenate([cls.astype(tokens.dtype), tokens], axis=1)
        return nn.LearnedPositionalEmbedding(tokens.shape[1]).apply(params["pos_embed"], tokens)

    def apply(self, params: dict, x, *, key: Any = None, train: bool = False):
        h = self.embed(params, x)
        for i, k in enumerate(split_key(key, self.depth)):
            h = self._block().apply(params[f"block_{i}"], h, key=k, train=train)
        h = nn.LayerNorm().apply(params["final_norm"], h[:, 0])
        return nn.Dense(self.num_classes).apply(params["head"], h)

    def attention_weights(self, params: dict, x, block: int = -1):
        """Attention weights (N, heads, T, T) of encoder block ``block`` (eval mode).

        Runs the blocks before it, then the block's own pre-norm and attention with
        ``return_weights=True`` (the encoder block does not return its weights).
        Token 0 is the class token; each row sums to 1 over all T tokens.
        """
        block = block % self.depth
        h = self.embed(params, x)
        for i in range(block):
            h = self._block().apply(params[f"block_{i}"], h)
        p = params[f"block_{block}"]
        h = nn.LayerNorm(self._block().layer_norm_epsilon).apply(p["attention_norm"], h)
        attention = nn.MultiHeadAttention(self.num_heads)
        _, weights = attention.apply(p["attention"], h, return_weights=True)
        return weights


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


# -- training ----------------------------------------------------------------------------


def make_optimizer(lr: float, total_steps: int, warmup_steps: int, weight_decay: float):
    """Global-norm clipping, then AdamW on a warm-up-cosine schedule.

    Only matrices decay (kernels, not biases, LayerNorm scales, class token or
    positions), the usual choice for Transformers.
    """
    schedule = optim.warmup_cosine_decay_schedule(
        0.0, lr, warmup_steps, total_steps, end_value=lr * 1e-2
    )

    def decay_mask(tree, name=""):
        if isinstance(tree, dict):
            return {k: decay_mask(v, k) for k, v in tree.items()}
        return name == "kernel"

    return optim.chain(
        optim.clip_by_global_norm(1.0),
        optim.adamw(schedule, weight_decay=weight_decay, mask=decay_mask),
    )


def make_steps(model: ViT, opt, label_smoothing: float = 0.0):
    """The jitted training step and evaluation function for ``model`` and ``opt``."""

    def loss_fn(params, x, y, key):
        logits = model.apply(params, x, key=key, train=True)
        losses = nn.losses.softmax_cross_entropy_with_integer_labels(
            logits, y, label_smoothing=label_smoothing
        )
        return fnp.mean(losses)

    @fnn.jit
    def train_step(params, opt_state, x, y, key):
        loss, grads = fnn.value_and_grad(loss_fn)(params, x, y, key)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    return train_step, make_eval_step(model)


def evaluate(eval_step, params, x, y) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predicted labels over a whole data set."""
    return evaluate_batches(eval_step, params, x, y, EVAL_BATCH)


# -- the attention picture ---------------------------------------------------------------


def ink_following_head(maps: np.ndarray, images: np.ndarray, patch: int) -> tuple[int, float]:
    """The head whose class-token attention best follows the digit's ink, and how well.

    ``maps`` is (N, heads, gh, gw) (see :func:`cls_attention_maps`), ``images`` the N
    images. Per image and head: the correlation, across patches, between attention
    and the patch's mean brightness; averaged over images. Returns (head, correlation).
    Heads of one block barely differ in how much they attend to the patches at all
    (0.89-0.96 of the row for the trained model), so that is no criterion.

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
    model: ViT,
    params: dict,
    x: np.ndarray,
    y: np.ndarray,
    predicted: np.ndarray,
    path: Path,
    head: int = -1,
) -> int:
    """attention.png: one head of the last block, for 6 right and 2 wrong test digits.

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


# -- the run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = example_args(
        "vit_mnist",
        "Train a Vision Transformer on MNIST.",
        epochs=6,
        batch_size=128,
        lr=2e-3,
    )
    parser.add_argument("--patch", type=int, default=7, help="patch side (divides 28)")
    parser.add_argument("--d-model", type=int, default=64, help="token width")
    parser.add_argument("--depth", type=int, default=4, help="encoder blocks")
    parser.add_argument("--heads", type=int, default=4, help="attention heads")
    parser.add_argument("--mlp-dim", type=int, default=128, help="hidden units of each block's MLP")
    parser.add_argument("--weight-decay", type=float, default=0.05, help="AdamW decay of kernels")
    parser.add_argument("--warmup", type=float, default=0.1, help="warm-up share of all steps")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="0: none")
    parser.add_argument(
        "--attention-head",
        type=int,
        default=-1,
        help="head shown in attention.png (-1: the one whose attention best follows the ink)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 3)
    out = prepare_out(args.out)
    machine_before = machine_info()

    (x_train, y_train), (x_test, y_test) = load_image_dataset("mnist", args.data_dir, args.quick)
    print(f"MNIST: {len(x_train)} train, {len(x_test)} test examples")

    key = fnn.random.key(args.seed)
    init_key, data_key, dropout_key = fnn.random.split(key, 3)
    model = ViT(args.patch, args.d_model, args.depth, args.heads, args.mlp_dim)
    params = model.init(init_key, (1, *x_train.shape[1:]))
    grid = (28 // args.patch, 28 // args.patch)
    print(
        f"ViT: {grid[0]}x{grid[1]} patches of {args.patch}x{args.patch} + class token, "
        f"d_model {args.d_model}, {args.depth} blocks, {args.heads} heads, MLP {args.mlp_dim}; "
        f"{nn.param_count(params):,} parameters"
    )

    # drop_last keeps every step the same shape: one compilation of train_step.
    steps_per_epoch = len(x_train) // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    opt = make_optimizer(args.lr, total_steps, int(args.warmup * total_steps), args.weight_decay)
    opt_state = opt.init(params)
    train_step, eval_step = make_steps(model, opt, args.label_smoothing)

    history = History()
    train_seconds = 0.0
    with timer() as total:
        for epoch in range(1, args.epochs + 1):
            epoch_key = fnn.random.fold_in(data_key, epoch)
            step_keys = fnn.random.split(fnn.random.fold_in(dropout_key, epoch), steps_per_epoch)
            data = batches((x_train, y_train), args.batch_size, key=epoch_key, drop_last=True)
            bar = progress(data, total=len(data), desc=f"epoch {epoch}/{args.epochs}")
            loss_sum = 0.0
            with timer() as t_train:
                for i, (xb, yb) in enumerate(bar):
                    params, opt_state, loss = train_step(params, opt_state, xb, yb, step_keys[i])
                    loss_sum += float(loss)
                    if i % 20 == 0:
                        bar.set_postfix(loss=loss_sum / (i + 1))
            train_seconds += t_train.seconds
            test_loss, test_acc, predicted = evaluate(eval_step, params, x_test, y_test)
            history.append(
                epoch=epoch,
                train_loss=loss_sum / len(data),
                test_loss=test_loss,
                test_accuracy=test_acc,
                epoch_seconds=t_train.seconds,
                wall_seconds=total.seconds,
            )
            print(
                f"epoch {epoch}: train loss {loss_sum / len(data):.4f}, test loss "
                f"{test_loss:.4f}, test accuracy {100 * test_acc:.2f} %, "
                f"{t_train.seconds:.1f} s training"
            )

    name = f"ViT ({grid[0] * grid[1]} patches of {args.patch}x{args.patch}, {args.depth} blocks)"
    n_wrong = int(np.sum(predicted != y_test))
    plot_history(history, out / "loss.png", title=f"{name} on MNIST")
    shown = choose_examples(predicted, y_test, 32, seed=args.seed)
    plot_predictions(
        x_test[shown],
        predicted[shown],
        y_test[shown],
        out / "predictions.png",
        f"{name} on MNIST, test accuracy {100 * test_acc:.2f} % ({n_wrong} of {len(y_test)} wrong)",
    )

    head = write_attention_plot(
        model, params, x_test, y_test, predicted, out / "attention.png", args.attention_head
    )
    # For a later look (attention of other heads and blocks): fnn.train.load(path).
    save(out / "params.npz", params)

    metrics = {
        "example": "vit_mnist",
        "dataset": "mnist",
        "final_test_accuracy": test_acc,
        "final_test_loss": test_loss,
        "train_seconds": train_seconds,
        "total_seconds": total.seconds,
        "num_params": nn.param_count(params),
        "num_train": len(x_train),
        "num_test": len(x_test),
        "attention_head_shown": head,
        "args": vars(args),
        "machine": {"before": machine_before, "after": machine_info()},
        "history": history.to_dict(),
    }
    write_metrics(out / "metrics.json", metrics)
    print(
        f"\n{name} on MNIST: test accuracy {100 * test_acc:.2f} % after {args.epochs} epochs; "
        f"{train_seconds:.1f} s training ({train_seconds / 60:.2f} min), "
        f"{total.seconds:.1f} s in all; outputs in {out}/"
    )
    return metrics


if __name__ == "__main__":
    main()
