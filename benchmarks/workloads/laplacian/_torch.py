"""PyTorch pieces shared by the ``laplacian*`` workloads' torch versions."""

from __future__ import annotations

import numpy as np
import torch


def network(p: dict, x: torch.Tensor) -> torch.Tensor:
    """The tanh MLP: one point (d,) -> a scalar, or a batch (N, d) -> (N,)."""
    n = len(p) // 2
    h = x
    for i in range(n - 1):
        h = torch.tanh(h @ p[f"w{i}"] + p[f"b{i}"])
    return (h @ p[f"w{n - 1}"] + p[f"b{n - 1}"])[..., 0]


def tensors(data: dict) -> tuple[dict, torch.Tensor]:
    """Params (requiring grad) and the points, as torch tensors."""
    p = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in data["params"].items()}
    return p, torch.from_numpy(data["batch"]["x"])


def program(laplacians):
    """``build`` and ``outputs`` of a torch version from ``laplacians(p, X) -> (N,)``."""

    def loss_and_grads(p, X):
        lap = laplacians(p, X)
        loss = torch.mean(lap * lap)
        # The last bias does not reach a second derivative: its gradient is zero.
        grads = torch.autograd.grad(
            loss, list(p.values()), allow_unused=True, materialize_grads=True
        )
        return loss, dict(zip(p, grads))

    def build(data):
        p, X = tensors(data)

        def step(state):
            loss_and_grads(p, X)
            return state

        return step, None

    def outputs(data):
        loss, grads = loss_and_grads(*tensors(data))
        return {"loss": loss.detach().numpy()} | {
            f"grad/{k}": np.asarray(g.numpy()) for k, g in grads.items()
        }

    return build, outputs
