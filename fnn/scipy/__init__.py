"""fnn.scipy: the parts of scipy's API that fnn implements: ``fnn.scipy.special`` and
``fnn.scipy.stats``, as in jax.scipy.

Example:
    >>> import fnn.scipy
    >>> fnn.scipy.special.expit(0.0)
    Array(0.5, dtype=float32)
    >>> fnn.scipy.stats.norm.cdf(0.0)
    Array(0.5, dtype=float32)
"""

from fnn.scipy import special, stats

__all__ = ["special", "stats"]
