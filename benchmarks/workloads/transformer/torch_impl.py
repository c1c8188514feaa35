"""The encoder step in PyTorch eager: F.layer_norm, fused scaled_dot_product_attention,
autograd backward and an in-place SGD update."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.workloads.transformer import HEADS, num_layers
from benchmarks.workloads.transformer.functional import EPS, LR


def _ln(p, name, x):
    return F.layer_norm(x, x.shape[-1:], p[f"{name}_g"], p[f"{name}_b"], EPS)


def _block(p, pre, x):
    b, s, d = x.shape
    h = _ln(p, f"{pre}_ln1", x)

    def proj(n):
        return (h @ p[f"{pre}_w{n}"] + p[f"{pre}_b{n}"]).view(b, s, HEADS, -1).transpose(1, 2)

    o = F.scaled_dot_product_attention(proj("q"), proj("k"), proj("v"))
    x = x + o.transpose(1, 2).reshape(b, s, d) @ p[f"{pre}_wo"] + p[f"{pre}_bo"]
    h = F.relu(_ln(p, f"{pre}_ln2", x) @ p[f"{pre}_w1"] + p[f"{pre}_b1"])
    return x + h @ p[f"{pre}_w2"] + p[f"{pre}_b2"]


def _loss(p, x, labels):
    for i in range(num_layers(p)):
        x = _block(p, f"l{i}", x)
    pooled = _ln(p, "lnf", x).mean(dim=1)
    return F.cross_entropy(pooled @ p["wc"] + p["bc"], labels)


def _tensors(data):
    p = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in data["params"].items()}
    return p, torch.from_numpy(data["batch"]["x"]), torch.from_numpy(data["labels"])


def build(data):
    params, x, labels = _tensors(data)

    def step(params):
        _loss(params, x, labels).backward()
        with torch.no_grad():
            for p in params.values():
                p.sub_(p.grad, alpha=LR)
                p.grad = None
        return params

    return step, params


def outputs(data):
    params, x, labels = _tensors(data)
    loss = _loss(params, x, labels)
    loss.backward()
    out = {"loss": loss.detach().numpy()}
    out |= {f"grad/{k}": p.grad.numpy().copy() for k, p in params.items()}
    step, state = build(data)
    return out | {f"updated/{k}": p.detach().numpy() for k, p in step(state).items()}
