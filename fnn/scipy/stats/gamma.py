"""The gamma distribution with shape ``a`` (> 0), as ``jax.scipy.stats.gamma`` and
``scipy.stats.gamma``; ``loc`` and ``scale`` (> 0) as scipy's. Differentiable in ``x``,
``a``, ``loc`` and ``scale``.

``logpdf`` keeps its digits for large ``a`` (Loader's form of the Poisson kernel), and
``sf``/``logsf`` compute the upper tail directly (``gammaincc``), not as ``1 - cdf``.

Example:
    >>> from fnn.scipy.stats import gamma
    >>> gamma.cdf(2.0, 1.0)   # 1 - exp(-2)
    Array(0.86466473, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import Array
from fnn.numpy import broadcast_arrays, exp, log, log1p, where
from fnn.scipy import _incomplete, _lgamma
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, a, loc=0, scale=1) -> Array:
    """``(a - 1) log y - y - gammaln(a) - log(scale)`` with ``y = (x - loc) / scale``;
    -inf left of ``loc``.

    Example:
        >>> logpdf(1.0, 1.0)   # exp(-1)
        Array(-1., dtype=float32)
    """
    x, a, loc, scale = promote("gamma.logpdf", x, a, loc, scale)
    y = (x - loc) / scale
    left = y < 0
    kernel = _lgamma.log_poisson(a - 1.0, where(left, 1.0, y))  # y^(a-1) e^-y / Gamma(a)
    out = where(left, -np.inf, kernel - log(scale))
    return nan_unless((a > 0) & (scale > 0), out)


def pdf(x, a, loc=0, scale=1) -> Array:
    """The gamma density.

    Example:
        >>> pdf(0.0, 1.0)
        Array(1., dtype=float32)
    """
    return exp(logpdf(x, a, loc, scale))


def _both(name, x, a, loc, scale):
    """(cdf, sf), each accurate where it is small."""
    x, a, loc, scale = promote(name, x, a, loc, scale)
    y = (x - loc) / scale
    left = y < 0
    a_b, y_b = broadcast_arrays(a, where(left, 0.0, y))
    p, q = _incomplete.igamma_pair(a_b, y_b)
    valid = (a > 0) & (scale > 0)
    return nan_unless(valid, where(left, 0.0, p)), nan_unless(valid, where(left, 1.0, q))


def _log_first(p, q):
    """``log p`` given ``q = 1 - p`` too: near p = 1, ``log1p(-q)`` keeps the digits that
    rounding ``p`` to 1 - q lost."""
    return where(p > 0.5, log1p(-where(p > 0.5, q, 0.0)), log(p))


def cdf(x, a, loc=0, scale=1) -> Array:
    """``gammainc(a, (x - loc) / scale)``, 0 left of ``loc``.

    Example:
        >>> cdf(-1.0, 2.0)
        Array(0., dtype=float32)
    """
    return _both("gamma.cdf", x, a, loc, scale)[0]


def logcdf(x, a, loc=0, scale=1) -> Array:
    """The log of :func:`cdf`; ``log1p(-sf)`` where the cdf is near 1.

    Example:
        >>> logcdf(2.0, 1.0)
        Array(-0.14541346, dtype=float32)
    """
    return _log_first(*_both("gamma.logcdf", x, a, loc, scale))


def sf(x, a, loc=0, scale=1) -> Array:
    """The survival function ``gammaincc(a, (x - loc) / scale)``, accurate in the tail.

    Example:
        >>> sf(2.0, 1.0)   # exp(-2)
        Array(0.13533528, dtype=float32)
    """
    return _both("gamma.sf", x, a, loc, scale)[1]


def logsf(x, a, loc=0, scale=1) -> Array:
    """The log of :func:`sf`; ``log1p(-cdf)`` where the sf is near 1.

    Example:
        >>> logsf(3.0, 1.0)
        Array(-3., dtype=float32)
    """
    cdf_, sf_ = _both("gamma.logsf", x, a, loc, scale)
    return _log_first(sf_, cdf_)
