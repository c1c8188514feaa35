"""The Burgers PINN loss and gradient in hand-written numpy.

Forward mode by hand: each layer carries four streams of N rows stacked into one
(4N, width) array, ``[a; a_t; a_x; a_xx]`` (value, d/dt, d/dx, d2/dx2), so a layer is
one matmul. Through ``s = tanh(z)`` with ``d = 1 - s^2`` and ``d' = -2 s d``:
``a_t = d z_t``, ``a_x = d z_x``, ``a_xx = d z_xx + d' z_x^2``. The reverse pass
differentiates exactly these formulas; the 100 data points take a plain MLP pass.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads.pinn import NU


def _split(a, n):
    return a[:n], a[n : 2 * n], a[2 * n : 3 * n], a[3 * n :]


def streams_forward(p, X):
    """The tape of every tanh layer, the output layer's input and (u, u_t, u_x, u_xx)."""
    n, layers = len(X), len(p) // 2
    A = np.zeros((4 * n, X.shape[1]), np.float32)
    A[:n], A[n : 2 * n, 0], A[2 * n : 3 * n, 1] = X, 1.0, 1.0
    tape = []
    for i in range(layers - 1):
        Z = A @ p[f"w{i}"]
        Z[:n] += p[f"b{i}"]
        z, zt, zx, zxx = _split(Z, n)
        s = np.tanh(z)
        d = 1 - s * s
        dd = -2 * s * d
        tape.append((A, Z, s, d, dd))
        A = np.empty_like(Z)
        a, at, ax, axx = _split(A, n)
        a[...] = s
        np.multiply(d, zt, out=at)
        np.multiply(d, zx, out=ax)
        np.multiply(d, zxx, out=axx)
        axx += dd * zx * zx
    out = A @ p[f"w{layers - 1}"]
    out[:n] += p[f"b{layers - 1}"]
    return tape, A, _split(out[:, 0], n)


def streams_backward(p, tape, A_last, G, grads):
    """Add the parameter gradients for output cotangents G, shape (4N, 1)."""
    n, last = len(G) // 4, len(p) // 2 - 1
    grads[f"w{last}"] += A_last.T @ G
    grads[f"b{last}"] += G[:n].sum(axis=0)
    GA = G @ p[f"w{last}"].T
    for i in reversed(range(last)):
        A, Z, s, d, dd = tape[i]
        _, zt, zx, zxx = _split(Z, n)
        ga, gat, gax, gaxx = _split(GA, n)
        GZ = np.empty_like(GA)
        gz, gzt, gzx, gzxx = _split(GZ, n)
        np.multiply(gat, d, out=gzt)
        np.multiply(gaxx, d, out=gzxx)
        np.multiply(gax, d, out=gzx)
        gzx += 2 * gaxx * dd * zx
        g_d = gat * zt + gax * zx + gaxx * zxx  # cotangent of d = 1 - s^2
        g_dd = gaxx * zx * zx  # cotangent of d' = -2 s + 2 s^3
        np.multiply(ga - 2 * s * g_d + g_dd * (6 * s * s - 2), d, out=gz)
        grads[f"w{i}"] += A.T @ GZ
        grads[f"b{i}"] += gz.sum(axis=0)
        if i:
            GA = GZ @ p[f"w{i}"].T


def mlp_forward(p, X):
    layers = len(p) // 2
    acts = [X]
    for i in range(layers - 1):
        acts.append(np.tanh(acts[-1] @ p[f"w{i}"] + p[f"b{i}"]))
    return acts, (acts[-1] @ p[f"w{layers - 1}"] + p[f"b{layers - 1}"])[:, 0]


def mlp_backward(p, acts, g, grads):
    g = g[:, None]
    for i in reversed(range(len(p) // 2)):
        grads[f"w{i}"] += acts[i].T @ g
        grads[f"b{i}"] += g.sum(axis=0)
        if i:
            g = (g @ p[f"w{i}"].T) * (1 - acts[i] ** 2)


def loss_and_grads(p, batch):
    x_f, x_u, u_data = batch["x_f"], batch["x_u"], batch["u"]
    tape, A_last, (u, ut, ux, uxx) = streams_forward(p, x_f)
    f = ut + u * ux - NU * uxx
    acts, u_pred = mlp_forward(p, x_u)
    misfit = u_pred - u_data
    loss = np.mean(misfit**2) + np.mean(f**2)
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    gf = (2 / len(f)) * f
    G = np.concatenate([gf * ux, gf, gf * u, -NU * gf])[:, None]
    streams_backward(p, tape, A_last, G, grads)
    mlp_backward(p, acts, (2 / len(misfit)) * misfit, grads)
    return loss, grads


def build(data):
    params, batch = data["params"], data["batch"]

    def step(state):
        loss_and_grads(params, batch)
        return state

    return step, None


def outputs(data):
    loss, grads = loss_and_grads(data["params"], data["batch"])
    return {"loss": np.asarray(loss)} | {f"grad/{k}": g for k, g in grads.items()}
