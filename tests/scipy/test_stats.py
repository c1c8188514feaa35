"""Tests of fnn.scipy.stats: every function against scipy.stats (float64 and float32,
on grids reaching the tails), derivatives in x and in the parameters against finite
differences (float64) and closed forms, jit == eager, vmap == loop, keywords,
broadcasting, dtypes, scipy's values at the edges of the support and for invalid
parameters, and clear errors."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.scipy import stats


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _close(got, want, rtol, atol=0.0):
    """Equal where both are exact (inf, nan, equal), else within rtol/atol."""
    got, want = (
        np.asarray(got, np.float64),
        np.broadcast_to(np.asarray(want, np.float64), got.shape),
    )
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        err = np.abs(got - want) - atol - rtol * np.abs(want)
    bad = ~same & ~(err <= 0)
    assert not bad.any(), f"{bad.sum()} off, e.g. got {got[bad][:3]}, want {want[bad][:3]}"


# ---- the table: one case per function --------------------------------------------------


@dataclass(frozen=True)
class Case:
    fn: Callable  # fnn
    ref: Callable  # scipy
    sample: Callable  # (rng, shape) -> positional arguments
    diff: tuple = (0,)  # which arguments the derivative test varies
    diff_sample: Callable | None = None  # if the finite differences need other points
    rtol: float = 1e-12  # float64 against scipy
    atol: float = 1e-300
    rtol32: float = 2e-5
    atol32: float = 1e-6


def _loc_scale(r, s):
    return r.uniform(-2, 2, s), r.uniform(0.5, 3, s)


def _norm_x(spread):
    def sample(r, s):
        loc, scale = _loc_scale(r, s)
        return loc + scale * r.normal(0, spread, s), loc, scale

    return sample


def _probabilities(r, s):
    # the bulk and the far tails on both sides
    p = np.where(r.random(s) < 0.5, r.uniform(0, 1, s), 10.0 ** -r.uniform(0, 25, s))
    return np.where(r.random(s) < 0.5, p, 1 - p * 0.5)


def _norm_q(r, s):
    return (_probabilities(r, s), *_loc_scale(r, s))


def _norm_q_bulk(r, s):
    # (the tails leave no room for a finite difference: test_cdf_derivatives_are_densities)
    return (r.uniform(0.01, 0.99, s), *_loc_scale(r, s))


def _uniform_x(r, s):
    loc, scale = _loc_scale(r, s)
    return loc + scale * r.uniform(0.01, 0.99, s), loc, scale


def _gamma_x(r, s):
    a, (loc, scale) = r.uniform(0.5, 20, s), _loc_scale(r, s)
    return loc + scale * a * np.exp(r.normal(0, 0.8, s)), a, loc, scale


def _beta_x(r, s):
    a, b, (loc, scale) = r.uniform(0.5, 10, s), r.uniform(0.5, 10, s), _loc_scale(r, s)
    return loc + scale * r.uniform(0.01, 0.99, s), a, b, loc, scale


def _t_x(r, s):
    loc, scale = _loc_scale(r, s)
    return (
        loc + scale * r.normal(0, 5, s),
        np.exp(r.uniform(np.log(0.5), np.log(300), s)),
        loc,
        scale,
    )


def _poisson_k(r, s):
    loc = r.integers(-2, 3, s).astype(float)
    return r.integers(0, 40, s) + loc, r.uniform(0.1, 30, s), loc


def _bernoulli_k(r, s):
    loc = r.integers(-1, 2, s).astype(float)
    return r.integers(0, 2, s) + loc, r.uniform(0.01, 0.99, s), loc


CASES = {
    "norm.logpdf": Case(stats.norm.logpdf, ss.norm.logpdf, _norm_x(3), (0, 1, 2)),
    "norm.pdf": Case(stats.norm.pdf, ss.norm.pdf, _norm_x(3), (0, 1, 2)),
    "norm.cdf": Case(stats.norm.cdf, ss.norm.cdf, _norm_x(6), (0, 1, 2), atol32=0),
    "norm.logcdf": Case(stats.norm.logcdf, ss.norm.logcdf, _norm_x(6), (0, 1, 2)),
    "norm.sf": Case(stats.norm.sf, ss.norm.sf, _norm_x(6), (0, 1, 2), atol32=0),
    "norm.logsf": Case(stats.norm.logsf, ss.norm.logsf, _norm_x(6), (0, 1, 2)),
    "norm.ppf": Case(stats.norm.ppf, ss.norm.ppf, _norm_q, (0, 1, 2), _norm_q_bulk),
    "norm.isf": Case(stats.norm.isf, ss.norm.isf, _norm_q, (0, 1, 2), _norm_q_bulk),
    "uniform.logpdf": Case(stats.uniform.logpdf, ss.uniform.logpdf, _uniform_x, (0, 1, 2)),
    "uniform.pdf": Case(stats.uniform.pdf, ss.uniform.pdf, _uniform_x, (0, 1, 2)),
    "uniform.cdf": Case(stats.uniform.cdf, ss.uniform.cdf, _uniform_x, (0, 1, 2)),
    "uniform.ppf": Case(
        stats.uniform.ppf,
        ss.uniform.ppf,
        lambda r, s: (r.uniform(0, 1, s), *_loc_scale(r, s)),
        (0, 1, 2),
    ),
    "gamma.logpdf": Case(stats.gamma.logpdf, ss.gamma.logpdf, _gamma_x, (0, 1, 2, 3)),
    "gamma.pdf": Case(stats.gamma.pdf, ss.gamma.pdf, _gamma_x, (0, 1, 2, 3)),
    "gamma.cdf": Case(stats.gamma.cdf, ss.gamma.cdf, _gamma_x, (0, 1, 2, 3), rtol32=1e-4),
    "gamma.logcdf": Case(
        stats.gamma.logcdf, ss.gamma.logcdf, _gamma_x, (0, 1, 2, 3), rtol32=1e-4, atol=1e-15
    ),
    "gamma.sf": Case(stats.gamma.sf, ss.gamma.sf, _gamma_x, (0, 1, 2, 3), rtol32=1e-4),
    "gamma.logsf": Case(
        stats.gamma.logsf, ss.gamma.logsf, _gamma_x, (0, 1, 2, 3), rtol32=1e-4, atol=1e-15
    ),
    "beta.logpdf": Case(stats.beta.logpdf, ss.beta.logpdf, _beta_x, (0, 1, 2, 3, 4)),
    "beta.pdf": Case(stats.beta.pdf, ss.beta.pdf, _beta_x, (0, 1, 2, 3, 4)),
    "beta.cdf": Case(stats.beta.cdf, ss.beta.cdf, _beta_x, (0, 1, 2, 3, 4), rtol32=1e-4),
    "beta.logcdf": Case(
        stats.beta.logcdf, ss.beta.logcdf, _beta_x, (0, 1, 2, 3, 4), rtol32=1e-4, atol=1e-15
    ),
    "beta.sf": Case(stats.beta.sf, ss.beta.sf, _beta_x, (0, 1, 2, 3, 4), rtol32=1e-4),
    "beta.logsf": Case(
        stats.beta.logsf, ss.beta.logsf, _beta_x, (0, 1, 2, 3, 4), rtol32=1e-4, atol=1e-15
    ),
    "t.logpdf": Case(stats.t.logpdf, ss.t.logpdf, _t_x, (0, 1, 2, 3)),
    "t.pdf": Case(stats.t.pdf, ss.t.pdf, _t_x, (0, 1, 2, 3)),
    "poisson.logpmf": Case(stats.poisson.logpmf, ss.poisson.logpmf, _poisson_k, (1,)),
    "poisson.pmf": Case(stats.poisson.pmf, ss.poisson.pmf, _poisson_k, (1,)),
    "poisson.cdf": Case(stats.poisson.cdf, ss.poisson.cdf, _poisson_k, (1,), rtol32=1e-4),
    "poisson.entropy": Case(
        stats.poisson.entropy, ss.poisson.entropy, lambda r, s: (r.uniform(0.05, 400, s),), (0,)
    ),
    "bernoulli.logpmf": Case(stats.bernoulli.logpmf, ss.bernoulli.logpmf, _bernoulli_k, (1,)),
    "bernoulli.pmf": Case(stats.bernoulli.pmf, ss.bernoulli.pmf, _bernoulli_k, (1,)),
    "bernoulli.cdf": Case(
        stats.bernoulli.cdf,
        ss.bernoulli.cdf,
        lambda r, s: (r.choice([-1.0, 0.0, 0.5, 1.0, 2.0], s), r.uniform(0.01, 0.99, s)),
        (1,),
    ),
    "bernoulli.ppf": Case(
        stats.bernoulli.ppf,
        ss.bernoulli.ppf,
        lambda r, s: (r.uniform(0, 1, s), r.uniform(0.01, 0.99, s), r.integers(0, 2, s) * 1.0),
        (),
    ),
}
# (atol 1e-15 for log cdf/sf near 0: scipy takes log(1 - tiny) there and keeps only the
# absolute accuracy; ours uses log1p of the complement)
SHAPE = (3, 4)
JAX_FUNCTIONS = {
    "norm": {"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"},
    "multivariate_normal": {"logpdf", "pdf"},
    "uniform": {"logpdf", "pdf", "cdf", "ppf"},
    "beta": {"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"},
    "gamma": {"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"},
    "t": {"logpdf", "pdf"},
    "poisson": {"logpmf", "pmf", "cdf", "entropy"},
    "bernoulli": {"logpmf", "pmf", "cdf", "ppf"},
}


def test_every_function_jax_has_is_here_and_tested():
    for module, names in JAX_FUNCTIONS.items():
        assert set(getattr(stats, module).__all__) == names, module
    tested = {tuple(n.split(".")) for n in CASES} | {("multivariate_normal", "logpdf")}
    tested |= {("multivariate_normal", "pdf")}  # test_multivariate_normal_*
    assert tested == {(m, f) for m, names in JAX_FUNCTIONS.items() for f in names}


# ---- the same checks for every function ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy_in_float64(name, x64):
    case = CASES[name]
    args = case.sample(_rng(), (40,))
    out = case.fn(*args)
    assert out.dtype == np.float64
    _close(out, case.ref(*args), case.rtol, case.atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy_in_float32(name):
    case = CASES[name]
    args = [np.asarray(a, np.float32) for a in case.sample(_rng(1), (40,))]
    out = case.fn(*args)
    assert out.dtype == np.float32
    want = case.ref(*[a.astype(np.float64) for a in args])
    tiny = np.abs(want) < 1e-30  # float32 underflows there
    _close(np.where(tiny, want, _np(out)), want, case.rtol32, case.atol32)


def _fd(f, xs, vs, eps=1e-6):
    plus = f(*[x + eps * v for x, v in zip(xs, vs, strict=True)])
    minus = f(*[x - eps * v for x, v in zip(xs, vs, strict=True)])
    return (_np(plus) - _np(minus)) / (2 * eps)


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].diff))
def test_derivatives_match_finite_differences(name, x64):
    case = CASES[name]
    args = list((case.diff_sample or case.sample)(_rng(2), SHAPE))

    def f(*varied):
        full = list(args)
        for i, v in zip(case.diff, varied, strict=True):
            full[i] = v
        return case.fn(*full)

    xs = [args[i] for i in case.diff]
    vs = [_rng(3 + i).standard_normal(SHAPE) * 0.1 for i in range(len(xs))]
    out, t = fnn.jvp(f, tuple(fnp.asarray(x) for x in xs), tuple(fnp.asarray(v) for v in vs))
    np.testing.assert_allclose(_np(t), _fd(f, xs, vs), rtol=1e-6, atol=1e-9)
    # reverse mode agrees with forward mode: <vjp(u), v> == <u, jvp(v)>
    u = _rng(9).standard_normal(np.shape(_np(out)))
    _, f_vjp = fnn.vjp(f, *[fnp.asarray(x) for x in xs])
    cts = f_vjp(fnp.asarray(u))
    lhs = sum(np.sum(_np(c) * v) for c, v in zip(cts, vs, strict=True))
    np.testing.assert_allclose(lhs, np.sum(u * _np(t)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32_under_x64(name, x64):
    # constants are Python floats (weakly typed): nothing promotes float32 to float64
    args = [np.asarray(a, np.float32) for a in CASES[name].sample(_rng(5), (3,))]
    assert CASES[name].fn(*args).dtype == np.float32


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_equals_eager_and_vmap_equals_loop(name):
    case = CASES[name]
    args = [np.asarray(a, np.float32) for a in case.sample(_rng(4), (5,) + SHAPE)]
    eager = _np(case.fn(*args))
    np.testing.assert_allclose(_np(fnn.jit(case.fn)(*args)), eager, rtol=1e-6, atol=1e-7)
    loop = np.stack([_np(case.fn(*[a[i] for a in args])) for i in range(5)])
    np.testing.assert_allclose(_np(fnn.vmap(case.fn)(*args)), loop, rtol=1e-6, atol=1e-7)


# ---- wide grids, deep tails ------------------------------------------------------------------


def test_normal_tails(x64):
    z = np.concatenate([-np.logspace(-2, 3, 60), np.logspace(-2, 3, 60)])
    for f in ("cdf", "logcdf", "sf", "logsf"):
        _close(getattr(stats.norm, f)(z, 1.0, 2.0), getattr(ss.norm, f)(z, 1.0, 2.0), 1e-14, 1e-300)
    q = 10.0 ** -np.linspace(0.5, 300, 80)
    _close(stats.norm.ppf(q, 1.0, 2.0), ss.norm.ppf(q, 1.0, 2.0), 1e-14)
    # isf keeps small q: scipy computes it the same way, JAX's ppf(1 - q) would not
    _close(stats.norm.isf(q, 1.0, 2.0), ss.norm.isf(q, 1.0, 2.0), 1e-14)
    _close(stats.norm.logsf(40.0), ss.norm.logsf(40.0), 1e-15)


def test_gamma_and_beta_tails_and_large_shapes(x64):
    r = _rng(5)
    a = np.exp(r.uniform(np.log(0.05), np.log(2000), 300))
    x = a * 10.0 ** r.uniform(-3, 1, 300)
    bases = (("cdf", "cdf"), ("sf", "sf"), ("logcdf", "cdf"), ("logsf", "sf"), ("logpdf", "pdf"))
    for f, base in bases:
        # where scipy's value underflows its log is -inf, ours the true (finite) log
        keep = getattr(ss.gamma, base)(x, a, 0.0, 2.0) > 1e-290
        got = _np(getattr(stats.gamma, f)(x, a, 0.0, 2.0))[keep]
        _close(got, getattr(ss.gamma, f)(x, a, 0.0, 2.0)[keep], 1e-10, 1e-15)
    b = np.exp(r.uniform(np.log(0.05), np.log(500), 300))
    y = np.clip(a / (a + b) * 10.0 ** r.uniform(-2, 0.3, 300), 1e-6, 1 - 1e-6)
    for f, base in bases:
        keep = getattr(ss.beta, base)(y, a, b) > 1e-290
        got = _np(getattr(stats.beta, f)(y, a, b))[keep]
        _close(got, getattr(ss.beta, f)(y, a, b)[keep], 1e-10, 1e-15)


# log Student-t density at x = 2.5 (loc 0, scale 1) and log Poisson pmf, mpmath at 40 digits;
# scipy's textbook formulas cancel here.
T_LOGPDF = {1e6: -4.0439321426105970709, 1e10: -4.0439385325656102421, 3.0: -3.2529113753359579787}
POISSON_LOGPMF = {(1e7, 1e7 + 3e3): -9.4278963872623071839, (2e5, 2e5): -7.0219752726364262729}


def test_large_parameters_keep_their_digits(x64):
    df = np.array(list(T_LOGPDF))
    np.testing.assert_allclose(_np(stats.t.logpdf(2.5, df)), list(T_LOGPDF.values()), rtol=1e-14)
    k, mu = np.array(list(POISSON_LOGPMF)).T
    np.testing.assert_allclose(
        _np(stats.poisson.logpmf(k, mu)), list(POISSON_LOGPMF.values()), rtol=1e-13
    )
    # df = inf is the normal distribution (as scipy)
    np.testing.assert_allclose(_np(stats.t.logpdf(2.5, np.inf)), ss.norm.logpdf(2.5), rtol=1e-15)


# Poisson entropy, mpmath sums at 40 digits (scipy's own sum is off by 3e-13 at 1000 and
# by half at 1e5).
POISSON_ENTROPY = {
    0.5: 0.92763746749579737414,
    10.0: 2.5614099352749091226,
    199.5: 4.0664268868119328074,
    200.5: 4.0689289858838308997,
    1000.0: 4.8727327976428506462,
    1e5: 7.175400432352286899,
}


def test_poisson_entropy_across_its_two_methods(x64):
    mu = np.array(list(POISSON_ENTROPY))
    want = np.array(list(POISSON_ENTROPY.values()))
    np.testing.assert_allclose(_np(stats.poisson.entropy(mu)), want, rtol=2e-15)
    fnn.config.update("enable_x64", False)
    out = stats.poisson.entropy(mu.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(_np(out), want, rtol=5e-7)
    fnn.config.update("enable_x64", True)
    # d/dmu H = sum_k p'(k) (-log p(k)); for large mu, 1/(2 mu) + ...
    g = fnn.vmap(fnn.grad(stats.poisson.entropy))(np.array([3.0, 1e4]))
    fd = (
        _np(stats.poisson.entropy(np.array([3.0, 1e4]) * (1 + 1e-6)))
        - _np(stats.poisson.entropy(np.array([3.0, 1e4]) * (1 - 1e-6)))
    ) / (2e-6 * np.array([3.0, 1e4]))
    np.testing.assert_allclose(_np(g), fd, rtol=1e-6)


# ---- derivatives against closed forms ------------------------------------------------------


def test_cdf_derivatives_are_densities(x64):
    r = _rng(6)
    x, loc, scale = _norm_x(2)(r, (20,))
    grad_x = lambda f, *p: _np(fnn.vmap(fnn.grad(f))(x, *p))  # noqa: E731
    np.testing.assert_allclose(
        grad_x(stats.norm.cdf, loc, scale), ss.norm.pdf(x, loc, scale), rtol=1e-12
    )
    np.testing.assert_allclose(
        grad_x(stats.norm.logsf, loc, scale),
        -ss.norm.pdf(x, loc, scale) / ss.norm.sf(x, loc, scale),
        rtol=1e-12,
    )
    x, a, loc, scale = _gamma_x(r, (20,))
    np.testing.assert_allclose(
        _np(fnn.vmap(fnn.grad(stats.gamma.cdf))(x, a, loc, scale)),
        ss.gamma.pdf(x, a, loc, scale),
        rtol=1e-11,
    )
    x, a, b, loc, scale = _beta_x(r, (20,))
    np.testing.assert_allclose(
        _np(fnn.vmap(fnn.grad(stats.beta.sf))(x, a, b, loc, scale)),
        -ss.beta.pdf(x, a, b, loc, scale),
        rtol=1e-11,
    )
    # d/dmu P(X <= k) = -pmf(k; mu)
    k, mu = r.integers(0, 30, 20) * 1.0, r.uniform(0.5, 30, 20)
    g = fnn.vmap(fnn.grad(stats.poisson.cdf, argnums=1))(k, mu)
    np.testing.assert_allclose(_np(g), -ss.poisson.pmf(k, mu), rtol=1e-11)
    # d/dq ppf = 1 / pdf(ppf), also deep in the tails
    q = np.array([1e-200, 1e-8, 0.3, 0.999])
    g = fnn.vmap(fnn.grad(stats.norm.ppf), in_axes=(0, None, None))(q, 0.0, 2.0)
    np.testing.assert_allclose(_np(g), 1 / ss.norm.pdf(ss.norm.ppf(q, 0, 2), 0, 2), rtol=1e-12)


def _scipy_fd(f, args, i, h_rel=1e-6):
    up, down = list(args), list(args)
    h = h_rel * np.abs(args[i])
    up[i], down[i] = args[i] + h, args[i] - h
    return (f(*up) - f(*down)) / (2 * h)


def test_shape_parameter_derivatives_match_scipy(x64):
    # independent of our own implementation: central differences of scipy's functions
    r = _rng(7)
    x, a, loc, scale = _gamma_x(r, (15,))
    for f in ("cdf", "logsf"):
        g = fnn.vmap(fnn.grad(getattr(stats.gamma, f), argnums=1))(x, a, loc, scale)
        want = _scipy_fd(getattr(ss.gamma, f), (x, a, loc, scale), 1)
        np.testing.assert_allclose(_np(g), want, rtol=1e-6, atol=1e-9)
    x, a, b, loc, scale = _beta_x(r, (15,))
    for i in (1, 2):
        g = fnn.vmap(fnn.grad(stats.beta.cdf, argnums=i))(x, a, b, loc, scale)
        want = _scipy_fd(ss.beta.cdf, (x, a, b, loc, scale), i)
        np.testing.assert_allclose(_np(g), want, rtol=1e-6, atol=1e-9)
    x, df, loc, scale = _t_x(r, (15,))
    g = fnn.vmap(fnn.grad(stats.t.logpdf, argnums=1))(x, df, loc, scale)
    np.testing.assert_allclose(
        _np(g), _scipy_fd(ss.t.logpdf, (x, df, loc, scale), 1), rtol=1e-6, atol=1e-9
    )


def test_second_derivatives(x64):
    # d2/dx2 norm.logpdf = -1/scale^2; d2/dx2 gamma.cdf = d/dx gamma.pdf
    h = fnn.hessian(lambda x: stats.norm.logpdf(x, 1.0, 3.0))(0.3)
    np.testing.assert_allclose(_np(h), -1 / 9, rtol=1e-14)
    x, a = 2.5, 3.7
    h = fnn.grad(fnn.grad(stats.gamma.cdf))(x, a)
    np.testing.assert_allclose(_np(h), ss.gamma.pdf(x, a) * ((a - 1) / x - 1), rtol=1e-10)


# ---- edges of the support and invalid parameters -----------------------------------------


def _grid(*values):
    return [np.array(v, np.float64) for v in zip(*itertools.product(*values), strict=True)]


EDGES = {
    "norm": (
        ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
        _grid([-np.inf, -1, 0, 1, np.inf, np.nan], [0, np.nan], [-1, 0, 1, np.inf, np.nan]),
    ),
    "norm_q": (("ppf", "isf"), _grid([-0.1, 0, 0.5, 1, 1.1, np.nan], [0, 1], [-1, 0, 1, np.nan])),
    "uniform": (
        ("logpdf", "pdf", "cdf"),
        _grid([-np.inf, -1, 0, 0.5, 1, 2, np.inf, np.nan], [0, 1], [-1, 0, 1, 2]),
    ),
    "uniform_q": (("ppf",), _grid([-0.1, 0, 0.5, 1, 1.1, np.nan], [0, 1], [-1, 0, 1, 2])),
    "gamma": (
        ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
        _grid([-1, 0, 0.5, np.inf, np.nan], [-1, 0, 0.5, 1, 2, np.nan], [0, 1], [-1, 0, 1]),
    ),
    "beta": (
        ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
        _grid([-0.5, 0, 0.5, 1, 1.5, np.nan], [-1, 0, 0.5, 1, 2], [-1, 0, 0.5, 1, 2], [0], [0, 1]),
    ),
    "t": (
        ("logpdf", "pdf"),
        _grid(
            [-np.inf, 0, 1, np.inf, np.nan], [-1, 0, 0.5, 1, 1e300, np.inf, np.nan], [0], [-1, 0, 1]
        ),
    ),
    "poisson": (
        ("logpmf", "pmf", "cdf"),
        _grid([-1, 0, 0.5, 1, 3, np.nan], [-1, 0, 0.5, 2, np.nan], [0, 1]),
    ),
    "bernoulli": (
        ("logpmf", "pmf", "cdf"),
        _grid([-1, 0, 0.5, 1, 2, np.nan], [-0.1, 0, 0.3, 1, 1.1, np.nan], [0, 1]),
    ),
    "bernoulli_q": (
        ("ppf",),
        _grid([-0.1, 0, 0.3, 0.7, 1, 1.1, np.nan], [-0.1, 0, 0.3, 1, 1.1, np.nan], [0, 1]),
    ),
}


@pytest.mark.parametrize("group", sorted(EDGES))
def test_edges_and_invalid_parameters_match_scipy(group, x64):
    module = group.split("_")[0]
    names, args = EDGES[group]
    for name in names:
        with np.errstate(all="ignore"):
            want = getattr(getattr(ss, module), name)(*args)
        _close(getattr(getattr(stats, module), name)(*args), want, 1e-13)


def test_edges_where_scipy_is_inconsistent(x64):
    # P(X = inf) is 0: scipy gives -inf for mu < 1 but NaN (inf - inf) for mu > 1
    np.testing.assert_array_equal(_np(stats.poisson.logpmf(np.inf, [0.5, 2.0])), [-np.inf] * 2)
    np.testing.assert_array_equal(
        _np(stats.poisson.entropy([-1.0, np.nan, 0.0])), [np.nan, np.nan, 0]
    )


# ---- identities, on hypothesis' choice of points --------------------------------------------

_loc = st.floats(-10, 10)
_scale = st.floats(0.1, 10)
_shape = st.floats(0.05, 200)


@settings(max_examples=25, deadline=None)
@given(q=st.floats(1e-300, 0.5), loc=_loc, scale=_scale)
def test_norm_quantiles_invert_the_cdf(q, loc, scale):
    fnn.config.update("enable_x64", True)
    try:
        np.testing.assert_allclose(
            _np(stats.norm.cdf(stats.norm.ppf(q, loc, scale), loc, scale)), q, rtol=1e-12
        )
        np.testing.assert_allclose(
            _np(stats.norm.sf(stats.norm.isf(q, loc, scale), loc, scale)), q, rtol=1e-12
        )
    finally:
        fnn.config.update("enable_x64", False)


@settings(max_examples=25, deadline=None)
@given(a=_shape, b=_shape, u=st.floats(0.001, 0.999), loc=_loc, scale=_scale)
def test_cdf_and_sf_are_complements(a, b, u, loc, scale):
    fnn.config.update("enable_x64", True)
    try:
        x = loc + scale * u * a  # inside the gamma's bulk or its tails
        cdf, sf = stats.gamma.cdf(x, a, loc, scale), stats.gamma.sf(x, a, loc, scale)
        np.testing.assert_allclose(_np(cdf) + _np(sf), 1.0, rtol=1e-14)
        # (near 0 the log keeps its absolute accuracy only: log(sf) rounds sf first)
        np.testing.assert_allclose(
            _np(stats.gamma.logsf(x, a, loc, scale)), np.log(_np(sf)), rtol=1e-13, atol=1e-15
        )
        y = loc + scale * u
        cdf, sf = stats.beta.cdf(y, a, b, loc, scale), stats.beta.sf(y, a, b, loc, scale)
        np.testing.assert_allclose(_np(cdf) + _np(sf), 1.0, rtol=1e-13)
        with np.errstate(divide="ignore"):  # (a cdf that underflows to 0)
            log_cdf = np.log(_np(cdf))
        np.testing.assert_allclose(
            _np(stats.beta.logcdf(y, a, b, loc, scale)), log_cdf, rtol=1e-13, atol=1e-15
        )
    finally:
        fnn.config.update("enable_x64", False)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(0, 60), mu=st.floats(0.0, 60), p=st.floats(0, 1))
def test_mass_functions_add_up_to_the_cdf(k, mu, p):
    fnn.config.update("enable_x64", True)
    try:
        ks = np.arange(k + 1.0)
        total = np.sum(_np(stats.poisson.pmf(ks, mu)))
        np.testing.assert_allclose(_np(stats.poisson.cdf(k, mu)), total, rtol=1e-12, atol=1e-300)
        pmf = _np(stats.bernoulli.pmf(np.array([0.0, 1.0]), p))
        np.testing.assert_allclose(pmf.sum(), 1.0, rtol=1e-15)
        np.testing.assert_allclose(_np(stats.bernoulli.cdf(0.0, p)), pmf[0], rtol=1e-15)
    finally:
        fnn.config.update("enable_x64", False)


# ---- multivariate normal ----------------------------------------------------------------------


def _spd(r, n):
    m = r.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def test_multivariate_normal_matches_scipy(x64):
    r = _rng(8)
    n = 3
    mean, cov = r.normal(size=n), _spd(r, n)
    x = r.normal(size=(7, n)) * 2
    ref = ss.multivariate_normal(mean, cov)
    _close(stats.multivariate_normal.logpdf(x, mean, cov), ref.logpdf(x), 1e-13)
    _close(stats.multivariate_normal.pdf(x, mean, cov), ref.pdf(x), 1e-13)
    # a vector cov is a diagonal, a scalar cov is cov * I, a scalar mean is broadcast (scipy)
    diag = r.uniform(0.5, 2, n)
    _close(
        stats.multivariate_normal.logpdf(x, mean, diag),
        ss.multivariate_normal.logpdf(x, mean, diag),
        1e-13,
    )
    _close(
        stats.multivariate_normal.logpdf(x, 0.5, 2.0 * np.eye(n)),
        ss.multivariate_normal.logpdf(x, 0.5 * np.ones(n), 2.0),
        1e-13,
    )
    _close(
        stats.multivariate_normal.logpdf(x, mean, 2.0 * np.eye(n)),
        stats.multivariate_normal.logpdf(x, mean, np.full(n, 2.0)),
        1e-13,
    )
    # scalar mean and cov: univariate, elementwise (JAX); scipy's defaults mean=0, cov=1
    _close(
        stats.multivariate_normal.logpdf(x, 0.5, 2.0), ss.norm.logpdf(x, 0.5, np.sqrt(2.0)), 1e-13
    )
    _close(stats.multivariate_normal.logpdf(x[0]), ss.multivariate_normal.logpdf(x[0]), 1e-13)


def test_multivariate_normal_batches_broadcast(x64):
    r = _rng(9)
    n = 2
    means = r.normal(size=(4, 1, n))
    covs = np.stack([_spd(r, n) for _ in range(5)])  # (5, n, n)
    x = r.normal(size=(4, 5, n))
    out = _np(stats.multivariate_normal.logpdf(x, means, covs))
    assert out.shape == (4, 5)
    want = [
        [ss.multivariate_normal.logpdf(x[i, j], means[i, 0], covs[j]) for j in range(5)]
        for i in range(4)
    ]
    _close(out, want, 1e-13)


def test_multivariate_normal_derivatives(x64):
    r = _rng(10)
    n = 3
    mean, cov, x = r.normal(size=n), _spd(r, n), r.normal(size=(4, n))

    def total(x, mean, cov):
        return fnp.sum(stats.multivariate_normal.logpdf(x, mean, cov))

    gx, gm, gc = fnn.grad(total, argnums=(0, 1, 2))(x, mean, cov)
    inv = np.linalg.inv(cov)
    y = x - mean
    np.testing.assert_allclose(_np(gx), -y @ inv, rtol=1e-12)
    np.testing.assert_allclose(_np(gm), (y @ inv).sum(0), rtol=1e-12)
    # d/dcov = sum over samples of (inv y y^T inv - inv) / 2, up to the symmetric part
    want = 0.5 * sum(inv @ np.outer(v, v) @ inv - inv for v in y)
    got = _np(gc)
    np.testing.assert_allclose((got + got.T) / 2, want, rtol=1e-11, atol=1e-13)
    v = r.normal(size=(4, n))
    _, t = fnn.jvp(
        lambda x: stats.multivariate_normal.logpdf(x, mean, cov),
        (fnp.asarray(x),),
        (fnp.asarray(v),),
    )
    np.testing.assert_allclose(
        _np(t), _fd(lambda x: stats.multivariate_normal.logpdf(x, mean, cov), [x], [v]), rtol=1e-6
    )


def test_multivariate_normal_jit_vmap_and_dtype():
    r = _rng(11)
    mean, cov = r.normal(size=2).astype(np.float32), _spd(r, 2).astype(np.float32)
    x = r.normal(size=(6, 2)).astype(np.float32)
    eager = stats.multivariate_normal.logpdf(x, mean, cov)
    assert eager.dtype == np.float32
    np.testing.assert_allclose(_np(eager), ss.multivariate_normal.logpdf(x, mean, cov), rtol=1e-5)
    np.testing.assert_allclose(
        _np(fnn.jit(stats.multivariate_normal.logpdf)(x, mean, cov)), _np(eager), rtol=1e-6
    )
    per_mean = fnn.vmap(stats.multivariate_normal.logpdf, in_axes=(None, 0, None))(x[0], x, cov)
    loop = [_np(stats.multivariate_normal.logpdf(x[0], m, cov)) for m in x]
    np.testing.assert_allclose(_np(per_mean), loop, rtol=1e-6)


def test_multivariate_normal_invalid_covariances_and_errors(x64):
    x = np.zeros(2)
    not_pd = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert np.isnan(_np(stats.multivariate_normal.logpdf(x, x, not_pd)))
    assert np.isnan(_np(stats.multivariate_normal.logpdf(x, x, np.array([1.0, -1.0]))))
    assert np.isnan(_np(stats.multivariate_normal.logpdf(x, x, -1.0)))
    with pytest.raises(fnn.FnnTypeError, match=r"x needs the dimension n = 3.*x \(2,\)"):
        stats.multivariate_normal.logpdf(x, np.zeros(3), np.eye(3))
    with pytest.raises(fnn.FnnTypeError, match=r"cov must be \(2, 2\)"):
        stats.multivariate_normal.logpdf(x, x, np.eye(3))
    with pytest.raises(fnn.FnnTypeError, match="a vector cov holds n = 2 variances"):
        stats.multivariate_normal.logpdf(x, x, np.ones(3))
    with pytest.raises(NotImplementedError, match="allow_singular"):
        stats.multivariate_normal.logpdf(x, x, np.eye(2), allow_singular=True)


# ---- signatures, broadcasting, dtypes, errors --------------------------------------------------


def test_keywords_as_scipy_names_them(x64):
    x = np.linspace(0.1, 0.9, 5)
    pairs = [
        (stats.norm.logpdf(x, loc=1.0, scale=2.0), ss.norm.logpdf(x, loc=1.0, scale=2.0)),
        (stats.norm.ppf(q=x, loc=1.0, scale=2.0), ss.norm.ppf(x, loc=1.0, scale=2.0)),
        (stats.uniform.cdf(x, scale=0.5), ss.uniform.cdf(x, scale=0.5)),
        (stats.gamma.sf(x, a=2.0, loc=-1.0, scale=3.0), ss.gamma.sf(x, a=2.0, loc=-1.0, scale=3.0)),
        (stats.beta.logcdf(x, a=2.0, b=3.0, scale=2.0), ss.beta.logcdf(x, a=2.0, b=3.0, scale=2.0)),
        (stats.t.pdf(x, df=4.0, loc=0.5), ss.t.pdf(x, df=4.0, loc=0.5)),
        (stats.poisson.cdf(k=3.0, mu=x * 4, loc=1.0), ss.poisson.cdf(k=3.0, mu=x * 4, loc=1.0)),
        (stats.bernoulli.pmf(k=1.0, p=x, loc=0.0), ss.bernoulli.pmf(k=1.0, p=x, loc=0.0)),
        (stats.bernoulli.ppf(q=x, p=0.4, loc=2.0), ss.bernoulli.ppf(q=x, p=0.4, loc=2.0)),
        (stats.poisson.entropy(mu=x), ss.poisson.entropy(mu=x)),
        (
            stats.multivariate_normal.logpdf(x[:2], mean=x[2:4], cov=np.eye(2)),
            ss.multivariate_normal.logpdf(x[:2], mean=x[2:4], cov=np.eye(2)),
        ),
    ]
    for got, want in pairs:
        _close(got, want, 1e-12)


def test_arguments_broadcast_as_numpy(x64):
    x = np.linspace(0.1, 3, 4)
    a = np.array([[0.5], [1.5], [4.0]])
    out = stats.gamma.cdf(x, a, scale=np.array([1.0, 2.0, 1.0, 2.0]))
    assert out.shape == (3, 4)
    _close(out, ss.gamma.cdf(x, a, scale=[1.0, 2.0, 1.0, 2.0]), 1e-12)
    out = stats.beta.sf(0.3, np.array([1.0, 2.0])[:, None, None], np.array([[1.0, 2.0, 3.0]]))
    assert out.shape == (2, 1, 3)
    _close(out, ss.beta.sf(0.3, np.array([1.0, 2.0])[:, None, None], [[1.0, 2.0, 3.0]]), 1e-12)
    with pytest.raises(fnn.FnnTypeError, match="do not broadcast"):
        stats.norm.logpdf(np.ones(3), np.zeros(4))


def test_dtypes_follow_jax():
    # integers and bools become the default float; float64 only under enable_x64
    assert stats.poisson.pmf(3, 2).dtype == np.float32
    assert stats.norm.cdf(np.arange(3)).dtype == np.float32
    assert stats.norm.cdf(np.zeros(2, np.float64)).dtype == np.float32
    assert stats.bernoulli.pmf(True, 0.5).dtype == np.float32
    fnn.config.update("enable_x64", True)
    try:
        assert stats.gamma.logpdf(np.arange(3), 2).dtype == np.float64
        assert stats.norm.cdf(np.zeros(2, np.float32)).dtype == np.float32
        assert stats.t.logpdf(np.zeros(2, np.float32), 3.0).dtype == np.float32
    finally:
        fnn.config.update("enable_x64", False)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(fnn.FnnTypeError, match=r"norm\.logpdf: expected real numbers, got complex"):
        stats.norm.logpdf(1.0 + 2j)
    with pytest.raises(fnn.FnnTypeError, match=r"gamma\.cdf: expected arrays or numbers, got str"):
        stats.gamma.cdf("1.0", 2.0)
    with pytest.raises(fnn.FnnTypeError, match="multivariate_normal.logpdf: expected arrays"):
        stats.multivariate_normal.logpdf(None, 0.0, 1.0)
    with pytest.raises(TypeError):
        stats.norm.cdf(0.0, 0.0, 1.0, 2.0)  # no fourth parameter, as scipy


def test_import_fnn_gives_scipy_stats():
    code = (
        "import fnn\n"
        "print(float(fnn.scipy.stats.norm.logpdf(0.0)), float(fnn.scipy.stats.beta.cdf(0.5, 2.0, 3.0)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    logpdf, cdf = map(float, done.stdout.split())
    np.testing.assert_allclose([logpdf, cdf], [-0.5 * np.log(2 * np.pi), 0.6875], rtol=1e-6)


def test_special_scipy_names_exist_under_fnn_scipy():
    assert fnn.scipy.stats.norm is stats.norm
    assert callable(fnn.scipy.special.gammainc) and callable(fnn.scipy.special.log_ndtr)
    np.testing.assert_allclose(
        _np(fnn.scipy.special.betaln(2.0, 3.0)), sps.betaln(2.0, 3.0), rtol=1e-6
    )
