"""The Laplacian from d Hessian-vector products ``jvp(grad u, (x,), (e_i,))`` under ``vmap``:
component i of the i-th product is d^2u/dx_i^2."""

from __future__ import annotations

from benchmarks.workloads.laplacian.model import basis, mean_square, network

KIND = "value_and_grad"
NEEDS = ("vmap", "grad")


def loss(ops, params, batch):
    X = batch["x"]
    grad_u = ops.grad(lambda x: network(ops, params, x))

    def lap(x):
        total = 0.0
        for i, e in enumerate(basis(X.shape[1], X.dtype)):
            total = total + ops.jvp(grad_u, (x,), (e,))[1][i]
        return total

    return mean_square(ops, ops.vmap(lap)(X))
