"""mlp: one SGD step of a 784-512-512-10 ReLU network, softmax cross-entropy, batch 128."""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense, one_hot

SIZES = {
    "bench": {"batch": 128, "widths": (784, 512, 512, 10)},
    "test": {"batch": 8, "widths": (20, 16, 12, 5)},
}


def make_data(seed: int = 0, batch: int = 128, widths=(784, 512, 512, 10)) -> dict:
    """Params ``w0, b0, ...`` (Dense layout: x @ w + b), inputs x and labels."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (m, n) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"w{i}"], params[f"b{i}"] = dense(rng, m, n)
    labels, y = one_hot(rng, batch, widths[-1])
    x = rng.random((batch, widths[0]), dtype=np.float32)
    return {"params": params, "batch": {"x": x, "y": y}, "labels": labels}
