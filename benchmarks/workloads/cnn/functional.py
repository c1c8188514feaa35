"""The convnet loss for fnn and JAX: ``conv_general_dilated`` and a reshape max-pool."""

from __future__ import annotations

from benchmarks.workloads.mlp.functional import cross_entropy

KIND = "sgd"
LR = 0.01
NEEDS = ("conv",)
DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def max_pool2(ops, x):
    """2x2 max-pool, stride 2, of an NHWC array with even H and W."""
    n, h, w, c = x.shape
    return ops.np.max(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))


def loss(ops, params, batch):
    h = batch["x"]
    for i in range(2):
        h = ops.conv(h, params[f"c{i}"], (1, 1), "SAME", dimension_numbers=DIMENSION_NUMBERS)
        h = max_pool2(ops, ops.relu(h + params[f"cb{i}"]))
    h = h.reshape(h.shape[0], -1)
    h = ops.relu(h @ params["w2"] + params["b2"])
    return cross_entropy(ops, h @ params["w3"] + params["b3"], batch["y"])
