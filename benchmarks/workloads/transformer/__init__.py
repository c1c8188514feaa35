"""transformer: one SGD step of a 2-layer pre-LayerNorm encoder and a classifier.

d_model 128, 4 heads, feed-forward 512 (ReLU), sequence 64, batch 32; each block is
``x + MHA(LN(x))`` then ``x + FF(LN(x))``; a final LayerNorm, a mean over the sequence
and a dense layer give 10 logits; softmax cross-entropy. Inputs are already-embedded
float32 vectors (no token lookup, so every system times the same dense work).
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense, one_hot

HEADS = 4
SIZES = {
    "bench": {"batch": 32, "seq": 64, "d_model": 128, "ff": 512, "layers": 2, "classes": 10},
    "test": {"batch": 2, "seq": 5, "d_model": 16, "ff": 24, "layers": 2, "classes": 3},
}


def make_data(seed=0, batch=32, seq=64, d_model=128, ff=512, layers=2, classes=10) -> dict:
    """A flat dict of params ``l{i}_{name}``, ``lnf_*``, ``wc``/``bc``; inputs (B, S, D)."""
    rng = np.random.default_rng(seed)
    p = {}

    def norm(name):  # LayerNorm scale near 1 and a small shift, so both gradients matter
        p[f"{name}_g"] = (1 + 0.1 * rng.standard_normal(d_model)).astype(np.float32)
        p[f"{name}_b"] = (0.1 * rng.standard_normal(d_model)).astype(np.float32)

    for i in range(layers):
        norm(f"l{i}_ln1")
        for n in "qkvo":
            p[f"l{i}_w{n}"], p[f"l{i}_b{n}"] = dense(rng, d_model, d_model, gain=1.0)
        norm(f"l{i}_ln2")
        p[f"l{i}_w1"], p[f"l{i}_b1"] = dense(rng, d_model, ff)
        p[f"l{i}_w2"], p[f"l{i}_b2"] = dense(rng, ff, d_model, gain=1.0)
    norm("lnf")
    p["wc"], p["bc"] = dense(rng, d_model, classes, gain=1.0)
    labels, y = one_hot(rng, batch, classes)
    x = rng.standard_normal((batch, seq, d_model)).astype(np.float32)
    return {"params": p, "batch": {"x": x, "y": y}, "labels": labels}


def num_layers(params: dict) -> int:
    return sum(1 for k in params if k.endswith("_ln1_g"))
