"""pinn: the Burgers inference loss of Raissi et al. and its parameter gradient.

u(t, x) is a 2-20x8-1 tanh network; the loss is the mean squared residual
``u_t + u u_x - (0.01/pi) u_xx`` at 10,000 collocation points plus the mean squared
misfit at 100 initial/boundary points. Points are rows ``(t, x)``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense

SIZES = {
    "bench": {"collocation": 10_000, "data": 100, "widths": (2,) + (20,) * 8 + (1,)},
    "test": {"collocation": 50, "data": 10, "widths": (2, 8, 8, 1)},
}
NU = 0.01 / np.pi


def make_data(seed=0, collocation=10_000, data=100, widths=(2,) + (20,) * 8 + (1,)) -> dict:
    """Glorot-scaled weights ``w0, b0, ...``, collocation points and initial/boundary data."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (m, n) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"w{i}"], params[f"b{i}"] = dense(rng, m, n, gain=2 * m / (m + n))
    lo, hi = np.array([0.0, -1.0]), np.array([1.0, 1.0])
    x_f = (lo + (hi - lo) * rng.random((collocation, 2))).astype(np.float32)
    # Half the data points on u(0, x) = -sin(pi x), half on the walls x = +-1 where u = 0.
    k = data // 2
    t0 = np.stack([np.zeros(k), rng.uniform(-1, 1, k)], axis=1)
    walls = np.stack([rng.random(data - k), rng.choice([-1.0, 1.0], data - k)], axis=1)
    x_u = np.concatenate([t0, walls]).astype(np.float32)
    u = np.where(x_u[:, 0] == 0, -np.sin(np.pi * x_u[:, 1]), 0.0).astype(np.float32)
    return {"params": params, "batch": {"x_f": x_f, "x_u": x_u, "u": u}}
