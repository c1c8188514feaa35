"""Every lax primitive, through the table in tests/lax/cases.py, against each property of
the shared harness: numpy agreement (float32 and float64), first and second derivatives
against central finite differences, ``<vjp(u), v> == <u, jvp(v)>``, ``jit(f)(x) == f(x)``
and ``vmap(f)(xs) == stack([f(x) for x in xs])`` (all arguments batched, and some not).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fnn.core import Primitive
from fnn.lax import dot, elementwise, misc, reductions, slicing, structural
from tests.lax import harness as h
from tests.lax.cases import CASES
from tests.lax.properties import params_for


@pytest.mark.parametrize("case", params_for(CASES, "numpy32"))
@h.SETTINGS
@given(data=st.data())
def test_numpy_agreement_float32(case, data):
    spec, _, arrays = h.draw(data, case)
    h.check_numpy_agreement(case, spec, arrays, use_x64=False)


@pytest.mark.parametrize("case", params_for(CASES, "numpy64"))
@h.SETTINGS
@given(data=st.data())
def test_numpy_agreement_float64(case, data):
    spec, _, arrays = h.draw(data, case)
    h.check_numpy_agreement(case, spec, arrays, use_x64=True)


@pytest.mark.parametrize("case", params_for(CASES, "first", diff=True))
@h.SETTINGS
@given(data=st.data())
def test_first_derivatives(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_first_derivatives(case, spec, arrays, rng)


@pytest.mark.parametrize("case", params_for(CASES, "second", diff=True, hvp=True))
@h.SETTINGS
@given(data=st.data())
def test_second_derivatives(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_second_derivatives(case, spec, arrays, rng)


@pytest.mark.parametrize("case", params_for(CASES, "zero", diff=False))
@h.SETTINGS
@given(data=st.data())
def test_zero_derivative(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_zero_derivative(case, spec, arrays, rng)


@pytest.mark.parametrize("case", params_for(CASES, "adjoint", diff=(True, False)))
@h.SETTINGS
@given(data=st.data())
def test_vjp_jvp_adjoint(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_vjp_jvp_adjoint(case, spec, arrays, rng)


@pytest.mark.parametrize("case", params_for(CASES, "jit"))
@h.SETTINGS
@given(data=st.data())
def test_jit(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_jit(case, spec, arrays, rng)


@pytest.mark.parametrize("case", params_for(CASES, "vmap"))
@h.SETTINGS
@given(data=st.data())
def test_vmap(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_vmap(case, spec, arrays, rng, data, unbatched=False)


@pytest.mark.parametrize("case", params_for(CASES, "vmap_unbatched", min_args=2))
@h.SETTINGS
@given(data=st.data())
def test_vmap_some_unbatched(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_vmap(case, spec, arrays, rng, data, unbatched=True)


# ---- the table covers every primitive ------------------------------------------------------

MODULES = (elementwise, structural, reductions, slicing, dot, misc)


def _all_primitives() -> set[str]:
    return {v.name for m in MODULES for v in vars(m).values() if isinstance(v, Primitive)}


def test_table_declares_every_primitive():
    declared = {p for c in CASES for p in c.prims}
    assert _all_primitives() - declared == set()
    assert declared - _all_primitives() == set()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_declared_primitives_are_exercised(case):
    seen: set[str] = set()

    @h.SETTINGS
    @given(data=st.data())
    def run(data):
        spec, _, arrays = h.draw(data, case)
        seen.update(h.jaxpr_primitives(case, spec, arrays))

    run()
    assert set(case.prims) <= seen, f"{case}: never bound {set(case.prims) - seen}"
