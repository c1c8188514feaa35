"""The Burgers PINN loss for fnn and JAX: u_t, u_x, u_xx by forward mode over the batch.

The network maps each row of X to its own value, so its Jacobian w.r.t. X is
block-diagonal: one ``jvp`` with the tangent "ones in column k" gives du/dX_k at every
point at once, and nesting it gives u_xx.
"""

from __future__ import annotations

from benchmarks.workloads.pinn import NU

KIND = "value_and_grad"


def network(ops, params, X):
    """The tanh MLP, (N, 2) -> (N,)."""
    n = len(params) // 2
    h = X
    for i in range(n - 1):
        h = ops.np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    return (h @ params[f"w{n - 1}"] + params[f"b{n - 1}"])[:, 0]


def unit(ops, X, k):
    """The tangent that is 1 in column k of every row, 0 elsewhere."""
    e = ops.np.asarray([1.0 if j == k else 0.0 for j in range(X.shape[1])], dtype=X.dtype)
    return ops.np.broadcast_to(e, X.shape)


def loss(ops, params, batch):
    X = batch["x_f"]
    e_t, e_x = unit(ops, X, 0), unit(ops, X, 1)

    def u(X):
        return network(ops, params, X)

    def u_x(X):
        return ops.jvp(u, (X,), (e_x,))[1]

    u_val, ut = ops.jvp(u, (X,), (e_t,))
    ux, uxx = ops.jvp(u_x, (X,), (e_x,))
    f = ut + u_val * ux - NU * uxx
    misfit = network(ops, params, batch["x_u"]) - batch["u"]
    return ops.np.mean(misfit**2) + ops.np.mean(f**2)
