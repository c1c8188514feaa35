"""The systems measured, and how each builds a workload's program.

A program has ``build(data) -> (step, state)`` (``state = step(state)`` runs one step and
waits for it) and ``outputs(data) -> {name: ndarray}`` (loss, gradients: the agreement
test compares these across systems).
"""

from __future__ import annotations

import importlib
import os
from types import SimpleNamespace

from benchmarks import functional
from benchmarks.backends import fnn_ops, jax_ops
from benchmarks.workloads import workload

SYSTEMS = ("fnn-jit", "fnn-eager", "numpy", "jax", "torch")
REFERENCE = "numpy"  # ratios are to hand-written numpy where it exists


class Unavailable(Exception):
    """This system cannot run this workload here (not installed, or not implemented)."""


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _functional(name: str, ops) -> SimpleNamespace:
    model = importlib.import_module(f"benchmarks.workloads.{name}.functional")
    needs = getattr(model, "NEEDS", ())
    missing = [n for n in needs if getattr(ops, n) is None]
    if missing:
        raise Unavailable(f"{ops.name} has no {', '.join(missing)}")
    return SimpleNamespace(
        build=lambda data: functional.build(model, ops, data),
        outputs=lambda data: functional.outputs(model, ops, data),
    )


def _module(name: str, kind: str) -> SimpleNamespace:
    try:
        mod = importlib.import_module(f"benchmarks.workloads.{name}.{kind}_impl")
    except ModuleNotFoundError as e:
        if e.name and e.name.endswith(f"{kind}_impl"):
            raise Unavailable(f"no hand-written {kind} version of {name}") from None
        raise
    return SimpleNamespace(build=mod.build, outputs=mod.outputs)


def threads() -> int:
    """Threads per process: ``FNN_BENCH_THREADS`` (run.py's --threads), else every core."""
    return int(os.environ.get("FNN_BENCH_THREADS") or os.cpu_count() or 1)


def thread_env(n: int) -> dict[str, str]:
    """Environment that limits numpy's BLAS, OpenMP, XLA and fnn.jit to ``n`` threads.

    Set before the child starts: BLAS and OpenMP read it when they load.
    """
    env = {
        k: str(n)
        for k in (
            "FNN_BENCH_THREADS",
            "FNN_JIT_THREADS",  # fnn.jit's batch split
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
    }
    if n == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def setup_torch() -> None:
    """PyTorch eager on every core (or --threads), as the issue asks."""
    import torch

    torch.set_num_threads(threads())


def program(name: str, system: str) -> SimpleNamespace:
    """The program of workload ``name`` on ``system``; raises Unavailable with the reason."""
    workload(name)  # validates the name
    if system in ("fnn-jit", "fnn-eager"):
        return _functional(name, fnn_ops(jit=system == "fnn-jit"))
    if system == "jax":
        if not _importable("jax"):
            raise Unavailable("jax is not installed")
        return _functional(name, jax_ops())
    if system == "torch":
        if not _importable("torch"):
            raise Unavailable("torch is not installed")
        setup_torch()
        return _module(name, "torch")
    if system == "numpy":
        return _module(name, "numpy")
    raise ValueError(f"unknown system {system!r}; choose from {', '.join(SYSTEMS)}")
