"""Every lax primitive, through the table in tests/lax/cases.py, against each property of
the shared harness: numpy agreement (float32 and float64), first and second derivatives
against central finite differences, ``<vjp(u), v> == <u, jvp(v)>``, ``jit(f)(x) == f(x)``
and ``vmap(f)(xs) == stack([f(x) for x in xs])`` (all arguments batched, and some not).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.core import Primitive
from fnn.lax import complex_ops, dot, elementwise, misc, reductions, slicing, structural
from tests.lax import harness as h
from tests.lax.cases import CASES
from tests.lax.properties import property_tests

# The nine property tests (numpy agreement in float32 and float64, first and second
# derivatives, zero derivatives, the vjp/jvp adjoint identity, jit, vmap with all and with
# some arguments batched), each parametrized over the table.
globals().update(property_tests(CASES))


# ---- the table covers every primitive ------------------------------------------------------

# fnn.lax.fft is the function (as jax.lax.fft); the module is fetched by its full name.
MODULES = (
    elementwise,
    structural,
    reductions,
    slicing,
    dot,
    misc,
    complex_ops,
    importlib.import_module("fnn.lax.fft"),
)


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


# ---- regressions: each failed before its fix --------------------------------------------


def test_jit_int_sum_keeps_int32():
    # codegen used np.add.reduce without dtype=, which widens int32 and bool to int64.
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = fnn.jit(lambda x: fnp.sum(x, axis=0))(x)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [3, 5, 7])


def test_vmap_pad_with_batched_padding_value():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    values = np.array([-1.0, -2.0], np.float32)
    out = fnn.vmap(lambda x, v: fnn.lax.pad(x, v, [(1, 0, 1)]))(x, values)
    np.testing.assert_array_equal(out, [[-1, 0, -1, 1, -1, 2], [-2, 3, -2, 4, -2, 5]])


def test_vmap_take_with_batched_indices_on_a_later_axis():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    idx = np.array([[3, 0], [1, 1]])
    out = fnn.vmap(lambda x, i: fnp.take(x, i, axis=1))(x, idx)
    np.testing.assert_array_equal(out, np.stack([np.take(x[b], idx[b], axis=1) for b in range(2)]))


def test_vmap_scatter_with_batched_indices_on_a_later_axis():
    x = np.zeros((2, 3, 4), np.float32)
    idx = np.array([[3, 0], [1, 1]])
    u = np.ones((2, 3, 2), np.float32)
    out = fnn.vmap(lambda x, i, u: x.at[:, i].add(u))(fnp.asarray(x), idx, u)
    expected = np.zeros((2, 3, 4), np.float32)
    for b in range(2):
        np.add.at(expected[b], (slice(None), idx[b]), u[b])
    np.testing.assert_array_equal(out, expected)


def test_vmap_gather_with_unbatched_indices_separated_by_a_slice():
    x = np.arange(2 * 3 * 4 * 5.0, dtype=np.float32).reshape(2, 3, 4, 5)
    i, j = np.array([0, 2]), np.array([1, 4])
    out = fnn.vmap(lambda x: fnp.asarray(x)[i, :, j])(x)
    np.testing.assert_array_equal(out, np.stack([x[b][i, :, j] for b in range(2)]))


def test_all_any_of_empty_axes():
    # reduce_min/max have no identity for numbers; for bools numpy's is True/False.
    e = np.zeros((2, 0), np.float32)
    assert bool(fnp.all(e)) is True and bool(fnp.any(e)) is False
    out = fnp.all(e, axis=1, keepdims=True)
    assert isinstance(out, fnn.Array) and out.shape == (2, 1) and np.asarray(out).all()
    assert isinstance(fnp.any(e), fnn.Array)


def test_prod_derivative_over_an_empty_axis():
    # Eager numpy forgave the slice to n - 1 == -1; tracing (jit, grad) checks it.
    x = np.zeros((2, 0), np.float32)
    t = fnn.jit(lambda x: fnn.jvp(lambda x: fnp.prod(x, axis=1), (x,), (x,))[1])(x)
    np.testing.assert_array_equal(t, [0.0, 0.0])


def test_einsum_with_an_empty_contraction():
    e = np.zeros((0,), np.float32)
    np.testing.assert_array_equal(fnp.einsum("i,i->", e, e), 0.0)
    np.testing.assert_array_equal(fnp.einsum("ij,jk->ik", np.ones((2, 0)), np.ones((0, 3))), 0)


# ---- outside the table ---------------------------------------------------------------------


def test_convert_element_type_is_differentiable_between_floats():
    # Not in the table: FD through float32 rounding is too coarse for its tolerances.
    with h.x64():
        w = np.arange(3.0)
        g = fnn.grad(lambda x: fnp.sum(fnp.astype(x, np.float32) * w.astype(np.float32)))
        out = g(np.ones(3))
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, w)


def test_pow_derivative_at_zero_base_and_zero_exponent():
    # y * x**(y - 1) is 0 * inf at x = y = 0; JAX (and fnn now) take d/dx x**0 = 0.
    assert float(fnn.grad(lambda x: fnp.power(x, 0.0))(0.0)) == 0.0
    gx, gy = fnn.grad(lambda x, y: fnp.power(x, y), argnums=(0, 1))(0.0, 0.0)
    assert float(gx) == 0.0 and float(gy) == 0.0
    assert float(fnn.grad(lambda x: fnp.power(x, 1.0))(0.0)) == 1.0


def test_rem_derivative_in_the_divisor_when_the_quotient_rounds_down():
    # (x - x mod y) / y = -3 - 1e-16 here: its floor was -4, the derivative off by one.
    with h.x64():
        x, y = np.array([4.385257552511873]), np.array([-1.5401441536727973])
        assert np.floor((x - np.mod(x, y)) / y) == -4  # the rounding this test is about
        _, t = fnn.jvp(lambda y: fnp.mod(x, y), (y,), (np.ones(1),))
        np.testing.assert_allclose(t, -np.floor(x / y))


def test_jit_dot_general_contracting_both_lhs_axes_in_reverse_order():
    # codegen's (rhs.T @ lhs).T shortcut took lperm == (1, 0) for an lhs laid out (K, M).
    a = np.arange(2.0, dtype=np.float32).reshape(1, 2)
    b = np.arange(4.0, dtype=np.float32).reshape(2, 1, 2)
    f = lambda a, b: fnp.tensordot(a, b, axes=([1, 0], [0, 1]))  # noqa: E731
    np.testing.assert_allclose(fnn.jit(f)(a, b), np.tensordot(a, b, axes=([1, 0], [0, 1])))
    g = lambda x, y: fnp.matmul(x.T, y)  # noqa: E731 - the shortcut's own case
    x, y = np.ones((3, 2), np.float32), np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(fnn.jit(g)(x, y), x.T @ y)
