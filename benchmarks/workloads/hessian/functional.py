"""The Hessian workload's scalar function for fnn and JAX (``ops.hessian`` of it is timed)."""

from __future__ import annotations

KIND = "hessian"


def loss(ops, x, batch):
    n = (len(batch) - 1) // 2
    h = x
    for i in range(n):
        h = h @ batch[f"w{i}"] + batch[f"b{i}"]
        if i < n - 1:
            h = ops.np.tanh(h)
    r = h - batch["target"]
    return 0.5 * ops.np.sum(r * r)
