"""A Vision Transformer (Dosovitskiy et al., 2021) on MNIST.

Each 28x28 image is cut into non-overlapping square patches (7x7 by default: a 4x4
grid of 16 tokens), each patch is flattened and projected by one Dense layer, a learned
class token is prepended, a learned position embedding is added, and the 17 tokens go
through pre-norm Transformer encoder blocks from ``fnn.nn``. A final LayerNorm and a
Dense head read the class token's output.

The whole training step (forward pass, loss, gradients, AdamW update on a
warm-up-cosine schedule) is one ``fnn.jit``-compiled function; evaluation is another.
The data is reshuffled every epoch with an ``fnn.random`` key. Patches and the attention
picture are in ``_vit_utils.py``.

Target: >= 97.5 % test accuracy after the default 6 epochs. What it reached and how
long it took: docs/experiments/vit_mnist.md.

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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _shared, _vit_utils

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
from _vit_utils import patchify, write_attention_plot  # noqa: E402

import fnn  # noqa: E402
import fnn.numpy as fnp  # noqa: E402
from fnn import nn, optim  # noqa: E402
from fnn.data import batches  # noqa: E402
from fnn.nn.base import split_key  # noqa: E402
from fnn.train import History, plot_history, progress, save  # noqa: E402

EVAL_BATCH = 1000


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
            # ReLU, not GELU: less CPU per step, and the budget is time (measured:
            # docs/experiments/vit_mnist.md).
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
            bar = progress(
                data, total=len(data), desc=f"epoch {epoch}/{args.epochs}", disable=args.quiet
            )
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
