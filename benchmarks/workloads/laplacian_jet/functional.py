"""The Laplacian from d second-order Taylor series along the axes (``jet``) under ``vmap``:
the second coefficient of u(x + e_i t) is d^2u/dx_i^2."""

from __future__ import annotations

from benchmarks.workloads.laplacian.model import basis, mean_square, network

KIND = "value_and_grad"
NEEDS = ("vmap", "jet")


def loss(ops, params, batch):
    X = batch["x"]

    def u(x):
        return network(ops, params, x)

    def lap(x):
        zero = ops.np.zeros_like(x)
        total = 0.0
        for e in basis(X.shape[1], X.dtype):
            _, (_, second) = ops.jet(u, (x,), ((ops.np.asarray(e), zero),))
            total = total + second
        return total

    return mean_square(ops, ops.vmap(lap)(X))
