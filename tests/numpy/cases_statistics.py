"""Harness rows (tests/lax/harness.py) for the NaN-ignoring reductions, quantiles,
covariances and histograms (fnn/numpy/nanfunctions.py, statistics.py, histograms.py).

NaNs are placed by a boolean mask argument inside the function (``where(mask, nan, x)``)
rather than drawn as values, so the derivative checks see finite samples: the gradient
at a NaN is zero, and the finite differences of numpy's nan* function agree elsewhere.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, axis_spec, shape


def _with(spec_fn):
    return st.composite(spec_fn)()


def _quiet(f):
    """numpy warns on all-NaN slices and empty means; the values are what is compared."""

    def g(*a, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return f(*a, **kw)

    return g


def _anchors(shape_, axis, count):
    """A concrete mask of ``count`` elements in every slice the reduction over ``axis``
    sees (index 0, 1, ... along the first reduced axis, 0 along the others): keeping
    them finite leaves no slice all NaN, whose NaN result has no derivative to check."""
    ndim = len(shape_)
    axes = range(ndim) if axis is None else [a % ndim for a in np.atleast_1d(axis)]
    keep = np.ones(shape_, bool)
    for i, a in enumerate(sorted(axes)):
        index = np.arange(shape_[a]).reshape([-1 if d == a else 1 for d in range(ndim)])
        keep &= index < (count if i == 0 else 1)
    return keep


def _masked(module, name, anchors=0, **fixed):
    f = getattr(module, name)
    if module is np:
        f = _quiet(f)

    def fn(x, mask, **kw):
        if anchors:
            mask = module.where(_anchors(np.shape(x), kw.get("axis"), anchors), False, mask)
        return f(module.where(mask, np.nan, x), **fixed, **kw)

    return fn


def _nan_spec(keepdims=True, ddof=False):
    def spec(draw):
        s = draw(axis_spec(min_side=2 if ddof else 1, keepdims=keepdims))
        params = dict(s.params)
        if ddof:
            params["ddof"] = draw(st.sampled_from([0, 1]))
        return Spec((s.shapes[0], s.shapes[0]), params)

    return _with(spec)


def _nan_case(name, dom="real", keepdims=True, ddof=False, anchors=0, fixed=None, **kw):
    return Case(
        name,
        _masked(fnp, name, anchors, **(fixed or {})),
        _masked(np, name, anchors, **(fixed or {})),
        _nan_spec(keepdims, ddof),
        args(dom, "bool"),
        nargs=2,
        api=(name,),
        **kw,
    )


def _arg_ref(name):
    # numpy raises on an all-NaN slice; fnn gives -1 there, as JAX does.
    f = getattr(np, name)

    def ref(x, mask, axis=None, keepdims=False):
        x = np.where(mask, np.nan, x)
        all_nan = np.all(np.isnan(x), axis=axis, keepdims=keepdims)
        filled = np.where(np.isnan(x), -np.inf if name == "nanargmax" else np.inf, x)
        out = f(filled, axis=axis, keepdims=keepdims)
        return np.where(all_nan, -1, out)

    return ref


def _cum_spec(draw):
    s = draw(shape(min_dims=1))
    return Spec((s, s), {"axis": draw(st.none() | st.integers(-len(s), len(s) - 1))})


NAN_REDUCTIONS = [
    _nan_case("nansum"),
    _nan_case("nanprod"),
    _nan_case("nanmean", anchors=1),
    _nan_case("nanvar", ddof=True, anchors=2),
    _nan_case("nanstd", ddof=True, anchors=2, dom="distinct"),
    _nan_case("nanmax", dom="distinct", anchors=1),
    _nan_case("nanmin", dom="distinct", anchors=1),
    Case(
        "nanargmax",
        _masked(fnp, "nanargmax"),
        _arg_ref("nanargmax"),
        _with(lambda d: Spec(*_single_axis(d))),
        args("distinct", "bool"),
        nargs=2,
        diff=None,
    ),
    Case(
        "nanargmin",
        _masked(fnp, "nanargmin"),
        _arg_ref("nanargmin"),
        _with(lambda d: Spec(*_single_axis(d))),
        args("distinct", "bool"),
        nargs=2,
        diff=None,
    ),
    Case(
        "nancumsum",
        _masked(fnp, "nancumsum"),
        _masked(np, "nancumsum"),
        _with(_cum_spec),
        args("real", "bool"),
        nargs=2,
    ),  # fmt: skip
    Case(
        "nancumprod",
        _masked(fnp, "nancumprod"),
        _masked(np, "nancumprod"),
        _with(_cum_spec),
        args("real", "bool"),
        nargs=2,
    ),  # fmt: skip
]


def _single_axis(draw):
    s = draw(shape(min_dims=1, min_side=1))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    return (s, s), {"axis": axis, "keepdims": draw(st.booleans())}


# ---- quantiles ---------------------------------------------------------------------------

_METHODS = ["linear", "lower", "higher", "midpoint", "nearest"]


def _quantile_spec(draw):
    s = draw(axis_spec(min_side=1))
    q = draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, (0.1, 0.9), ((0.25,), (0.8,))]))
    return Spec(s.shapes, {**s.params, "q": q, "method": draw(st.sampled_from(_METHODS))})


def _quantile(module, name):
    f = getattr(module, name)

    def fn(x, q, **kw):
        return f(x, np.asarray(q) if isinstance(q, tuple) else q, **kw)

    return fn


def _q_of_r(module):
    # q traced: a differentiable map of a real argument into (0, 1).
    def fn(x, r, axis):
        return module.quantile(x, 1 / (1 + module.exp(-r)), axis=axis)

    return fn


def _nanquantile(module, name):
    f = getattr(module, name)
    if module is np:
        f = _quiet(f)

    def fn(x, mask, q, **kw):
        mask = module.where(_anchors(np.shape(x), kw.get("axis"), 1), False, mask)
        x = module.where(mask, np.nan, x)
        return f(x, np.asarray(q) if isinstance(q, tuple) else q, **kw)

    return fn


def _nanquantile_spec(draw):
    s = draw(_quantile_spec_strategy)
    return Spec((s.shapes[0], s.shapes[0]), s.params)


_quantile_spec_strategy = _with(_quantile_spec)

QUANTILES = [
    Case(
        "quantile",
        _quantile(fnp, "quantile"),
        _quantile(np, "quantile"),
        _quantile_spec_strategy,
        args("distinct"),
    ),  # fmt: skip
    Case(
        "percentile",
        lambda x, q, **kw: fnp.percentile(
            x, np.asarray(q) * 100 if isinstance(q, tuple) else q * 100, **kw
        ),
        lambda x, q, **kw: np.percentile(
            x, np.asarray(q) * 100 if isinstance(q, tuple) else q * 100, **kw
        ),
        _quantile_spec_strategy,
        args("distinct"),
    ),
    Case(
        "quantile_traced_q",
        _q_of_r(fnp),
        _q_of_r(np),
        _with(lambda d: Spec((d(shape(min_dims=1, max_dims=1, min_side=2)), (2,)), {"axis": 0})),
        args("distinct", "real"),
        nargs=2,
        api=("quantile",),
    ),
    Case("median", fnp.median, np.median, axis_spec(min_side=1), args("distinct")),
    Case(
        "nanquantile",
        _nanquantile(fnp, "nanquantile"),
        _nanquantile(np, "nanquantile"),
        _with(_nanquantile_spec),
        args("distinct", "bool"),
        nargs=2,
    ),
    _nan_case("nanmedian", dom="distinct", anchors=1),
    _nan_case("nanpercentile", dom="distinct", anchors=1, fixed={"q": 40.0}),
]

# ---- covariance --------------------------------------------------------------------------


def _cov_spec(draw):
    k, n = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    rowvar = draw(st.booleans())
    params = {
        "rowvar": rowvar,
        "bias": draw(st.booleans()),
        "ddof": draw(st.sampled_from([None, 0, 1])),
        "fweights": draw(st.none() | st.just(tuple(range(1, n + 1)))),
    }
    m = (k, n) if rowvar else (n, k)
    return Spec((m, (n,)), params)


def _cov(module):
    def fn(m, aw, fweights=None, **kw):
        fw = None if fweights is None else np.asarray(fweights)
        return module.cov(m, aweights=aw, fweights=fw, **kw)

    return fn


def _corr_spec(draw):
    n = draw(st.integers(3, 5))
    rowvar = draw(st.booleans())
    k = draw(st.integers(1, 3))
    return Spec(((k, n) if rowvar else (n, k), (n,)), {"rowvar": rowvar})


COVARIANCE = [
    Case("cov", _cov(fnp), _cov(np), _with(_cov_spec), args("real", "pos"), nargs=2),
    Case(
        "cov_of_two",
        lambda x, y: fnp.cov(x, y),
        lambda x, y: np.cov(x, y),
        shape(min_dims=1, max_dims=1, min_side=2).map(lambda s: Spec((s, s), {})),
        args("real", "real"),
        nargs=2,
        api=("cov",),
    ),
    Case("corrcoef", fnp.corrcoef, np.corrcoef, _with(_corr_spec), args("real", "real"), nargs=2),
]

# ---- histograms --------------------------------------------------------------------------


def _hist_spec(draw):
    s = draw(shape(min_dims=1, max_dims=2, min_side=1))
    bins = draw(st.sampled_from([1, 3, 5, (-3.0, -0.5, 0.0, 0.7, 3.0)]))
    density = draw(st.sampled_from([None, True]))
    return Spec((s, s), {"bins": bins, "density": density})


def _histogram(module):
    def fn(a, w, bins, density):
        b = np.asarray(bins) if isinstance(bins, tuple) else bins
        return module.histogram(a, b, density=density, weights=w)

    return fn


def _bincount(module):
    # |x| <= 4 (the "int" domain), so numpy's length is max(5, minlength): fnn is given it
    # as length=, which jit and vmap need (the concrete form is tested on its own).
    def fn(x, w, minlength):
        if module is np:
            return np.bincount(np.abs(x), weights=w, minlength=max(minlength, 5))
        return fnp.bincount(fnp.abs(x), weights=w, length=max(minlength, 5))

    return fn


def _bincount_spec(draw):
    n = draw(st.integers(1, 6))
    return Spec(((n,), (n,)), {"minlength": draw(st.integers(0, 8))})


HISTOGRAMS = [
    # Bins from the data's range: the edges follow the smallest and largest value
    # (differentiably, with density=True), the counts are piecewise constant.
    Case(
        "histogram",
        _histogram(fnp),
        _histogram(np),
        _with(_hist_spec),
        args("distinct", "pos"),
        nargs=2,
        hvp=False,
    ),  # fmt: skip
    Case(
        "bincount",
        _bincount(fnp),
        _bincount(np),
        _with(_bincount_spec),
        args("int", "real"),
        nargs=2,
    ),  # fmt: skip
    Case(
        "digitize",
        lambda x, b, right: fnp.digitize(x, fnp.sort(b), right),
        lambda x, b, right: np.digitize(x, np.sort(b), right),
        _with(
            lambda d: Spec(
                (d(shape(max_dims=2)), (d(st.integers(1, 5)),)), {"right": d(st.booleans())}
            )
        ),
        args("real", "real"),
        nargs=2,
        diff=None,
    ),
]

CASES = NAN_REDUCTIONS + QUANTILES + COVARIANCE + HISTOGRAMS

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
