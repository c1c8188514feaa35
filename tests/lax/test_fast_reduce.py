"""The fast reduction forms agree with numpy's reductions, eagerly and under jit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.lax import _fast_reduce as fr

# (shape, axes, the form that applies): large enough for the fast forms.
CASES = [
    ((128, 14, 2, 14, 2, 8), (2, 4), "small"),  # 2x2 pooling windows
    ((64, 10, 3, 10, 3, 4), (2, 4), "small"),  # 3x3 windows
    ((40, 4, 30, 1, 40), (1, 3), "small"),  # a size-1 axis among the reduced ones
    ((512, 64), (0,), "leading"),  # a dense layer's bias gradient
    ((16, 28, 28, 8), (0, 1, 2), "leading"),  # a convolution's bias gradient
    ((256, 128), (1,), None),  # the last axis: numpy's own pairwise sum
    ((128, 14, 2, 14, 2), (2, 4), "small"),  # windows that include the last axis
    ((20000, 4), (1,), "small"),
    ((8, 40, 40, 8), (1, 2), None),  # a 1600-element window: too large
    ((4096, 16), (1,), None),  # 16 elements over the last axis: numpy's own is faster
    ((4, 2, 4), (1,), None),  # too small to pay off
]


def _form(shape, axes, dtype):
    if fr.sum_leading_applies(shape, axes, dtype):
        return "leading"
    return "small" if fr.small_axes_apply(shape, axes, dtype) else None


@pytest.mark.parametrize("shape,axes,form", CASES)
def test_forms_apply_where_expected(shape, axes, form):
    assert _form(shape, axes, np.float32) == form
    assert not fr.sum_leading_applies(shape, axes, np.int32)  # no BLAS for integers
    assert fr.small_sum_applies(shape, axes, np.uint8) == (form == "small")  # exact
    assert not fr.small_sum_applies(shape, axes, np.float16)  # no float16 partial sums
    assert fr.small_sum_applies(shape, axes, np.float32) == (form == "small")


@settings(max_examples=30, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**16), nan=st.booleans())
def test_max_and_min_are_exact_and_propagate_nan(case, seed, nan):
    shape, axes, _ = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    if nan:
        x.reshape(-1)[seed % x.size] = np.nan
    for fast, ref in ((fr.fast_max, np.max), (fr.fast_min, np.min)):
        expected = ref(x, axis=axes)
        np.testing.assert_array_equal(fast(x, axes), expected)
        out = np.empty_like(expected)
        assert fast(x, axes, out=out) is out
        np.testing.assert_array_equal(out, expected)


@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(CASES),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.uint8, np.int32, np.int64]),
)
def test_integer_sums_and_extrema_are_exact(case, seed, dtype):
    # Integer additions wrap around the same in any order: the window slices give
    # numpy's sums bit for bit (uint8 sums of up to 255 here overflow, on purpose).
    shape, axes, _ = case
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    x = rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True)
    x = x.astype(dtype)
    np.testing.assert_array_equal(fr.fast_sum(x, axes), np.add.reduce(x, axis=axes, dtype=dtype))
    np.testing.assert_array_equal(fr.fast_max(x, axes), np.max(x, axis=axes))
    np.testing.assert_array_equal(fr.fast_min(x, axes), np.min(x, axis=axes))


@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(CASES),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_sum_matches_float64_sum_within_rounding(case, seed, dtype):
    shape, axes, _ = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    exact = np.sum(x.astype(np.float64), axis=axes)
    got = fr.fast_sum(x, axes)
    assert got.dtype == dtype and got.shape == exact.shape
    n = x.size // exact.size
    # float rounding of n additions of O(1) terms (as numpy's own sequential order)
    tol = 4 * np.finfo(dtype).eps * n
    np.testing.assert_allclose(got, exact, rtol=0, atol=tol * np.abs(x).max())
    out = np.empty(exact.shape, dtype)
    assert fr.fast_sum(x, axes, out=out) is out
    np.testing.assert_array_equal(out, got)


def test_leading_sum_of_a_transposed_view():
    x = np.random.default_rng(0).standard_normal((64, 512)).astype(np.float32)
    view = x.T  # (512, 64), not contiguous: reshaped by a copy
    np.testing.assert_allclose(fr.fast_sum(view, (0,)), view.sum(0), rtol=1e-5, atol=1e-4)


def test_integer_and_bool_sums_keep_numpy_semantics():
    x = np.ones((128, 256), np.int32)
    assert fr.fast_sum(x, (0,)).dtype == np.int32
    np.testing.assert_array_equal(fr.fast_sum(x, (0,)), np.full(256, 128))


def _pool_step(x):
    # max pooling over 2x2 windows and its gradient (tie counts: reduce_sum of windows)
    n, h, w, c = x.shape
    y = fnp.max(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))
    return fnp.sum(y * y) + fnp.sum(x, axis=(0, 1, 2)).sum()


@pytest.mark.parametrize("channels", [8, 1])
def test_pooling_program_jit_matches_eager_and_numpy(channels):
    x = np.random.default_rng(1).standard_normal((32, 28, 28, channels)).astype(np.float32)
    x[0, 0, 0, 0] = x[0, 0, 1, 0] = 10.0  # a tie for a window's max: the gradient splits it
    value, grad = fnn.value_and_grad(_pool_step)(x)
    step = fnn.jit(fnn.value_and_grad(_pool_step))
    source = step.lower(x).fn.source
    assert "_reduce_small_axes(np.maximum" in source and "_reduce_small_axes(np.add" in source
    assert channels == 1 or "_sum_leading(" in source
    jvalue, jgrad = step(x)
    np.testing.assert_allclose(jvalue, value, rtol=1e-6)
    np.testing.assert_allclose(jgrad, grad, rtol=1e-6, atol=1e-6)
    pooled = x.reshape(32, 14, 2, 14, 2, channels).max(axis=(2, 4))
    expected = float(np.sum(pooled.astype(np.float64) ** 2) + x.astype(np.float64).sum())
    np.testing.assert_allclose(float(value), expected, rtol=1e-5)
    # d/dx of y^2 = 20, split between the two tied positions, plus 1 from the sum
    assert float(grad[0, 0, 0, 0]) == float(grad[0, 0, 1, 0]) == pytest.approx(11.0)
