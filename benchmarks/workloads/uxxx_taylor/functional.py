"""u_xxx by Taylor mode: one third-order series along x, ``jet(u, X, (e_x, 0, 0))``."""

from __future__ import annotations

from benchmarks.workloads.uxxx.model import along_x, mean_square, network

KIND = "value_and_grad"
NEEDS = ("jet",)


def loss(ops, params, batch):
    X = batch["x"]
    e = ops.np.asarray(along_x(X.shape, X.dtype))
    zero = ops.np.zeros_like(X)
    _, (_, _, u_xxx) = ops.jet(lambda X_: network(ops, params, X_), (X,), ((e, zero, zero),))
    return mean_square(ops, u_xxx)
