"""Elementwise functions composed from the basic ones of :mod:`fnn.numpy.math`:
logaddexp2, copysign, signbit, fmod, divmod, modf, frexp, ldexp, nextafter, spacing,
gcd, lcm, bitwise_count, isposinf, isneginf, fix, and the comparisons isclose,
allclose, array_equal, array_equiv. Broadcasting and promotion are numpy's (with JAX's
weak Python scalars); each is jittable, batchable, and differentiable where numpy's is.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.logaddexp2(1.0, 1.0)
    Array(2., dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError
from fnn.lax.control_flow import fori_loop
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import (
    abs,
    add,
    equal,
    floor,
    isfinite,
    isinf,
    isnan,
    log2,
    logical_and,
    logical_or,
    multiply,
    subtract,
    trunc,
    where,
)
from fnn.numpy.math import floor_divide as _floor_divide
from fnn.numpy.math import mod as _mod
from fnn.numpy.reductions import all as _all
from fnn.numpy.shape import broadcast_shapes

__all__ = [
    "logaddexp2", "copysign", "signbit", "fmod", "divmod", "modf", "frexp", "ldexp",
    "nextafter", "spacing", "gcd", "lcm", "bitwise_count", "isposinf", "isneginf", "fix",
    "isclose", "allclose", "array_equal", "array_equiv",
]  # fmt: skip


def _pow2(e, dtype):
    """2 ** e for an integer array ``e``, exact (``np.power`` of 2 is exact in range)."""
    return lax.pow(np.asarray(2.0, dtype), lax.convert_element_type(e, dtype))


def _scale(x, e):
    """``x * 2**e`` for integer ``e``, exact: in two half steps, since 2**e alone may
    overflow (or underflow) where the product does not."""
    half = lax.shift_right(e, np.ones((), e.dtype))
    return lax.mul(lax.mul(x, _pow2(half, x.dtype)), _pow2(lax.sub(e, half), x.dtype))


def logaddexp2(x1, x2, /):
    """``log2(2**x1 + 2**x2)`` without overflow, as numpy.logaddexp2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.logaddexp2(fnp.array([0.0, 10.0]), 10.0)
        Array([10.001408, 11.      ], dtype=float32)
    """
    a, b = promote_args("logaddexp2", x1, x2, to_float=True)
    m = lax.stop_gradient(lax.max(asarray(a), asarray(b)))
    m = where(isfinite(m), m, 0.0)  # inf - inf would be NaN; the sum below is then right
    ln2 = np.asarray(np.log(2.0), m.dtype)
    total = add(lax.exp(lax.mul(subtract(a, m), ln2)), lax.exp(lax.mul(subtract(b, m), ln2)))
    return add(m, log2(total))


def signbit(x, /):
    """Whether the sign is negative, ``-0.0`` included, as numpy.signbit.

    fnn has no bit-level view of floats, so the sign of a NaN is not seen: NaN gives
    False (numpy reads the sign bit, so ``signbit(-nan)`` is True there).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.signbit(fnp.array([-1.0, -0.0, 0.0, 2.0]))
        Array([ True,  True, False, False], dtype=bool)
    """
    x = asarray(x)
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.unsignedinteger):
        return lax.broadcast_to(np.asarray(False), x.shape)
    zero = np.zeros((), x.dtype)
    neg = lax.lt(x, zero)
    if not np.issubdtype(x.dtype, np.floating):
        return neg
    # -0.0 == 0.0, but 1 / -0.0 is -inf.
    negzero = lax.bitwise_and(lax.eq(x, zero), lax.lt(lax.div(np.ones((), x.dtype), x), zero))
    return lax.bitwise_or(neg, negzero)


def copysign(x1, x2, /):
    """``|x1|`` with the sign of ``x2`` (``-0.0`` counts as negative), as numpy.copysign.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.copysign(fnp.array([1.0, 2.0]), fnp.array([-0.0, 3.0]))
        Array([-1.,  2.], dtype=float32)
    """
    a, b = promote_args("copysign", x1, x2, to_float=True)
    mag = abs(a)
    return where(signbit(b), -mag, mag)


def fmod(x1, x2, /):
    """The C remainder ``x1 - trunc(x1 / x2) * x2``: it has the sign of ``x1`` (numpy's
    ``mod`` has the sign of ``x2``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fmod(fnp.array([-7, 7]), 3)
        Array([-1,  1], dtype=int32)
    """
    a, b = promote_args("fmod", x1, x2)
    a, b = asarray(a), asarray(b)
    # numpy's mod of two non-negative numbers is exact and equals fmod; then x1's sign.
    m = lax.rem(abs(a), abs(b))
    return where(signbit(a), lax.neg(m), m)


def divmod(x1, x2, /):  # noqa: A001 - numpy's name
    """``(floor_divide(x1, x2), mod(x1, x2))``, as numpy.divmod.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.divmod(fnp.array([7, -7]), 2)
        (Array([ 3, -4], dtype=int32), Array([1, 1], dtype=int32))
    """
    return _floor_divide(x1, x2), _mod(x1, x2)


def modf(x, /):
    """The fractional and integral parts, both with the sign of ``x``, as numpy.modf.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.modf(fnp.array([2.5, -1.25]))
        (Array([ 0.5 , -0.25], dtype=float32), Array([ 2., -1.], dtype=float32))
    """
    (x,) = promote_args("modf", x, to_float=True)
    whole = trunc(x)
    frac = subtract(x, whole)
    # numpy's zero fraction has x's sign, also at infinities (where inf - inf is NaN).
    frac = where(logical_or(isinf(x), equal(frac, 0.0)), copysign(0.0, x), frac)
    return frac, whole


def frexp(x, /):
    """Mantissa and exponent with ``x == mantissa * 2**exponent`` and
    ``0.5 <= |mantissa| < 1`` (both 0 at 0; inf and NaN keep exponent 0), as
    numpy.frexp. The exponent is an int32, as in numpy and JAX.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.frexp(fnp.array([8.0, -0.75, 0.0]))
        (Array([ 0.5 , -0.75,  0.  ], dtype=float32), Array([4, 0, 0], dtype=int32))
    """
    (x,) = promote_args("frexp", x, to_float=True)
    x = asarray(x)
    int_dtype = np.dtype(np.int32)
    special = logical_or(equal(x, 0.0), logical_or(isinf(x), isnan(x)))
    mag = abs(where(special, 1.0, x))
    e = lax.convert_element_type(floor(log2(mag)), int_dtype)
    e = lax.add(e, np.ones((), int_dtype))
    m = _scale(mag, lax.neg(e))
    # log2 may round across a power of two: one step either way puts m in [0.5, 1).
    up = lax.ge(m, np.ones((), x.dtype))
    e = lax.select(up, lax.add(e, np.ones((), int_dtype)), e)
    m = lax.select(up, lax.mul(m, np.asarray(0.5, x.dtype)), m)
    down = lax.lt(m, np.asarray(0.5, x.dtype))
    e = lax.select(down, lax.sub(e, np.ones((), int_dtype)), e)
    m = lax.select(down, lax.mul(m, np.asarray(2.0, x.dtype)), m)
    mantissa = where(special, x, where(signbit(x), -m, m))
    exponent = lax.select(special, lax.broadcast_to(np.zeros((), int_dtype), x.shape), e)
    return mantissa, exponent


def ldexp(x1, x2, /):
    """``x1 * 2**x2`` for integer ``x2``, exact and without overflow in between, as
    numpy.ldexp.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.ldexp(fnp.array([0.75, 3.0]), fnp.array([2, -1]))
        Array([3. , 1.5], dtype=float32)
    """
    x2 = asarray(x2)
    if not np.issubdtype(x2.dtype, np.integer):
        raise FnnTypeError(f"ldexp: the exponent x2 must hold integers, got dtype {x2.dtype}")
    (x1,) = promote_args("ldexp", x1, to_float=True)
    return _scale(asarray(x1), x2)


def _mantissa_bits(dtype) -> int:
    return np.finfo(dtype).nmant + 1


def nextafter(x1, x2, /):
    """The next representable float after ``x1`` in the direction of ``x2``, as
    numpy.nextafter (subnormals included).

    Example:
        >>> import fnn.numpy as fnp
        >>> float(fnp.nextafter(fnp.float32(1.0), 2.0)) - 1.0 == float(fnp.finfo(fnp.float32).eps)
        True
    """
    a, b = promote_args("nextafter", x1, x2, to_float=True)
    a, b = asarray(a), asarray(b)
    shape = broadcast_shapes(a.shape, b.shape)
    a, b = lax.broadcast_to(a, shape), lax.broadcast_to(b, shape)
    dt = a.dtype
    info = np.finfo(dt)
    tiny = np.asarray(info.smallest_subnormal, dt)
    _, e = frexp(where(isfinite(a), a, 1.0))
    # The gap above |a| in [2**(e-1), 2**e) is 2**(e - p); below a power of two, half.
    gap = lax.max(_pow2(lax.sub(e, np.asarray(_mantissa_bits(dt), e.dtype)), dt), tiny)
    mag = abs(a)
    is_pow2 = equal(mag, _pow2(lax.sub(e, np.ones((), e.dtype)), dt))
    gap_down = where(logical_and(is_pow2, lax.gt(gap, tiny)), multiply(gap, 0.5), gap)
    away = lax.eq(lax.gt(b, a), lax.gt(a, np.zeros((), dt)))  # moving away from zero
    step_mag = where(away, add(mag, gap), subtract(mag, gap_down))
    out = where(signbit(a), -step_mag, step_mag)
    out = where(equal(a, 0.0), where(lax.gt(b, a), tiny, -tiny), out)
    out = where(
        isinf(a), where(lax.gt(a, b), np.asarray(info.max, dt), -np.asarray(info.max, dt)), out
    )
    out = where(equal(a, b), b, out)
    return where(logical_or(isnan(a), isnan(b)), np.asarray(np.nan, dt), out)


def spacing(x, /):
    """The distance from ``x`` to the next float away from zero (negative for negative
    ``x``), as numpy.spacing.

    Example:
        >>> import fnn.numpy as fnp
        >>> float(fnp.spacing(fnp.float32(1.0))) == float(fnp.finfo(fnp.float32).eps)
        True
    """
    (x,) = promote_args("spacing", x, to_float=True)
    x = asarray(x)
    inf = np.asarray(np.inf, x.dtype)
    target = where(lax.lt(x, np.zeros((), x.dtype)), -inf, inf)  # -0.0 goes up, as numpy
    return where(isinf(x), np.asarray(np.nan, x.dtype), subtract(nextafter(x, target), x))


def _check_ints(name, *xs):
    for x in xs:
        if not np.issubdtype(x.dtype, np.integer):
            raise FnnTypeError(f"{name}: expected integer arrays, got dtype {x.dtype}")


def gcd(x1, x2, /):
    """The greatest common divisor of ``|x1|`` and ``|x2|`` (0 when both are 0), by
    Euclid's algorithm with a fixed number of steps (enough for the dtype), as numpy.gcd.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.gcd(fnp.array([12, -20, 0]), 8)
        Array([4, 4, 8], dtype=int32)
    """
    a, b = (asarray(v) for v in promote_args("gcd", x1, x2))
    _check_ints("gcd", a, b)
    shape = broadcast_shapes(a.shape, b.shape)
    a, b = lax.broadcast_to(abs(a), shape), lax.broadcast_to(abs(b), shape)
    zero, one = np.zeros((), a.dtype), np.ones((), a.dtype)

    def step(_, ab):
        u, v = ab
        done = lax.eq(v, zero)
        r = lax.rem(u, lax.select(done, lax.broadcast_to(one, shape), v))
        return lax.select(done, u, v), lax.select(done, v, r)

    # Euclid takes the most steps on consecutive Fibonacci numbers: F(k) > 2**bits
    # for k = 1.45 * bits + 2, so that many steps finish every pair of the dtype.
    steps = int(1.45 * 8 * a.dtype.itemsize) + 2
    return fori_loop(0, steps, step, (a, b))[0]


def lcm(x1, x2, /):
    """The least common multiple of ``|x1|`` and ``|x2|`` (0 if either is 0), as numpy.lcm.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.lcm(fnp.array([4, 6, 0]), 6)
        Array([12,  6,  0], dtype=int32)
    """
    a, b = (asarray(v) for v in promote_args("lcm", x1, x2))
    _check_ints("lcm", a, b)
    g = gcd(a, b)
    zero = np.zeros((), g.dtype)
    safe = lax.select(lax.eq(g, zero), lax.broadcast_to(np.ones((), g.dtype), g.shape), g)
    return abs(lax.mul(_floor_divide(lax.broadcast_to(a, g.shape), safe), b))


def bitwise_count(x, /):
    """The number of 1 bits in ``|x|`` of an integer array, as uint8 (numpy.bitwise_count).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.bitwise_count(fnp.array([0, 7, -8, 255]))
        Array([0, 3, 1, 8], dtype=uint8)
    """
    x = asarray(x)
    if x.dtype == np.bool_:
        return lax.convert_element_type(x, np.uint8)
    _check_ints("bitwise_count", x)
    v = abs(x) if np.issubdtype(x.dtype, np.signedinteger) else x
    one = np.ones((), v.dtype)
    count = lax.broadcast_to(np.zeros((), np.uint8), x.shape)
    for k in range(8 * v.dtype.itemsize):
        bit = lax.bitwise_and(lax.shift_right(v, np.asarray(k, v.dtype)), one)
        count = lax.add(count, lax.convert_element_type(bit, np.uint8))
    return count


def isposinf(x, /):
    """Elementwise ``x == +inf`` (False for integers), as numpy.isposinf."""
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return lax.broadcast_to(np.asarray(False), x.shape)
    return lax.eq(x, np.asarray(np.inf, x.dtype))


def isneginf(x, /):
    """Elementwise ``x == -inf`` (False for integers), as numpy.isneginf."""
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return lax.broadcast_to(np.asarray(False), x.shape)
    return lax.eq(x, np.asarray(-np.inf, x.dtype))


def fix(x, out=None):
    """Round towards zero (integers unchanged), as numpy.fix."""
    if out is not None:
        raise NotImplementedError("fix: out= is not supported (fnn arrays are immutable)")
    return trunc(x)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|``; equal infinities are close, NaNs
    only with ``equal_nan``, as numpy.isclose.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.isclose(fnp.array([1.0, float("inf"), float("nan")]), [1.0 + 1e-7, float("inf"), float("nan")])
        Array([ True,  True, False], dtype=bool)
    """
    a, b = (asarray(v) for v in promote_args("isclose", a, b))
    if not np.issubdtype(a.dtype, np.inexact):
        a = lax.convert_element_type(a, config.default_float())
        b = lax.convert_element_type(b, config.default_float())
    close = lax.le(abs(subtract(a, b)), add(atol, multiply(rtol, abs(b))))
    finite = logical_and(isfinite(a), isfinite(b))
    out = logical_or(logical_and(finite, close), logical_and(lax.bitwise_not(finite), equal(a, b)))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(a), isnan(b)))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is :func:`isclose` (a 0-d bool array), as numpy.allclose."""
    return _all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Whether the arrays have the same shape and elements (a 0-d bool array).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.array_equal(fnp.array([1, 2]), [1, 2]), fnp.array_equal(fnp.ones(2), fnp.ones(3))
        (Array(True, dtype=bool), Array(False, dtype=bool))
    """
    a, b = asarray(a1), asarray(a2)
    if a.shape != b.shape:
        return asarray(False)
    return _equal_all(a, b, equal_nan)


def array_equiv(a1, a2):
    """Whether the arrays broadcast to one shape and are equal there (0-d bool array)."""
    a, b = asarray(a1), asarray(a2)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return asarray(False)
    return _equal_all(a, b, False)


def _equal_all(a, b, equal_nan):
    same = equal(a, b)
    a, b = promote_args("array_equal", a, b)
    if equal_nan and np.issubdtype(asarray(a).dtype, np.inexact):
        same = logical_or(same, logical_and(isnan(a), isnan(b)))
    return _all(same)
