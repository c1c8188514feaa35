"""The Bernoulli distribution with success probability ``p`` (0 <= p <= 1, NaN
otherwise), as ``jax.scipy.stats.bernoulli`` and ``scipy.stats.bernoulli``; ``loc``
shifts the support {0, 1}.

Values follow scipy where JAX differs: a non-integer ``k`` has probability 0, and
``ppf(0)`` is ``loc - 1`` (the support's lower end minus one).

Example:
    >>> from fnn.scipy.stats import bernoulli
    >>> bernoulli.pmf(1, 0.3)
    Array(0.3, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import Array
from fnn.numpy import floor, isnan, where
from fnn.scipy.special import xlog1py, xlogy
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpmf", "pmf", "cdf", "ppf"]


def _valid(p):
    return (p >= 0) & (p <= 1)


def logpmf(k, p, loc=0) -> Array:
    """``log p`` at 1, ``log(1 - p)`` at 0 (shifted by ``loc``), -inf elsewhere.

    Example:
        >>> logpmf(0, 0.5)
        Array(-0.6931472, dtype=float32)
    """
    k, p, loc = promote("bernoulli.logpmf", k, p, loc)
    x = k - loc
    off = (x != 0) & (x != 1)
    x_in = where(off, 0.0, x)
    out = where(off, -np.inf, xlogy(x_in, p) + xlog1py(1.0 - x_in, -p))
    return nan_unless(_valid(p), where(isnan(x), np.nan, out))


def pmf(k, p, loc=0) -> Array:
    """``P(X = k)``: ``p`` at 1, ``1 - p`` at 0 (shifted by ``loc``), 0 elsewhere.

    Example:
        >>> pmf(0, 0.25)
        Array(0.75, dtype=float32)
    """
    k, p, loc = promote("bernoulli.pmf", k, p, loc)
    x = k - loc
    out = where(x == 1, p, where(x == 0, 1.0 - p, 0.0))
    return nan_unless(_valid(p), where(isnan(x), np.nan, out))


def cdf(k, p, loc=0) -> Array:
    """``P(X <= k)``: 0 below ``loc``, ``1 - p`` up to ``loc + 1``, then 1.

    Example:
        >>> cdf(0.5, 0.25)
        Array(0.75, dtype=float32)
    """
    k, p, loc = promote("bernoulli.cdf", k, p, loc)
    x = floor(k - loc)
    out = where(x < 0, 0.0, where(x < 1, 1.0 - p, 1.0))
    return nan_unless(_valid(p), where(isnan(x), np.nan, out))


def ppf(q, p, loc=0) -> Array:
    """The quantile: the least k with ``cdf(k) >= q`` (``loc - 1`` at q = 0 and
    ``loc + 1`` at q = 1, as scipy).

    Example:
        >>> ppf(0.9, 0.25)
        Array(1., dtype=float32)
    """
    q, p, loc = promote("bernoulli.ppf", q, p, loc)
    # scipy's ends: q = 0 is below the support, q = 1 its top (also when p = 0)
    # (built on loc, so that its dtype is kept: a where of two Python floats is float64)
    out = where(q == 0, loc - 1.0, where((q <= 1.0 - p) & (q < 1), loc, loc + 1.0))
    return nan_unless(_valid(p) & (q >= 0) & (q <= 1), out)
