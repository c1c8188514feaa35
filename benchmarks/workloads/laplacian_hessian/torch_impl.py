"""The Laplacian in PyTorch as ``torch.func.vmap`` of the trace of ``torch.func.hessian``
(jacfwd over jacrev); the parameter gradient by ``torch.autograd.grad`` through it."""

from __future__ import annotations

import torch
from torch.func import hessian, vmap

from benchmarks.workloads.laplacian._torch import network, program


def laplacians(p, X):
    return vmap(lambda x: torch.trace(hessian(lambda x_: network(p, x_))(x)))(X)


build, outputs = program(laplacians)
