"""The laplacian group: the Laplacian of a tanh MLP in d = 16 inputs.

u(x) is a 16-128x4-1 tanh network of one point x; one step is the value and parameter
gradient of ``mean_n (laplacian u(x_n))**2`` over 1,024 points. The ``laplacian_*``
workloads (``run.py --only laplacian`` runs them all) compute this same loss, each by
one idiom:

* ``laplacian_forward``: ``fnn.laplacian`` (the forward Laplacian) under ``vmap``;
* ``laplacian_directional``: ``fnn.directional_laplacian`` on the whole batch, along the
  directions E_k (ones in column k of every row);
* ``laplacian_hessian``: the trace of ``hessian`` under ``vmap`` (fnn, JAX, and
  ``torch.func.vmap(torch.func.hessian)``);
* ``laplacian_hvp``: d forward-over-reverse Hessian-vector products ``jvp(grad u, e_i)``
  under ``vmap`` (fnn, JAX), and PyTorch's plain autograd: d reverse-over-reverse products;
* ``laplacian_jet``: d second-order Taylor series ``jet(u, x, (e_i, 0))`` under ``vmap``
  (``fnn.jet``, ``jax.experimental.jet``).

They share this package's data; ``model.py`` holds the network (``_torch.py`` for PyTorch).
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense

SIZES = {
    "bench": {"points": 1024, "widths": (16,) + (128,) * 4 + (1,)},
    "test": {"points": 6, "widths": (3, 5, 5, 1)},
}


def make_data(seed=0, points=1024, widths=(16,) + (128,) * 4 + (1,)) -> dict:
    """Weights ``w0, b0, ...`` (variance 1 / fan_in) and points uniform in [-1, 1]^d."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (m, n) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"w{i}"], params[f"b{i}"] = dense(rng, m, n, gain=1.0)
    x = rng.uniform(-1.0, 1.0, (points, widths[0])).astype(np.float32)
    return {"params": params, "batch": {"x": x}}
