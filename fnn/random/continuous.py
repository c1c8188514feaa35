"""Continuous samplers: uniform, normal, truncated_normal, gumbel, exponential, laplace,
orthogonal.

All are built from ``uniform``, which takes the top mantissa bits of random bits:
for float32, ``u = float32(bits >> 9) * 2**-23``, the same number as JAX's
``bitcast((bits >> 9) | 0x3F800000) - 1.0`` (both are exact), so ``uniform`` on [0, 1)
agrees with JAX bit for bit (other bounds to the rounding of ``u * (hi - lo) + lo``,
which XLA may fuse). float64 (with x64) uses 64 random bits, float16 16 bits. The
transcendental steps (erf_inv, log) use scipy/numpy, so samplers built on them agree
with JAX to rounding, not bit for bit.
"""

from __future__ import annotations

import numpy as np

from fnn import lax
from fnn.core import Array
from fnn.numpy import diagonal, linalg, swapaxes
from fnn.numpy._core import is_array
from fnn.random._util import (
    as_dtype,
    canonical_shape,
    check_shape,
    const,
    float_dtype,
    shape_of,
)
from fnn.random.keys import random_bits

__all__ = [
    "uniform",
    "normal",
    "truncated_normal",
    "gumbel",
    "exponential",
    "laplace",
    "orthogonal",
]


def _uniform(key, shape, dtype, minval, maxval, name):
    check_shape(name, shape, shape_of(minval), shape_of(maxval))
    finfo = np.finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    bits = random_bits(key, nbits, shape, name)
    # The top `nmant` bits as an integer m < 2**nmant; m * 2**-nmant is exact in dtype.
    m = lax.shift_right(bits, const(nbits - nmant, bits.dtype))
    floats = lax.mul(lax.convert_element_type(m, dtype), const(2.0**-nmant, dtype))
    out = lax.add(lax.mul(floats, lax.sub(maxval, minval)), minval)
    # Rounding in the affine map may land just below minval; never return less.
    return lax.broadcast_to(lax.max(minval, out), shape)


def uniform(key, shape: int | tuple[int, ...] = (), dtype=None, minval=0.0, maxval=1.0) -> Array:
    """Uniform floats in ``[minval, maxval)`` (bounds may be arrays that broadcast to ``shape``).

    On [0, 1) the values are multiples of 2**-23 (float32) or 2**-52 (float64). For other
    bounds the rounding of the affine map can reach ``maxval`` exactly, as in JAX.

    Example:
        >>> import fnn
        >>> fnn.random.uniform(fnn.random.key(0), (2,))
        Array([0.947667 , 0.9785799], dtype=float32)
    """
    dtype = float_dtype(dtype, "uniform")
    shape = canonical_shape(shape, "uniform")
    lo, hi = as_dtype(minval, dtype), as_dtype(maxval, dtype)
    return _uniform(key, shape, dtype, lo, hi, "uniform")


def normal(key, shape: int | tuple[int, ...] = (), dtype=None) -> Array:
    """Standard normal floats, by the inverse error function of a uniform in (-1, 1).

    Example:
        >>> import fnn
        >>> fnn.random.normal(fnn.random.key(0), (3,)).shape
        (3,)
    """
    dtype = float_dtype(dtype, "normal")
    shape = canonical_shape(shape, "normal")
    # The open interval (-1, 1): erf_inv(-1) would be -inf.
    lo = np.nextafter(const(-1.0, dtype), const(0.0, dtype))
    u = _uniform(key, shape, dtype, lo, const(1.0, dtype), "normal")
    return lax.mul(const(np.sqrt(2), dtype), lax.erf_inv(u))


def truncated_normal(
    key, lower, upper, shape: int | tuple[int, ...] | None = None, dtype=None
) -> Array:
    """Standard normal floats conditioned on ``lower < x < upper`` (inverse-CDF sampling).

    ``shape`` defaults to the broadcast shape of ``lower`` and ``upper``. Far in a tail
    (beyond about 5 for float32) the float CDF saturates and values pile up at the bound,
    as in JAX.

    Example:
        >>> import fnn
        >>> x = fnn.random.truncated_normal(fnn.random.key(0), -1.0, 2.0, (1000,))
        >>> bool((x > -1).all() and (x < 2).all())
        True
    """
    dtype = float_dtype(dtype, "truncated_normal")
    lower, upper = as_dtype(lower, dtype), as_dtype(upper, dtype)
    if shape is None:
        shape = np.broadcast_shapes(shape_of(lower), shape_of(upper))
    shape = canonical_shape(shape, "truncated_normal")
    sqrt2 = const(np.sqrt(2), dtype)
    a = lax.erf(lax.div(lower, sqrt2))
    b = lax.erf(lax.div(upper, sqrt2))
    u = _uniform(key, shape, dtype, a, b, "truncated_normal")
    out = lax.mul(sqrt2, lax.erf_inv(u))
    # Rounding (or u == a) may reach a bound; keep inside the open interval when the
    # bounds are known numbers, inside the closed one when they are traced.
    if is_array(lower) or is_array(upper):
        lo, hi = lax.stop_gradient(lower), lax.stop_gradient(upper)
    else:
        lo, hi = np.nextafter(lower, const(np.inf, dtype)), np.nextafter(upper, -np.inf)
        lo, hi = const(lo, dtype), const(hi, dtype)
    return lax.broadcast_to(lax.min(lax.max(out, lo), hi), shape)


def gumbel(key, shape: int | tuple[int, ...] = (), dtype=None) -> Array:
    """Standard Gumbel floats: ``-log(-log(u))``.

    Example:
        >>> import fnn
        >>> fnn.random.gumbel(fnn.random.key(0), (2, 3)).shape
        (2, 3)
    """
    dtype = float_dtype(dtype, "gumbel")
    shape = canonical_shape(shape, "gumbel")
    tiny = const(np.finfo(dtype).tiny, dtype)  # keeps log(u) finite
    u = _uniform(key, shape, dtype, tiny, const(1.0, dtype), "gumbel")
    return lax.neg(lax.log(lax.neg(lax.log(u))))


def exponential(key, shape: int | tuple[int, ...] = (), dtype=None) -> Array:
    """Standard exponential floats (rate 1): ``-log(1 - u)``.

    Example:
        >>> import fnn
        >>> bool((fnn.random.exponential(fnn.random.key(0), (100,)) >= 0).all())
        True
    """
    dtype = float_dtype(dtype, "exponential")
    shape = canonical_shape(shape, "exponential")
    u = _uniform(key, shape, dtype, const(0.0, dtype), const(1.0, dtype), "exponential")
    return lax.neg(lax.log1p(lax.neg(u)))


def laplace(key, shape: int | tuple[int, ...] = (), dtype=None) -> Array:
    """Standard Laplace floats (density ``exp(-|x|) / 2``).

    Example:
        >>> import fnn
        >>> fnn.random.laplace(fnn.random.key(0), (4,)).dtype
        dtype('float32')
    """
    dtype = float_dtype(dtype, "laplace")
    shape = canonical_shape(shape, "laplace")
    lo = const(-1.0 + np.finfo(dtype).epsneg, dtype)  # keeps log1p(-|u|) finite
    u = _uniform(key, shape, dtype, lo, const(1.0, dtype), "laplace")
    return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))


def orthogonal(key, n: int, shape: tuple[int, ...] = (), dtype=None, m: int | None = None) -> Array:
    """Random orthogonal ``n x m`` matrices (``m`` defaults to ``n``), Haar distributed.

    The Q factor of a normal matrix, with signs fixed so that R has a positive diagonal
    (as JAX). Columns are orthonormal when ``n >= m``, rows when ``n < m``.

    Example:
        >>> import fnn, numpy as np
        >>> q = fnn.random.orthogonal(fnn.random.key(0), 3)
        >>> bool(np.allclose(q @ q.T, np.eye(3), atol=1e-5))
        True
    """
    dtype = float_dtype(dtype, "orthogonal")
    shape = canonical_shape(shape, "orthogonal")
    n = canonical_shape(n, "orthogonal")[0]
    m = n if m is None else canonical_shape(m, "orthogonal")[0]
    z = normal(key, shape + (max(n, m), min(n, m)), dtype)
    q, r = linalg.qr(z)
    signs = lax.sign(diagonal(r, 0, -2, -1))
    q = lax.mul(q, lax.expand_dims(signs, len(shape)))
    return swapaxes(q, -1, -2) if n < m else q
