"""The Laplacian in plain PyTorch autograd, as PINN codes write it: the gradient of
sum(u) w.r.t. the points, then for each coordinate i the gradient of the sum of its
i-th column (d reverse-over-reverse Hessian-vector products), kept for the backward."""

from __future__ import annotations

import torch

from benchmarks.workloads.laplacian._torch import network, program


def laplacians(p, X):
    X = X.detach().requires_grad_()
    (g,) = torch.autograd.grad(network(p, X).sum(), X, create_graph=True)
    lap = 0.0
    for i in range(X.shape[1]):
        (h,) = torch.autograd.grad(g[:, i].sum(), X, create_graph=True)
        lap = lap + h[:, i]
    return lap


build, outputs = program(laplacians)
