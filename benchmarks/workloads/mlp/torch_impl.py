"""The MLP step in PyTorch eager: autograd backward and an in-place SGD update."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.workloads.mlp.functional import LR


def _forward_loss(params, x, labels):
    n = len(params) // 2
    h = x
    for i in range(n):
        h = torch.addmm(params[f"b{i}"], h, params[f"w{i}"])
        if i < n - 1:
            h = F.relu(h)
    return F.cross_entropy(h, labels)


def _tensors(data):
    params = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in data["params"].items()}
    return params, torch.from_numpy(data["batch"]["x"]), torch.from_numpy(data["labels"])


def build(data):
    params, x, labels = _tensors(data)

    def step(params):
        loss = _forward_loss(params, x, labels)
        loss.backward()
        with torch.no_grad():
            for p in params.values():
                p.sub_(p.grad, alpha=LR)
                p.grad = None
        return params

    return step, params


def outputs(data):
    params, x, labels = _tensors(data)
    loss = _forward_loss(params, x, labels)
    loss.backward()
    out = {"loss": loss.detach().numpy()}
    out |= {f"grad/{k}": p.grad.numpy().copy() for k, p in params.items()}
    step, state = build(data)
    new = step(state)
    return out | {f"updated/{k}": p.detach().numpy() for k, p in new.items()}
