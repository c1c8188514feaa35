"""Tests of fnn.lax.sorting and fnn.numpy.sorting: numpy agreement (ties, NaN, ints),
stability, derivatives of sort, vmap, jit, searchsorted and unique."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from fnn.lax import sorting as lax_sorting


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


# Few distinct values, so ties are common; NaN and infinities included.
VALUES = st.sampled_from([0.0, 1.0, -1.0, 2.5, np.nan, np.inf, -np.inf])


@st.composite
def array_and_axis(draw, elements=VALUES, dtype=np.float32):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=5))
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    axis = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    return x, axis


@settings(max_examples=25, deadline=None)
@given(array_and_axis())
def test_sort_and_argsort_match_numpy(xa):
    x, axis = xa
    np.testing.assert_array_equal(_np(fnp.sort(x, axis)), np.sort(x, axis))
    np.testing.assert_array_equal(_np(fnp.argsort(x, axis)), np.argsort(x, axis, kind="stable"))


@settings(max_examples=20, deadline=None)
@given(array_and_axis(elements=st.integers(-3, 3), dtype=np.int32))
def test_descending_is_stable(xa):
    x, axis = xa
    idx = _np(fnp.argsort(x, axis, descending=True))
    # Stable descending order == stable ascending order of -x (exact for small ints).
    np.testing.assert_array_equal(idx, np.argsort(-x, axis, kind="stable"))
    np.testing.assert_array_equal(_np(fnp.sort(x, axis, descending=True)), -np.sort(-x, axis))


def test_dtypes():
    assert fnp.argsort(np.ones(3, np.float32)).dtype == np.int32
    assert fnp.sort(np.array([3, 1], np.int32)).dtype == np.int32
    np.testing.assert_array_equal(_np(fnp.sort(np.array([True, False]))), [False, True])
    np.testing.assert_array_equal(_np(fnp.arange(3.0)[::-1].argsort()), [2, 1, 0])


def test_errors():
    with pytest.raises(FnnTypeError, match="out of bounds"):
        fnp.sort(np.ones((2, 3)), axis=2)
    with pytest.raises(FnnTypeError, match="rank 0"):
        lax_sorting.sort(np.float32(1.0))
    with pytest.raises(NotImplementedError, match="order"):
        fnp.sort(np.ones(3), order="x")


# ---- derivatives --------------------------------------------------------------------------


def _distinct(shape, seed=0):
    return np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.37 - 1.0


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_sort_jvp_and_vjp(axis, x64):
    x = _distinct((3, 4))
    v = np.random.default_rng(1).standard_normal(x.shape)
    f = lambda y: fnp.sort(y, axis)  # noqa: E731
    _, t = fnn.jvp(f, (fnp.asarray(x),), (fnp.asarray(v),))
    eps = 1e-6
    fd = (_np(f(x + eps * v)) - _np(f(x - eps * v))) / (2 * eps)
    np.testing.assert_allclose(_np(t), fd, rtol=1e-6, atol=1e-8)
    # The jvp is the permuted tangent, exactly.
    np.testing.assert_array_equal(
        _np(t),
        np.take_along_axis(
            v.reshape(-1) if axis is None else v,
            np.argsort(x, axis),
            axis if axis is not None else 0,
        ),
    )
    u = np.random.default_rng(2).standard_normal(np.shape(_np(t)))
    _, f_vjp = fnn.vjp(f, fnp.asarray(x))
    (g,) = f_vjp(fnp.asarray(u))
    np.testing.assert_allclose(np.sum(_np(g) * v), np.sum(u * _np(t)), rtol=1e-12)


def test_sort_gradient_goes_to_original_positions():
    x = fnp.array([3.0, 1.0, 2.0])
    g = fnn.grad(lambda y: fnp.sum(fnp.sort(y) * fnp.array([1.0, 10.0, 100.0])))(x)
    np.testing.assert_array_equal(_np(g), [100.0, 1.0, 10.0])
    g = fnn.grad(lambda y: fnp.sort(y, descending=True)[0])(x)
    np.testing.assert_array_equal(_np(g), [1.0, 0.0, 0.0])


def test_second_derivative_through_sort(x64):
    # f(x) = sum(w * sort(x)^3): Hessian is diag(6 w[rank] x).
    x = _distinct((5,))
    w = np.arange(1.0, 6.0)
    f = lambda y: fnp.sum(fnp.sort(y) ** 3 * w)  # noqa: E731
    h = _np(fnn.hessian(f)(fnp.asarray(x)))
    rank = np.argsort(np.argsort(x))
    np.testing.assert_allclose(h, np.diag(6 * w[rank] * x), rtol=1e-12)


def test_argsort_has_zero_derivative():
    x = fnp.array([3.0, 1.0, 2.0])
    g = fnn.grad(lambda y: fnp.sum(fnp.argsort(y).astype(np.float32) * y))(x)
    np.testing.assert_array_equal(_np(g), [1.0, 2.0, 0.0])  # argsort(x), as a constant


# ---- vmap and jit -------------------------------------------------------------------------


@pytest.mark.parametrize("in_axes", [0, 1, -1])
@pytest.mark.parametrize(
    "f",
    [
        lambda y: fnp.sort(y, axis=0),
        lambda y: fnp.argsort(y, axis=-1, descending=True),
        lambda y: fnp.sort(y, axis=None),
        fnn.grad(lambda y: fnp.sum(fnp.sort(y, axis=0)[0] * 3.0)),
    ],
)
def test_vmap_matches_loop(f, in_axes):
    xs = _distinct((4, 3, 5)).astype(np.float32)
    xs[0, 0, :2] = 1.0  # a tie
    moved = np.moveaxis(xs, 0, in_axes)
    expected = np.stack([_np(f(fnp.asarray(x))) for x in xs])
    np.testing.assert_array_equal(_np(fnn.vmap(f, in_axes=in_axes)(moved)), expected)


def test_jit_matches_eager():
    x = _distinct((3, 4)).astype(np.float32)
    for f in (
        lambda y: fnp.sort(y, axis=0),
        lambda y: fnp.argsort(y),
        lambda y: fnp.argsort(y, axis=None, descending=True),
        fnn.grad(lambda y: fnp.sum(fnp.sort(y) ** 2 * fnp.arange(4.0))),
        lambda y: fnp.searchsorted(fnp.sort(y[0]), y),
    ):
        np.testing.assert_array_equal(_np(fnn.jit(f)(x)), _np(f(x)))


# ---- searchsorted and unique ---------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    a=hnp.arrays(np.float32, st.integers(0, 8), elements=VALUES),
    v=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), elements=VALUES),
    side=st.sampled_from(["left", "right"]),
)
def test_searchsorted_matches_numpy(a, v, side):
    a = np.sort(a)
    np.testing.assert_array_equal(_np(fnp.searchsorted(a, v, side)), np.searchsorted(a, v, side))


def test_searchsorted_sorter_vmap_and_errors():
    a = np.array([3.0, 1.0, 2.0], np.float32)
    sorter = np.argsort(a)
    np.testing.assert_array_equal(
        _np(fnp.searchsorted(a, [2.5, 0.0], sorter=sorter)),
        np.searchsorted(a, [2.5, 0.0], sorter=sorter),
    )
    vs = np.array([[0.5, 1.5], [2.5, 3.5]], np.float32)
    out = fnn.vmap(lambda v: fnp.searchsorted(np.sort(a), v))(vs)
    np.testing.assert_array_equal(_np(out), np.searchsorted(np.sort(a), vs))
    with pytest.raises(FnnTypeError, match="1-D"):
        fnp.searchsorted(np.ones((2, 2)), 1.0)
    with pytest.raises(FnnTypeError, match="side"):
        fnp.searchsorted(np.ones(2), 1.0, side="middle")


def test_unique_matches_numpy():
    x = np.array([[3, 1, 3], [2, 1, 1]], np.int32)
    np.testing.assert_array_equal(_np(fnp.unique(x)), np.unique(x))
    ours = fnp.unique(x, return_index=True, return_inverse=True, return_counts=True)
    theirs = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(_np(o), t)
    np.testing.assert_array_equal(_np(fnp.unique(x, axis=0)), np.unique(x, axis=0))
    f = np.array([np.nan, 1.0, np.nan], np.float32)
    np.testing.assert_array_equal(_np(fnp.unique(f)), np.unique(f))


def test_unique_fixed_size_and_tracing():
    x = np.array([3, 1, 3, 2], np.int32)
    np.testing.assert_array_equal(_np(fnp.unique(x, size=5)), [1, 2, 3, 1, 1])
    np.testing.assert_array_equal(_np(fnp.unique(x, size=5, fill_value=-1)), [1, 2, 3, -1, -1])
    vals, counts = fnp.unique(x, size=2, return_counts=True)
    np.testing.assert_array_equal(_np(vals), [1, 2])
    np.testing.assert_array_equal(_np(counts), [1, 1])
    with pytest.raises(FnnTypeError, match="concrete"):
        fnn.jit(fnp.unique)(x)
