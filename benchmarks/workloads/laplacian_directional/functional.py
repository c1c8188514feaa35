"""The forward Laplacian on the whole batch: ``fnn.directional_laplacian`` along E_k.

The network maps each row of X (N, d) to its own value, so the second derivative of the
batch along E_k (ones in column k of every row) is every point's d^2u/dx_k^2 at once.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads.laplacian.model import mean_square, network

KIND = "value_and_grad"
NEEDS = ("directional_laplacian",)


def directions(shape, dtype) -> np.ndarray:
    """E (d, N, d): E[k] is ones in column k, zeros elsewhere (a constant, not traced)."""
    n, d = shape
    return np.ascontiguousarray(np.broadcast_to(np.eye(d, dtype=dtype)[:, None, :], (d, n, d)))


def loss(ops, params, batch):
    X = batch["x"]
    E = directions(X.shape, np.float32)
    lap = ops.directional_laplacian(lambda X_: network(ops, params, X_), E)(X)
    return mean_square(ops, lap)
