"""u_xxx as a PINN user asks for it: ``fnn.pde.derivatives(u, params, X, {"x": 3})``
(method "auto", which takes Taylor mode for a derivative along one axis)."""

from __future__ import annotations

from benchmarks.workloads.uxxx.model import mean_square, network

KIND = "value_and_grad"
NEEDS = ("derivatives",)


def loss(ops, params, batch):
    def u(p, X):
        return network(ops, p, X)

    d = ops.derivatives(u, params, batch["x"], {"x": 3}, coords=("t", "x"))
    return mean_square(ops, d["u_xxx"])
