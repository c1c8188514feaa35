"""cnn: one SGD step of a small MNIST-shaped convnet, batch 128, NHWC / HWIO layouts.

conv 5x5x32 SAME, ReLU, max-pool 2, conv 5x5x64 SAME, ReLU, max-pool 2,
dense 3136-128, ReLU, dense 128-10, softmax cross-entropy.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads._init import dense, one_hot

SIZES = {
    "bench": {"batch": 128, "image": 28, "channels": (32, 64), "hidden": 128, "classes": 10},
    "test": {"batch": 3, "image": 8, "channels": (3, 4), "hidden": 6, "classes": 5},
}
KERNEL = 5


def make_data(seed=0, batch=128, image=28, channels=(32, 64), hidden=128, classes=10) -> dict:
    """Conv kernels ``c0, c1`` (HWIO) with biases, dense ``w2, w3``, images NHWC."""
    rng = np.random.default_rng(seed)
    params, cin = {}, 1
    for i, cout in enumerate(channels):
        w, b = dense(rng, KERNEL * KERNEL * cin, cout)
        params[f"c{i}"] = w.reshape(KERNEL, KERNEL, cin, cout)
        params[f"cb{i}"] = b
        cin = cout
    flat = (image // 4) ** 2 * cin
    params["w2"], params["b2"] = dense(rng, flat, hidden)
    params["w3"], params["b3"] = dense(rng, hidden, classes)
    labels, y = one_hot(rng, batch, classes)
    x = rng.random((batch, image, image, 1), dtype=np.float32)
    return {"params": params, "batch": {"x": x, "y": y}, "labels": labels}
