"""NaN-ignoring reductions, quantiles, covariances and histograms: the harness
properties over tests/numpy/cases_statistics.py, then all-NaN slices, where=/initial=,
numpy's exact histogram edges, traced quantiles and bincount lengths, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from tests.lax.properties import property_tests
from tests.numpy.cases_statistics import CASES

globals().update(property_tests(CASES))


# ---- what the table does not draw ----------------------------------------------------------

NAN = np.nan


def _quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return f(*a, **kw)


def test_all_nan_slices():
    x = np.array([[1.0, NAN], [NAN, NAN]], np.float32)
    for name in ("nanmax", "nanmin", "nanmean", "nanvar", "nanstd", "nanmedian"):
        got = getattr(fnp, name)(x, axis=1)
        np.testing.assert_array_equal(got, _quiet(getattr(np, name), x, axis=1), err_msg=name)
    np.testing.assert_array_equal(fnp.nansum(x, axis=1), [1.0, 0.0])
    np.testing.assert_array_equal(fnp.nanprod(x, axis=1), [1.0, 1.0])
    # numpy raises "All-NaN slice encountered"; fnn answers -1, as JAX does.
    np.testing.assert_array_equal(fnp.nanargmax(x, axis=1), [0, -1])
    np.testing.assert_array_equal(fnp.nanargmin(x, axis=1), [0, -1])


def test_nan_gradients_are_zero_at_the_nans():
    x = np.array([1.0, NAN, 3.0, 4.0], np.float32)
    for name in ("nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmedian"):
        g = np.asarray(fnn.grad(lambda v, f=getattr(fnp, name): f(v))(x))
        assert g[1] == 0.0 and np.isfinite(g).all(), (name, g)


def test_nan_reductions_with_where_and_initial():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5)).astype(np.float32)
    x[rng.random((4, 5)) < 0.3] = NAN
    w = rng.random((4, 5)) < 0.7
    for name in ("nansum", "nanprod", "nanmean", "nanvar", "nanstd"):
        got = getattr(fnp, name)(x, axis=0, where=w)
        np.testing.assert_allclose(got, _quiet(getattr(np, name), x, axis=0, where=w), rtol=1e-5)
    np.testing.assert_allclose(
        fnp.nanmax(x, axis=0, initial=1.0, where=w), np.nanmax(x, axis=0, initial=1.0, where=w)
    )
    np.testing.assert_allclose(fnp.nansum(x, initial=2.0), np.nansum(x, initial=2.0), rtol=1e-5)


def test_nan_reductions_of_integers():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(fnp.nanmax(x, axis=1), [2, 5])
    assert fnp.nanmean(x).dtype == np.float32
    assert int(fnp.nanmin(x, where=np.array([False, True, True]), initial=10)) == 1


def test_quantile_dtypes_and_keepdims():
    assert fnp.median(np.arange(5)).dtype == np.float32
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    got = fnp.quantile(x, np.array([0.2, 0.7]), axis=(0, 2), keepdims=True)
    ref = np.quantile(x, np.array([0.2, 0.7]), axis=(0, 2), keepdims=True)
    assert got.shape == ref.shape == (2, 1, 3, 1)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    ref = np.quantile(x, 0.3, method="lower")
    np.testing.assert_allclose(fnp.quantile(x, 0.3, interpolation="lower"), ref)


def test_quantile_of_data_with_nan_is_nan():
    x = np.array([[1.0, NAN, 3.0], [1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(fnp.median(x, axis=1), [NAN, 2.0])
    np.testing.assert_array_equal(fnp.nanmedian(x, axis=1), [2.0, 2.0])


def test_quantile_under_jit_and_vmap_with_traced_q():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 7)).astype(np.float32)
    qs = np.array([0.1, 0.5, 0.9], np.float32)
    got = fnn.jit(lambda x, q: fnp.quantile(x, q, axis=1))(x, qs)
    np.testing.assert_allclose(got, np.quantile(x, qs, axis=1), rtol=1e-5, atol=1e-6)
    got = fnn.vmap(lambda q: fnp.quantile(x, q, axis=1))(qs)
    np.testing.assert_allclose(got, np.quantile(x, qs, axis=1), rtol=1e-5, atol=1e-6)
    # d quantile / d q = (n - 1) * (upper - lower neighbour), here between sorted 1 and 2.
    xs = np.array([0.0, 1.0, 3.0], np.float32)
    assert float(fnn.grad(lambda q: fnp.quantile(xs, q))(0.75)) == pytest.approx(2 * 2.0)


def test_bincount_concrete_and_under_jit():
    x = np.array([0, 1, 1, 3, 1], np.int32)
    np.testing.assert_array_equal(fnp.bincount(x), np.bincount(x))
    np.testing.assert_array_equal(fnp.bincount(x, minlength=7), np.bincount(x, minlength=7))
    assert fnp.bincount(x).dtype == np.int32
    w = np.array([0.5, 1.0, 2.0, 1.5, 1.0], np.float32)
    np.testing.assert_allclose(fnp.bincount(x, weights=w), np.bincount(x, weights=w))
    assert fnp.bincount(np.zeros(0, np.int32)).shape == (0,)
    with pytest.raises(FnnTypeError, match="pass length="):
        fnn.jit(fnp.bincount)(x)
    # With length=, values at or past it (and negative ones) are left out.
    got = fnn.jit(lambda x: fnp.bincount(x, length=2))(np.array([0, 1, 5, -1, 1], np.int32))
    np.testing.assert_array_equal(got, [1, 2])


def test_histogram_edges_are_numpys_and_counts_under_jit():
    rng = np.random.default_rng(2)
    a = rng.normal(size=300).astype(np.float32)
    for bins, rng_ in [(7, None), (4, (-1.0, 0.1)), (1, None)]:
        counts, edges = fnp.histogram(a, bins, range=rng_)
        ref_counts, ref_edges = np.histogram(a, bins, range=rng_)
        np.testing.assert_array_equal(edges, ref_edges.astype(np.float32))
        np.testing.assert_array_equal(counts, ref_counts)
    jitted = fnn.jit(lambda a: fnp.histogram(a, 6))(a)
    np.testing.assert_array_equal(jitted[0], np.histogram(a, 6)[0])
    np.testing.assert_allclose(jitted[1], np.histogram(a, 6)[1], rtol=1e-6)
    # A single value: numpy widens the range by 0.5 each way.
    counts, edges = fnp.histogram(np.array([5.0], np.float32), 2)
    np.testing.assert_array_equal(edges, [4.5, 5.0, 5.5])
    np.testing.assert_array_equal(counts, [0, 1])


def test_histogramdd_and_histogram2d():
    rng = np.random.default_rng(3)
    s = rng.normal(size=(100, 3)).astype(np.float32)
    for bins in (4, [2, 3, 4], [np.array([-2.0, 0.0, 2.0]), 3, 5]):
        for density in (None, True):
            got, edges = fnp.histogramdd(s, bins, density=density)
            ref, ref_edges = np.histogramdd(s, bins, density=density)
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
            for e, r in zip(edges, ref_edges, strict=True):
                np.testing.assert_allclose(e, r.astype(np.float32), rtol=1e-6)
    w = rng.uniform(size=100).astype(np.float32)
    got = fnp.histogram2d(s[:, 0], s[:, 1], bins=[3, 5], weights=w)
    ref = np.histogram2d(s[:, 0], s[:, 1], bins=[3, 5], weights=w)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)


def test_many_bins_over_much_data_stay_cheap():
    # Binning is a binary search (log2 of the bins per value), not a compare-all table
    # of values x bins, which here would hold a billion entries.
    a = np.random.default_rng(4).random(1_000_000).astype(np.float32)
    counts, _ = fnp.histogram(a, 1000)
    np.testing.assert_array_equal(counts, np.histogram(a, 1000)[0])


@pytest.mark.parametrize("method", ["scan", "scan_unrolled", "sort", "compare_all"])
def test_searchsorted_methods_agree_with_numpy(method):
    a = np.sort(np.array([-np.inf, -1.0, 0.0, 0.0, 2.0, np.inf, np.nan], np.float32))
    v = np.array([-2.0, 0.0, 1.0, np.inf, np.nan, -np.inf], np.float32)
    for side in ("left", "right"):
        got = fnp.searchsorted(a, v, side, method=method)
        np.testing.assert_array_equal(got, np.searchsorted(a, v, side))
    with pytest.raises(FnnTypeError, match="method must be"):
        fnp.searchsorted(a, v, method="guess")


def test_digitize_decreasing_bins_under_jit():
    x = np.array([0.5, 1.0, 3.0, 4.0, 2.5, -1.0], np.float32)
    for bins in (np.array([1.0, 2.0, 3.0], np.float32), np.array([3.0, 2.0, 1.0], np.float32)):
        for right in (False, True):
            ref = np.digitize(x, bins, right)
            np.testing.assert_array_equal(fnp.digitize(x, bins, right), ref)
            np.testing.assert_array_equal(
                fnn.jit(lambda x, b, r=right: fnp.digitize(x, b, r))(x, bins), ref
            )


def test_cov_and_corrcoef_special_shapes():
    y = np.array([1.0, 2.0, 4.0], np.float32)
    assert fnp.cov(y).shape == ()
    np.testing.assert_allclose(fnp.cov(y), np.cov(y), rtol=1e-6)
    np.testing.assert_allclose(fnp.corrcoef(y), 1.0)
    np.testing.assert_allclose(fnp.cov(y, dtype=np.float32), np.cov(y), rtol=1e-6)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fnp.quantile(np.ones(3), 1.5), r"must lie in \[0, 1\]"),
        (lambda: fnp.percentile(np.ones(3), -5), r"must lie in \[0, 1\]"),
        (lambda: fnp.quantile(np.ones((2, 0)), 0.5, axis=1), "empty axis"),
        (lambda: fnp.bincount(np.array([1.5])), "non-negative integers"),
        (lambda: fnp.bincount(np.array([1, -2])), "must be non-negative"),
        (lambda: fnp.bincount(np.ones((2, 2), np.int32)), "must be 1-D"),
        (lambda: fnp.bincount(np.array([1]), weights=np.ones(2)), "must match x"),
        (lambda: fnp.histogram(np.ones(3), bins=0), "must be positive"),
        (lambda: fnp.histogram(np.ones(3), bins=[1.0, 0.0]), "increase monotonically"),
        (lambda: fnp.histogram(np.ones(3), range=(2, 1)), "low <= high"),
        (lambda: fnp.histogram(np.array([1.0, np.inf])), "not finite"),
        (lambda: fnp.histogram(np.ones(3), weights=np.ones(2)), "must match the data"),
        (lambda: fnp.digitize(np.ones(3), np.array([1.0, 3.0, 2.0])), "monotonically"),
        (lambda: fnp.cov(np.ones((2, 3)), np.ones(4)), "same number of observations"),
        (lambda: fnp.cov(np.ones((2, 2, 2))), "1-D or 2-D"),
        (lambda: fnp.cov(np.ones((2, 3)), aweights=np.ones(2)), "aweights must be 1-D of length 3"),
        (lambda: fnp.histogramdd(np.ones((3, 2)), bins=[2, 2, 2]), "one entry per dimension"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


def test_unsupported_options_say_so():
    with pytest.raises(NotImplementedError, match="method must be one of"):
        fnp.quantile(np.ones(3), 0.5, method="hazen")
    with pytest.raises(NotImplementedError, match="weights"):
        fnp.quantile(np.ones(3), 0.5, weights=np.ones(3))
    with pytest.raises(NotImplementedError, match="estimators"):
        fnp.histogram(np.ones(3), bins="auto")
