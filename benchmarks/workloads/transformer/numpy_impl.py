"""The encoder step in hand-written numpy: forward with a tape, backward by hand
(LayerNorm, softmax attention, ReLU feed-forward), in-place SGD."""

from __future__ import annotations

import math

import numpy as np

from benchmarks.workloads.mlp.numpy_impl import softmax_xent
from benchmarks.workloads.transformer import HEADS, num_layers
from benchmarks.workloads.transformer.functional import EPS, LR


def ln_forward(x, g, b):
    xc = x - x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + EPS)
    xhat = xc * rstd
    return xhat * g + b, (xhat, rstd, g)


def ln_backward(dy, cache):
    xhat, rstd, g = cache
    axes = tuple(range(dy.ndim - 1))
    dg, db = (dy * xhat).sum(axis=axes), dy.sum(axis=axes)
    dxhat = dy * g
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True)
    dx -= xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    dx *= rstd
    return dx, dg, db


def _heads(t, b, s):  # (B, S, D) -> (B, H, S, dh)
    return t.reshape(b, s, HEADS, -1).transpose(0, 2, 1, 3)


def _merge(t):  # (B, H, S, dh) -> (B*S, D)
    b, h, s, dh = t.shape
    return t.transpose(0, 2, 1, 3).reshape(b * s, h * dh)


def attn_forward(p, pre, h):
    b, s, d = h.shape
    h2 = h.reshape(b * s, d)
    q, k, v = (_heads(h2 @ p[f"{pre}_w{n}"] + p[f"{pre}_b{n}"], b, s) for n in "qkv")
    scale = 1 / math.sqrt(d // HEADS)
    sc = q @ k.transpose(0, 1, 3, 2)
    sc *= scale
    sc -= sc.max(axis=-1, keepdims=True)
    w = np.exp(sc, out=sc)
    w /= w.sum(axis=-1, keepdims=True)
    o = _merge(w @ v)
    out = o @ p[f"{pre}_wo"] + p[f"{pre}_bo"]
    return out.reshape(b, s, d), (h2, q, k, v, w, o, scale)


def attn_backward(p, pre, dout, cache, grads):
    h2, q, k, v, w, o, scale = cache
    b, hh, s, dh = q.shape
    d2 = dout.reshape(b * s, -1)
    grads[f"{pre}_wo"], grads[f"{pre}_bo"] = o.T @ d2, d2.sum(axis=0)
    do = _heads(d2 @ p[f"{pre}_wo"].T, b, s)
    dv = w.transpose(0, 1, 3, 2) @ do
    dw = do @ v.transpose(0, 1, 3, 2)
    dw -= (dw * w).sum(axis=-1, keepdims=True)
    dw *= w
    dw *= scale  # now the cotangent of the unscaled scores q k^T
    dq, dk = dw @ k, dw.transpose(0, 1, 3, 2) @ q
    dh = 0
    for n, g in zip("qkv", (dq, dk, dv)):
        g2 = _merge(g)
        grads[f"{pre}_w{n}"], grads[f"{pre}_b{n}"] = h2.T @ g2, g2.sum(axis=0)
        dh = dh + g2 @ p[f"{pre}_w{n}"].T
    return dh.reshape(b, s, -1)


def block_forward(p, pre, x):
    h, c1 = ln_forward(x, p[f"{pre}_ln1_g"], p[f"{pre}_ln1_b"])
    a, ca = attn_forward(p, pre, h)
    x = x + a
    h, c2 = ln_forward(x, p[f"{pre}_ln2_g"], p[f"{pre}_ln2_b"])
    b, s, d = h.shape
    h2 = h.reshape(b * s, d)
    f = h2 @ p[f"{pre}_w1"]
    f += p[f"{pre}_b1"]
    np.maximum(f, 0, out=f)
    out = f @ p[f"{pre}_w2"]
    out += p[f"{pre}_b2"]
    return x + out.reshape(b, s, d), (c1, ca, c2, h2, f)


def block_backward(p, pre, dx, cache, grads):
    c1, ca, c2, h2, f = cache
    d2 = dx.reshape(len(h2), -1)
    grads[f"{pre}_w2"], grads[f"{pre}_b2"] = f.T @ d2, d2.sum(axis=0)
    df = d2 @ p[f"{pre}_w2"].T
    df *= f > 0
    grads[f"{pre}_w1"], grads[f"{pre}_b1"] = h2.T @ df, df.sum(axis=0)
    dh = (df @ p[f"{pre}_w1"].T).reshape(dx.shape)
    dn, grads[f"{pre}_ln2_g"], grads[f"{pre}_ln2_b"] = ln_backward(dh, c2)
    dx = dx + dn
    dh = attn_backward(p, pre, dx, ca, grads)
    dn, grads[f"{pre}_ln1_g"], grads[f"{pre}_ln1_b"] = ln_backward(dh, c1)
    return dx + dn


def loss_and_grads(p, x, y):
    caches = []
    for i in range(num_layers(p)):
        x, c = block_forward(p, f"l{i}", x)
        caches.append(c)
    h, cf = ln_forward(x, p["lnf_g"], p["lnf_b"])
    pooled = h.mean(axis=1)
    loss, g = softmax_xent(pooled @ p["wc"] + p["bc"], y)
    grads = {"wc": pooled.T @ g, "bc": g.sum(axis=0)}
    dpooled = g @ p["wc"].T
    dh = np.broadcast_to(dpooled[:, None, :] / h.shape[1], h.shape)
    dx, grads["lnf_g"], grads["lnf_b"] = ln_backward(dh, cf)
    for i in reversed(range(len(caches))):
        dx = block_backward(p, f"l{i}", dx, caches[i], grads)
    return loss, grads


def build(data):
    params = {k: v.copy() for k, v in data["params"].items()}
    x, y = data["batch"]["x"], data["batch"]["y"]

    def step(params):
        _, grads = loss_and_grads(params, x, y)
        for k, g in grads.items():
            params[k] -= LR * g
        return params

    return step, params


def outputs(data):
    loss, grads = loss_and_grads(data["params"], data["batch"]["x"], data["batch"]["y"])
    out = {"loss": np.asarray(loss)} | {f"grad/{k}": g for k, g in grads.items()}
    step, state = build(data)
    return out | {f"updated/{k}": v for k, v in step(state).items()}
