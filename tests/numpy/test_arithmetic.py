"""fnn/numpy/arithmetic.py: the harness properties over tests/numpy/cases_arithmetic.py,
and the values at the edges of the float format that random draws rarely reach."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from tests.lax.properties import property_tests
from tests.numpy.cases_arithmetic import CASES

globals().update(property_tests(CASES))

F32 = np.finfo(np.float32)
EDGES = np.array(
    [0.0, -0.0, 1.0, -1.0, 1.5, 2.0, -2.0, 3e-39, -1e-45, 1e-45, F32.max, -F32.max, F32.tiny,
     np.inf, -np.inf, np.nan, 0.1, 1e30, 7.0],
    np.float32,
)  # fmt: skip


def _bits_equal(actual, expected):
    """Equal values, NaN where NaN, and the same sign of zeros."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_array_equal(actual, expected)
    np.testing.assert_array_equal(np.signbit(actual), np.signbit(expected))


def test_nextafter_and_spacing_at_the_edges_of_float32():
    a, b = np.meshgrid(EDGES, np.array([1.0, -1.0, 0.0, np.inf, -np.inf, np.nan, 2.0], np.float32))
    with np.errstate(over="ignore"):  # numpy warns on stepping past the largest float
        ref_next, ref_spacing = np.nextafter(a, b), np.spacing(EDGES)
    _bits_equal(fnp.nextafter(a, b), ref_next)
    _bits_equal(fnp.spacing(EDGES), ref_spacing)


def test_frexp_and_ldexp_round_trip_exactly_over_the_exponent_range():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500).astype(np.float32) * np.exp2(rng.integers(-140, 120, 500)).astype(
        np.float32
    )
    x = np.concatenate([x, EDGES])
    m, e = fnp.frexp(x)
    rm, re = np.frexp(x)
    _bits_equal(m, rm)
    _bits_equal(e, re)
    k = rng.integers(-140, 140, x.shape[0]).astype(np.int32)
    with np.errstate(over="ignore"):
        ref = np.ldexp(x, k)
    _bits_equal(fnp.ldexp(x, k), ref)


def test_modf_fmod_copysign_keep_the_sign_of_zero():
    x = np.array([2.5, -1.25, np.inf, -np.inf, np.nan, -0.0, -2.0], np.float32)
    for got, ref in zip(fnp.modf(x), np.modf(x), strict=True):
        _bits_equal(got, ref)
    a = np.array([-7.5, 7.0, -0.0, 0.0, -1e-20, 3.0, 5.5], np.float32)
    b = np.array([-2.0, -2.0, 1.0, -1.0, 1.0, np.inf, 0.5], np.float32)
    _bits_equal(fnp.fmod(a, b), np.fmod(a, b))
    signs = np.array([-0.0, 0.0], np.float32)
    _bits_equal(fnp.copysign(np.float32(1.0), signs), np.array([-1.0, 1.0], np.float32))


def test_signbit_of_negative_zero_and_the_nan_limitation():
    np.testing.assert_array_equal(fnp.signbit(np.array([-0.0, 0.0, -3.0])), [True, False, True])
    np.testing.assert_array_equal(fnp.signbit(np.array([-1, 0, 2])), [True, False, False])
    # Documented: fnn cannot read a NaN's sign bit (numpy says True for -nan).
    assert not bool(fnp.signbit(np.float32(-np.nan)))


def test_gcd_of_the_worst_case_for_euclid():
    # Consecutive Fibonacci numbers take the most steps; int32's largest pair.
    a, b = np.int32(1836311903), np.int32(1134903170)
    assert int(fnp.gcd(a, b)) == 1
    assert int(fnp.gcd(np.int32(2**30), np.int32(2**20))) == 2**20
    assert int(fnp.lcm(np.int32(4), np.int32(-6))) == 12


def test_gcd_under_jit_and_vmap():
    x, y = np.arange(6, dtype=np.int32), np.int32(4)
    np.testing.assert_array_equal(fnn.jit(fnp.gcd)(x, y), np.gcd(x, y))
    xs, ys = np.arange(6, dtype=np.int32).reshape(3, 2), np.array([[4, 2], [2, 2], [3, 9]])
    np.testing.assert_array_equal(fnn.vmap(fnp.gcd)(xs, ys), np.gcd(xs, ys))


def test_frexp_mantissa_derivative_is_two_to_the_minus_exponent():
    g = fnn.grad(lambda x: fnp.frexp(x)[0])(np.float32(12.0))
    assert float(g) == 1 / 16


def test_isclose_allclose_array_equal():
    a = np.array([1.0, np.inf, np.nan, -np.inf, 1e-8])
    b = np.array([1 + 1e-7, np.inf, np.nan, np.inf, 0.0])
    for equal_nan in (False, True):
        np.testing.assert_array_equal(
            fnp.isclose(a, b, equal_nan=equal_nan), np.isclose(a, b, equal_nan=equal_nan)
        )
    assert bool(fnp.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])) is True
    assert bool(fnp.allclose([1.0, np.nan], [1.0, np.nan])) is False
    assert bool(fnp.allclose([1.0, np.nan], [1.0, np.nan], equal_nan=True)) is True
    assert bool(fnp.array_equal([1, 2], np.array([1, 2]))) is True
    assert bool(fnp.array_equal(np.ones(2), np.ones(3))) is False
    assert bool(fnp.array_equal([np.nan], [np.nan])) is False
    assert bool(fnp.array_equal([np.nan], [np.nan], equal_nan=True)) is True
    assert bool(fnp.array_equiv([1, 2], [[1, 2], [1, 2]])) is True
    assert bool(fnp.array_equiv([1, 2], [1, 2, 3])) is False
    out = fnn.jit(lambda x, y: fnp.allclose(x, y))(np.ones(3), np.ones(3))
    assert out.dtype == np.bool_ and bool(out)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fnp.gcd(np.ones(2), 2), "expected integer arrays, got dtype float32"),
        (lambda: fnp.lcm(2, np.ones(2)), "expected integer arrays"),
        (lambda: fnp.ldexp(np.ones(2), np.ones(2)), "x2 must hold integers"),
        (lambda: fnp.bitwise_count(np.ones(2)), "expected integer arrays"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


def test_bitwise_count_counts_the_absolute_value():
    x = np.array([0, 7, -8, 255, -(2**31)], np.int32)
    out = fnp.bitwise_count(x)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.bitwise_count(x))
    np.testing.assert_array_equal(fnp.bitwise_count(np.array([True, False])), [1, 0])
