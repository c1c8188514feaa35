"""Order statistics and correlations: quantile, percentile, median (and their nan*
forms), cov, corrcoef, with numpy's signatures.

Quantiles sort the data (differentiably: the gradient goes to the elements the
interpolation reads) and interpolate between neighbours with ``method`` one of
'linear' (the default), 'lower', 'higher', 'midpoint', 'nearest' (JAX's set; numpy's
other estimators raise NotImplementedError). ``q`` may be traced; the positions it picks
are then computed, not fixed, so quantiles work under jit and vmap.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.median(fnp.array([3.0, 1.0, 4.0, 1.0]))
    Array(2., dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError, Tracer
from fnn.lax import sorting as lax_sorting
from fnn.numpy._core import asarray, canonical_dtype, promote_args
from fnn.numpy.contraction import diagonal
from fnn.numpy.indexing import take_along_axis
from fnn.numpy.math import clip, floor, isnan, logical_not, round, sqrt
from fnn.numpy.math import where as _where
from fnn.numpy.reductions import _no_out, any, normalize_axes
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import expand_dims, reshape, transpose

__all__ = [
    "quantile", "percentile", "median", "nanquantile", "nanpercentile", "nanmedian",
    "cov", "corrcoef",
]  # fmt: skip

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _to_last(a, axis):
    """``a`` with the reduced axes merged into one last axis, and the kept shape."""
    axes = normalize_axes("quantile", axis, a.ndim)
    rest = [i for i in range(a.ndim) if i not in axes]
    a = transpose(a, rest + list(axes))
    kept = tuple(a.shape[: len(rest)])
    return reshape(a, kept + (-1,)), axes


def _quantile(name, a, q, axis, method, keepdims, ignore_nan, weights, overwrite_input=False):
    del overwrite_input  # fnn arrays are immutable: the input is never changed
    if weights is not None:
        raise NotImplementedError(
            f"{name}: weights= is not supported (numpy allows it only for inverted_cdf)"
        )
    if method not in _METHODS:
        raise NotImplementedError(
            f"{name}: method must be one of {', '.join(_METHODS)}, got {method!r}"
        )
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        a = lax.convert_element_type(a, config.default_float())
    a, q = promote_args(name, a, q)
    a, q = asarray(a), asarray(q)
    qv = q.concrete_value() if isinstance(q, Tracer) else np.asarray(q)
    if qv is not None and np.size(qv) and (np.min(qv) < 0 or np.max(qv) > 1):
        raise FnnTypeError(f"{name}: quantiles must lie in [0, 1], got {np.asarray(qv)}")
    shape = a.shape
    data, axes = _to_last(a, axis)
    n = data.shape[-1]
    if n == 0:
        raise FnnTypeError(f"{name}: cannot take a quantile of an empty axis (shape {shape})")
    nan = isnan(data)
    data = lax_sorting.sort(data, data.ndim - 1)  # NaNs go last
    if ignore_nan:
        count = _sum(logical_not(nan), axis=-1, keepdims=True)
        last = lax.convert_element_type(lax.max(count, np.ones((), count.dtype)) - 1, a.dtype)
    else:
        last = np.asarray(n - 1, a.dtype)
    # Positions: q's axes first, then the kept axes, then a length-1 axis to gather on.
    qe = reshape(q, q.shape + (1,) * (data.ndim - 1) + (1,))
    pos = qe * last
    lo = clip(floor(pos), 0, n - 1)
    hi = clip(lo + 1.0, None, last)
    hi = clip(hi, 0, n - 1)
    values = lax.broadcast_to(data, q.shape + data.shape)
    index_dtype = config.default_int()

    def at(p):
        idx = lax.convert_element_type(
            lax.broadcast_to(p, q.shape + data.shape[:-1] + (1,)), index_dtype
        )
        return take_along_axis(values, idx, axis=-1)[..., 0]

    if method == "linear":
        frac = (pos - lo)[..., 0]
        lo_v, hi_v = at(lo), at(hi)
        out = lo_v + (hi_v - lo_v) * frac
    elif method == "lower":
        out = at(lo)
    elif method == "higher":
        out = at(clip(lax.ceil(pos), 0, n - 1))
    elif method == "midpoint":
        out = (at(lo) + at(clip(lax.ceil(pos), 0, n - 1))) * 0.5
    else:
        out = at(clip(round(pos), 0, n - 1))
    if ignore_nan:
        none_left = lax.broadcast_to((count == 0)[..., 0], out.shape)
        out = _where(none_left, np.nan, out)
    else:
        out = _where(lax.broadcast_to(any(nan, axis=-1), out.shape), np.nan, out)
    if keepdims:
        kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
        out = reshape(out, q.shape + kept)
    return out


def quantile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    """The ``q``-th quantiles (``q`` in [0, 1], a scalar or an array whose axes lead
    the result) of ``a`` over ``axis``; NaN where a slice holds a NaN, as numpy.quantile.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.quantile(fnp.array([1.0, 2.0, 3.0, 4.0]), fnp.array([0.25, 0.5]))
        Array([1.75, 2.5 ], dtype=float32)
    """
    _no_out("quantile", out)
    method = interpolation or method
    return _quantile("quantile", a, q, axis, method, keepdims, False, weights, overwrite_input)


def nanquantile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    """The quantiles of the non-NaN elements (NaN for an all-NaN slice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanquantile(fnp.array([1.0, float("nan"), 3.0]), 0.5)
        Array(2., dtype=float32)
    """
    _no_out("nanquantile", out)
    method = interpolation or method
    return _quantile("nanquantile", a, q, axis, method, keepdims, True, weights, overwrite_input)


def _percent(q):
    return asarray(q) / 100.0 if not isinstance(q, int | float) else q / 100.0


def percentile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    """:func:`quantile` with ``q`` in percent (0 to 100), as numpy.percentile.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.percentile(fnp.arange(5.0), 25)
        Array(1., dtype=float32)
    """
    _no_out("percentile", out)
    return _quantile(
        "percentile",
        a,
        _percent(q),
        axis,
        interpolation or method,
        keepdims,
        False,
        weights,
        overwrite_input,
    )


def nanpercentile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    """:func:`nanquantile` with ``q`` in percent, as numpy.nanpercentile.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanpercentile(fnp.array([1.0, float("nan"), 3.0]), 50)
        Array(2., dtype=float32)
    """
    _no_out("nanpercentile", out)
    return _quantile(
        "nanpercentile",
        a,
        _percent(q),
        axis,
        interpolation or method,
        keepdims,
        True,
        weights,
        overwrite_input,
    )


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median over ``axis`` (the mean of the two middle values for an even count).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.median(fnp.array([[1.0, 5.0, 2.0], [4.0, 0.0, 8.0]]), axis=1)
        Array([2., 4.], dtype=float32)
    """
    _no_out("median", out)
    return _quantile("median", a, 0.5, axis, "linear", keepdims, False, None)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median of the non-NaN elements (NaN for an all-NaN slice).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.nanmedian(fnp.array([1.0, float("nan"), 5.0, 2.0]))
        Array(2., dtype=float32)
    """
    _no_out("nanmedian", out)
    return _quantile("nanmedian", a, 0.5, axis, "linear", keepdims, True, None)


# ---- covariance --------------------------------------------------------------------------


def _observations(name, m, y, rowvar, dtype):
    m = asarray(m)
    if m.ndim > 2:
        raise FnnTypeError(f"{name}: m must be 1-D or 2-D, got shape {m.shape}")
    x = reshape(m, (1, -1)) if m.ndim < 2 else m
    if not rowvar and x.shape[0] != 1:
        x = transpose(x)
    if y is not None:
        y = asarray(y)
        if y.ndim > 2:
            raise FnnTypeError(f"{name}: y must be 1-D or 2-D, got shape {y.shape}")
        y = reshape(y, (1, -1)) if y.ndim < 2 else y
        if not rowvar and y.shape[0] != 1:
            y = transpose(y)
        if y.shape[1] != x.shape[1]:
            raise FnnTypeError(
                f"{name}: m and y need the same number of observations, got {x.shape[1]} "
                f"and {y.shape[1]}"
            )
        x, y = promote_args(name, x, y)
        x = lax.concatenate([asarray(x), asarray(y)], 0)
    if dtype is not None:
        x = lax.convert_element_type(x, canonical_dtype(dtype))
    elif not np.issubdtype(x.dtype, np.inexact):
        x = lax.convert_element_type(x, config.default_float())
    return x


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """The covariance matrix of variables in the rows of ``m`` (columns when
    ``rowvar=False``), with optional frequency and reliability weights, as numpy.cov.
    A single variable gives a 0-d array.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.cov(fnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        Array([[ 1., -1.],
               [-1.,  1.]], dtype=float32)
    """
    x = _observations("cov", m, y, rowvar, dtype)
    n_obs = x.shape[1]
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = asarray(fweights, x.dtype)
        _check_weights("fweights", w, n_obs)
    if aweights is not None:
        aw = asarray(aweights, x.dtype)
        _check_weights("aweights", aw, n_obs)
        w = aw if w is None else w * aw
    if w is None:
        avg = _sum(x, axis=1) / n_obs
        w_sum = np.asarray(n_obs, x.dtype)
        fact = w_sum - ddof
        xc = x - expand_dims(avg, 1)
        c = (xc @ transpose(xc)) / fact
    else:
        w_sum = _sum(w)
        avg = _sum(x * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * _sum(w * asarray(aweights, x.dtype)) / w_sum
        xc = x - expand_dims(avg, 1)
        c = ((xc * w) @ transpose(xc)) / fact
    return c[0, 0] if c.shape == (1, 1) else c


def _check_weights(name, w, n):
    if w.ndim != 1 or w.shape[0] != n:
        raise FnnTypeError(f"cov: {name} must be 1-D of length {n}, got shape {w.shape}")


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients: ``cov`` scaled by the standard deviations and
    clipped to [-1, 1], as numpy.corrcoef.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.corrcoef(fnp.array([0.0, 1.0, 2.0]), fnp.array([1.0, 3.0, 5.0]))
        Array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = sqrt(diagonal(c))
    return clip(c / d[:, None] / d[None, :], -1.0, 1.0)
