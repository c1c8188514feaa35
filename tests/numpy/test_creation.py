"""Array creation (zeros, ones, full, empty, eye, identity, arange, linspace, meshgrid and
the *_like functions) against numpy, with JAX's default dtypes, and under transforms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from tests.lax.harness import SETTINGS, shape


def _same(out, expected, dtype):
    assert isinstance(out, fnn.Array)
    assert out.dtype == np.dtype(dtype), f"dtype {out.dtype} != {dtype}"
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6, atol=1e-6)


@SETTINGS
@given(s=shape() | st.integers(0, 4))
def test_zeros_ones_empty_full_shapes(s):
    _same(fnp.zeros(s), np.zeros(s), np.float32)
    _same(fnp.ones(s), np.ones(s), np.float32)
    assert fnp.empty(s).shape == np.empty(s).shape and fnp.empty(s).dtype == np.float32
    _same(fnp.full(s, 2.5), np.full(s, 2.5), np.float32)
    _same(fnp.full(s, 3), np.full(s, 3), np.int32)
    _same(fnp.full(s, True), np.full(s, True), np.bool_)


@pytest.mark.parametrize(
    "dtype,expected",
    [
        (None, np.float32),
        (int, np.int32),
        (float, np.float32),
        (bool, np.bool_),
        (np.int8, np.int8),
    ],
)
def test_creation_dtypes(dtype, expected):
    for f in (fnp.zeros, fnp.ones, fnp.empty):
        assert f((2, 3), dtype=dtype).dtype == expected
    assert fnp.full((2,), 1, dtype=dtype).dtype == (np.int32 if dtype is None else expected)
    assert fnp.eye(3, dtype=dtype).dtype == expected


def test_x64_defaults():
    fnn.config.update("enable_x64", True)
    assert fnp.zeros(2).dtype == np.float64
    assert fnp.full(2, 1).dtype == np.int64
    assert fnp.arange(3).dtype == np.int64
    assert fnp.linspace(0, 1, 3).dtype == np.float64
    assert fnp.eye(2).dtype == np.float64


def test_x64_requests_narrow_without_x64():
    assert fnp.zeros(2, np.float64).dtype == np.float32
    assert fnp.arange(3, dtype=np.int64).dtype == np.int32


@pytest.mark.parametrize("N,M,k", [(3, None, 0), (3, 4, 1), (4, 2, -1), (2, 3, 5), (0, None, 0)])
def test_eye(N, M, k):
    _same(fnp.eye(N, M, k), np.eye(N, M, k), np.float32)


def test_identity():
    _same(fnp.identity(3), np.identity(3), np.float32)
    _same(fnp.identity(2, dtype=int), np.identity(2), np.int32)


@pytest.mark.parametrize(
    "args,dtype",
    [
        ((5,), np.int32),
        ((2, 9), np.int32),
        ((1, 10, 3), np.int32),
        ((10, 1, -2), np.int32),
        ((0.0, 1.0, 0.25), np.float32),
        ((3.5,), np.float32),
        ((0, 1, 0.1), np.float32),
        ((5, 2), np.int32),
    ],
)
def test_arange(args, dtype):
    _same(fnp.arange(*args), np.arange(*args), dtype)


def test_arange_dtype_and_concrete_bounds():
    _same(fnp.arange(4, dtype=float), np.arange(4.0), np.float32)
    _same(fnp.arange(fnp.asarray(3)), np.arange(3), np.int32)
    with pytest.raises(TypeError, match="concrete"):
        fnn.jit(lambda n: fnp.arange(n))(3)


@pytest.mark.parametrize(
    "start,stop,num,endpoint",
    [(0, 1, 5, True), (0, 1, 5, False), (-2.0, 3.0, 1, True), (1, 0, 4, True), (0, 10, 0, True)],
)
def test_linspace(start, stop, num, endpoint):
    _same(
        fnp.linspace(start, stop, num, endpoint=endpoint),
        np.linspace(start, stop, num, endpoint=endpoint),
        np.float32,
    )


def test_linspace_retstep_and_dtype():
    out, step = fnp.linspace(0.0, 2.0, 5, retstep=True)
    _same(out, np.linspace(0.0, 2.0, 5), np.float32)
    assert float(step) == pytest.approx(0.5)
    _same(fnp.linspace(0, 4, 5, dtype=int), np.arange(5), np.int32)


def test_linspace_is_differentiable_in_its_bounds():
    # sum(start + (stop - start) * t) over t = 0, 1/3, 2/3, 1: d/dstart = 2, d/dstop = 2.
    g = fnn.grad(lambda a, b: fnp.sum(fnp.linspace(a, b, 4) ** 2), argnums=(0, 1))
    ga, gb = g(1.0, 2.0)
    t = np.linspace(0, 1, 4)
    x = 1.0 + t
    assert float(ga) == pytest.approx(np.sum(2 * x * (1 - t)), rel=1e-5)
    assert float(gb) == pytest.approx(np.sum(2 * x * t), rel=1e-5)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("sizes", [(3,), (2, 3), (2, 3, 4)])
def test_meshgrid(indexing, sparse, sizes):
    xs = [np.arange(n, dtype=np.float32) + 10 * i for i, n in enumerate(sizes)]
    out = fnp.meshgrid(*xs, indexing=indexing, sparse=sparse)
    expected = np.meshgrid(*xs, indexing=indexing, sparse=sparse)
    assert len(out) == len(expected)
    for o, e in zip(out, expected, strict=True):
        _same(o, e, np.float32)


def test_meshgrid_under_grad_and_vmap():
    def f(x, y):
        a, b = fnp.meshgrid(x, y)
        return fnp.sum(a * b)

    x, y = np.arange(3.0, dtype=np.float32), np.arange(2.0, dtype=np.float32) + 1
    gx, gy = fnn.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.full(3, y.sum()))
    np.testing.assert_allclose(gy, np.full(2, x.sum()))
    batched = fnn.vmap(f, in_axes=(0, None))(np.stack([x, 2 * x]), y)
    np.testing.assert_allclose(batched, [x.sum() * y.sum(), 2 * x.sum() * y.sum()])


def test_like_functions():
    a = fnp.asarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    _same(fnp.zeros_like(a), np.zeros((2, 3)), np.int32)
    _same(fnp.ones_like(a, dtype=float), np.ones((2, 3)), np.float32)
    _same(fnp.full_like(a, 7), np.full((2, 3), 7), np.int32)
    _same(fnp.full_like(a, 2.5, dtype=np.float32), np.full((2, 3), 2.5), np.float32)
    _same(fnp.zeros_like(a, shape=(4,)), np.zeros(4), np.int32)
    _same(fnp.ones_like(np.ones(3, np.float64)), np.ones(3), np.float32)
    assert fnp.empty_like(a).shape == (2, 3)


def test_like_functions_of_traced_values():
    f = fnn.jit(lambda x: fnp.ones_like(x) + fnp.full_like(x, 2.0) * x)
    np.testing.assert_allclose(f(np.arange(3.0, dtype=np.float32)), [1, 3, 5])
    v = fnn.vmap(lambda x: fnp.zeros_like(x) + fnp.sum(x))(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(v, np.full((2, 3), 3.0))


def test_full_with_a_traced_fill_value():
    assert float(fnn.grad(lambda v: fnp.sum(fnp.full((3, 2), v)))(2.0)) == 6.0
    out = fnn.jit(lambda v: fnp.full((2,), v))(fnp.asarray(1.5))
    _same(out, [1.5, 1.5], np.float32)
    out = fnn.vmap(lambda v: fnp.full((2,), v))(np.array([1.0, 2.0], np.float32))
    _same(out, [[1, 1], [2, 2]], np.float32)


def test_creation_inside_jit_is_constant():
    f = fnn.jit(lambda x: x + fnp.arange(3) + fnp.eye(3)[0] + fnp.linspace(0, 1, 3))
    np.testing.assert_allclose(f(np.zeros(3, np.float32)), [1, 1.5, 3])
