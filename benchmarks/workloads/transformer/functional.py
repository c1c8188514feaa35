"""The encoder loss for fnn and JAX, in the einsum style of Flax's attention."""

from __future__ import annotations

import math

from benchmarks.workloads.mlp.functional import cross_entropy
from benchmarks.workloads.transformer import HEADS, num_layers

KIND = "sgd"
LR = 0.01
EPS = 1e-5


def layer_norm(ops, x, g, b):
    xp = ops.np
    xc = x - xp.mean(x, axis=-1, keepdims=True)
    var = xp.mean(xc * xc, axis=-1, keepdims=True)
    return xc / xp.sqrt(var + EPS) * g + b


def softmax(ops, s):
    xp = ops.np
    e = xp.exp(s - ops.stop_gradient(xp.max(s, axis=-1, keepdims=True)))
    return e / xp.sum(e, axis=-1, keepdims=True)


def attention(ops, p, pre, h):
    xp = ops.np
    b, s, d = h.shape
    dh = d // HEADS

    def proj(n):
        return (h @ p[f"{pre}_w{n}"] + p[f"{pre}_b{n}"]).reshape(b, s, HEADS, dh)

    q, k, v = proj("q"), proj("k"), proj("v")
    w = softmax(ops, xp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh))
    o = xp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, s, d)
    return o @ p[f"{pre}_wo"] + p[f"{pre}_bo"]


def block(ops, p, pre, x):
    x = x + attention(ops, p, pre, layer_norm(ops, x, p[f"{pre}_ln1_g"], p[f"{pre}_ln1_b"]))
    h = layer_norm(ops, x, p[f"{pre}_ln2_g"], p[f"{pre}_ln2_b"])
    h = ops.relu(h @ p[f"{pre}_w1"] + p[f"{pre}_b1"])
    return x + h @ p[f"{pre}_w2"] + p[f"{pre}_b2"]


def loss(ops, params, batch):
    x = batch["x"]
    for i in range(num_layers(params)):
        x = block(ops, params, f"l{i}", x)
    pooled = ops.np.mean(layer_norm(ops, x, params["lnf_g"], params["lnf_b"]), axis=1)
    return cross_entropy(ops, pooled @ params["wc"] + params["bc"], batch["y"])
