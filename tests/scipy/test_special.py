"""Tests of fnn.scipy.special: values against scipy, derivatives against finite
differences (float64), second derivatives of logsumexp, vmap and jit; the tails of
ndtri and log_ndtr, and the incomplete gamma and beta functions over wide grids, at
their edges and in their parameter derivatives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnn
import fnn.numpy as fnp
import fnn.scipy
from fnn.scipy import _incomplete, special


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
    "log_ndtr": (special.log_ndtr, sps.log_ndtr, lambda r, s: r.uniform(-30, 10, s)),
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
    "gammainc": (
        special.gammainc,
        sps.gammainc,
        lambda r, s: (r.uniform(0.3, 20, s), r.uniform(0.01, 30, s)),
    ),
    "gammaincc": (
        special.gammaincc,
        sps.gammaincc,
        lambda r, s: (r.uniform(0.3, 20, s), r.uniform(0.01, 30, s)),
    ),
}

TERNARY = {
    "betainc": (
        special.betainc,
        sps.betainc,
        lambda r, s: (r.uniform(0.3, 10, s), r.uniform(0.3, 10, s), r.uniform(0.01, 0.99, s)),
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
    yield from ((name, *case) for name, case in TERNARY.items())


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


# ---- tails of the normal distribution ---------------------------------------------------


def _rel_close(got, want, rtol):
    """Equal where both are exact (0, inf, nan), else within rtol (relative)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        err = np.where(same, 0.0, np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
    assert err.max() <= rtol, (err.max(), got[err.argmax()], want[err.argmax()])


def test_ndtri_is_accurate_in_the_tails(x64):
    p = np.concatenate(
        [
            10.0 ** -np.linspace(1, 320, 200),
            np.linspace(0.01, 0.99, 99),
            1 - 10.0 ** -np.arange(1, 16),
        ]
    )
    _rel_close(special.ndtri(p), sps.ndtri(p), 4e-15)
    edges = np.array([0.0, 1.0, 0.5, -0.1, 1.1, np.nan])
    _rel_close(special.ndtri(edges), sps.ndtri(edges), 0)
    # where sqrt(2) * erfinv(2p - 1) has nothing left to work with
    assert np.isfinite(_np(special.ndtri(1e-300))) and _np(special.ndtri(1e-300)) < -37


def test_log_ndtr_is_accurate_in_the_tails(x64):
    x = np.concatenate([-np.logspace(3, -3, 200), np.logspace(-3, 1.6, 100)])
    _rel_close(special.log_ndtr(x), sps.log_ndtr(x), 2e-15)
    edges = np.array([-np.inf, np.inf, np.nan, 0.0])
    _rel_close(special.log_ndtr(edges), sps.log_ndtr(edges), 0)


def test_normal_tails_in_float32():
    p = np.array([1e-38, 1e-30, 1e-10, 1e-4, 0.2, 0.6, 0.999, 1 - 2**-23], np.float32)
    out = special.ndtri(p)
    assert out.dtype == np.float32
    _rel_close(out, sps.ndtri(p.astype(np.float64)), 3e-7)
    x = np.array([-100, -30, -11, -9.9, -3, 0, 2, 6], np.float32)
    # float32 rounds x / sqrt(2) by 6e-8, which moves erfc(x / sqrt(2)) by x**2 times that
    _rel_close(special.log_ndtr(x), sps.log_ndtr(x.astype(np.float64)), 5e-6)


# phi(x) / Phi(x), the derivative of log_ndtr, from mpmath at 40 digits.
LOG_NDTR_SLOPE = {
    -1000.0: 1000.00099999800001,
    -100.0: 100.00999800099926071,
    -37.5: 37.526628874883653599,
    -20.5: 20.548551052435848816,
    -19.5: 19.551015802580620764,
    -9.5: 9.6030500903842820923,
    -3.0: 3.2830986549304365069,
    0.0: 0.79788456080286535588,
    4.0: 0.00013383446446857514211,
    12.0: 2.146383735663060345e-32,
}


def test_tail_derivatives(x64):
    x = np.array(list(LOG_NDTR_SLOPE))
    slope = fnn.vmap(fnn.grad(special.log_ndtr))(x)
    np.testing.assert_allclose(_np(slope), list(LOG_NDTR_SLOPE.values()), rtol=1e-13)
    # ndtri' = 1 / phi(ndtri(p)) and ndtri'' = ndtri(p) / phi(ndtri(p))**2, deep in both tails
    p = np.array([1e-250, 1e-100, 1e-20, 1e-5, 0.1, 0.3, 0.7, 1 - 1e-10])
    q = sps.ndtri(p)
    first = np.sqrt(2 * np.pi) * np.exp(0.5 * q * q)
    np.testing.assert_allclose(_np(fnn.vmap(fnn.grad(special.ndtri))(p)), first, rtol=1e-12)
    second = fnn.vmap(fnn.grad(fnn.grad(special.ndtri)))(p[1:])  # (p[0]: overflows)
    np.testing.assert_allclose(_np(second), q[1:] * first[1:] ** 2, rtol=1e-10)


# ---- the incomplete gamma and beta functions --------------------------------------------


def _gamma_grid(n, a_max, seed):
    r = _rng(seed)
    a = np.exp(r.uniform(np.log(0.01), np.log(a_max), n))
    # around the bulk (x ~ a +- a few sqrt(a)) and far into both tails
    x = a * np.exp(r.normal(0, 3 / np.sqrt(np.maximum(a, 1)), n))
    return a, np.concatenate([x[: n // 2], a[n // 2 :] * 10.0 ** r.uniform(-8, 1.3, n - n // 2)])


def test_gammainc_and_gammaincc_on_wide_grids(x64):
    for a_max, rtol in ((10.0, 1e-13), (1e3, 1e-12), (1e4, 5e-12)):
        a, x = _gamma_grid(400, a_max, int(a_max))
        want_p, want_q = sps.gammainc(a, x), sps.gammaincc(a, x)
        for got, want in ((special.gammainc(a, x), want_p), (special.gammaincc(a, x), want_q)):
            keep = want > 1e-290  # scipy's own last digits go below that
            _rel_close(_np(got)[keep], want[keep], rtol)


def test_betainc_on_wide_grids(x64):
    for ab_max, rtol in ((10.0, 1e-13), (1e3, 1e-12)):
        r = _rng(int(ab_max))
        a, b = (np.exp(r.uniform(np.log(0.05), np.log(ab_max), 400)) for _ in range(2))
        sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        x = np.clip(a / (a + b) + sd * r.normal(0, 4, 400), 1e-12, 1 - 1e-12)
        keep = sps.betainc(a, b, x) > 1e-290
        _rel_close(_np(special.betainc(a, b, x))[keep], sps.betainc(a, b, x)[keep], rtol)
        # the upper tail, 1 - I_x(a, b) = I_(1-x)(b, a), keeps its relative accuracy
        keep = sps.betainc(b, a, 1 - x) > 1e-290
        want = sps.betainc(b, a, 1 - x)[keep]
        _rel_close(_np(special.betainc(b, a, 1 - x))[keep], want, 2e-11)


def test_incomplete_functions_at_their_edges(x64):
    v = [0.0, 0.5, 1.0, 2.0, np.inf, np.nan, -1.0]
    a, x = np.array(list(itertools.product(v, v))).T
    # (scipy's gammaincc(0.5, 1.0) is itself off by 2.5e-14; mpmath agrees with ours)
    _rel_close(special.gammainc(a, x), sps.gammainc(a, x), 5e-14)
    _rel_close(special.gammaincc(a, x), sps.gammaincc(a, x), 5e-14)
    a, b, x = np.array(list(itertools.product(v, v, [0.0, 0.3, 1.0, 1.5, np.nan, -0.5]))).T
    _rel_close(special.betainc(a, b, x), sps.betainc(a, b, x), 1e-14)


def test_incomplete_functions_are_nan_beyond_their_depth(x64):
    # A fixed evaluation depth: past it the answer is NaN, never a truncated number.
    assert np.isnan(_np(special.gammainc(1e6, 1e6 + 10.0)))
    assert np.isnan(_np(special.gammaincc(1e6, 1e6 + 10.0)))
    assert np.isnan(_np(special.betainc(1e7, 2e7, 1 / 3)))
    np.testing.assert_allclose(
        _np(special.gammainc(1e4, 1e4 + 50.0)), sps.gammainc(1e4, 1e4 + 50), rtol=1e-11
    )


def _fd_scipy(f, args, i, h_rel=1e-6):
    up, down = list(args), list(args)
    h = h_rel * args[i]
    up[i], down[i] = args[i] + h, args[i] - h
    return (f(*up) - f(*down)) / (2 * h)


def test_incomplete_functions_parameter_derivatives(x64):
    r = _rng(11)
    a, x = r.uniform(0.3, 40, 30), r.uniform(0.05, 50, 30)
    ga, gx = fnn.vmap(fnn.grad(special.gammainc, argnums=(0, 1)))(a, x)
    # (atol: the rounding noise of scipy's central difference)
    np.testing.assert_allclose(_np(ga), _fd_scipy(sps.gammainc, (a, x), 0), rtol=1e-6, atol=1e-9)
    density = np.exp((a - 1) * np.log(x) - x - sps.gammaln(a))
    np.testing.assert_allclose(_np(gx), density, rtol=1e-12)
    qa = fnn.vmap(fnn.grad(special.gammaincc))(a, x)
    np.testing.assert_allclose(_np(qa), -_np(ga), rtol=1e-10, atol=1e-14)
    hx = fnn.vmap(fnn.grad(fnn.grad(special.gammainc, argnums=1), argnums=1))(a, x)
    np.testing.assert_allclose(_np(hx), density * ((a - 1) / x - 1), rtol=1e-10, atol=1e-14)

    b, y = r.uniform(0.3, 40, 30), r.uniform(0.02, 0.98, 30)
    ga, gb, gy = fnn.vmap(fnn.grad(special.betainc, argnums=(0, 1, 2)))(a, b, y)
    for got, i in ((ga, 0), (gb, 1)):
        want = _fd_scipy(sps.betainc, (a, b, y), i)
        np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-9)
    density = np.exp((a - 1) * np.log(y) + (b - 1) * np.log1p(-y) - sps.betaln(a, b))
    np.testing.assert_allclose(_np(gy), density, rtol=1e-12, atol=1e-300)


# log B(a, b) from mpmath at 40 digits.
BETALN = {
    (1e6, 2e6): -1909548.2909685329565,
    (0.5, 1e8): -8.637975427801482649,
    (3e4, 25.5): -206.49953481155246577,
    (1e3, 1e3): -1388.4826016359022503,
    (12.5, 7.25): -12.812329327932779412,
}


def test_betaln_keeps_its_digits_for_large_arguments(x64):
    a, b = np.array(list(BETALN)).T
    np.testing.assert_allclose(_np(special.betaln(a, b)), list(BETALN.values()), rtol=2e-16 * 8)
    # outside a, b > 0 it is the plain formula, as scipy's
    np.testing.assert_allclose(_np(special.betaln(-0.5, 2.0)), sps.betaln(-0.5, 2.0), rtol=1e-12)


def test_real_arguments_and_broadcasting_are_checked():
    with pytest.raises(fnn.FnnTypeError, match="gammainc: expected real"):
        special.gammainc(1.0 + 1j, 1.0)
    with pytest.raises(
        fnn.FnnTypeError, match=r"betainc: arguments of shapes \(3,\), \(4,\), \(\) do not"
    ):
        special.betainc(np.ones(3), np.ones(4), 0.5)


def test_large_arrays_are_evaluated_in_chunks(monkeypatch, x64):
    # Each element holds a thousand series terms; above a budget lax.map takes chunks of
    # elements. A small budget here makes 20 elements several chunks (and a ragged last).
    r = _rng(12)
    a, x = r.uniform(0.5, 30, 20), r.uniform(0.1, 40, 20)
    b, y = r.uniform(0.5, 30, 20), r.uniform(0.01, 0.99, 20)
    whole = [_np(special.gammainc(a, x)), _np(special.betainc(a, b, y))]
    grads = [_np(fnn.grad(lambda a: fnp.sum(special.gammainc(a, x)))(a))]
    monkeypatch.setattr(_incomplete, "_MAX_TERMS", 7 * 1024)
    np.testing.assert_allclose(_np(special.gammainc(a, x)), whole[0], rtol=1e-15)
    np.testing.assert_allclose(_np(special.betainc(a, b, y)), whole[1], rtol=1e-15)
    g = fnn.grad(lambda a: fnp.sum(special.gammainc(a, x)))(a)
    np.testing.assert_allclose(_np(g), grads[0], rtol=1e-13)
    np.testing.assert_allclose(_np(fnn.jit(special.gammainc)(a, x)), whole[0], rtol=1e-15)
    rows = fnn.vmap(special.betainc)(a.reshape(2, 10), b.reshape(2, 10), y.reshape(2, 10))
    np.testing.assert_allclose(_np(rows).ravel(), whole[1], rtol=1e-15)
