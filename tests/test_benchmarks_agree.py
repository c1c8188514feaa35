"""The benchmark workloads compute the same thing on every system (no timing here).

For each workload at its small "test" size, the loss, gradients (or Hessian) and SGD-
updated params of fnn jit, fnn eager, JAX and PyTorch agree with the hand-written numpy
version within float32 tolerance; JAX and PyTorch are skipped when not installed. The
differential-operator groups (laplacian_*, uxxx_*) have no numpy step: every idiom on
every system is checked against a float64 numpy reference of the group's loss.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest

from benchmarks import systems
from benchmarks.workloads import GROUPS, WORKLOADS, make_data
from benchmarks.workloads.laplacian import reference as laplacian_reference
from benchmarks.workloads.uxxx import reference as uxxx_reference

OTHERS = [s for s in systems.SYSTEMS if s != "numpy"]
# float32 rounding differs by summation order; second derivatives (pinn) lose a bit more.
RTOL = {"pinn": 2e-4, "transformer": 1e-4}
DERIVATIVE_WORKLOADS = [w for members in GROUPS.values() for w in members]
NUMPY_WORKLOADS = [w for w in WORKLOADS if w not in DERIVATIVE_WORKLOADS]


def _require(system: str) -> None:
    module = {"jax": "jax", "torch": "torch"}.get(system)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


@pytest.fixture(scope="module", params=NUMPY_WORKLOADS)
def reference(request):
    data = make_data(request.param, "test", seed=1)
    return request.param, data, systems.program(request.param, "numpy").outputs(data)


@pytest.mark.parametrize("system", OTHERS)
def test_agrees_with_numpy(reference, system):
    workload, data, ref = reference
    _require(system)
    got = systems.program(workload, system).outputs(data)
    assert set(got) == set(ref), f"{workload}/{system}: outputs {sorted(got)} != {sorted(ref)}"
    # Tolerance relative to the largest entry of the same kind (a gradient that is zero
    # analytically, such as the attention key bias's, is compared at that scale).
    scale = {
        kind: max(float(np.max(np.abs(v))) for k, v in ref.items() if k.split("/")[0] == kind)
        for kind in {k.split("/")[0] for k in ref}
    }
    _assert_close(workload, system, got, ref, scale, RTOL.get(workload, 2e-5), atol=1e-7)


def _assert_close(workload, system, got, ref, scale, rtol, atol):
    for name, want in ref.items():
        have = np.asarray(got[name])
        assert have.shape == want.shape, (
            f"{workload}/{system} {name}: shape {have.shape} != {want.shape}"
        )
        assert have.dtype == np.float32, f"{workload}/{system} {name}: dtype {have.dtype}"
        err = float(np.max(np.abs(have - want)))
        assert err <= rtol * scale[name.split("/")[0]] + atol, (
            f"{workload}/{system} {name}: max error {err:.3g} vs scale {scale[name.split('/')[0]]:.3g}"
        )


@pytest.mark.parametrize("workload", WORKLOADS)
def test_bench_step_runs(workload):
    """One benchmark step (as run.py times it) runs on fnn jit at the test size."""
    step, state = systems.program(workload, "fnn-jit").build(make_data(workload, "test"))
    step(step(state))


# ---- the differential-operator groups (issue #22) ---------------------------------------

# The systems that implement each idiom; run.py finds the others unavailable.
CELLS = {
    "laplacian_forward": ("fnn-jit", "fnn-eager"),
    "laplacian_directional": ("fnn-jit", "fnn-eager"),
    "laplacian_hessian": ("fnn-jit", "fnn-eager", "jax", "torch"),
    "laplacian_hvp": ("fnn-jit", "fnn-eager", "jax", "torch"),
    "laplacian_jet": ("fnn-jit", "fnn-eager", "jax"),
    "uxxx_taylor": ("fnn-jit", "fnn-eager", "jax"),
    "uxxx_pde": ("fnn-jit", "fnn-eager"),
    "uxxx_nested": ("fnn-jit", "fnn-eager", "jax", "torch"),
}
# float64 references: value by hand, gradient by central differences.
REFERENCES = {"laplacian": laplacian_reference, "uxxx": uxxx_reference}
# Third derivatives in float32 lose more to rounding than second ones.
GROUP_RTOL = {"laplacian": 2e-5, "uxxx": 1e-4}


@functools.cache
def _group_reference(group: str):
    """The group's test data and float64 outputs (central differences: computed once)."""
    data = make_data(GROUPS[group][0], "test", seed=1)
    return data, REFERENCES[group].outputs(data)


def test_cells_cover_the_groups():
    assert sorted(CELLS) == sorted(DERIVATIVE_WORKLOADS)


@pytest.mark.parametrize("workload", DERIVATIVE_WORKLOADS)
def test_derivative_systems_are_the_listed_ones(workload):
    """Each idiom runs on exactly the systems CELLS lists (the table's skipped rows)."""
    for system in systems.SYSTEMS:
        module = {"jax": "jax", "torch": "torch"}.get(system)
        if module and importlib.util.find_spec(module) is None:
            continue
        try:
            systems.program(workload, system)
        except systems.Unavailable:
            assert system not in CELLS[workload], f"{workload}/{system} is unavailable"
        else:
            assert system in CELLS[workload], f"{workload}/{system} runs but is not listed"


@pytest.mark.parametrize("workload,system", [(w, s) for w, cells in CELLS.items() for s in cells])
def test_derivative_idioms_agree_with_float64(workload, system):
    _require(system)
    group = next(g for g, members in GROUPS.items() if workload in members)
    data, ref = _group_reference(group)
    got = systems.program(workload, system).outputs(data)
    assert set(got) == set(ref), f"{workload}/{system}: outputs {sorted(got)} != {sorted(ref)}"
    assert float(ref["loss"]) > 0, "the reference loss must not be trivially zero"
    scale = {
        "loss": abs(float(ref["loss"])),
        "grad": max(float(np.max(np.abs(v))) for k, v in ref.items() if k != "loss"),
    }
    _assert_close(workload, system, got, ref, scale, GROUP_RTOL[group], atol=0.0)
