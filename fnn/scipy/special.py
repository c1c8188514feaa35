"""fnn.scipy.special: special functions of scipy.special, differentiable and traceable.

Built on the lax primitives erf, erfc (``1 - erf(x)`` would lose every digit for large
x), erf_inv, lgamma, polygamma and logistic. The
incomplete gamma and beta functions are compositions (``fnn/scipy/_incomplete.py``), so
they are differentiable in every argument; ``ndtri`` and ``log_ndtr`` keep their
relative accuracy far into the tails.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.scipy.special import logsumexp
    >>> logsumexp(fnp.array([0.0, 0.0]))
    Array(0.6931472, dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import core, lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import (
    exp,
    isfinite,
    isnan,
    log,
    log1p,
    logical_not,
    sign,
    sqrt,
    where,
)
from fnn.numpy.reductions import max as _max
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import broadcast_arrays
from fnn.scipy import _incomplete, _lgamma

__all__ = [
    "logsumexp", "softmax", "log_softmax", "erf", "erfc", "erfinv", "gammaln", "digamma",
    "psi", "polygamma", "multigammaln", "betaln", "expit", "logit", "xlogy", "xlog1py",
    "entr", "ndtr", "ndtri", "log_ndtr", "gammainc", "gammaincc", "betainc",
]  # fmt: skip


def _float(name, *args):
    out = [asarray(a) for a in promote_args(name, *args, to_float=True)]
    return out if len(out) > 1 else out[0]


def _real_float(name, *args):
    """The arguments promoted to one floating dtype; complex values are refused."""
    out = _float(name, *args)
    dtype = (out[0] if len(args) > 1 else out).dtype
    if dtype.kind != "f":
        raise FnnTypeError(f"{name}: expected real numbers, got {dtype}")
    return out


def _c(x, value):
    return np.asarray(value, x.dtype)


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
    return lax.erfc(_float("erfc", x))


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
    """``log|B(a, b)|``, i.e. ``gammaln(a) + gammaln(b) - gammaln(a + b)``, written
    (for positive arguments) so that large a + b does not cancel away the digits.

    Example:
        >>> betaln(1.0, 1.0)
        Array(0., dtype=float32)
    """
    a, b = _float("betaln", a, b)
    plain = gammaln(a) + gammaln(b) - gammaln(a + b)
    positive = (a > 0) & (b > 0) & isfinite(a) & isfinite(b)
    safe = [where(positive, v, 1.0) for v in (a, b)]
    return where(positive, _lgamma.betaln(*safe), plain)


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


# Python floats, weakly typed: a numpy float64 scalar would promote float32 under x64.
_SQRT_HALF = float(np.sqrt(0.5))
_SQRT2 = float(np.sqrt(2.0))


def ndtr(x):
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the left tail).

    Example:
        >>> ndtr(0.0)
        Array(0.5, dtype=float32)
    """
    x = _float("ndtr", x)
    return erfc(x * -_SQRT_HALF) * 0.5


def log_ndtr(x):
    """``log(ndtr(x))``, accurate in both tails.

    Left of -20 (-10 in float32) ``ndtr`` underflows or loses digits, and the asymptotic
    series ``-x**2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x**2 + 3/x**4 - ...)`` is exact
    to rounding there; right of 0 it is ``log1p(-ndtr(-x))``.

    Example:
        >>> log_ndtr(-40.0)
        Array(-804.60846, dtype=float32)
    """
    x = _real_float("log_ndtr", x)
    lower = -20.0 if x.dtype == np.float64 else -10.0
    # Each branch gets arguments inside its own range so that no branch, even unused,
    # makes an infinite or NaN derivative (where, not clip: clip halves the derivative
    # at its bounds).
    left = where(x < lower, x, lower)
    w = 1.0 / (left * left)
    series = _c(x, 0.0)
    for k in range(_LOG_NDTR_TERMS, 0, -1):  # 1 - w (1 - 3w (1 - 5w (...)))
        series = w * (1.0 - (2 * k + 1) * series)
    asymptotic = -0.5 * left * left - log(-left) - _HALF_LOG_2PI + log1p(-series)
    middle = log(ndtr(where((x >= lower) & (x <= 0), x, -1.0)))
    right = log1p(-ndtr(-where(x <= 0, 1.0, x)))  # NaN stays NaN
    return where(x < lower, asymptotic, where(x <= 0, middle, right))


_LOG_NDTR_TERMS = 10
_HALF_LOG_2PI = float(0.5 * np.log(2 * np.pi))  # a Python float: weakly typed


def _ndtri_lower(q):
    """The quantile x < 0 with ndtr(x) = q for 0 < q < 1/2, relative error a few ulp.

    Newton's method on ``log_ndtr(x) = log q``, which is concave, so it converges from
    any start without overshooting; the start (erfinv, or the asymptotic inverse where
    ``2q - 1`` rounds to -1) is a constant for autodiff, and the steps carry the
    derivatives (after k steps, derivatives of order k are exact).
    """
    eps = float(np.finfo(q.dtype).eps)
    far = q < np.sqrt(eps)
    q_near = where(far, 0.25, q)
    q_far = where(far, q, 1e-3)
    t = -2.0 * log(q_far)
    start_far = -sqrt(t - log(t) - 2 * _HALF_LOG_2PI)
    start_near = erfinv(q_near * 2.0 - 1.0) * _SQRT2
    x = lax.stop_gradient(where(far, start_far, start_near))
    log_q = log(q)
    for _ in range(4):
        log_cdf = log_ndtr(x)
        x = x - (log_cdf - log_q) * exp(log_cdf + 0.5 * x * x + _HALF_LOG_2PI)
    return x


def ndtri(p):
    """The inverse of :func:`ndtr`, accurate in the tails (where ``sqrt(2) *
    erfinv(2p - 1)`` loses the digits of small p); -inf at 0, inf at 1, NaN outside.

    Example:
        >>> ndtri(0.5)
        Array(0., dtype=float32)
    """
    p = _real_float("ndtri", p)
    upper = p > 0.5
    q = where(upper, 1.0 - p, p)  # exact for p >= 1/2
    central = (p >= 0.25) & (p <= 0.75)
    tail = (q > 0) & ~central
    # 2p - 1 is exact for p >= 1/4, and erfinv keeps its relative accuracy near 0
    middle = erfinv(where(central, p, 0.5) * 2.0 - 1.0) * _SQRT2
    x_lower = _ndtri_lower(where(tail, q, 0.1))
    out = where(central, middle, where(upper, -x_lower, x_lower))
    out = where(p == 0, -np.inf, where(p == 1, np.inf, out))
    return where((p < 0) | (p > 1) | isnan(p), np.nan, out)


def gammainc(a, x):
    """The regularized lower incomplete gamma function
    ``P(a, x) = integral_0^x t**(a-1) exp(-t) dt / Gamma(a)``.

    Differentiable in ``x`` and in ``a``. NaN for a < 0, x < 0, and where the fixed
    evaluation depth does not converge (a beyond about 1e4 in float64).

    Example:
        >>> gammainc(1.0, 2.0)   # 1 - exp(-2)
        Array(0.86466473, dtype=float32)
    """
    a, x = _real_float("gammainc", a, x)
    return _incomplete.igamma_pair(*_broadcast("gammainc", a, x))[0]


def gammaincc(a, x):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``,
    computed directly where it is small (its relative accuracy holds in the tail).

    Example:
        >>> gammaincc(1.0, 2.0)   # exp(-2)
        Array(0.13533528, dtype=float32)
    """
    a, x = _real_float("gammaincc", a, x)
    return _incomplete.igamma_pair(*_broadcast("gammaincc", a, x))[1]


def betainc(a, b, x):
    """The regularized incomplete beta function
    ``I_x(a, b) = integral_0^x t**(a-1) (1-t)**(b-1) dt / B(a, b)``.

    Differentiable in ``x``, ``a`` and ``b``. NaN outside 0 <= x <= 1, for negative a or
    b, and where the fixed evaluation depth does not converge (a, b beyond about 1e4).

    Example:
        >>> betainc(2.0, 3.0, 0.5)
        Array(0.6875, dtype=float32)
    """
    a, b, x = _real_float("betainc", a, b, x)
    return _incomplete.ibeta_pair(*_broadcast("betainc", a, b, x))[0]


def _broadcast(name, *args):
    try:
        return broadcast_arrays(*args)
    except (ValueError, FnnTypeError):
        shapes = ", ".join(str(v.shape) for v in args)
        raise FnnTypeError(f"{name}: arguments of shapes {shapes} do not broadcast") from None


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
