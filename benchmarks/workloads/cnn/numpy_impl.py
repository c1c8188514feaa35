"""The convnet step in hand-written numpy: im2col convolutions (one BLAS matmul each way),
reshape max-pool, and their backward passes, with in-place SGD."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks.workloads.cnn import KERNEL
from benchmarks.workloads.cnn.functional import LR
from benchmarks.workloads.mlp.numpy_impl import softmax_xent

PAD = KERNEL // 2


def conv_forward(x, w, b):
    """SAME convolution, stride 1: returns the output and the im2col matrix for backward.

    Patches are laid out (kh, kw, C) with C fastest, the kernel's HWIO order, so the copy
    that builds them moves whole runs of C channels and the kernel is a plain reshape.
    """
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    windows = sliding_window_view(xp, (KERNEL, KERNEL), axis=(1, 2))  # (N, H, W, C, kh, kw)
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * wd, -1)
    out = cols @ w.reshape(-1, w.shape[-1])
    out += b
    return out.reshape(n, h, wd, -1), cols


def conv_backward(g, cols, w, x_shape, need_dx=True):
    """Gradients of the kernel, bias and (optionally) input of ``conv_forward``."""
    n, h, wd, c = x_shape
    g2 = g.reshape(-1, g.shape[-1])
    gw = (cols.T @ g2).reshape(w.shape)
    gb = g2.sum(axis=0)
    if not need_dx:
        return gw, gb, None
    gcols = (g2 @ w.reshape(-1, w.shape[-1]).T).reshape(n, h, wd, KERNEL, KERNEL, c)
    gxp = np.zeros((n, h + 2 * PAD, wd + 2 * PAD, c), np.float32)
    for i in range(KERNEL):  # col2im: each kernel tap adds a shifted copy
        for j in range(KERNEL):
            gxp[:, i : i + h, j : j + wd, :] += gcols[:, :, :, i, j, :]
    return gw, gb, gxp[:, PAD:-PAD, PAD:-PAD, :]


def relu_pool_forward(z):
    """ReLU then 2x2 max-pool; returns the output and the argmax mask for backward."""
    np.maximum(z, 0, out=z)
    n, h, w, c = z.shape
    zr = z.reshape(n, h // 2, 2, w // 2, 2, c)
    out = zr.max(axis=(2, 4))
    mask = zr == out[:, :, None, :, None, :]
    return out, mask


def relu_pool_backward(g, mask, z):
    """Route the pooled gradient to the window maxima, then through the ReLU."""
    n, h, w, c = z.shape
    gz = mask * g[:, :, None, :, None, :]
    gz = gz.reshape(n, h, w, c)
    gz *= z > 0  # ties at 0 after the ReLU get no gradient
    return gz


def loss_and_grads(p, x, y):
    z0, cols0 = conv_forward(x, p["c0"], p["cb0"])
    h0, m0 = relu_pool_forward(z0)
    z1, cols1 = conv_forward(h0, p["c1"], p["cb1"])
    h1, m1 = relu_pool_forward(z1)
    flat = h1.reshape(len(x), -1)
    a2 = flat @ p["w2"]
    a2 += p["b2"]
    np.maximum(a2, 0, out=a2)
    logits = a2 @ p["w3"]
    logits += p["b3"]
    loss, g = softmax_xent(logits, y)
    grads = {"w3": a2.T @ g, "b3": g.sum(axis=0)}
    g = g @ p["w3"].T
    g *= a2 > 0
    grads["w2"], grads["b2"] = flat.T @ g, g.sum(axis=0)
    g = (g @ p["w2"].T).reshape(h1.shape)
    g = relu_pool_backward(g, m1, z1)
    grads["c1"], grads["cb1"], g = conv_backward(g, cols1, p["c1"], h0.shape)
    g = relu_pool_backward(g, m0, z0)
    grads["c0"], grads["cb0"], _ = conv_backward(g, cols0, p["c0"], x.shape, need_dx=False)
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
