"""The uxxx group: the third derivative u_xxx of the Burgers network at 10,000 points.

u(t, x) is examples/pinn_burgers.py's network: inputs mapped from [0, 1] x [-1, 1] to
[-1, 1]^2, then 2-20x8-1 tanh. One step is the value and parameter gradient of
``mean(u_xxx**2)``. The ``uxxx_*`` workloads (``run.py --only uxxx`` runs them all)
compute this same loss by different means:

* ``uxxx_taylor``: Taylor mode, one third-order series along x (``fnn.jet``,
  ``jax.experimental.jet``);
* ``uxxx_pde``: ``fnn.pde.derivatives(..., {"x": 3})``, which picks Taylor mode itself;
* ``uxxx_nested``: three nested ``jvp`` along x (fnn, JAX), and PyTorch's idiom, three
  nested ``autograd.grad`` of sums.

Points are rows ``(t, x)``; the direction "ones in column 1" differentiates every row
along x at once (each row's value depends on that row alone).
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense

SIZES = {
    "bench": {"points": 10_000, "widths": (2,) + (20,) * 8 + (1,)},
    "test": {"points": 7, "widths": (2, 6, 6, 1)},
}
LOWER = np.array([0.0, -1.0], np.float32)
UPPER = np.array([1.0, 1.0], np.float32)


def make_data(seed=0, points=10_000, widths=(2,) + (20,) * 8 + (1,)) -> dict:
    """Glorot-scaled weights ``w0, b0, ...`` and points uniform in [0, 1] x [-1, 1]."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (m, n) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"w{i}"], params[f"b{i}"] = dense(rng, m, n, gain=2 * m / (m + n))
    x = (LOWER + (UPPER - LOWER) * rng.random((points, 2))).astype(np.float32)
    return {"params": params, "batch": {"x": x}}
