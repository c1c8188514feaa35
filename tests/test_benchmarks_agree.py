"""The benchmark workloads compute the same thing on every system (no timing here).

For each workload at its small "test" size, the loss, gradients (or Hessian) and SGD-
updated params of fnn jit, fnn eager, JAX and PyTorch agree with the hand-written numpy
version within float32 tolerance; JAX and PyTorch are skipped when not installed.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from benchmarks import systems
from benchmarks.workloads import WORKLOADS, make_data

OTHERS = [s for s in systems.SYSTEMS if s != "numpy"]
# float32 rounding differs by summation order; second derivatives (pinn) lose a bit more.
RTOL = {"pinn": 2e-4, "transformer": 1e-4}


def _require(system: str) -> None:
    module = {"jax": "jax", "torch": "torch"}.get(system)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


@pytest.fixture(scope="module", params=WORKLOADS)
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
    rtol = RTOL.get(workload, 2e-5)
    for name, want in ref.items():
        have = np.asarray(got[name])
        assert have.shape == want.shape, (
            f"{workload}/{system} {name}: shape {have.shape} != {want.shape}"
        )
        assert have.dtype == np.float32, f"{workload}/{system} {name}: dtype {have.dtype}"
        err = float(np.max(np.abs(have - want)))
        assert err <= rtol * scale[name.split("/")[0]] + 1e-7, (
            f"{workload}/{system} {name}: max error {err:.3g} vs scale {scale[name.split('/')[0]]:.3g}"
        )


@pytest.mark.parametrize("workload", WORKLOADS)
def test_bench_step_runs(workload):
    """One benchmark step (as run.py times it) runs on fnn jit at the test size."""
    step, state = systems.program(workload, "fnn-jit").build(make_data(workload, "test"))
    step(step(state))
