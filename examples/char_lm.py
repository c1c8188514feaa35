"""A decoder-only (GPT-style) character language model of Python's standard library.

Corpus: the ``.py`` files of the running Python's standard library, 97 characters plus
one shared id for the rest; about 5 % of the files are held out for validation by a hash
of their path (``examples/_stdlib_text.py`` documents the rule and the alphabet).

Model: token embedding + sinusoidal positions, pre-norm ``fnn.nn.TransformerDecoderBlock``
s without cross-attention (causal self-attention + feed-forward), a final LayerNorm and
a Dense layer to next-character logits. Trained on random windows of the training
stream (start offsets from an ``fnn.random`` key) with Adam on the paper's warm-up
schedule; one jitted training step. Training stops after ``--epochs`` x
``--steps-per-epoch`` steps or after ``--train-minutes``, whichever comes first.

Evaluation: bits per character on a fixed set of validation windows (evenly spaced
over the validation stream; every character after the first of a window is predicted
from the window's characters before it), against a unigram and a bigram model counted
on the training stream and scored on exactly the same characters
(``_char_lm_eval.py``). Target: <= 2.2 bits per character on the held-out files. What
the runs reached and how long they took: docs/experiments/char_lm.md.

Generation: temperature and top-k sampling with a key-value cache. Each new character
runs the decoder on that one position, attending to the cached keys and values, so n
characters cost n single-position steps; the uncached path (``cached=False``) re-runs
the whole padded sequence for each character and serves as the reference in the tests.

Usage:
    python examples/char_lm.py                       # the full run (--train-minutes 17)
    python examples/char_lm.py --quick --out /tmp/lm # seconds-long smoke run

Outputs in --out: metrics.json, history.json, loss.png, bits_per_char.png, samples.txt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from _char_lm_eval import (
    LN2,
    model_bits_per_char,
    ngram_bits_per_char,
    plot_bits,
    validation_windows,
)
from _shared import example_args, machine_info, prepare_out, timer, write_metrics
from _stdlib_text import VOCAB_SIZE, decode, encode, load_corpus
from _transformer_utils import cpu_minutes, make_train_step, paper_adam, run_environment

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.nn.base import split_key
from fnn.train import History, plot_history, progress

# -- the model ---------------------------------------------------------------------------


class CharGPT:
    """Embedding + positions -> pre-norm causal blocks -> LayerNorm -> Dense(vocab).

    ``apply(params, tokens)`` gives logits (batch, length, vocab) for whole sequences
    (causal mask); ``decode(params, tokens, cache)`` runs new positions against a cache
    from ``init_cache`` and returns ``(logits, cache)``.

    Example:
        >>> model = CharGPT(vocab_size=10, d_model=16, num_heads=2, num_layers=1)
        >>> params = model.init(fnn.random.key(0), 8)
        >>> model.apply(params, fnp.zeros((2, 8), fnp.int32)).shape
        (2, 8, 10)
    """

    def __init__(self, vocab_size: int, d_model: int, num_heads: int, num_layers: int,
                 mlp_dim: int | None = None, dropout: float = 0.0):  # fmt: skip
        self.vocab_size, self.d_model, self.num_layers = vocab_size, d_model, num_layers
        # Unit-variance inputs after the sqrt(d_model) scaling, as in fnn.nn.Transformer.
        init = nn.initializers.normal(stddev=d_model**-0.5)
        self.embed = nn.Embedding(vocab_size, d_model, embedding_init=init)
        self.block = nn.TransformerDecoderBlock(
            num_heads, mlp_dim or 4 * d_model, dropout_rate=dropout, pre_norm=True
        )
        self.norm = nn.LayerNorm()
        self.head = nn.Dense(vocab_size)

    def init(self, key: Any, length: int) -> dict:
        keys = split_key(key, self.num_layers + 3)
        x_shape = (1, length, self.d_model)
        return {
            "embed": self.embed.init(keys[0], (1, length)),
            "blocks": [self.block.init(k, x_shape) for k in keys[3:]],
            "norm": self.norm.init(keys[1], x_shape),
            "head": self.head.init(keys[2], x_shape),
        }

    def _embed(self, params: dict, tokens: Any, offset: Any) -> Any:
        x = self.embed.apply(params["embed"], tokens) * math.sqrt(self.d_model)
        return nn.SinusoidalPositionalEncoding().apply({}, x, offset=offset)

    def _logits(self, params: dict, x: Any) -> Any:
        return self.head.apply(params["head"], self.norm.apply(params["norm"], x))

    def apply(self, params: dict, tokens: Any, *, key: Any = None, train: bool = False) -> Any:
        x = self._embed(params, tokens, 0)
        mask = nn.make_causal_mask(tokens)
        for p, k in zip(params["blocks"], split_key(key, self.num_layers)):
            x = self.block.apply(p, x, self_mask=mask, key=k, train=train)
        return self._logits(params, x)

    def init_cache(self, batch_size: int, max_length: int) -> dict:
        shape = (batch_size, 1, self.d_model)
        return {
            "index": fnp.asarray(0, fnp.int32),
            "blocks": [self.block.init_cache(shape, max_length) for _ in range(self.num_layers)],
        }

    def decode(self, params: dict, tokens: Any, cache: dict) -> tuple[Any, dict]:
        """Logits for ``tokens`` (batch, n) placed at positions ``cache["index"]`` on."""
        x = self._embed(params, tokens, cache["index"])
        blocks = []
        for p, c in zip(params["blocks"], cache["blocks"]):
            x, c = self.block.apply(p, x, cache=c, decode=True)
            blocks.append(c)
        new_cache = {"index": cache["index"] + tokens.shape[1], "blocks": blocks}
        return self._logits(params, x), new_cache


# -- generation ----------------------------------------------------------------------------


def choose_next(logits: Any, key: Any, temperature: float, top_k: int | None) -> Any:
    """Next ids (batch,) from logits (batch, vocab): argmax if ``temperature == 0``, else
    a sample of ``softmax(logits / temperature)`` restricted to the ``top_k`` largest."""
    if temperature == 0:
        return fnp.argmax(logits, axis=-1).astype(fnp.int32)
    logits = logits / temperature
    if top_k:
        kth = fnp.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = fnp.where(logits < kth, -1e9, logits)
    return fnn.random.categorical(key, logits).astype(fnp.int32)


class Generator:
    """Jitted generation for one model; ``cached=False`` recomputes every prefix.

    Example:
        >>> model = CharGPT(vocab_size=10, d_model=16, num_heads=2, num_layers=1)
        >>> params = model.init(fnn.random.key(0), 8)
        >>> gen = Generator(model)
        >>> prompt = np.ones((1, 3), np.int32)
        >>> a = gen(params, prompt, 5, key=fnn.random.key(1), temperature=0.0)
        >>> b = gen(params, prompt, 5, key=fnn.random.key(1), temperature=0.0, cached=False)
        >>> bool((a == b).all()), a.shape
        (True, (1, 5))
    """

    def __init__(self, model: CharGPT):
        self.model = model
        self._decode = fnn.jit(model.decode)
        self._full = fnn.jit(lambda params, tokens: model.apply(params, tokens))
        self._choose = fnn.jit(choose_next, static_argnums=(2, 3))

    def __call__(self, params: dict, prompt: np.ndarray, n: int, *, key: Any,
                 temperature: float = 1.0, top_k: int | None = None,
                 cached: bool = True) -> np.ndarray:  # fmt: skip
        """``n`` new ids (batch, n) after ``prompt`` (batch, p); step i samples with
        ``fold_in(key, i)``, so both paths draw the same numbers."""
        prompt = np.asarray(prompt, np.int32)
        batch, p = prompt.shape
        total = p + n
        out = np.zeros((batch, n), np.int32)
        if cached:
            cache = self.model.init_cache(batch, total)
            logits, cache = self._decode(params, fnp.asarray(prompt), cache)  # prefill
            for i in range(n):
                nxt = self._choose(logits[:, -1], fnn.random.fold_in(key, i), temperature, top_k)
                out[:, i] = np.asarray(nxt)
                if i + 1 < n:
                    logits, cache = self._decode(params, fnp.asarray(out[:, i : i + 1]), cache)
            return out
        # Without a cache: the whole sequence so far, padded to a fixed length so that one
        # compiled program serves every step (the causal mask hides the padding).
        tokens = np.zeros((batch, total), np.int32)
        tokens[:, :p] = prompt
        for i in range(n):
            logits = self._full(params, fnp.asarray(tokens))
            nxt = self._choose(logits[:, p + i - 1], fnn.random.fold_in(key, i), temperature, top_k)
            tokens[:, p + i] = out[:, i] = np.asarray(nxt)
        return out


# -- the script ----------------------------------------------------------------------------

PROMPTS = ("def ", "class ", "import ", "    for ")


def main(argv: Sequence[str] | None = None) -> dict:
    parser = example_args(
        "char_lm",
        "GPT-style character language model of Python's standard library.",
        epochs=60, batch_size=32, lr=2e-3,
    )  # fmt: skip
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=100,
        help="training steps between validations (an 'epoch' here)",
    )
    parser.add_argument(
        "--train-minutes", type=float, default=17.0, help="stop training after this many minutes"
    )
    parser.add_argument("--context", type=int, default=128, help="characters per window")
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    parser.add_argument(
        "--valid-windows", type=int, default=512, help="validation windows of --context characters"
    )
    parser.add_argument("--sample-chars", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args(argv)  # fmt: skip
    if args.quick:
        args.epochs, args.steps_per_epoch, args.context = 2, 3, 32
        args.d_model, args.layers, args.valid_windows, args.sample_chars = 32, 1, 16, 20
    out = prepare_out(args.out)
    machine = run_environment()
    target_bits = 2.2

    with timer() as clock:
        corpus = load_corpus(max_files=40 if args.quick else None)
        train = corpus["train"]
        windows = validation_windows(corpus["valid"], args.valid_windows, args.context)
        baselines = ngram_bits_per_char(train, windows)

        model = CharGPT(VOCAB_SIZE, args.d_model, args.heads, args.layers,
                        dropout=args.dropout)  # fmt: skip
        key, init_key = fnn.random.split(fnn.random.key(args.seed))
        params = model.init(init_key, args.context)

        def loss_fn(params, batch, key):
            logits = model.apply(params, batch[:, :-1], key=key, train=True)
            loss = nn.losses.softmax_cross_entropy_with_integer_labels(logits, batch[:, 1:])
            return fnp.mean(loss), {}

        @fnn.jit
        def total_loss(params, inputs, targets):
            logits = model.apply(params, inputs)
            return fnp.sum(nn.losses.softmax_cross_entropy_with_integer_labels(logits, targets))

        optimizer = paper_adam(args.lr, args.warmup)
        step = make_train_step(loss_fn, optimizer)
        opt_state = optimizer.init(params)
        history = History()
        offsets = np.arange(args.context + 1)
        steps, train_start = 0, time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            bar = progress(
                total=args.steps_per_epoch, desc=f"epoch {epoch}/{args.epochs}", disable=args.quiet
            )
            losses = []
            for _ in range(args.steps_per_epoch):
                key, data_key, drop_key = fnn.random.split(key, 3)
                starts = np.asarray(fnn.random.randint(
                    data_key, (args.batch_size,), 0, len(train) - args.context - 1))  # fmt: skip
                batch = train[starts[:, None] + offsets].astype(np.int32)
                params, opt_state, loss, _ = step(params, opt_state, batch, drop_key)
                losses.append(float(loss))
                steps += 1
                bar.set_postfix(bits=losses[-1] / LN2)
                bar.update()
            bar.close()
            valid = model_bits_per_char(total_loss, params, windows, args.batch_size)
            train_bits = float(np.mean(losses)) / LN2
            history.append(epoch=epoch, step=steps, train_loss=train_bits, valid_loss=valid,
                           train_bits_per_char=train_bits, valid_bits_per_char=valid,
                           minutes=(time.perf_counter() - train_start) / 60)  # fmt: skip
            print(f"epoch {epoch} (step {steps}): train {train_bits:.3f}, validation "
                  f"{valid:.3f} bits/char")  # fmt: skip
            if time.perf_counter() - train_start > 60 * args.train_minutes:
                print(f"stopping: --train-minutes {args.train_minutes} reached")
                break
        train_minutes = (time.perf_counter() - train_start) / 60

        # Samples (a key per prompt), then cached vs uncached greedy generation, timed warm.
        gen = Generator(model)
        n = min(args.sample_chars, args.context - max(len(p) for p in PROMPTS))
        lines, greedy = [], {}
        for name, temperature in (("sampled", args.temperature), ("greedy", 0.0)):
            lines.append(f"==== {name} (temperature {temperature}, top-k {args.top_k}) ====")
            for i, p in enumerate(PROMPTS):
                ids = encode(p).astype(np.int32)[None]
                new = gen(params, ids, n, key=fnn.random.fold_in(key, i),
                          temperature=temperature, top_k=args.top_k)  # fmt: skip
                greedy[p] = new
                lines += [p + decode(new[0]), "-" * 40]
        (out / "samples.txt").write_text("\n".join(lines) + "\n")
        prompt = encode(PROMPTS[0]).astype(np.int32)[None]
        seconds = {}
        for cached in (True, False, False):  # the first uncached run compiles
            t0 = time.perf_counter()
            ids = gen(params, prompt, n, key=key, temperature=0.0, cached=cached)
            seconds[cached] = time.perf_counter() - t0
        same = bool((ids == greedy[PROMPTS[0]]).all())

    history.save_json(out / "history.json")
    plot_history(history, out / "loss.png", title="Char LM: bits per character")
    plot_bits(history, baselines, target_bits, out / "bits_per_char.png")
    final = history.last()
    metrics = {
        "valid_bits_per_char": final["valid_bits_per_char"],
        "train_bits_per_char": final["train_bits_per_char"],
        "unigram_bits_per_char": baselines["unigram"],
        "bigram_bits_per_char": baselines["bigram"],
        "target_bits_per_char": target_bits,
        "valid_chars_scored": int(windows[:, 1:].size),
        "train_chars": len(train),
        "valid_chars": len(corpus["valid"]),
        "train_files": len(corpus["train_files"]),
        "valid_files": len(corpus["valid_files"]),
        "steps": steps,
        "chars_seen": steps * args.batch_size * args.context,
        "train_minutes": train_minutes,
        "minutes": clock.seconds / 60,
        "cpu_minutes": cpu_minutes(),
        "generated_chars": n,
        "ms_per_char_cached": 1000 * seconds[True] / n,
        "ms_per_char_uncached": 1000 * seconds[False] / n,
        "greedy_cached_equals_uncached": same,
        "params": nn.param_count(params),
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "data_dir")},
        "machine": machine,
        "load_average_end": machine_info()["load_average"],
    }
    write_metrics(out / "metrics.json", metrics)
    print("\n".join(lines[: 2 * len(PROMPTS) + 1]))
    print(
        f"validation {metrics['valid_bits_per_char']:.3f} bits/char (unigram "
        f"{baselines['unigram']:.3f}, bigram {baselines['bigram']:.3f}, target {target_bits}); "
        f"{steps} steps, {train_minutes:.1f} min training, {metrics['minutes']:.1f} min total; "
        f"outputs in {out}"
    )
    return metrics


if __name__ == "__main__":
    main()
