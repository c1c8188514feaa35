"""fnn.scipy.special: special functions of scipy.special, differentiable and traceable.

Built on the lax primitives erf, erf_inv, lgamma, polygamma and logistic, plus one
primitive of its own, ``erfc``: ``1 - erf(x)`` loses every digit for large x.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.scipy.special import logsumexp
    >>> logsumexp(fnp.array([0.0, 0.0]))
    Array(0.6931472, dtype=float32)
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps

from fnn import core, lax
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax.base import batching_rules, defprim, jvp_rules
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import exp, isfinite, isnan, log, log1p, logical_not, sign, where
from fnn.numpy.reductions import max as _max
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.reductions import sum as _sum

__all__ = [
    "logsumexp", "softmax", "log_softmax", "erf", "erfc", "erfinv", "gammaln", "digamma",
    "psi", "polygamma", "multigammaln", "betaln", "expit", "logit", "xlogy", "xlog1py",
    "entr", "ndtr", "ndtri",
]  # fmt: skip


def _float(name, *args):
    out = [asarray(a) for a in promote_args(name, *args, to_float=True)]
    return out if len(out) > 1 else out[0]


def _c(x, value):
    return np.asarray(value, x.dtype)


# ---- erfc: a primitive (TODO: move beside erf in fnn/lax/elementwise.py) --------------------


def _erfc_abstract(x):
    if not np.issubdtype(x.dtype, np.floating):
        raise FnnTypeError(f"erfc: expected a floating-point dtype, got {x.dtype}")
    return ShapedArray(x.shape, x.dtype)


erfc_p = defprim("erfc", lambda x: sps.erfc(x).astype(x.dtype), _erfc_abstract)


def _erfc_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    slope = lax.mul(_c(x, -2 / np.sqrt(np.pi)), lax.exp(lax.neg(lax.mul(x, x))))
    return erfc_p.bind(x), lax.mul(t, slope)


jvp_rules[erfc_p] = _erfc_jvp
batching_rules[erfc_p] = lambda vals, dims: (erfc_p.bind(vals[0]), dims[0])


# ---- elementwise functions --------------------------------------------------------------


def erf(x):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    Example:
        >>> erf(0.0)
        Array(0., dtype=float32)
    """
    return lax.erf(_float("erf", x))


def erfc(x):
    """The complementary error function ``1 - erf(x)``, accurate for large x.

    Example:
        >>> erfc(0.0)
        Array(1., dtype=float32)
    """
    return erfc_p.bind(_float("erfc", x))


def erfinv(x):
    """The inverse of :func:`erf` on (-1, 1).

    Example:
        >>> erfinv(0.0)
        Array(0., dtype=float32)
    """
    return lax.erf_inv(_float("erfinv", x))


def gammaln(x):
    """``log|Gamma(x)|``.

    Example:
        >>> gammaln(4.0)   # log(3!)
        Array(1.7917595, dtype=float32)
    """
    return lax.lgamma(_float("gammaln", x))


def digamma(x):
    """The logarithmic derivative of Gamma, ``psi(x) = Gamma'(x) / Gamma(x)``.

    Example:
        >>> digamma(1.0)   # -Euler's gamma
        Array(-0.5772157, dtype=float32)
    """
    return lax.digamma(_float("digamma", x))


psi = digamma


def polygamma(n: int, x):
    """The n-th derivative of :func:`digamma` (``n`` a non-negative Python int).

    Example:
        >>> polygamma(1, 1.0)   # pi^2 / 6
        Array(1.644934, dtype=float32)
    """
    if not isinstance(n, int | np.integer) or n < 0:
        raise FnnTypeError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return lax.polygamma(int(n), _float("polygamma", x))


def multigammaln(a, d: int):
    """The log of the multivariate gamma function of dimension ``d``.

    Example:
        >>> multigammaln(2.0, 1)   # = gammaln(2)
        Array(0., dtype=float32)
    """
    a = _float("multigammaln", a)
    out = _c(a, d * (d - 1) / 4 * np.log(np.pi))
    for j in range(d):
        out = out + gammaln(a - j / 2)
    return out


def betaln(a, b):
    """``log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)``.

    Example:
        >>> betaln(1.0, 1.0)
        Array(0., dtype=float32)
    """
    a, b = _float("betaln", a, b)
    return gammaln(a) + gammaln(b) - gammaln(a + b)


def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``.

    Example:
        >>> expit(0.0)
        Array(0.5, dtype=float32)
    """
    return lax.logistic(_float("expit", x))


def logit(p):
    """The inverse of :func:`expit`: ``log(p / (1 - p))``.

    Example:
        >>> logit(0.5)
        Array(0., dtype=float32)
    """
    p = _float("logit", p)
    return log(p) - log1p(-p)


def _xlog_impl(name, x, y, logf, domain_ok):
    x, y = _float(name, x, y)
    # Where x == 0 the result is 0 (unless y is NaN). Replacing y there by 1 avoids
    # 0 * inf and NaN derivatives, and keeps d/dx = log(y) where y is in the domain.
    zero = (x == 0) & logical_not(domain_ok(y)) & logical_not(isnan(y))
    return x * logf(where(zero, 1.0, y))


def xlogy(x, y):
    """``x * log(y)``, taken as 0 where ``x == 0`` (also for y == 0).

    Example:
        >>> xlogy(0.0, 0.0)
        Array(0., dtype=float32)
    """
    return _xlog_impl("xlogy", x, y, log, lambda y: (y > 0) & isfinite(y))


def xlog1py(x, y):
    """``x * log1p(y)``, taken as 0 where ``x == 0`` (also for y == -1).

    Example:
        >>> xlog1py(0.0, -1.0)
        Array(0., dtype=float32)
    """
    return _xlog_impl("xlog1py", x, y, log1p, lambda y: (y > -1) & isfinite(y))


def entr(x):
    """Elementwise entropy ``-x log x`` (0 at 0, -inf for negative x).

    Example:
        >>> entr(1.0)
        Array(-0., dtype=float32)
    """
    x = _float("entr", x)
    return where(x < 0, -np.inf, -xlogy(x, x))


def ndtr(x):
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the left tail).

    Example:
        >>> ndtr(0.0)
        Array(0.5, dtype=float32)
    """
    x = _float("ndtr", x)
    return erfc(x * -np.sqrt(0.5)) * 0.5


def ndtri(p):
    """The inverse of :func:`ndtr`, ``sqrt(2) * erfinv(2p - 1)``.

    Example:
        >>> ndtri(0.5)
        Array(0., dtype=float32)
    """
    p = _float("ndtri", p)
    return erfinv(p * 2.0 - 1.0) * np.sqrt(2.0)


# ---- reductions -------------------------------------------------------------------------


def _stable_max(a, axes):
    """max over ``axes`` (kept), as a constant for autodiff, and 0 where it is not finite
    (so rows of -inf give exp(-inf - 0) = 0 rather than NaN)."""
    m = lax.stop_gradient(_max(a, axis=axes, keepdims=True)) if axes else lax.stop_gradient(a)
    return where(isfinite(m), m, 0.0)


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """``log(sum(b * exp(a)))`` over ``axis``, computed without overflow.

    The maximum is subtracted as a constant (``stop_gradient``), so the gradient is
    exactly the softmax. With weights ``b`` the sum may be negative: then the result is
    NaN, or ``(log|sum|, sign)`` with ``return_sign``. All -inf gives -inf.

    Example:
        >>> import fnn.numpy as fnp
        >>> logsumexp(fnp.array([[1.0, 1.0], [-fnp.inf, -fnp.inf]]), axis=1)
        Array([1.6931472,      -inf], dtype=float32)
    """
    if b is None:
        a = _float("logsumexp", a)
    else:
        a, b = _float("logsumexp", a, b)
        a = where(b != 0, a, -np.inf)  # entries with zero weight must not set the max
    axes = normalize_axes("logsumexp", axis, a.ndim)
    m = _stable_max(a, axes)
    terms = exp(a - m)
    if b is not None:
        terms = terms * b
    total = _sum(terms, axis=axes, keepdims=True)
    out = log(total if b is None else abs(total)) + m
    if not keepdims:
        out = lax.reshape(out, tuple(d for i, d in enumerate(a.shape) if i not in axes))
        total = lax.reshape(total, core.get_aval(out).shape)
    if return_sign:
        return out, sign(total)
    return out if b is None else where(total < 0, np.nan, out)


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x))`` over ``axis`` (all axes when None, as scipy).

    Example:
        >>> import fnn.numpy as fnp
        >>> softmax(fnp.array([0.0, 0.0]))
        Array([0.5, 0.5], dtype=float32)
    """
    x = _float("softmax", x)
    axes = normalize_axes("softmax", axis, x.ndim)
    unnormalized = exp(x - _stable_max(x, axes))
    return unnormalized / _sum(unnormalized, axis=axes, keepdims=True)


def log_softmax(x, axis=None):
    """``x - logsumexp(x)`` over ``axis`` (all axes when None, as scipy).

    Example:
        >>> import fnn.numpy as fnp
        >>> log_softmax(fnp.array([0.0, 0.0]))
        Array([-0.6931472, -0.6931472], dtype=float32)
    """
    x = _float("log_softmax", x)
    axes = normalize_axes("log_softmax", axis, x.ndim)
    shifted = x - _stable_max(x, axes)
    return shifted - log(_sum(exp(shifted), axis=axes, keepdims=True))
