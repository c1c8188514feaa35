"""hessian: the full 200x200 Hessian of a small tanh MLP's squared loss w.r.t. its input.

f(x) = 0.5 ||W3 tanh(W2 tanh(W1 x + b1) + b2) + b3 - target||^2 with widths
200-128-128-10, computed forward-over-reverse (``hessian = jacfwd(jacrev)``). The
differentiated "params" are the input vector x; the weights and target are the batch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense

SIZES = {
    "bench": {"widths": (200, 128, 128, 10)},
    "test": {"widths": (7, 6, 5, 3)},
}


def make_data(seed=0, widths=(200, 128, 128, 10)) -> dict:
    rng = np.random.default_rng(seed)
    batch = {}
    for i, (m, n) in enumerate(zip(widths[:-1], widths[1:])):
        batch[f"w{i}"], batch[f"b{i}"] = dense(rng, m, n, gain=1.0)
    batch["target"] = rng.standard_normal(widths[-1]).astype(np.float32)
    x = rng.standard_normal(widths[0]).astype(np.float32)
    return {"params": x, "batch": batch}
