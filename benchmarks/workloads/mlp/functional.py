"""The MLP loss for fnn and JAX (one source, so both compute the same thing)."""

from __future__ import annotations

KIND = "sgd"
LR = 0.01


def log_softmax(ops, z):
    """``z - logsumexp(z)`` along the last axis; the shift by the max carries no gradient."""
    xp = ops.np
    z = z - ops.stop_gradient(xp.max(z, axis=-1, keepdims=True))
    return z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))


def cross_entropy(ops, logits, y):
    """Mean softmax cross-entropy against one-hot rows ``y``."""
    return -ops.np.mean(ops.np.sum(y * log_softmax(ops, logits), axis=-1))


def loss(ops, params, batch):
    h = batch["x"]
    n = len(params) // 2
    for i in range(n):
        h = h @ params[f"w{i}"] + params[f"b{i}"]
        if i < n - 1:
            h = ops.relu(h)
    return cross_entropy(ops, h, batch["y"])
