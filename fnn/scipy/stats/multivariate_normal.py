"""The multivariate normal distribution, as ``jax.scipy.stats.multivariate_normal``
with ``scipy.stats.multivariate_normal``'s signature and covariance forms.

``x`` has the dimension on its last axis. ``mean`` is a vector (or a batch of vectors,
``(..., n)``), or a scalar broadcast to every coordinate; ``None`` is zero. ``cov`` is
a matrix ``(n, n)`` or a batch ``(..., n, n)`` (factored by Cholesky), a vector of
variances (a diagonal covariance, as scipy) or a scalar (``cov * I``). With a scalar
mean and a scalar cov the distribution is univariate and acts elementwise, as JAX's.

A covariance that is not positive definite gives NaN (under jit there is no value to
raise on); ``allow_singular=True`` is not supported.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.scipy.stats import multivariate_normal
    >>> multivariate_normal.logpdf(fnp.zeros(2), fnp.zeros(2), fnp.eye(2))   # -log(2 pi)
    Array(-1.837877, dtype=float32)
"""

from __future__ import annotations

import numpy as np

import fnn.numpy as fnp
from fnn.core import Array, FnnTypeError
from fnn.lax.linalg import triangular_solve
from fnn.scipy.stats._common import nan_unless, promote

__all__ = ["logpdf", "pdf"]

_LOG_2PI = float(np.log(2 * np.pi))  # a Python float: weakly typed


def _dimension(name, x, mean, cov) -> int | None:
    """The dimension n, or None for the elementwise (univariate) case; checks shapes."""
    if mean.ndim:
        n = mean.shape[-1]
    elif cov.ndim:
        n = cov.shape[-1]
    else:
        return None
    shapes = f"x {x.shape}, mean {mean.shape}, cov {cov.shape}"
    if cov.ndim == 1 and cov.shape != (n,):
        raise FnnTypeError(f"{name}: a vector cov holds n = {n} variances; got {shapes}")
    if cov.ndim >= 2 and cov.shape[-2:] != (n, n):
        raise FnnTypeError(f"{name}: cov must be ({n}, {n}) (or a batch of them); got {shapes}")
    if not x.ndim or x.shape[-1] != n:
        raise FnnTypeError(f"{name}: x needs the dimension n = {n} on its last axis; got {shapes}")
    return n


def _mahalanobis_and_logdet(y, cov):
    """``y^T cov^-1 y`` over the last axis of y and ``log det cov``, for a matrix cov
    (or a batch), through its Cholesky factor."""
    n = cov.shape[-1]
    chol = fnp.linalg.cholesky(cov)
    logdet = 2.0 * fnp.sum(fnp.log(fnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    if cov.ndim == 2:
        # one factor for every sample: a single solve with the samples as columns
        flat = fnp.reshape(y, (-1, n))
        z = triangular_solve(chol, fnp.transpose(flat), left_side=True, lower=True)
        maha = fnp.reshape(fnp.sum(z * z, axis=0), y.shape[:-1])
        return maha, logdet
    batch = np.broadcast_shapes(y.shape[:-1], cov.shape[:-2])
    chol = fnp.broadcast_to(chol, batch + (n, n))
    col = fnp.broadcast_to(y, batch + (n,))[..., None]
    z = triangular_solve(chol, col, left_side=True, lower=True)
    return fnp.sum(z[..., 0] ** 2, axis=-1), logdet


def logpdf(x, mean=None, cov=1, allow_singular: bool = False) -> Array:
    """Log of the multivariate normal density at ``x`` (shape ``x.shape[:-1]``,
    broadcast with the batch shapes of ``mean`` and ``cov``).

    Example:
        >>> import fnn.numpy as fnp
        >>> logpdf(fnp.array([1.0, 0.0]), fnp.zeros(2), fnp.array([1.0, 4.0]))
        Array(-3.0310242, dtype=float32)
    """
    name = "multivariate_normal.logpdf"
    if allow_singular:
        raise NotImplementedError(
            f"{name}: allow_singular=True (a degenerate covariance) is not supported; "
            "pass a positive definite cov"
        )
    x, mean, cov = promote(name, x, 0.0 if mean is None else mean, cov)
    n = _dimension(name, x, mean, cov)
    y = x - mean
    if n is None:
        out = -0.5 * (y * y / cov + _LOG_2PI + fnp.log(cov))
        return nan_unless(cov > 0, out)
    if cov.ndim == 0:
        maha, logdet = fnp.sum(y * y, axis=-1) / cov, n * fnp.log(cov)
        valid = cov > 0
    elif cov.ndim == 1:
        maha, logdet = fnp.sum(y * y / cov, axis=-1), fnp.sum(fnp.log(cov))
        valid = fnp.all(cov > 0)
    else:
        maha, logdet = _mahalanobis_and_logdet(y, cov)
        valid = True
    return nan_unless(valid, -0.5 * (maha + n * _LOG_2PI + logdet))


def pdf(x, mean=None, cov=1, allow_singular: bool = False) -> Array:
    """The multivariate normal density at ``x``.

    Example:
        >>> pdf(0.0, 0.0, 1.0)
        Array(0.3989423, dtype=float32)
    """
    return fnp.exp(logpdf(x, mean, cov, allow_singular))
