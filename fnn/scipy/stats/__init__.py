"""fnn.scipy.stats: probability distributions as jax.scipy.stats has them, one module
each, with scipy's signatures (``loc``, ``scale`` and shape parameters as keywords),
broadcasting, JAX's dtypes (float32, float64 under ``enable_x64``) and scipy's values
outside the support (-inf log-density, 0 density) and for invalid parameters (NaN).

Every function is written with fnn.numpy and fnn.scipy.special, so it is
differentiable (in x and in the parameters), jit-able and vmap-able.

Example:
    >>> import fnn
    >>> fnn.scipy.stats.norm.logpdf(0.0)
    Array(-0.9189385, dtype=float32)
"""

from fnn.scipy.stats import (
    bernoulli,
    beta,
    gamma,
    multivariate_normal,
    norm,
    poisson,
    t,
    uniform,
)

__all__ = ["bernoulli", "beta", "gamma", "multivariate_normal", "norm", "poisson", "t", "uniform"]
