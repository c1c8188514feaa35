"""The convnet step in PyTorch eager (NCHW conv2d / max_pool2d, the library's native layout).

Parameters arrive in the shared NHWC / HWIO layout and are converted once; the dense
layer after the convolutions keeps the shared (H, W, C) flattening order by permuting
the activations, so that every system trains the same function.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.workloads.cnn import KERNEL
from benchmarks.workloads.cnn.functional import LR


def _forward_loss(p, x, labels):
    h = x
    for i in range(2):
        h = F.max_pool2d(F.relu(F.conv2d(h, p[f"c{i}"], p[f"cb{i}"], padding=KERNEL // 2)), 2)
    h = h.permute(0, 2, 3, 1).flatten(1)
    h = F.relu(torch.addmm(p["b2"], h, p["w2"]))
    return F.cross_entropy(torch.addmm(p["b3"], h, p["w3"]), labels)


def _to_torch(k, v):
    if k in ("c0", "c1"):  # HWIO -> OIHW
        v = v.transpose(3, 2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(v)).requires_grad_()


def _from_torch(k, t):
    v = t.detach().numpy()
    return v.transpose(2, 3, 1, 0) if k in ("c0", "c1") else v


def _tensors(data):
    params = {k: _to_torch(k, v) for k, v in data["params"].items()}
    x = torch.from_numpy(np.ascontiguousarray(data["batch"]["x"].transpose(0, 3, 1, 2)))
    return params, x, torch.from_numpy(data["labels"])


def build(data):
    params, x, labels = _tensors(data)

    def step(params):
        _forward_loss(params, x, labels).backward()
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
    out |= {f"grad/{k}": _from_torch(k, p.grad).copy() for k, p in params.items()}
    step, state = build(data)
    return out | {f"updated/{k}": _from_torch(k, p) for k, p in step(state).items()}
