"""Window functions for spectral analysis (bartlett, blackman, hamming, hanning,
kaiser) and ``i0``, the modified Bessel function of the first kind of order 0 that the
Kaiser window is built from.

The windows' lengths are static; their values are numpy's, computed in float64 and
rounded to the default float. ``i0`` (and so ``kaiser``'s ``beta``) is differentiable.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.hanning(5)
    Array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import abs as _abs
from fnn.numpy.math import exp, sqrt, where

__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser", "i0"]

# |x| up to this uses the power series, beyond it the asymptotic expansion: both are
# then accurate to a few ulps of float64 (the series' terms are positive, so no
# cancellation; the expansion's smallest term is about exp(-2 * 20)).
_SWITCH = 20.0
# I0(x) = sum_k q^k / (k!)^2 with q = x^2 / 4; 48 terms reach 1e-17 of the sum at x = 20.
_SERIES = [1.0 / math.factorial(k) ** 2 for k in range(48)]
# I0(x) ~ exp(x) / sqrt(2 pi x) * sum_k ((2k-1)!!)^2 / (k! 8^k) x^-k, for x >= 20.
_ASYMPTOTIC = [1.0]
for _k in range(1, 30):
    _ASYMPTOTIC.append(_ASYMPTOTIC[-1] * (2 * _k - 1) ** 2 / (_k * 8.0))


def _horner(coefficients, t):
    """sum_k coefficients[k] * t**k."""
    out = lax.broadcast_to(np.asarray(coefficients[-1], t.dtype), t.shape)
    for c in reversed(coefficients[:-1]):
        out = out * t + c
    return out


def i0(x):
    """The modified Bessel function of the first kind, order 0, elementwise, as numpy.i0.
    Its derivative is I1.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.i0(fnp.array([0.0, 1.0]))
        Array([1.       , 1.2660658], dtype=float32)
    """
    (x,) = promote_args("i0", x, to_float=True)
    x = asarray(x)
    if x.dtype.kind == "c":
        raise FnnTypeError("i0: expected real input, got a complex array")
    ax = _abs(x)
    use_series = ax <= _SWITCH
    # Each branch sees a clamped argument (a select, not min/max: no tie splits the
    # derivative), so the one not chosen stays finite and no NaN gradient leaks through.
    small = where(use_series, ax, _SWITCH)
    large = where(use_series, _SWITCH, ax)
    series = _horner(_SERIES, small * small * 0.25)
    asymptotic = exp(large) / sqrt(2.0 * np.pi * large) * _horner(_ASYMPTOTIC, 1.0 / large)
    return where(use_series, series, asymptotic)


def _length(name, M) -> int:
    if isinstance(M, Tracer):
        raise FnnTypeError(f"{name}: the window length M must be a concrete integer")
    return int(M)


def _numpy_window(values):
    return asarray(np.asarray(values, np.float64).astype(config.default_float()))


def bartlett(M):
    """The Bartlett (triangular) window of ``M`` points, as numpy.bartlett.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.bartlett(5)
        Array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    return _numpy_window(np.bartlett(_length("bartlett", M)))


def blackman(M):
    """The Blackman window of ``M`` points, as numpy.blackman.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.blackman(3)
        Array([-1.3877788e-17,  1.0000000e+00, -1.3877788e-17], dtype=float32)
    """
    return _numpy_window(np.blackman(_length("blackman", M)))


def hamming(M):
    """The Hamming window of ``M`` points, as numpy.hamming.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.hamming(3)
        Array([0.08, 1.  , 0.08], dtype=float32)
    """
    return _numpy_window(np.hamming(_length("hamming", M)))


def hanning(M):
    """The Hann window of ``M`` points, as numpy.hanning.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.hanning(3)
        Array([0., 1., 0.], dtype=float32)
    """
    return _numpy_window(np.hanning(_length("hanning", M)))


def kaiser(M, beta):
    """The Kaiser window of ``M`` points with shape parameter ``beta``, as numpy.kaiser;
    differentiable in ``beta``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.kaiser(4, 2.0)
        Array([0.43867627, 0.9243139 , 0.9243139 , 0.43867627], dtype=float32)
    """
    m = _length("kaiser", M)
    if not isinstance(beta, Tracer):
        return _numpy_window(np.kaiser(m, float(np.asarray(beta))))
    if m < 1:
        return asarray(np.zeros(0, config.default_float()))
    if m == 1:
        return asarray(np.ones(1, config.default_float()))
    alpha = (m - 1) / 2.0
    ratio = ((np.arange(m) - alpha) / alpha) ** 2
    shape = sqrt(np.clip(1.0 - ratio, 0.0, None).astype(beta.dtype))
    return i0(beta * shape) / i0(beta)
