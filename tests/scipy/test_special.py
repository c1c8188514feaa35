"""Tests of fnn.scipy.special: values against scipy, derivatives against finite
differences (float64), second derivatives of logsumexp, vmap and jit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnn
import fnn.numpy as fnp
import fnn.scipy
from fnn.scipy import special


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


def _rng(seed=0):
    return np.random.default_rng(seed)


# name: (fnn function, scipy function, input sampler for one argument array)
UNARY = {
    "erf": (special.erf, sps.erf, lambda r, s: r.uniform(-3, 3, s)),
    "erfc": (special.erfc, sps.erfc, lambda r, s: r.uniform(-3, 6, s)),
    "erfinv": (special.erfinv, sps.erfinv, lambda r, s: r.uniform(-0.95, 0.95, s)),
    "gammaln": (special.gammaln, sps.gammaln, lambda r, s: r.uniform(0.2, 8, s)),
    "digamma": (special.digamma, sps.digamma, lambda r, s: r.uniform(0.2, 8, s)),
    "polygamma1": (
        lambda x: special.polygamma(1, x),
        lambda x: sps.polygamma(1, x),
        lambda r, s: r.uniform(0.2, 8, s),
    ),
    "multigammaln": (
        lambda x: special.multigammaln(x, 3),
        lambda x: sps.multigammaln(x, 3),
        lambda r, s: r.uniform(1.5, 8, s),
    ),
    "expit": (special.expit, sps.expit, lambda r, s: r.uniform(-8, 8, s)),
    "logit": (special.logit, sps.logit, lambda r, s: r.uniform(0.01, 0.99, s)),
    "entr": (special.entr, sps.entr, lambda r, s: r.uniform(0.05, 3, s)),
    "ndtr": (special.ndtr, sps.ndtr, lambda r, s: r.uniform(-6, 4, s)),
    "ndtri": (special.ndtri, sps.ndtri, lambda r, s: r.uniform(0.02, 0.98, s)),
    "logsumexp": (special.logsumexp, sps.logsumexp, lambda r, s: r.normal(0, 3, s)),
    "logsumexp_axis": (
        lambda x: special.logsumexp(x, axis=-1, keepdims=True),
        lambda x: sps.logsumexp(x, axis=-1, keepdims=True),
        lambda r, s: r.normal(0, 3, s),
    ),
    "softmax": (special.softmax, sps.softmax, lambda r, s: r.normal(0, 3, s)),
    "softmax_axis": (
        lambda x: special.softmax(x, axis=0),
        lambda x: sps.softmax(x, axis=0),
        lambda r, s: r.normal(0, 3, s),
    ),
    "log_softmax": (
        lambda x: special.log_softmax(x, axis=-1),
        lambda x: sps.log_softmax(x, axis=-1),
        lambda r, s: r.normal(0, 3, s),
    ),
}

BINARY = {
    "xlogy": (special.xlogy, sps.xlogy, lambda r, s: (r.normal(0, 2, s), r.uniform(0.1, 4, s))),
    "xlog1py": (
        special.xlog1py,
        sps.xlog1py,
        lambda r, s: (r.normal(0, 2, s), r.uniform(-0.9, 4, s)),
    ),
    "betaln": (
        special.betaln,
        sps.betaln,
        lambda r, s: (r.uniform(0.3, 5, s), r.uniform(0.3, 5, s)),
    ),
    "logsumexp_b": (
        lambda a, b: special.logsumexp(a, axis=0, b=b),
        lambda a, b: sps.logsumexp(a, axis=0, b=b),
        lambda r, s: (r.normal(0, 2, s), r.uniform(0.1, 2, s)),
    ),
}

SHAPE = (3, 4)


def _fd(f, xs, vs, eps=1e-6):
    plus = f(*[x + eps * v for x, v in zip(xs, vs, strict=True)])
    minus = f(*[x - eps * v for x, v in zip(xs, vs, strict=True)])
    return (_np(plus) - _np(minus)) / (2 * eps)


def _all_cases():
    for name, (f, ref, sample) in UNARY.items():
        yield name, f, ref, lambda r, s, sample=sample: (sample(r, s),)
    yield from ((name, *case) for name, case in BINARY.items())


CASES = {name: (f, ref, sample) for name, f, ref, sample in _all_cases()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy(name, x64):
    f, ref, sample = CASES[name]
    xs = sample(_rng(), SHAPE)
    np.testing.assert_allclose(_np(f(*xs)), ref(*xs), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32(name):
    f, ref, sample = CASES[name]
    xs = [x.astype(np.float32) for x in sample(_rng(), SHAPE)]
    out = f(*xs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        _np(out), ref(*[x.astype(np.float64) for x in xs]), rtol=2e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives(name, x64):
    f, _, sample = CASES[name]
    xs = sample(_rng(1), SHAPE)
    vs = [_rng(2 + i).standard_normal(SHAPE) for i in range(len(xs))]
    out, t = fnn.jvp(f, tuple(fnp.asarray(x) for x in xs), tuple(fnp.asarray(v) for v in vs))
    np.testing.assert_allclose(_np(t), _fd(f, xs, vs), rtol=1e-6, atol=1e-8)
    u = _rng(9).standard_normal(np.shape(_np(out)))
    _, f_vjp = fnn.vjp(f, *[fnp.asarray(x) for x in xs])
    cts = f_vjp(fnp.asarray(u))
    lhs = sum(np.sum(_np(c) * v) for c, v in zip(cts, vs, strict=True))
    np.testing.assert_allclose(lhs, np.sum(u * _np(t)), rtol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_and_jit(name):
    f, _, sample = CASES[name]
    xs = [x.astype(np.float32) for x in sample(_rng(3), (5,) + SHAPE)]
    expected = np.stack([_np(f(*[x[i] for x in xs])) for i in range(5)])
    np.testing.assert_allclose(_np(fnn.vmap(f)(*xs)), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(fnn.jit(f)(*xs)), _np(f(*xs)), rtol=1e-6, atol=1e-7)


# ---- logsumexp --------------------------------------------------------------------------


def test_logsumexp_gradient_is_softmax(x64):
    x = _rng(4).normal(0, 3, SHAPE)
    g = fnn.grad(lambda y: fnp.sum(special.logsumexp(y, axis=1) * fnp.array([1.0, 2.0, 3.0])))(x)
    np.testing.assert_allclose(_np(g), sps.softmax(x, axis=1) * [[1.0], [2.0], [3.0]], rtol=1e-12)


def test_logsumexp_second_derivatives(x64):
    # Hessian of logsumexp: diag(p) - p p^T with p = softmax(x).
    x = _rng(5).normal(0, 2, 5)
    p = sps.softmax(x)
    np.testing.assert_allclose(
        _np(fnn.hessian(special.logsumexp)(x)), np.diag(p) - np.outer(p, p), atol=1e-12
    )
    f = lambda y, b: special.logsumexp(y, b=b)  # noqa: E731
    b = _rng(6).uniform(0.5, 2, 5)
    grad_f = fnn.grad(f)
    v = _rng(7).standard_normal(5)
    _, hvp = fnn.jvp(lambda y: grad_f(y, b), (fnp.asarray(x),), (fnp.asarray(v),))
    np.testing.assert_allclose(_np(hvp), _fd(lambda y: grad_f(y, b), [x], [v]), rtol=1e-6)


def test_logsumexp_extremes():
    x = np.array([[1e30, 1e30], [-np.inf, -np.inf], [np.inf, 0.0], [-1e30, 0.0]], np.float32)
    np.testing.assert_allclose(_np(special.logsumexp(x, axis=1)), sps.logsumexp(x, axis=1))
    g = _np(fnn.grad(lambda y: special.logsumexp(y))(np.array([1e4, 1e4, -np.inf], np.float32)))
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0])
    assert np.isnan(_np(special.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0]))))
    out, s = special.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0]), return_sign=True)
    ref_out, ref_s = sps.logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)
    np.testing.assert_allclose((_np(out), _np(s)), (ref_out, ref_s), rtol=1e-6)
    # Zero weights ignore their entries, even infinite ones.
    np.testing.assert_allclose(
        _np(special.logsumexp(np.array([np.inf, 1.0]), b=np.array([0.0, 1.0]))), 1.0
    )


@settings(max_examples=20, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-50, 50) | st.just(-np.inf),
    ),
    keepdims=st.booleans(),
    data=st.data(),
)
def test_logsumexp_axes_match_scipy(x, keepdims, data):
    axis = data.draw(st.sampled_from([None] + list(range(x.ndim)) + [tuple(range(x.ndim))]))
    np.testing.assert_allclose(
        _np(special.logsumexp(x, axis=axis, keepdims=keepdims)),
        sps.logsumexp(x, axis=axis, keepdims=keepdims).astype(np.float32),
        rtol=1e-5,
        atol=1e-5,
    )


# ---- edge values ----------------------------------------------------------------------------


def test_xlogy_edges():
    ys = np.array([0.0, -1.0, np.inf, np.nan, 2.0])
    np.testing.assert_array_equal(
        _np(special.xlogy(0.0, ys)), sps.xlogy(0.0, ys).astype(np.float32)
    )
    ys1 = np.array([-1.0, -2.0, np.inf, np.nan, 2.0])
    np.testing.assert_array_equal(
        _np(special.xlog1py(0.0, ys1)), sps.xlog1py(0.0, ys1).astype(np.float32)
    )
    gx, gy = fnn.grad(special.xlogy, argnums=(0, 1))(0.0, 2.0)
    np.testing.assert_allclose((_np(gx), _np(gy)), (np.log(2.0), 0.0), rtol=1e-6)
    gx, gy = fnn.grad(special.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert np.isfinite(_np(gx)) and np.isfinite(_np(gy))


def test_tails_and_module_import():
    np.testing.assert_allclose(_np(special.erfc(np.float32(8.0))), sps.erfc(8.0), rtol=1e-5)
    np.testing.assert_allclose(_np(special.ndtr(np.float32(-10.0))), sps.ndtr(-10.0), rtol=1e-5)
    np.testing.assert_allclose(_np(special.logit(np.array([0.0, 1.0]))), [-np.inf, np.inf])
    assert fnn.scipy.special.expit is special.expit
    with pytest.raises(fnn.FnnTypeError, match="non-negative integer"):
        special.polygamma(-1, 1.0)
