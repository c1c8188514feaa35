"""The workloads, one package each: data (``make_data``, ``SIZES``), the functional model
shared by fnn and JAX (``functional.py``), and hand-written ``numpy_impl.py`` and
``torch_impl.py``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

WORKLOADS = (
    "mlp",
    "cnn",
    "pinn",
    "transformer",
    "hessian",
    # Differential operators (issue #22): one loss per group, one idiom per workload.
    "laplacian_forward",
    "laplacian_directional",
    "laplacian_hessian",
    "laplacian_hvp",
    "laplacian_jet",
    "uxxx_taylor",
    "uxxx_pde",
    "uxxx_nested",
)
# Workloads that compute one loss by different idioms; ``run.py --only GROUP`` runs them
# all, so their ratios come from one run. The group's package holds the shared data.
GROUPS = {
    group: tuple(w for w in WORKLOADS if w.startswith(group + "_"))
    for group in ("laplacian", "uxxx")
}


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
