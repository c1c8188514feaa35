"""The forward Laplacian a user writes: ``fnn.laplacian`` of u under ``vmap`` over points."""

from __future__ import annotations

from benchmarks.workloads.laplacian.model import mean_square, network

KIND = "value_and_grad"
NEEDS = ("vmap", "laplacian")


def loss(ops, params, batch):
    lap = ops.vmap(ops.laplacian(lambda x: network(ops, params, x)))(batch["x"])
    return mean_square(ops, lap)
