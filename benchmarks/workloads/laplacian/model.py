"""The network and loss shared by the ``laplacian*`` workloads (fnn and JAX)."""

from __future__ import annotations

import numpy as np


def network(ops, params, x):
    """The tanh MLP: one point (d,) -> a scalar, or a batch (N, d) -> (N,)."""
    n = len(params) // 2
    h = x
    for i in range(n - 1):
        h = ops.np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    return (h @ params[f"w{n - 1}"] + params[f"b{n - 1}"])[..., 0]


def basis(d: int, dtype) -> list[np.ndarray]:
    """The coordinate axes e_0 .. e_{d-1} of R^d."""
    return list(np.eye(d, dtype=dtype))


def mean_square(ops, lap):
    """The step's loss from the Laplacians at every point."""
    return ops.np.mean(lap * lap)
