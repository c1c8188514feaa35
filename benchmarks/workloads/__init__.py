"""The workloads, one package each: data (``make_data``, ``SIZES``), the functional model
shared by fnn and JAX (``functional.py``), and hand-written ``numpy_impl.py`` and
``torch_impl.py``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

WORKLOADS = ("mlp", "cnn", "pinn", "transformer", "hessian")


def workload(name: str) -> ModuleType:
    """The workload package ``benchmarks.workloads.<name>``."""
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    return importlib.import_module(f"benchmarks.workloads.{name}")


def make_data(name: str, size: str = "bench", seed: int = 0) -> dict:
    """Params and batch of workload ``name`` as float32 numpy arrays, from ``seed``.

    Every system gets these same arrays (converted to its own array type).
    """
    w = workload(name)
    return w.make_data(seed=seed, **w.SIZES[size])
