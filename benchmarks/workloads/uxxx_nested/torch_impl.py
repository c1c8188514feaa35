"""u_xxx in PyTorch as PINN codes write it: three nested ``autograd.grad`` of sums along
x (each row's value depends on its own point), then the parameter gradient."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.workloads.uxxx import LOWER, UPPER

SCALE = torch.from_numpy((2.0 / (UPPER - LOWER)).astype(np.float32))
LO = torch.from_numpy(LOWER)


def _network(p, X):
    n = len(p) // 2
    h = (X - LO) * SCALE - 1.0
    for i in range(n - 1):
        h = torch.tanh(torch.addmm(p[f"b{i}"], h, p[f"w{i}"]))
    return torch.addmm(p[f"b{n - 1}"], h, p[f"w{n - 1}"])[:, 0]


def _loss_and_grads(p, X):
    X = X.detach().requires_grad_()
    v = _network(p, X)
    for _ in range(3):
        (dv,) = torch.autograd.grad(v.sum(), X, create_graph=True)
        v = dv[:, 1]
    loss = torch.mean(v * v)
    # The last bias does not reach a derivative: its gradient is zero.
    grads = torch.autograd.grad(loss, list(p.values()), allow_unused=True, materialize_grads=True)
    return loss, dict(zip(p, grads))


def _tensors(data):
    p = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in data["params"].items()}
    return p, torch.from_numpy(data["batch"]["x"])


def build(data):
    p, X = _tensors(data)

    def step(state):
        _loss_and_grads(p, X)
        return state

    return step, None


def outputs(data):
    loss, grads = _loss_and_grads(*_tensors(data))
    return {"loss": loss.detach().numpy()} | {
        f"grad/{k}": np.asarray(g.numpy()) for k, g in grads.items()
    }
