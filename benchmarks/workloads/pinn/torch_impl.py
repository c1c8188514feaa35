"""The Burgers PINN loss and gradient in PyTorch eager, the usual way: u_t and u_x from
one ``autograd.grad`` of sum(u) w.r.t. the points, u_xx from a second, then backward."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.workloads.pinn import NU


def _network(p, X):
    n = len(p) // 2
    h = X
    for i in range(n - 1):
        h = torch.tanh(torch.addmm(p[f"b{i}"], h, p[f"w{i}"]))
    return torch.addmm(p[f"b{n - 1}"], h, p[f"w{n - 1}"])[:, 0]


def _loss(p, x_f, x_u, u_data):
    X = x_f.detach().requires_grad_()
    u = _network(p, X)
    (du,) = torch.autograd.grad(u.sum(), X, create_graph=True)
    u_t, u_x = du[:, 0], du[:, 1]
    (d2u,) = torch.autograd.grad(u_x.sum(), X, create_graph=True)
    f = u_t + u * u_x - NU * d2u[:, 1]
    return torch.mean((_network(p, x_u) - u_data) ** 2) + torch.mean(f**2)


def _tensors(data):
    p = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in data["params"].items()}
    b = data["batch"]
    return p, torch.from_numpy(b["x_f"]), torch.from_numpy(b["x_u"]), torch.from_numpy(b["u"])


def _loss_and_grads(p, *batch):
    loss = _loss(p, *batch)
    grads = torch.autograd.grad(loss, list(p.values()))
    return loss, dict(zip(p, grads))


def build(data):
    p, *batch = _tensors(data)

    def step(state):
        _loss_and_grads(p, *batch)
        return state

    return step, None


def outputs(data):
    p, *batch = _tensors(data)
    loss, grads = _loss_and_grads(p, *batch)
    return {"loss": loss.detach().numpy()} | {
        f"grad/{k}": np.asarray(g.detach().numpy()) for k, g in grads.items()
    }
