"""The MLP step in hand-written numpy: forward, backward and in-place SGD."""

from __future__ import annotations

import numpy as np

from benchmarks.workloads.mlp.functional import LR


def softmax_xent(z: np.ndarray, y: np.ndarray):
    """Mean cross-entropy of logits ``z`` (overwritten) and its gradient w.r.t. ``z``."""
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.sum(y * (z - np.log(s))) / len(z)
    e /= s
    e -= y
    e /= len(z)
    return loss, e


def loss_and_grads(params: dict, x: np.ndarray, y: np.ndarray):
    n = len(params) // 2
    acts, h = [x], x
    for i in range(n):
        h = h @ params[f"w{i}"]
        h += params[f"b{i}"]
        if i < n - 1:
            np.maximum(h, 0, out=h)
            acts.append(h)
    loss, g = softmax_xent(h, y)
    grads = {}
    for i in reversed(range(n)):
        grads[f"w{i}"] = acts[i].T @ g
        grads[f"b{i}"] = g.sum(axis=0)
        if i:
            g = g @ params[f"w{i}"].T
            g *= acts[i] > 0  # ReLU: the activation is positive exactly where z was
    return loss, grads


def build(data):
    params = {k: v.copy() for k, v in data["params"].items()}
    x, y = data["batch"]["x"], data["batch"]["y"]

    def step(params):
        _, grads = loss_and_grads(params, x, y)
        for k, g in grads.items():
            g *= LR
            params[k] -= g
        return params

    return step, params


def outputs(data):
    loss, grads = loss_and_grads(data["params"], data["batch"]["x"], data["batch"]["y"])
    out = {"loss": np.asarray(loss)} | {f"grad/{k}": g for k, g in grads.items()}
    step, state = build(data)
    new = step(state)
    return out | {f"updated/{k}": v for k, v in new.items()}
