"""Pieces of log-gamma arithmetic that keep their digits where the textbook formulas
cancel: Stirling's remainder, ``betaln``, the incomplete-gamma prefactor, the Poisson
log-kernel and the Student-t normaliser. Written with fnn.numpy (differentiable).

Each textbook formula subtracts log-gammas of large, nearly equal size (``lgamma(a) +
lgamma(b) - lgamma(a + b)`` for a + b = 1e6 keeps 9 digits); here the large parts are
cancelled by hand with ``log1p`` and what remains is Stirling's remainder
``lgamma(z) - ((z - 1/2) log z - z + log(2 pi)/2)``, small and smooth for z >= 10.
"""

from __future__ import annotations

import numpy as np

import fnn.numpy as fnp
from fnn import lax

__all__ = [
    "lgamma_correction",
    "betaln",
    "log_gamma_prefactor",
    "log_poisson",
    "log_gamma_half_ratio",
]

_HALF_LOG_2PI = float(0.5 * np.log(2 * np.pi))  # a Python float: weakly typed

# B_2k / (2k (2k - 1)), the coefficients of Stirling's series in 1/z (k = 1..7).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
# From here on the seven terms are exact to rounding in float64.
_STIRLING_FROM = 10.0


def _const(x, value):
    return np.asarray(value, x.dtype)


def lgamma_correction(z):
    """``lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)`` for z > 0: Stirling's series
    for z >= 10, the difference itself below (where it does not cancel)."""
    big = z >= _STIRLING_FROM
    zb = fnp.where(big, z, _STIRLING_FROM)
    w = 1.0 / (zb * zb)
    series = _const(z, _STIRLING[-1])
    for c in reversed(_STIRLING[:-1]):
        series = series * w + c
    series = series / zb
    zs = fnp.where(big, 1.0, z)
    direct = lax.lgamma(zs) - ((zs - 0.5) * fnp.log(zs) - zs + _HALF_LOG_2PI)
    return fnp.where(big, series, direct)


def betaln(a, b):
    """``log B(a, b)`` for a, b > 0 without the cancellation of
    ``lgamma(a) + lgamma(b) - lgamma(a + b)`` when a + b is large: Stirling's form on
    the larger argument (and on the smaller too when it is 10 or more)."""
    s, big = fnp.minimum(a, b), fnp.maximum(a, b)
    plain = lax.lgamma(s) + lax.lgamma(big) - lax.lgamma(s + big)
    use_big = big >= _STIRLING_FROM
    lb = fnp.where(use_big, big, _STIRLING_FROM)
    ss = fnp.where(use_big, s, 1.0)
    # lgamma(l) - lgamma(s + l) = -(l - 1/2) log1p(s/l) - s log(s + l) + s + corrections
    tail = -(lb - 0.5) * fnp.log1p(ss / lb) + lgamma_correction(lb) - lgamma_correction(ss + lb)
    both = ss >= _STIRLING_FROM
    s_big = fnp.where(both, ss, _STIRLING_FROM)
    s_small = fnp.where(both, 1.0, ss)
    # lgamma(s) - s log(s + l) + s, in Stirling's form when s is large too
    head_big = (
        s_big * fnp.log(s_big / (s_big + lb))
        - 0.5 * fnp.log(s_big)
        + _HALF_LOG_2PI
        + lgamma_correction(s_big)
    )
    head_small = lax.lgamma(s_small) - s_small * fnp.log(s_small + lb) + s_small
    stirling = fnp.where(both, head_big, head_small) + tail
    return fnp.where(use_big, stirling, plain)


def log_gamma_prefactor(a, x):
    """``log(x**a exp(-x) / Gamma(a + 1))`` for a, x > 0. For a >= 10 it is written
    around x = a (Stirling's form), which avoids cancelling ``a log x`` against
    ``lgamma(a + 1)``."""
    plain = a * fnp.log(x) - x - lax.lgamma(a + 1.0)
    big = a >= _STIRLING_FROM
    ab = fnp.where(big, a, _STIRLING_FROM)
    u = (x - ab) / ab
    near = fnp.abs(u) < 0.5
    log_ratio = fnp.where(near, fnp.log1p(fnp.where(near, u, 0.0)), fnp.log(x / ab))
    stirling = ab * log_ratio - (x - ab) - 0.5 * fnp.log(ab) - _HALF_LOG_2PI - lgamma_correction(ab)
    return fnp.where(big, stirling, plain)


def log_poisson(k, mu):
    """``k log(mu) - mu - lgamma(k + 1)`` for k >= 0, mu >= 0 (xlogy convention at mu = 0).

    For k >= 10 and mu > 0 it is ``-bd0 - log(2 pi k)/2 - correction(k)`` with
    ``bd0 = k log(k/mu) + mu - k`` formed from ``log1p`` near k = mu (Loader's form),
    where the textbook formula cancels terms of size k log k.
    """
    plain = fnp.where(k == 0, 0.0, k * fnp.log(fnp.where(k == 0, 1.0, mu))) - mu
    plain = plain - lax.lgamma(k + 1.0)
    big = (k >= _STIRLING_FROM) & (mu > 0)
    kb = fnp.where(big, k, _STIRLING_FROM)
    mb = fnp.where(big, mu, _STIRLING_FROM)
    v = (kb - mb) / mb
    near = fnp.abs(v) < 0.5
    vn = fnp.where(near, v, 0.0)
    bd0 = fnp.where(
        near,
        mb * ((1.0 + vn) * fnp.log1p(vn) - vn),
        kb * fnp.log(kb / mb) + mb - kb,
    )
    stirling = -bd0 - 0.5 * fnp.log(kb) - _HALF_LOG_2PI - lgamma_correction(kb)
    return fnp.where(big, stirling, plain)


def log_gamma_half_ratio(z):
    """``lgamma(z + 1/2) - lgamma(z) - log(z) / 2`` for z > 0 (tends to -1/(8z)); the
    Student-t normaliser, whose log-gammas cancel for many degrees of freedom."""
    big = z >= _STIRLING_FROM
    zb = fnp.where(big, z, _STIRLING_FROM)
    h = 0.5 / zb
    # z log1p(h) - 1/2 = z (log1p(h) - h): the series of log1p(h) - h, h <= 1/20
    series = _const(z, 0.0)
    for n in range(_LOG1P_TERMS, 1, -1):
        series = h * ((-1) ** (n + 1) / n + series)
    stirling = zb * h * series + lgamma_correction(zb + 0.5) - lgamma_correction(zb)
    zs = fnp.where(big, 1.0, z)
    plain = lax.lgamma(zs + 0.5) - lax.lgamma(zs) - 0.5 * fnp.log(zs)
    return fnp.where(big, stirling, plain)


# Terms of log1p(h) - h = -h**2/2 + h**3/3 - ... kept for h <= 1/20 (float64 rounding).
_LOG1P_TERMS = 15
