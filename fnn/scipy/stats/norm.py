"""The normal distribution, as ``jax.scipy.stats.norm`` and ``scipy.stats.norm``.

Every function takes ``loc`` (mean) and ``scale`` (standard deviation, > 0; NaN
otherwise). The tails stay accurate: ``logcdf``/``logsf`` use ``log_ndtr``, ``ppf``/``isf``
use ``ndtri``, so ``norm.logsf(40.0)`` and ``norm.isf(1e-300)`` are right to the last
digits in float64.

Example:
    >>> from fnn.scipy.stats import norm
    >>> norm.cdf(0.0)
    Array(0.5, dtype=float32)
"""

from __future__ import annotations

from fnn.core import Array
from fnn.numpy import exp, log
from fnn.scipy.special import log_ndtr, ndtr, ndtri
from fnn.scipy.stats._common import HALF_LOG_2PI, nan_unless, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def _standardize(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


def logpdf(x, loc=0, scale=1) -> Array:
    """Log of the normal density at ``x``.

    Example:
        >>> logpdf(0.0)   # -log(2 pi) / 2
        Array(-0.9189385, dtype=float32)
    """
    z, scale = _standardize("norm.logpdf", x, loc, scale)
    return nan_unless(scale > 0, -0.5 * z * z - log(scale) - HALF_LOG_2PI)


def pdf(x, loc=0, scale=1) -> Array:
    """The normal density at ``x``.

    Example:
        >>> pdf(1.0, loc=1.0, scale=2.0)
        Array(0.19947115, dtype=float32)
    """
    return exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1) -> Array:
    """``P(X <= x)``.

    Example:
        >>> cdf(1.0, loc=1.0)
        Array(0.5, dtype=float32)
    """
    z, scale = _standardize("norm.cdf", x, loc, scale)
    return nan_unless(scale > 0, ndtr(z))


def logcdf(x, loc=0, scale=1) -> Array:
    """``log P(X <= x)``, accurate far into the left tail.

    Example:
        >>> logcdf(-40.0)
        Array(-804.60846, dtype=float32)
    """
    z, scale = _standardize("norm.logcdf", x, loc, scale)
    return nan_unless(scale > 0, log_ndtr(z))


def sf(x, loc=0, scale=1) -> Array:
    """The survival function ``P(X > x) = 1 - cdf``, accurate in the right tail.

    Example:
        >>> sf(0.0)
        Array(0.5, dtype=float32)
    """
    z, scale = _standardize("norm.sf", x, loc, scale)
    return nan_unless(scale > 0, ndtr(-z))


def logsf(x, loc=0, scale=1) -> Array:
    """``log P(X > x)``, accurate far into the right tail.

    Example:
        >>> logsf(40.0)
        Array(-804.60846, dtype=float32)
    """
    z, scale = _standardize("norm.logsf", x, loc, scale)
    return nan_unless(scale > 0, log_ndtr(-z))


def ppf(q, loc=0, scale=1) -> Array:
    """The quantile function, inverse of :func:`cdf` (-inf at 0, inf at 1, NaN outside).

    Example:
        >>> ppf(0.5, loc=3.0)
        Array(3., dtype=float32)
    """
    q, loc, scale = promote("norm.ppf", q, loc, scale)
    return nan_unless(scale > 0, loc + scale * ndtri(q))


def isf(q, loc=0, scale=1) -> Array:
    """The inverse survival function, ``ppf(1 - q)`` without rounding ``1 - q``: small
    ``q`` keep their digits.

    Example:
        >>> isf(0.5)
        Array(0., dtype=float32)
    """
    q, loc, scale = promote("norm.isf", q, loc, scale)
    return nan_unless(scale > 0, loc - scale * ndtri(q))
