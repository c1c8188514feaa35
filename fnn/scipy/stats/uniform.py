"""The continuous uniform distribution on ``[loc, loc + scale]``, as
``jax.scipy.stats.uniform`` and ``scipy.stats.uniform`` (``scale`` > 0, NaN otherwise).

Example:
    >>> from fnn.scipy.stats import uniform
    >>> uniform.pdf(0.5, loc=0.0, scale=2.0)
    Array(0.5, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import Array
from fnn.numpy import exp, isnan, log, where
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpdf", "pdf", "cdf", "ppf"]


def logpdf(x, loc=0, scale=1) -> Array:
    """``-log(scale)`` on the closed interval, -inf outside.

    Example:
        >>> logpdf(3.0, loc=1.0, scale=2.0)
        Array(-0.6931472, dtype=float32)
    """
    x, loc, scale = promote("uniform.logpdf", x, loc, scale)
    outside = (x < loc) | (x > loc + scale)
    out = where(outside, -np.inf, -log(scale))
    return nan_unless(scale > 0, where(isnan(x), np.nan, out))


def pdf(x, loc=0, scale=1) -> Array:
    """``1 / scale`` on the closed interval, 0 outside.

    Example:
        >>> pdf(5.0)
        Array(0., dtype=float32)
    """
    return exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1) -> Array:
    """``(x - loc) / scale`` limited to [0, 1].

    Example:
        >>> cdf(0.25)
        Array(0.25, dtype=float32)
    """
    x, loc, scale = promote("uniform.cdf", x, loc, scale)
    y = (x - loc) / scale
    # where rather than clip: clip would halve the derivative at the ends
    return nan_unless(scale > 0, where(y < 0, 0.0, where(y > 1, 1.0, y)))


def ppf(q, loc=0, scale=1) -> Array:
    """The quantile ``loc + scale * q`` for q in [0, 1], NaN outside.

    Example:
        >>> ppf(0.5, loc=1.0, scale=2.0)
        Array(2., dtype=float32)
    """
    q, loc, scale = promote("uniform.ppf", q, loc, scale)
    return nan_unless((scale > 0) & (q >= 0) & (q <= 1), loc + scale * q)
