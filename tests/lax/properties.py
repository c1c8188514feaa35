"""The property tests, built for any table: each property is one hypothesis test
parametrized over the rows it applies to (with a row's xfail marks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.lax import harness as h
from tests.lax.harness import Case

PROPERTIES = (
    "numpy32",
    "numpy64",
    "first",
    "second",
    "zero",
    "adjoint",
    "jit",
    "vmap",
    "vmap_unbatched",
    "taylor",
)


def params_for(cases: list[Case], prop: str, diff=None, hvp=None, min_args=0) -> list:
    """pytest params for the cases ``prop`` applies to.

    ``diff``: keep cases whose ``diff`` is this value (or in this tuple); ``hvp``: keep
    cases with second derivatives on; ``min_args``: keep cases with at least this many
    array arguments. A case's ``xfail[prop]`` becomes a strict xfail mark, so a fixed
    bug turns the test red until the mark is removed.
    """
    assert prop in PROPERTIES, prop
    wanted = diff if isinstance(diff, tuple) else (diff,)
    out = []
    for c in cases:
        if diff is not None and c.diff not in wanted:
            continue
        if hvp is not None and c.hvp != hvp:
            continue
        if min_args and c.nargs < min_args:
            continue
        marks = [pytest.mark.xfail(reason=c.xfail[prop], strict=True)] if prop in c.xfail else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


def property_tests(cases: list[Case]) -> dict:
    """``test_*`` functions checking every property over ``cases``.

    A test module binds them with ``globals().update(property_tests(CASES))``.
    """

    def prop(name, settings=None, **select):
        def decorate(check):
            test = pytest.mark.parametrize("case", params_for(cases, name, **select))(
                (settings or h.SETTINGS)(given(data=st.data())(check))
            )
            return test

        return decorate

    @prop("numpy32")
    def test_numpy_agreement_float32(case, data):
        spec, _, arrays = h.draw(data, case)
        h.check_numpy_agreement(case, spec, arrays, use_x64=False)

    @prop("numpy64")
    def test_numpy_agreement_float64(case, data):
        spec, _, arrays = h.draw(data, case)
        h.check_numpy_agreement(case, spec, arrays, use_x64=True)

    @prop("first", diff=True)
    def test_first_derivatives(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_first_derivatives(case, spec, arrays, rng)

    @prop("second", diff=True, hvp=True)
    def test_second_derivatives(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_second_derivatives(case, spec, arrays, rng)

    @prop("zero", diff=False)
    def test_zero_derivative(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_zero_derivative(case, spec, arrays, rng)

    @prop("adjoint", diff=(True, False))
    def test_vjp_jvp_adjoint(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_vjp_jvp_adjoint(case, spec, arrays, rng)

    @prop("jit")
    def test_jit(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_jit(case, spec, arrays, rng)

    @prop("vmap")
    def test_vmap(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_vmap(case, spec, arrays, rng, data, unbatched=False)

    @prop("vmap_unbatched", min_args=2)
    def test_vmap_some_unbatched(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_vmap(case, spec, arrays, rng, data, unbatched=True)

    # Each example runs 2**4 nested JVPs as the reference: fewer examples than the rest.
    @prop("taylor", settings=h.TAYLOR_SETTINGS, diff=True)
    def test_taylor_mode(case, data):
        spec, rng, arrays = h.draw(data, case)
        h.check_taylor(case, spec, arrays, rng)

    return {name: f for name, f in locals().items() if name.startswith("test_")}
