"""The uxxx loss in float64 numpy, for the agreement test (not timed).

u_xxx propagates the first three derivatives along x through every layer by hand (for
y = tanh(z): y' = g1 z', y'' = g2 z'^2 + g1 z'', y''' = g3 z'^3 + 3 g2 z' z'' + g1 z'''),
and the parameter gradient is a central difference of that value.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads.laplacian.reference import central_gradient
from benchmarks.workloads.uxxx import LOWER, UPPER


def loss(params: dict, X: np.ndarray) -> float:
    """mean over the points of u_xxx**2, in float64."""
    n = len(params) // 2
    scale = 2.0 / (UPPER - LOWER).astype(np.float64)
    h = (X.astype(np.float64) - LOWER) * scale - 1.0
    d1 = np.broadcast_to(np.array([0.0, scale[1]]), h.shape)
    d2 = d3 = np.zeros_like(h)
    for i in range(n):
        w, b = params[f"w{i}"].astype(np.float64), params[f"b{i}"].astype(np.float64)
        z, z1, z2, z3 = h @ w + b, d1 @ w, d2 @ w, d3 @ w
        if i == n - 1:
            return float(np.mean(z3[:, 0] ** 2))
        s = np.tanh(z)
        g1 = 1 - s * s
        g2 = -2 * s * g1
        g3 = -2 * (g1 * g1 + s * g2)
        h, d1 = s, g1 * z1
        d2, d3 = g2 * z1**2 + g1 * z2, g3 * z1**3 + 3 * g2 * z1 * z2 + g1 * z3
    raise ValueError("the network needs at least one layer")


def outputs(data: dict) -> dict:
    """The loss and its gradient as the systems report them (``loss``, ``grad/<name>``)."""
    X = data["batch"]["x"]
    value = loss(data["params"], X)
    grads = central_gradient(lambda p: loss(p, X), data["params"])
    return {"loss": np.asarray(value)} | {f"grad/{k}": g for k, g in grads.items()}
