"""The beta distribution with shapes ``a``, ``b`` (> 0), as ``jax.scipy.stats.beta``
and ``scipy.stats.beta``; ``loc`` and ``scale`` (> 0) as scipy's. Differentiable in
every argument (``cdf`` in ``a`` and ``b`` too, which JAX's is not).

``sf``/``logsf`` compute the upper tail directly, not as ``1 - cdf``.

Example:
    >>> from fnn.scipy.stats import beta
    >>> beta.cdf(0.5, 2.0, 3.0)
    Array(0.6875, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import Array
from fnn.numpy import broadcast_arrays, exp, isnan, log, log1p, where
from fnn.scipy import _incomplete
from fnn.scipy.special import betaln, xlog1py, xlogy
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _outside(y):
    return (y < 0) | (y > 1)


def logpdf(x, a, b, loc=0, scale=1) -> Array:
    """``(a-1) log y + (b-1) log(1-y) - betaln(a, b) - log(scale)``, ``y = (x-loc)/scale``;
    -inf outside [0, 1] (inf at an end where the density is unbounded, as scipy).

    Example:
        >>> logpdf(0.5, 2.0, 2.0)   # log(1.5)
        Array(0.40546513, dtype=float32)
    """
    x, a, b, loc, scale = promote("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    outside = _outside(y)
    y_in = where(outside, 0.5, y)
    inside = xlogy(a - 1.0, y_in) + xlog1py(b - 1.0, -y_in) - betaln(a, b) - log(scale)
    out = where(outside, -np.inf, inside)
    return nan_unless((a > 0) & (b > 0) & (scale > 0), where(isnan(y), np.nan, out))


def pdf(x, a, b, loc=0, scale=1) -> Array:
    """The beta density.

    Example:
        >>> pdf(0.5, 2.0, 2.0)
        Array(1.5, dtype=float32)
    """
    return exp(logpdf(x, a, b, loc, scale))


def _both(name, x, a, b, loc, scale):
    """(cdf, sf), each accurate where it is small."""
    x, a, b, loc, scale = promote(name, x, a, b, loc, scale)
    y = (x - loc) / scale
    a_b, b_b, y_b = broadcast_arrays(a, b, where(_outside(y), 0.5, y))
    i, ic = _incomplete.ibeta_pair(a_b, b_b, y_b)
    valid = (a > 0) & (b > 0) & (scale > 0)
    cdf_ = where(y < 0, 0.0, where(y > 1, 1.0, i))
    sf_ = where(y < 0, 1.0, where(y > 1, 0.0, ic))
    return nan_unless(valid, cdf_), nan_unless(valid, sf_)


def _log_first(p, q):
    """``log p`` given ``q = 1 - p`` too: near p = 1, ``log1p(-q)`` keeps the digits that
    rounding ``p`` to 1 - q lost."""
    return where(p > 0.5, log1p(-where(p > 0.5, q, 0.0)), log(p))


def cdf(x, a, b, loc=0, scale=1) -> Array:
    """``betainc(a, b, y)`` with ``y = (x - loc) / scale`` limited to [0, 1].

    Example:
        >>> cdf(1.5, 2.0, 3.0)
        Array(1., dtype=float32)
    """
    return _both("beta.cdf", x, a, b, loc, scale)[0]


def logcdf(x, a, b, loc=0, scale=1) -> Array:
    """The log of :func:`cdf`; ``log1p(-sf)`` where the cdf is near 1.

    Example:
        >>> logcdf(0.5, 1.0, 1.0)
        Array(-0.6931472, dtype=float32)
    """
    return _log_first(*_both("beta.logcdf", x, a, b, loc, scale))


def sf(x, a, b, loc=0, scale=1) -> Array:
    """The survival function ``1 - cdf``, computed directly where it is small.

    Example:
        >>> sf(0.5, 2.0, 3.0)
        Array(0.3125, dtype=float32)
    """
    return _both("beta.sf", x, a, b, loc, scale)[1]


def logsf(x, a, b, loc=0, scale=1) -> Array:
    """The log of :func:`sf`; ``log1p(-cdf)`` where the sf is near 1.

    Example:
        >>> logsf(0.5, 1.0, 1.0)
        Array(-0.6931472, dtype=float32)
    """
    cdf_, sf_ = _both("beta.logsf", x, a, b, loc, scale)
    return _log_first(sf_, cdf_)
