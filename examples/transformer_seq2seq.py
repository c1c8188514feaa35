"""An encoder-decoder Transformer that reverses digit strings, including unseen lengths.

Task: a string of 4 to 16 digits in, the same digits reversed out, then ``<eos>``.
Training strings have every length in 4..16 except 7 and 13; the 2,000 test strings
have all 13 lengths (7 and 13 included), and no test string occurs in training.

Model: ``fnn.nn.Transformer`` (the paper's architecture: sinusoidal positions, post-norm
residual blocks, padding masks on the source, causal + padding masks on the target).
Training is teacher-forced: the decoder reads ``<bos> y1 .. yn`` and predicts
``y1 .. yn <eos>``; cross-entropy with label smoothing over the unpadded targets, Adam
on the paper's warm-up schedule (with a linear cool-down over the last fifth of the
steps), one jitted step. Evaluation decodes greedily with the
key-value cache (``Transformer.greedy_decode``) and counts a prediction right only if
every digit and the ``<eos>`` match (exact sequence match).

Usage:
    python examples/transformer_seq2seq.py                  # the full run
    python examples/transformer_seq2seq.py --quick --out /tmp/s2s   # seconds-long smoke run

``train_loss`` includes the label smoothing, ``test_loss`` is the plain cross-entropy.
Results: docs/experiments/transformer_seq2seq.md.

Outputs in --out: metrics.json, history.json, loss.png, cross_attention.png.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from _shared import example_args, machine_info, prepare_out, timer, write_metrics
from _transformer_utils import cpu_minutes, make_train_step, paper_adam, run_environment

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.data import batches
from fnn.train import History, plot_history, progress

PAD, BOS, EOS, DIGIT0 = 0, 1, 2, 3
VOCAB = DIGIT0 + 10
MIN_LEN, MAX_LEN = 4, 16
UNSEEN_LENGTHS = (7, 13)


# -- data ------------------------------------------------------------------------------------


def make_examples(n: int, lengths: Sequence[int], rng: np.random.Generator) -> dict:
    """``n`` random digit strings with lengths drawn uniformly from ``lengths``.

    Returns ``src`` (n, MAX_LEN), ``tgt_in`` and ``tgt_out`` (n, MAX_LEN + 1), all int32
    and PAD-padded, and ``length``. ``tgt_out`` is the reversed string then EOS;
    ``tgt_in`` is BOS then the reversed string (teacher forcing).

    Example:
        >>> d = make_examples(1, [4], np.random.default_rng(0))
        >>> digits = d["src"][0, :4] - DIGIT0
        >>> (d["tgt_out"][0, :5] - DIGIT0).tolist()[:4] == digits[::-1].tolist()
        True
    """
    length = rng.choice(np.asarray(lengths), n)
    digits = rng.integers(0, 10, (n, MAX_LEN)) + DIGIT0
    pos = np.arange(MAX_LEN)
    src = np.where(pos < length[:, None], digits, PAD).astype(np.int32)
    # Reversed: position i of the output holds input position length - 1 - i.
    rev_index = np.clip(length[:, None] - 1 - pos, 0, MAX_LEN - 1)
    rev = np.where(pos < length[:, None], np.take_along_axis(src, rev_index, 1), PAD)
    tgt_out = np.concatenate([rev, np.full((n, 1), PAD)], axis=1).astype(np.int32)
    tgt_out[np.arange(n), length] = EOS
    tgt_in = np.concatenate([np.full((n, 1), BOS), tgt_out[:, :-1]], axis=1).astype(np.int32)
    tgt_in[tgt_in == EOS] = PAD
    return {"src": src, "tgt_in": tgt_in, "tgt_out": tgt_out, "length": length.astype(np.int32)}


def drop_rows_in(train: dict, test: dict) -> tuple[dict, int]:
    """``train`` without the source strings that also occur in ``test``; how many went."""
    seen = {row.tobytes() for row in test["src"]}
    keep = np.array([row.tobytes() not in seen for row in train["src"]])
    return {k: v[keep] for k, v in train.items()}, int((~keep).sum())


def to_text(ids: Sequence[int]) -> str:
    """Digits as a string, up to (not including) EOS or PAD."""
    out = []
    for i in ids:
        if i < DIGIT0:
            break
        out.append(str(i - DIGIT0))
    return "".join(out)


# -- evaluation -------------------------------------------------------------------------------


def exact_match(predicted: np.ndarray, tgt_out: np.ndarray) -> np.ndarray:
    """Per example: all digits and the EOS right (what follows EOS is ignored)."""
    upto_eos = np.cumsum(tgt_out == EOS, axis=1) - (tgt_out == EOS) == 0  # through EOS
    return np.all((predicted == tgt_out) | ~upto_eos, axis=1)


def evaluate(model: nn.Transformer, params: dict, data: dict, batch_size: int = 500) -> dict:
    """Greedy-decode every source; exact-match rate overall, on unseen lengths, per length."""
    preds = []
    for b in batches(data, batch_size, shuffle=False):
        preds.append(np.asarray(
            model.greedy_decode(params, fnp.asarray(b["src"]), bos_id=BOS, length=MAX_LEN + 1)
        ))  # fmt: skip
    pred = np.concatenate(preds)
    right = exact_match(pred, data["tgt_out"])
    unseen = np.isin(data["length"], UNSEEN_LENGTHS)
    return {
        "exact_match": float(right.mean()),
        "exact_match_unseen_lengths": float(right[unseen].mean()) if unseen.any() else None,
        "exact_match_seen_lengths": float(right[~unseen].mean()),
        "errors": int((~right).sum()),
        "exact_match_by_length": {
            int(n): float(right[data["length"] == n].mean()) for n in np.unique(data["length"])
        },
        "predictions": pred,
    }


def cross_attention(model: nn.Transformer, params: dict, src: Any, tgt_in: Any) -> np.ndarray:
    """The last decoder block's cross-attention weights (heads, tgt_len, src_len).

    ``fnn.nn.Transformer`` does not return attention weights, so this re-runs the
    decoder: the blocks before the last as they are, then the last block's
    self-attention sublayer and its cross-attention with ``return_weights=True``
    (post-norm, as configured here: ``x = LayerNorm(x + sublayer(x))``).
    """
    memory = model.encode(params, src)
    x = nn.Embedding(model.tgt_vocab_size, model.d_model).apply(
        params["tgt_embedding"], tgt_in) * math.sqrt(model.d_model)  # fmt: skip
    x = nn.SinusoidalPositionalEncoding().apply({}, x)
    self_mask = nn.combine_masks(nn.make_causal_mask(tgt_in), nn.make_padding_mask(tgt_in, PAD))
    cross_mask = nn.make_padding_mask(src, PAD)
    block = nn.TransformerDecoderBlock(model.num_heads, model.mlp_dim, pre_norm=False)
    last = model.num_decoder_layers - 1
    for i in range(last):
        x = block.apply(params["decoder"][f"block_{i}"], x, memory, self_mask, cross_mask)
    p = params["decoder"][f"block_{last}"]
    mha, norm = nn.MultiHeadAttention(model.num_heads), nn.LayerNorm(model.layer_norm_epsilon)
    x = norm.apply(p["self_attention_norm"], x + mha.apply(p["self_attention"], x, mask=self_mask))
    _, weights = mha.apply(p["cross_attention"], x, memory, mask=cross_mask, return_weights=True)
    return np.asarray(weights)[0]


def plot_cross_attention(weights: np.ndarray, src: np.ndarray, pred: np.ndarray, path) -> None:
    """Each head's cross-attention for one example: rows are output steps."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    src_text = to_text(src)
    out_text = to_text(pred)
    n_src, n_out = len(src_text), len(out_text) + 1  # + the EOS step
    heads = weights.shape[0]
    fig = Figure(figsize=(3.3 * heads, 3.9), layout="constrained")
    FigureCanvasAgg(fig)
    for h in range(heads):
        ax = fig.add_subplot(1, heads, h + 1)
        image = ax.imshow(weights[h, :n_out, :n_src], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(n_src), list(src_text), fontsize=8)
        ax.set_yticks(range(n_out), ["<bos>", *out_text], fontsize=8)
        ax.set_xlabel("source digit")
        ax.set_title(f"head {h}")
        if h == 0:
            ax.set_ylabel("decoder input (predicts the next digit)")
    fig.colorbar(image, ax=fig.axes, shrink=0.8, label="attention weight")
    fig.suptitle(f"last decoder block's cross-attention: {src_text} -> {out_text}")
    fig.savefig(path, dpi=110)


# -- the script -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> dict:
    parser = example_args(
        "transformer_seq2seq",
        "Encoder-decoder Transformer: reverse digit strings of length 4 to 16.",
        epochs=4, batch_size=64, lr=1e-3,
    )  # fmt: skip
    parser.add_argument("--train-size", type=int, default=40_000)
    parser.add_argument("--test-size", type=int, default=2_000)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2, help="encoder and decoder blocks each")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.train_size, args.test_size = 1, 640, 100
        args.d_model, args.layers, args.warmup = 32, 1, 10
    out = prepare_out(args.out)
    machine = run_environment()
    train_lengths = [n for n in range(MIN_LEN, MAX_LEN + 1) if n not in UNSEEN_LENGTHS]

    with timer() as clock:
        rng = np.random.default_rng(args.seed)
        test = make_examples(args.test_size, range(MIN_LEN, MAX_LEN + 1), rng)
        train, dropped = drop_rows_in(make_examples(args.train_size, train_lengths, rng), test)
        model = nn.Transformer(
            VOCAB, VOCAB, d_model=args.d_model, num_heads=args.heads,
            num_encoder_layers=args.layers, num_decoder_layers=args.layers,
            mlp_dim=4 * args.d_model, dropout_rate=args.dropout, pad_id=PAD,
        )  # fmt: skip
        key, init_key = fnn.random.split(fnn.random.key(args.seed))
        params = model.init(init_key, (1, MAX_LEN), (1, MAX_LEN + 1))

        def loss_fn(params, batch, key):
            logits = model.apply(params, batch["src"], batch["tgt_in"], key=key, train=True)
            loss = nn.losses.softmax_cross_entropy_with_integer_labels(
                logits, batch["tgt_out"], label_smoothing=args.label_smoothing
            )
            weight = (batch["tgt_out"] != PAD).astype(loss.dtype)
            return fnp.sum(loss * weight) / fnp.sum(weight), {}

        total_steps = args.epochs * (len(train["src"]) // args.batch_size)

        @fnn.jit
        def test_loss_sum(params, batch):
            logits = model.apply(params, batch["src"], batch["tgt_in"])
            loss = nn.losses.softmax_cross_entropy_with_integer_labels(logits, batch["tgt_out"])
            return fnp.sum(loss * (batch["tgt_out"] != PAD))

        optimizer = paper_adam(args.lr, args.warmup, total_steps)
        step = make_train_step(loss_fn, optimizer)
        opt_state = optimizer.init(params)
        history = History()
        steps = 0
        fields = ("src", "tgt_in", "tgt_out")
        for epoch in range(1, args.epochs + 1):
            key, shuffle_key = fnn.random.split(key)
            epoch_batches = batches({k: train[k] for k in fields}, args.batch_size,
                                    key=shuffle_key, drop_last=True)  # fmt: skip
            bar = progress(epoch_batches, desc=f"epoch {epoch}/{args.epochs}", disable=args.quiet)
            total = 0.0
            for batch in bar:
                key, drop_key = fnn.random.split(key)
                params, opt_state, loss, _ = step(params, opt_state, batch, drop_key)
                total += float(loss)
                steps += 1
                bar.set_postfix(loss=float(loss))
            ev = evaluate(model, params, test)
            test_batches = batches({k: test[k] for k in fields}, 500, shuffle=False)
            test_loss = sum(float(test_loss_sum(params, b)) for b in test_batches) / float(
                (test["tgt_out"] != PAD).sum())  # fmt: skip
            history.append(epoch=epoch, train_loss=total / len(epoch_batches),
                           test_loss=test_loss, test_exact_match_accuracy=ev["exact_match"],
                           test_unseen_lengths_accuracy=ev["exact_match_unseen_lengths"])  # fmt: skip
            print(f"epoch {epoch}: train loss {total / len(epoch_batches):.4f}, exact match "
                  f"{ev['exact_match']:.4f} (unseen lengths "
                  f"{ev['exact_match_unseen_lengths']:.4f})")  # fmt: skip

    # The cross-attention of one test string of an unseen length.
    i = int(np.flatnonzero(test["length"] == UNSEEN_LENGTHS[-1])[0]) if (
        test["length"] == UNSEEN_LENGTHS[-1]).any() else 0  # fmt: skip
    pred = ev["predictions"][i]
    tgt_in = np.concatenate([[BOS], pred[:-1]])[None].astype(np.int32)
    tgt_in[0, 1:][pred[:-1] < DIGIT0] = PAD
    weights = cross_attention(
        model, params, fnp.asarray(test["src"][i : i + 1]), fnp.asarray(tgt_in)
    )
    plot_cross_attention(weights, test["src"][i], pred, out / "cross_attention.png")
    plot_history(history, out / "loss.png", title="Reversing digit strings: Transformer")
    history.save_json(out / "history.json")
    wrong = np.flatnonzero(~exact_match(ev["predictions"], test["tgt_out"]))[:10]
    metrics = {
        "test_exact_match": ev["exact_match"],
        "test_exact_match_unseen_lengths": ev["exact_match_unseen_lengths"],
        "test_exact_match_seen_lengths": ev["exact_match_seen_lengths"],
        "test_errors": ev["errors"],
        "test_size": len(test["src"]),
        "unseen_lengths": list(UNSEEN_LENGTHS),
        "train_lengths": train_lengths,
        "exact_match_by_length": ev["exact_match_by_length"],
        "mistakes": [
            {"input": to_text(test["src"][j]), "output": to_text(ev["predictions"][j])}
            for j in wrong
        ],
        "train_size": len(train["src"]),
        "train_dropped_as_in_test": dropped,
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
        f"exact match {ev['exact_match']:.4f} ({ev['errors']} errors of {len(test['src'])}); "
        f"unseen lengths {UNSEEN_LENGTHS}: {ev['exact_match_unseen_lengths']:.4f}; {steps} steps "
        f"in {metrics['minutes']:.1f} min; outputs in {out}"
    )
    return metrics


if __name__ == "__main__":
    main()
