"""The Laplacian as the trace of ``hessian`` (forward-over-reverse) under ``vmap``."""

from __future__ import annotations

from benchmarks.workloads.laplacian.model import mean_square, network

KIND = "value_and_grad"
NEEDS = ("vmap",)


def loss(ops, params, batch):
    def lap(x):
        return ops.np.trace(ops.hessian(lambda x_: network(ops, params, x_))(x))

    return mean_square(ops, ops.vmap(lap)(batch["x"]))
