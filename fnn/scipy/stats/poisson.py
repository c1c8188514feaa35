"""The Poisson distribution with mean ``mu`` (>= 0), as ``jax.scipy.stats.poisson`` and
``scipy.stats.poisson``; ``loc`` shifts the support. Differentiable in ``mu``.

``logpmf`` keeps its digits for large counts (Loader's form; the textbook
``k log mu - mu - gammaln(k + 1)`` cancels terms of size k log k), and ``cdf`` is the
upper incomplete gamma function ``gammaincc(floor(k) + 1, mu)``.

Example:
    >>> from fnn.scipy.stats import poisson
    >>> poisson.pmf(0, 2.0)   # exp(-2)
    Array(0.13533528, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import Array
from fnn.numpy import (
    arange,
    broadcast_arrays,
    exp,
    expand_dims,
    floor,
    isinf,
    isnan,
    log,
    where,
)
from fnn.numpy import (
    sum as _sum,
)
from fnn.scipy import _incomplete, _lgamma
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpmf", "pmf", "cdf", "entropy"]


def logpmf(k, mu, loc=0) -> Array:
    """``log P(X = k)``: -inf for k below ``loc``, infinite or not an integer.

    Example:
        >>> logpmf(3, 3.0)
        Array(-1.4959226, dtype=float32)
    """
    k, mu, loc = promote("poisson.logpmf", k, mu, loc)
    x = k - loc
    off = (x < 0) | (x != floor(x)) | isinf(x)
    out = where(off, -np.inf, _lgamma.log_poisson(where(off, 0.0, x), where(mu >= 0, mu, 1.0)))
    return nan_unless(mu >= 0, where(isnan(x), np.nan, out))


def pmf(k, mu, loc=0) -> Array:
    """``P(X = k)``.

    Example:
        >>> pmf(1, 1.0)   # exp(-1)
        Array(0.36787942, dtype=float32)
    """
    return exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0) -> Array:
    """``P(X <= k) = gammaincc(floor(k - loc) + 1, mu)``; 0 below ``loc``.

    Example:
        >>> cdf(0, 1.0)   # exp(-1)
        Array(0.36787945, dtype=float32)
    """
    k, mu, loc = promote("poisson.cdf", k, mu, loc)
    x = floor(k - loc)
    below = x < 0
    a, m = broadcast_arrays(where(below, 0.0, x) + 1.0, where(mu >= 0, mu, 1.0))
    q = _incomplete.igamma_pair(a, m)[1]
    return nan_unless(mu >= 0, where(below, 0.0, q))


# The entropy's asymptotic series in 1/mu after log(2 pi e mu) / 2 (coefficients of
# mu**-1 .. mu**-6; the first four are Evans and Boersma's, the next two fitted to exact
# sums at 60 digits and recognised as rationals); used from _ENTROPY_SERIES_FROM on,
# where the next term is below rounding. Below it the sum over k is exact.
_ENTROPY_SERIES = (-1 / 12, -1 / 24, -19 / 360, -9 / 80, -863 / 2520, -1375 / 1008)
_ENTROPY_SERIES_FROM = {np.dtype(np.float64): (200.0, 512), np.dtype(np.float32): (30.0, 128)}


def entropy(mu, loc=0) -> Array:
    """The Shannon entropy ``-sum_k p(k) log p(k)`` (in nats); ``loc`` does not change it
    but broadcasts, as in scipy and JAX.

    Example:
        >>> entropy(0.0)
        Array(0., dtype=float32)
    """
    mu, loc = promote("poisson.entropy", mu, loc)
    mu, _ = broadcast_arrays(mu, loc)
    start, terms = _ENTROPY_SERIES_FROM.get(mu.dtype, _ENTROPY_SERIES_FROM[np.dtype(np.float32)])
    large = mu >= start
    # exact sum over k = 0 .. terms - 1 (the mass beyond is below rounding)
    m = where(large | ~(mu >= 0), 1.0, mu)
    k = arange(terms, dtype=mu.dtype)
    log_p = _lgamma.log_poisson(k, expand_dims(m, -1))
    p = exp(log_p)
    exact = 0.0 - _sum(where(p > 0, p * where(p > 0, log_p, 0.0), 0.0), axis=-1)
    big = where(large, mu, start)
    series = 0.0 * big
    for c in reversed(_ENTROPY_SERIES):
        series = (series + c) / big
    asymptotic = 0.5 * log(2 * np.pi * np.e * big) + series
    return nan_unless(mu >= 0, where(large, asymptotic, exact))
