"""u_xxx by three nested ``jvp`` along x (forward over forward over forward)."""

from __future__ import annotations

from benchmarks.workloads.uxxx.model import along_x, mean_square, network

KIND = "value_and_grad"


def loss(ops, params, batch):
    X = batch["x"]
    e = ops.np.asarray(along_x(X.shape, X.dtype))

    def d_dx(f):
        return lambda X_: ops.jvp(f, (X_,), (e,))[1]

    u_xxx = d_dx(d_dx(d_dx(lambda X_: network(ops, params, X_))))(X)
    return mean_square(ops, u_xxx)
