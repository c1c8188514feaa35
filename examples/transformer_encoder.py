"""An encoder-only Transformer that decides whether a digit sequence is sorted.

The task needs attention across positions: a sequence is sorted (non-decreasing) when
every digit is at most the next one, so each position must find its neighbour and
compare. Order is everything: a bag-of-tokens model sees only the counts and cannot
tell ``1 2 2 5`` from ``1 2 5 2`` (the hard negatives below keep the counts equal).

Data: 4 to 32 digits, padded to 32 and masked (``fnn.nn.make_padding_mask``). Half
the sequences are sorted (random digits, sorted); the other half are, in equal parts,

- ``shuffled``: random digits that happen not to be sorted (most random sequences),
- ``swapped``: a sorted sequence with one adjacent pair of different digits swapped
  (the same digits as a sorted sequence, exactly one descent: the hardest case),
- ``changed``: a sorted sequence with one digit replaced so that it is out of order.

The 2,000 test sequences are drawn independently of the training set; short sorted
sequences are few (715 of length 4), so some test sequences also occur in training.
The metrics report that overlap and the accuracy on the test sequences never seen.

Model: token embedding + sinusoidal positions, a stack of ``fnn.nn.TransformerEncoderBlock``
(post-norm as in the paper, ``--pre-norm`` for the other), the mean and the maximum
over the unpadded positions, and a Dense classifier; cross-entropy with label
smoothing, Adam on the paper's warm-up schedule (with a linear cool-down over the last
fifth of the steps), one jitted training step.

Usage:
    python examples/transformer_encoder.py                 # the full run
    python examples/transformer_encoder.py --quick --out /tmp/enc   # seconds-long smoke run

``train_loss`` includes the label smoothing, ``test_loss`` is the plain cross-entropy.
Target: >= 99 % on the 2,000 test sequences; results: docs/experiments/transformer_encoder.md.

Outputs in --out: metrics.json, history.json, loss.png, attention.png.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from _shared import example_args, machine_info, prepare_out, timer, write_metrics
from _transformer_utils import cpu_minutes, make_train_step, paper_adam, run_environment
from scipy.special import logsumexp

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.data import batches
from fnn.nn.base import split_key
from fnn.train import History, plot_history, progress

PAD = 0  # digits d are tokens d + 1
VOCAB = 11
MAX_LEN = 32
NEGATIVE_KINDS = ("shuffled", "swapped", "changed")
KIND_NAMES = ("sorted", *NEGATIVE_KINDS)


# -- data ------------------------------------------------------------------------------


def is_sorted(tokens: Sequence[int]) -> bool:
    """The reference check, one comparison at a time, over the unpadded tokens.

    Example:
        >>> is_sorted([1, 3, 3, 7, PAD, PAD]), is_sorted([1, 3, 2])
        (True, False)
    """
    digits = [t for t in tokens if t != PAD]
    return all(a <= b for a, b in zip(digits, digits[1:]))


def _sorted_rows(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.integers(1, VOCAB, (n, length)), axis=1)


def _descents(rows: np.ndarray) -> np.ndarray:
    return (rows[:, 1:] < rows[:, :-1]).sum(axis=1)


def unsorted_rows(n: int, length: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` unsorted sequences of ``length`` digits of one of ``NEGATIVE_KINDS``."""
    out = np.empty((0, length), np.int64)
    while len(out) < n:
        m = 2 * (n - len(out)) + 8
        if kind == "shuffled":
            rows = rng.integers(1, VOCAB, (m, length))
        else:
            rows = _sorted_rows(m, length, rng)
            at = rng.integers(0, length - 1, m) if kind == "swapped" else rng.integers(0, length, m)
            r = np.arange(m)
            if kind == "swapped":
                rows[r, at], rows[r, at + 1] = rows[r, at + 1], rows[r, at].copy()
            elif kind == "changed":
                rows[r, at] = rng.integers(1, VOCAB, m)
            else:
                raise ValueError(f"unknown kind {kind!r}; expected one of {NEGATIVE_KINDS}")
        # Keep the rows that really are out of order (a swap of equal digits is not).
        out = np.concatenate([out, rows[_descents(rows) > 0]])
    return out[:n]


def make_dataset(n: int, rng: np.random.Generator, min_len: int = 4,
                 max_len: int = MAX_LEN) -> dict[str, np.ndarray]:  # fmt: skip
    """``n`` labelled sequences: ``tokens`` (n, max_len) int32 padded with PAD, ``label``
    (1 = sorted), ``kind`` (index into ``KIND_NAMES``) and ``length``.

    Example:
        >>> d = make_dataset(8, np.random.default_rng(0), 4, 8)
        >>> d["tokens"].shape, sorted(set(d["label"].tolist()))
        ((8, 8), [0, 1])
    """
    lengths = rng.integers(min_len, max_len + 1, n)
    kinds = np.where(rng.random(n) < 0.5, 0, rng.integers(1, len(KIND_NAMES), n))
    tokens = np.full((n, max_len), PAD, np.int32)
    for length in np.unique(lengths):
        for k, name in enumerate(KIND_NAMES):
            idx = np.flatnonzero((lengths == length) & (kinds == k))
            if len(idx) == 0:
                continue
            if k == 0:
                rows = _sorted_rows(len(idx), length, rng)
            else:
                rows = unsorted_rows(len(idx), length, name, rng)
            tokens[idx, :length] = rows
    return {
        "tokens": tokens,
        "label": (kinds == 0).astype(np.int32),
        "kind": kinds.astype(np.int32),
        "length": lengths.astype(np.int32),
    }


def seen_in(train: dict, test: dict) -> np.ndarray:
    """For each test sequence: does it also occur in the training set?"""
    seen = {row.tobytes() for row in train["tokens"]}
    return np.array([row.tobytes() in seen for row in test["tokens"]])


# -- model -----------------------------------------------------------------------------


class SortedClassifier:
    """Embedding + sinusoidal positions -> encoder blocks -> masked mean and max -> Dense(2)."""

    def __init__(self, d_model: int, num_heads: int, num_layers: int, mlp_dim: int,
                 dropout: float, pre_norm: bool):  # fmt: skip
        self.d_model, self.num_layers, self.pre_norm = d_model, num_layers, pre_norm
        self.embed = nn.Embedding(VOCAB, d_model)
        self.block = nn.TransformerEncoderBlock(
            num_heads, mlp_dim, dropout_rate=dropout, pre_norm=pre_norm
        )
        self.norm = nn.LayerNorm()
        self.head = nn.Dense(2)

    def init(self, key: Any, max_len: int) -> dict:
        keys = split_key(key, self.num_layers + 3)
        x_shape = (1, max_len, self.d_model)
        return {
            "embed": self.embed.init(keys[0], (1, max_len)),
            "blocks": [self.block.init(k, x_shape) for k in keys[3:]],
            "norm": self.norm.init(keys[1], x_shape),
            "head": self.head.init(keys[2], (1, 2 * self.d_model)),
        }

    def apply(self, params: dict, tokens: Any, *, key: Any = None, train: bool = False,
              return_attention: bool = False) -> Any:  # fmt: skip
        """Logits (batch, 2); with ``return_attention`` also the last block's weights."""
        x = self.embed.apply(params["embed"], tokens) * math.sqrt(self.d_model)
        x = nn.SinusoidalPositionalEncoding().apply({}, x)
        mask = nn.make_padding_mask(tokens, PAD)
        for p, k in zip(params["blocks"], split_key(key, self.num_layers)):
            x = self.block.apply(p, x, mask, key=k, train=train)
        if self.pre_norm:
            x = self.norm.apply(params["norm"], x)
        # Mean and max over the unpadded positions: the max lets one out-of-order pair
        # stand out in a long sequence instead of being averaged away.
        keep = (tokens != PAD)[..., None]
        mean = fnp.sum(fnp.where(keep, x, 0.0), axis=1) / fnp.sum(keep, axis=1)
        pooled = fnp.concatenate([mean, fnp.max(fnp.where(keep, x, -1e9), axis=1)], axis=-1)
        logits = self.head.apply(params["head"], pooled)
        if not return_attention:
            return logits
        return logits, self.last_attention(params, tokens)

    def last_attention(self, params: dict, tokens: Any) -> Any:
        """Attention weights (batch, heads, L, L) of the last block, for the figure."""
        x = self.embed.apply(params["embed"], tokens) * math.sqrt(self.d_model)
        x = nn.SinusoidalPositionalEncoding().apply({}, x)
        mask = nn.make_padding_mask(tokens, PAD)
        for p in params["blocks"][:-1]:
            x = self.block.apply(p, x, mask)
        p = params["blocks"][-1]
        if self.pre_norm:
            x = nn.LayerNorm(self.block.layer_norm_epsilon).apply(p["attention_norm"], x)
        mha = nn.MultiHeadAttention(self.block.num_heads)
        return mha.apply(p["attention"], x, mask=mask, return_weights=True)[1]


# -- training and evaluation -------------------------------------------------------------


def evaluate(predict, params, data: dict, seen: np.ndarray, batch_size: int = 500) -> dict:
    """Accuracy overall, on sequences not in training, per kind and per length; mean loss."""
    preds, losses = [], []
    for b in batches(data, batch_size, shuffle=False):
        logits = np.asarray(predict(params, fnp.asarray(b["tokens"])), np.float64)
        logp = logits - logsumexp(logits, axis=1, keepdims=True)
        losses.append(-logp[np.arange(len(logp)), b["label"]])
        preds.append(np.argmax(logits, axis=1))
    pred, loss = np.concatenate(preds), np.concatenate(losses)
    right = pred == data["label"]
    return {
        "accuracy": float(right.mean()),
        "loss": float(loss.mean()),
        "accuracy_unseen": float(right[~seen].mean()) if (~seen).any() else None,
        "errors": int((~right).sum()),
        "accuracy_by_kind": {
            name: float(right[data["kind"] == k].mean()) for k, name in enumerate(KIND_NAMES)
        },
        "accuracy_by_length": {
            int(n): float(right[data["length"] == n].mean()) for n in np.unique(data["length"])
        },
        "predictions": pred,
    }


def plot_attention(weights: np.ndarray, tokens: np.ndarray, label: int, pred: int, path) -> None:
    """Every head's attention of the last block for one test sequence."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = int((tokens != PAD).sum())
    chars = [str(t - 1) for t in tokens[:n]]
    heads = weights.shape[0]
    fig = Figure(figsize=(3.0 * heads + 1.0, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    for h in range(heads):
        ax = fig.add_subplot(1, heads, h + 1)
        image = ax.imshow(weights[h, :n, :n], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(n), chars, fontsize=7)
        ax.set_yticks(range(n), chars, fontsize=7)
        ax.set_title(f"head {h}")
        ax.set_xlabel("key")
        if h == 0:
            ax.set_ylabel("query")
    fig.colorbar(image, ax=fig.axes, shrink=0.8, label="attention weight")
    truth = "sorted" if label else "not sorted"
    guess = "sorted" if pred else "not sorted"
    fig.suptitle(f"last block's attention: {' '.join(chars)}  ({truth}; predicted {guess})")
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = example_args(
        "transformer_encoder",
        "Encoder-only Transformer: is a digit sequence sorted?",
        epochs=5, batch_size=64, lr=1e-3,
    )  # fmt: skip
    parser.add_argument("--train-size", type=int, default=40_000)
    parser.add_argument("--test-size", type=int, default=2_000)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    parser.add_argument("--pre-norm", action="store_true", help="pre-norm blocks")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.train_size, args.test_size = 1, 1_000, 200
        args.d_model, args.layers, args.warmup = 32, 1, 20
    out = prepare_out(args.out)
    machine = run_environment()

    with timer() as clock:
        rng = np.random.default_rng(args.seed)
        train = make_dataset(args.train_size, rng)
        test = make_dataset(args.test_size, rng)
        seen = seen_in(train, test)
        model = SortedClassifier(args.d_model, args.heads, args.layers, 4 * args.d_model,
                                  args.dropout, args.pre_norm)  # fmt: skip
        key, init_key = fnn.random.split(fnn.random.key(args.seed))
        params = model.init(init_key, MAX_LEN)

        def loss_fn(params, batch, key):
            logits = model.apply(params, batch["tokens"], key=key, train=True)
            loss = nn.losses.softmax_cross_entropy_with_integer_labels(
                logits, batch["label"], label_smoothing=args.label_smoothing
            )
            return fnp.mean(loss), {}

        total_steps = args.epochs * (len(train["label"]) // args.batch_size)
        optimizer = paper_adam(args.lr, args.warmup, total_steps)
        step = make_train_step(loss_fn, optimizer)
        predict = fnn.jit(lambda p, t: model.apply(p, t))
        opt_state = optimizer.init(params)
        history = History()
        steps = 0
        for epoch in range(1, args.epochs + 1):
            key, shuffle_key = fnn.random.split(key)
            data = {"tokens": train["tokens"], "label": train["label"]}
            epoch_batches = batches(data, args.batch_size, key=shuffle_key, drop_last=True)
            bar = progress(epoch_batches, desc=f"epoch {epoch}/{args.epochs}", disable=args.quiet)
            total = 0.0
            for batch in bar:
                key, drop_key = fnn.random.split(key)
                params, opt_state, loss, _ = step(params, opt_state, batch, drop_key)
                total += float(loss)
                steps += 1
                bar.set_postfix(loss=float(loss))
            ev = evaluate(predict, params, test, seen)
            history.append(epoch=epoch, train_loss=total / len(epoch_batches), test_loss=ev["loss"],
                           test_accuracy=ev["accuracy"])  # fmt: skip
            print(f"epoch {epoch}: train loss {total / len(epoch_batches):.4f}, test loss "
                  f"{ev['loss']:.4f}, test accuracy {ev['accuracy']:.4f}")  # fmt: skip

    # One test sequence for the figure: a hard negative, or a mistake if there is one.
    wrong = np.flatnonzero(ev["predictions"] != test["label"])
    hard = np.flatnonzero((test["kind"] == KIND_NAMES.index("swapped")) & (test["length"] <= 12))
    i = int(wrong[0] if len(wrong) else (hard[0] if len(hard) else 0))
    weights = np.asarray(model.last_attention(params, fnp.asarray(test["tokens"][i : i + 1])))[0]
    plot_attention(weights, test["tokens"][i], int(test["label"][i]),
                   int(ev["predictions"][i]), out / "attention.png")  # fmt: skip
    plot_history(history, out / "loss.png", title="Is it sorted? Encoder-only Transformer")
    history.save_json(out / "history.json")
    metrics = {
        "test_accuracy": ev["accuracy"],
        "test_errors": ev["errors"],
        "test_size": len(test["label"]),
        "test_loss": ev["loss"],
        "accuracy_by_kind": ev["accuracy_by_kind"],
        "accuracy_by_length": ev["accuracy_by_length"],
        "train_size": len(train["label"]),
        "test_accuracy_unseen": ev["accuracy_unseen"],
        "test_seen_in_training": int(seen.sum()),
        "epochs": args.epochs,
        "steps": steps,
        "minutes": clock.seconds / 60,
        "cpu_minutes": cpu_minutes(),
        "params": nn.param_count(params),
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "data_dir")},
        "machine": machine,
        "load_average_end": machine_info()["load_average"],
    }
    write_metrics(out / "metrics.json", metrics)
    print(
        f"test accuracy {ev['accuracy']:.4f} ({ev['errors']} errors of {len(test['label'])}); "
        f"by kind {ev['accuracy_by_kind']}; {steps} steps in {metrics['minutes']:.1f} min; "
        f"outputs in {out}"
    )
    return metrics


if __name__ == "__main__":
    main()
