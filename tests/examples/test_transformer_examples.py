"""The three Transformer examples: --quick runs end to end, and the pieces they rely on.

The --quick runs are real programs (``python examples/NAME.py --quick --out DIR`` in a
subprocess), as CI runs them. The other tests import the examples' functions: the
encoder task's labels against a direct check, the reversal data, and the char LM's
key-value-cached generation against generation that recomputes every prefix.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 300  # seconds per run: generous, the shared CI machine is often busy

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

import char_lm  # noqa: E402
import transformer_encoder as encoder  # noqa: E402
import transformer_seq2seq as seq2seq  # noqa: E402
from _stdlib_text import VOCAB_SIZE, decode, encode, is_validation  # noqa: E402


def _run_quick(name: str, out: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)  # fmt: skip
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited with {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
    assert proc.stdout.strip(), "the example printed no summary"
    return json.loads((out / "metrics.json").read_text())


def _check_pngs(out: Path, names: list[str]) -> None:
    for name in names:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, f"{name} is not a real PNG"


def _check_history(out: Path, keys: list[str]) -> None:
    history = json.loads((out / "history.json").read_text())
    for key in keys:
        assert history[key] and all(math.isfinite(v) for v in history[key]), key


# -- --quick runs ---------------------------------------------------------------------------


def test_encoder_quick_run(tmp_path):
    m = _run_quick("transformer_encoder", tmp_path)
    assert 0.0 <= m["test_accuracy"] <= 1.0
    assert m["test_errors"] == round((1 - m["test_accuracy"]) * m["test_size"])
    assert set(m["accuracy_by_kind"]) == set(encoder.KIND_NAMES)
    assert m["steps"] > 0 and m["minutes"] > 0 and m["params"] > 0
    assert m["machine"]["cpus"] >= 1
    _check_history(tmp_path, ["train_loss", "test_loss", "test_accuracy"])
    _check_pngs(tmp_path, ["loss.png", "attention.png"])


def test_char_lm_quick_run(tmp_path):
    m = _run_quick("char_lm", tmp_path)
    # A uniform guess over the alphabet costs log2(98) = 6.6 bits; the baselines beat it.
    assert m["bigram_bits_per_char"] < m["unigram_bits_per_char"] < math.log2(VOCAB_SIZE)
    assert 0.0 < m["valid_bits_per_char"] < 10.0
    assert m["valid_files"] >= 1 and m["train_files"] > m["valid_files"]
    assert m["greedy_cached_equals_uncached"] is True
    assert m["ms_per_char_cached"] > 0 and m["ms_per_char_uncached"] > 0
    samples = (tmp_path / "samples.txt").read_text()
    assert all(p in samples for p in char_lm.PROMPTS)
    _check_history(tmp_path, ["train_bits_per_char", "valid_bits_per_char"])
    _check_pngs(tmp_path, ["loss.png", "bits_per_char.png"])


def test_seq2seq_quick_run(tmp_path):
    m = _run_quick("transformer_seq2seq", tmp_path)
    assert 0.0 <= m["test_exact_match"] <= 1.0
    assert m["test_exact_match_unseen_lengths"] is not None
    assert set(m["unseen_lengths"]).isdisjoint(m["train_lengths"])
    assert {int(n) for n in m["exact_match_by_length"]} <= set(range(4, 17))
    _check_history(tmp_path, ["train_loss", "test_loss", "test_exact_match_accuracy"])
    _check_pngs(tmp_path, ["loss.png", "cross_attention.png"])


# -- the encoder's task ----------------------------------------------------------------------


def test_encoder_labels_match_a_direct_check():
    data = encoder.make_dataset(3000, np.random.default_rng(1))
    for tokens, label, length in zip(data["tokens"], data["label"], data["length"]):
        assert encoder.is_sorted(tokens) == bool(label)
        assert (tokens[:length] != encoder.PAD).all() and (tokens[length:] == encoder.PAD).all()
    assert 0.4 < data["label"].mean() < 0.6
    assert set(np.unique(data["length"])) == set(range(4, encoder.MAX_LEN + 1))


def test_encoder_hard_negatives_keep_the_digit_counts_of_a_sorted_sequence():
    rows = encoder.unsorted_rows(200, 10, "swapped", np.random.default_rng(0))
    assert all(not encoder.is_sorted(r) for r in rows)
    # Sorting a swapped row undoes one adjacent swap: exactly two positions differ.
    assert ((np.sort(rows, axis=1) != rows).sum(axis=1) == 2).all()


# -- the seq2seq task ------------------------------------------------------------------------


def test_seq2seq_targets_are_the_reversed_source_then_eos():
    data = seq2seq.make_examples(300, range(4, 17), np.random.default_rng(0))
    for src, tgt_in, tgt_out, n in zip(
        data["src"], data["tgt_in"], data["tgt_out"], data["length"]
    ):
        text = seq2seq.to_text(src)
        assert len(text) == n
        assert seq2seq.to_text(tgt_out) == text[::-1] and tgt_out[n] == seq2seq.EOS
        assert tgt_in[0] == seq2seq.BOS and seq2seq.to_text(tgt_in[1:]) == text[::-1]
    assert seq2seq.exact_match(data["tgt_out"], data["tgt_out"]).all()
    wrong = data["tgt_out"].copy()
    wrong[np.arange(len(wrong)), data["length"]] = seq2seq.DIGIT0  # no EOS where it belongs
    assert not seq2seq.exact_match(wrong, data["tgt_out"]).any()


# -- the char LM: corpus split and cached generation -----------------------------------------


def test_text_encoding_round_trips_and_the_split_is_by_path_hash():
    text = "def f(x):\n\treturn x ~ 1\n"
    assert decode(encode(text)) == text
    assert decode(encode("é")) == "\N{REPLACEMENT CHARACTER}"
    assert is_validation("ast.py") == is_validation("ast.py")
    held_out = sum(is_validation(f"pkg/module_{i}.py") for i in range(2000))
    assert 60 < held_out < 140  # about 1 in 20


@pytest.fixture(scope="module")
def small_lm():
    model = char_lm.CharGPT(VOCAB_SIZE, d_model=32, num_heads=4, num_layers=2)
    params = model.init(fnn.random.key(3), 16)
    return model, params


def test_cached_decoding_gives_the_full_forward_logits(small_lm):
    model, params = small_lm
    tokens = fnp.asarray(np.random.default_rng(0).integers(1, VOCAB_SIZE, (2, 12)), fnp.int32)
    full = np.asarray(model.apply(params, tokens))
    cache = model.init_cache(2, 12)
    logits, cache = model.decode(params, tokens[:, :5], cache)  # prefill 5 positions
    steps = [np.asarray(logits)]
    for t in range(5, 12):
        logits, cache = model.decode(params, tokens[:, t : t + 1], cache)
        steps.append(np.asarray(logits))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=1e-4, atol=1e-4)
    assert int(cache["index"]) == 12


@pytest.mark.parametrize("temperature, top_k", [(0.0, None), (0.8, 5)])
def test_cached_and_uncached_generation_give_the_same_characters(small_lm, temperature, top_k):
    model, params = small_lm
    gen = char_lm.Generator(model)
    prompt = encode("def f").astype(np.int32)[None]
    key = fnn.random.key(7)
    kw = {"key": key, "temperature": temperature, "top_k": top_k}
    cached = gen(params, prompt, 24, cached=True, **kw)
    uncached = gen(params, prompt, 24, cached=False, **kw)
    assert cached.shape == (1, 24)
    assert decode(cached[0]) == decode(uncached[0])


def test_top_k_sampling_only_draws_the_k_most_likely():
    logits = fnp.asarray(np.tile(np.arange(10.0, dtype=np.float32), (400, 1)))
    keys = fnn.random.split(fnn.random.key(0), 1)
    drawn = np.asarray(char_lm.choose_next(logits, keys[0], 1.0, 3))
    assert set(np.unique(drawn)) == {7, 8, 9}
