"""The Burgers network and the x direction, shared by the ``uxxx*`` workloads (fnn, JAX)."""

from __future__ import annotations

import numpy as np

from benchmarks.workloads.uxxx import LOWER, UPPER

SCALE = (2.0 / (UPPER - LOWER)).astype(np.float32)


def network(ops, params, X):
    """(N, 2) rows (t, x) -> (N,): mapped to [-1, 1]^2, then the tanh MLP."""
    n = len(params) // 2
    h = (X - LOWER) * SCALE - 1.0
    for i in range(n - 1):
        h = ops.np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    return (h @ params[f"w{n - 1}"] + params[f"b{n - 1}"])[:, 0]


def along_x(shape, dtype) -> np.ndarray:
    """Ones in column 1 (x) of every row: the tangent that gives d/dx at every point."""
    e = np.zeros(shape, dtype)
    e[:, 1] = 1.0
    return e


def mean_square(ops, v):
    return ops.np.mean(v * v)
