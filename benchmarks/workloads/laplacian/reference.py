"""The laplacian loss in float64 numpy, for the agreement test (not timed).

The value propagates each layer's value h, Jacobian J = dh/dx and Laplacian L by hand
(through tanh: J' = s' J, L' = s' L + s'' sum_k J_k**2); the parameter gradient is a
central difference of that value, independent of every autodiff system measured.
"""

from __future__ import annotations

import numpy as np


def loss(params: dict, x: np.ndarray) -> float:
    """mean over the points of (laplacian u)**2, in float64."""
    n = len(params) // 2
    h = x.astype(np.float64)
    J = np.broadcast_to(np.eye(x.shape[1]), (len(x), x.shape[1], x.shape[1]))  # (N, d, w)
    L = np.zeros_like(h)
    for i in range(n):
        w, b = params[f"w{i}"].astype(np.float64), params[f"b{i}"].astype(np.float64)
        z, Jz, Lz = h @ w + b, J @ w, L @ w
        if i == n - 1:
            return float(np.mean(Lz[:, 0] ** 2))
        s = np.tanh(z)
        ds = 1 - s * s
        h, J, L = s, ds[:, None, :] * Jz, ds * Lz - 2 * s * ds * np.sum(Jz * Jz, axis=1)
    raise ValueError("the network needs at least one layer")


def central_gradient(loss_fn, params: dict, eps: float = 1e-6) -> dict:
    """d loss / d params by central differences in float64, entry by entry."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    grads = {}
    for k, v in p.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + eps
            up = loss_fn(p)
            v[idx] = old - eps
            down = loss_fn(p)
            v[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads[k] = g
    return grads


def outputs(data: dict) -> dict:
    """The loss and its gradient as the systems report them (``loss``, ``grad/<name>``)."""
    x = data["batch"]["x"]
    value = loss(data["params"], x)
    grads = central_gradient(lambda p: loss(p, x), data["params"])
    return {"loss": np.asarray(value)} | {f"grad/{k}": g for k, g in grads.items()}
