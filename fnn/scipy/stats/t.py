"""Student's t distribution with ``df`` degrees of freedom (> 0; ``inf`` is the normal
distribution, as scipy), as ``jax.scipy.stats.t``; ``loc`` and ``scale`` (> 0) as scipy's.

The normaliser ``lgamma((df+1)/2) - lgamma(df/2)`` is formed without cancellation, so
large ``df`` keep their digits and their derivative.

Example:
    >>> from fnn.scipy.stats import t
    >>> t.pdf(0.0, 1.0)   # Cauchy: 1 / pi
    Array(0.31830993, dtype=float32)
"""

from __future__ import annotations

from fnn.core import Array
from fnn.numpy import exp, isinf, log, log1p, where
from fnn.scipy import _lgamma
from fnn.scipy.stats._common import HALF_LOG_2PI, nan_unless, promote

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0, scale=1) -> Array:
    """Log of the t density at ``x``.

    Example:
        >>> logpdf(0.0, 1.0)   # -log(pi)
        Array(-1.1447299, dtype=float32)
    """
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    normal = isinf(df)
    df_f = where(normal, 1.0, df)
    # log Gamma((df+1)/2) / (Gamma(df/2) sqrt(pi df)) = ratio(df/2) - log(2 pi)/2
    log_t = _lgamma.log_gamma_half_ratio(0.5 * df_f) - (0.5 * df_f + 0.5) * log1p(z * z / df_f)
    out = where(normal, -0.5 * z * z, log_t) - HALF_LOG_2PI - log(scale)
    return nan_unless((df > 0) & (scale > 0), out)


def pdf(x, df, loc=0, scale=1) -> Array:
    """The t density at ``x``.

    Example:
        >>> pdf(0.0, float("inf"))   # the normal density at 0
        Array(0.3989423, dtype=float32)
    """
    return exp(logpdf(x, df, loc, scale))
