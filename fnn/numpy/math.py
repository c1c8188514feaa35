"""Elementwise functions of fnn.numpy, with numpy's broadcasting and JAX's promotion."""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.lax.elementwise import floor_divide_p
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.indexing import nonzero

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod",
    "remainder", "negative", "positive", "power", "float_power", "square", "sqrt", "cbrt",
    "reciprocal", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sin", "cos",
    "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "abs", "absolute", "fabs", "sign", "maximum", "minimum", "clip",
    "where", "floor", "ceil", "round", "around", "rint", "trunc", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_not",
    "logical_xor", "isfinite", "isnan", "isinf", "bitwise_and", "bitwise_or",
    "bitwise_xor", "invert", "bitwise_not", "left_shift", "right_shift", "real", "conj",
    "conjugate", "imag", "angle", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
    "hypot", "logaddexp", "sinc", "deg2rad", "rad2deg", "degrees", "radians",
    "heaviside", "fmax", "fmin", "nan_to_num", "astype",
]  # fmt: skip


def _unary(lax_fn, name, to_float=True):
    def f(x, /):
        (x,) = promote_args(name, x, to_float=to_float)
        return lax_fn(asarray(x))

    f.__name__ = name
    f.__doc__ = f"Elementwise {name}, as numpy.{name}."
    return f


def _binary(lax_fn, name, to_float=False):
    def f(x1, x2, /):
        a, b = promote_args(name, x1, x2, to_float=to_float)
        return lax_fn(a, b)

    f.__name__ = name
    f.__doc__ = f"Elementwise {name} with broadcasting, as numpy.{name}."
    return f


add = _binary(lax.add, "add")
subtract = _binary(lax.sub, "subtract")
multiply = _binary(lax.mul, "multiply")
true_divide = _binary(lax.div, "true_divide", to_float=True)
divide = true_divide
maximum = _binary(lax.max, "maximum")
minimum = _binary(lax.min, "minimum")
arctan2 = _binary(lax.atan2, "arctan2", to_float=True)
equal = _binary(lax.eq, "equal")
not_equal = _binary(lax.ne, "not_equal")
less = _binary(lax.lt, "less")
less_equal = _binary(lax.le, "less_equal")
greater = _binary(lax.gt, "greater")
greater_equal = _binary(lax.ge, "greater_equal")
bitwise_and = _binary(lax.bitwise_and, "bitwise_and")
bitwise_or = _binary(lax.bitwise_or, "bitwise_or")
bitwise_xor = _binary(lax.bitwise_xor, "bitwise_xor")
left_shift = _binary(lax.shift_left, "left_shift")
right_shift = _binary(lax.shift_right, "right_shift")

exp = _unary(lax.exp, "exp")
log = _unary(lax.log, "log")
log1p = _unary(lax.log1p, "log1p")
expm1 = _unary(lax.expm1, "expm1")
sin = _unary(lax.sin, "sin")
cos = _unary(lax.cos, "cos")
tan = _unary(lax.tan, "tan")
arcsin = _unary(lax.asin, "arcsin")
arccos = _unary(lax.acos, "arccos")
arctan = _unary(lax.atan, "arctan")
sinh = _unary(lax.sinh, "sinh")
cosh = _unary(lax.cosh, "cosh")
tanh = _unary(lax.tanh, "tanh")
arcsinh = _unary(lax.asinh, "arcsinh")
arccosh = _unary(lax.acosh, "arccosh")
arctanh = _unary(lax.atanh, "arctanh")
sqrt = _unary(lax.sqrt, "sqrt")
cbrt = _unary(lax.cbrt, "cbrt")
negative = _unary(lax.neg, "negative", to_float=False)
sign = _unary(lax.sign, "sign", to_float=False)
abs = _unary(lax.abs, "abs", to_float=False)  # noqa: A001 - numpy's name
absolute = abs
fabs = _unary(lax.abs, "fabs")
isfinite = _unary(lax.is_finite, "isfinite")


def _keep_ints(lax_fn, name):
    def f(x, /):
        (x,) = promote_args(name, x)
        x = asarray(x)
        return x if x.dtype.kind in "biu" else lax_fn(x)  # complex: lax explains the error

    f.__name__ = name
    return f


floor = _keep_ints(lax.floor, "floor")
ceil = _keep_ints(lax.ceil, "ceil")
_rint_real = _keep_ints(lax.round, "rint")


def rint(x, /):
    """Round to the nearest integer, halves to even; complex numbers part by part (as
    numpy and jax.numpy).

    Example:
        >>> rint(asarray([0.5, 1.5 - 2.5j]))
        Array([0.-0.j, 2.-2.j], dtype=complex64)
    """
    x = asarray(x)
    if x.dtype.kind == "c":
        return lax.complex(lax.round(lax.real(x)), lax.round(lax.imag(x)))
    return _rint_real(x)


def round(a, decimals: int = 0):  # noqa: A001 - numpy's name
    """Round half to even, like numpy.round."""
    a = asarray(a)
    if a.dtype.kind == "c":  # numpy rounds the two parts
        return lax.complex(round(lax.real(a), decimals), round(lax.imag(a), decimals))
    if not np.issubdtype(a.dtype, np.floating):
        return a
    if decimals == 0:
        return lax.round(a)
    scale = np.asarray(10.0**decimals, a.dtype)
    return lax.div(lax.round(lax.mul(a, scale)), scale)


around = round


def trunc(x, /):
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return x
    return where(x < 0, ceil(x), floor(x))


def positive(x, /):
    return asarray(x)


def floor_divide(x1, x2, /):
    a, b = promote_args("floor_divide", x1, x2)
    if np.issubdtype(a.dtype, np.floating):
        return lax.floor(lax.div(a, b))

    return floor_divide_p.bind(a, b)


def mod(x1, x2, /):
    a, b = promote_args("mod", x1, x2)
    return lax.rem(a, b)


remainder = mod


def power(x1, x2, /):
    """``x1 ** x2``; an integer Python exponent uses repeated multiplication (exact, fast)."""
    if type(x2) is int and not isinstance(x2, bool):
        (x,) = promote_args("power", x1)
        x = asarray(x)
        if x2 >= 0 or np.issubdtype(x.dtype, np.floating):
            return lax.integer_pow(x, x2)
    a, b = promote_args("power", x1, x2)
    if np.issubdtype(a.dtype, np.integer):
        return _integer_power(a, b)
    return lax.pow(a, b)


def _integer_power(x, y):
    # lax.pow is for floats (eager numpy let ints through, jit did not). Binary
    # exponentiation as JAX does: 6 bits cover every exponent that does not overflow.
    x, y = asarray(x), asarray(y)
    zero, one = np.zeros((), y.dtype), np.ones((), y.dtype)
    acc = lax.select(lax.bitwise_and(lax.eq(x, zero), lax.ne(y, zero)), zero, one)
    for _ in range(6):
        acc = lax.select(lax.ne(lax.bitwise_and(y, one), zero), lax.mul(acc, x), acc)
        x = lax.mul(x, x)
        y = lax.shift_right(y, one)
    return acc


def float_power(x1, x2, /):
    a, b = promote_args("float_power", x1, x2, to_float=True)
    return lax.pow(a, b)


def square(x, /):
    (x,) = promote_args("square", x)
    return lax.integer_pow(asarray(x), 2)


def reciprocal(x, /):
    (x,) = promote_args("reciprocal", x, to_float=True)
    return lax.div(np.ones((), x.dtype), x)


def exp2(x, /):
    """``2 ** x`` elementwise, as numpy.exp2: exact at integers (a power, not
    ``exp(x * log 2)``, whose rounding misses powers of two).

    Example:
        >>> exp2(asarray([3.0, -1.0]))
        Array([8. , 0.5], dtype=float32)
    """
    (x,) = promote_args("exp2", x, to_float=True)
    x = asarray(x)
    if x.dtype.kind == "c":
        return lax.exp(lax.mul(x, np.asarray(np.log(2.0), x.dtype)))
    return lax.pow(np.asarray(2.0, x.dtype), x)


def log2(x, /):
    (x,) = promote_args("log2", x, to_float=True)
    return lax.div(lax.log(x), np.asarray(np.log(2.0), x.dtype))


def log10(x, /):
    (x,) = promote_args("log10", x, to_float=True)
    return lax.div(lax.log(x), np.asarray(np.log(10.0), x.dtype))


def logaddexp(x1, x2, /):
    a, b = promote_args("logaddexp", x1, x2, to_float=True)
    m = lax.stop_gradient(maximum(a, b))
    m = where(isfinite(m), m, 0.0)
    return add(m, log(add(exp(subtract(a, m)), exp(subtract(b, m)))))


def hypot(x1, x2, /):
    a, b = promote_args("hypot", x1, x2, to_float=True)
    return sqrt(add(multiply(a, a), multiply(b, b)))


def sinc(x, /):
    (x,) = promote_args("sinc", x, to_float=True)
    pix = multiply(np.pi, x)
    safe = where(x == 0, 1.0, pix)
    return where(x == 0, 1.0, divide(sin(safe), safe))


def deg2rad(x, /):
    return multiply(x, np.pi / 180)


def rad2deg(x, /):
    return multiply(x, 180 / np.pi)


radians, degrees = deg2rad, rad2deg


def heaviside(x1, x2, /):
    a, b = promote_args("heaviside", x1, x2, to_float=True)
    return where(a < 0, 0.0, where(a > 0, 1.0, b))


def fmax(x1, x2, /):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN), as ``np.fmax``.

    JAX's form: ``x1`` where ``x1 > x2`` or ``x2`` is NaN, else ``x2``. Its derivative
    goes whole to the operand picked (to ``x2`` on ties), unlike ``maximum``'s halves.

    Example:
        >>> fmax(asarray([1.0, float("nan")]), asarray([float("nan"), 2.0]))
        Array([1., 2.], dtype=float32)
    """
    return where(logical_or(greater(x1, x2), isnan(x2)), x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum ignoring NaN, as ``np.fmin`` (JAX's form; see :func:`fmax`).

    Example:
        >>> fmin(asarray([1.0, float("nan")]), asarray([float("nan"), 2.0]))
        Array([1., 2.], dtype=float32)
    """
    return where(logical_or(less(x1, x2), isnan(x2)), x1, x2)


def isnan(x, /):
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        return lax.ne(x, x)
    return lax.ne(x, x)


def isinf(x, /):
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        return lax.ne(x, x)
    magnitude = abs(x)  # real for complex x: inf where either part is
    return lax.eq(magnitude, np.asarray(np.inf, magnitude.dtype))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return x
    info = np.finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(x == np.inf, info.max if posinf is None else posinf, x)
    return where(x == -np.inf, info.min if neginf is None else neginf, x)


def logical_and(x1, x2, /):
    return lax.bitwise_and(_as_bool(x1), _as_bool(x2))


def logical_or(x1, x2, /):
    return lax.bitwise_or(_as_bool(x1), _as_bool(x2))


def logical_xor(x1, x2, /):
    return lax.bitwise_xor(_as_bool(x1), _as_bool(x2))


def logical_not(x, /):
    return lax.bitwise_not(_as_bool(x))


def _as_bool(x):
    x = asarray(x)
    return x if x.dtype == np.bool_ else lax.ne(x, np.zeros((), x.dtype))


def invert(x, /):
    return lax.bitwise_not(asarray(x))


bitwise_not = invert


def where(condition, x=None, y=None, /):
    """Elementwise choice ``x if condition else y`` with broadcasting.

    The one-argument form needs a concrete condition (its output shape depends on values).
    """
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither")
    c = _as_bool(condition)
    a, b = promote_args("where", x, y)
    return lax.select(c, a, b)


def clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 - numpy's names
    """Limit values to ``[a_min, a_max]`` (either may be None)."""
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    out = asarray(a)
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out


def real(val, /):
    """The real part, elementwise; a real array is returned as it is (as numpy.real).

    Example:
        >>> real(asarray([1 + 2j, 3 - 1j]))
        Array([1., 3.], dtype=float32)
    """
    val = asarray(val)
    return lax.real(val) if val.dtype.kind == "c" else val


def imag(val, /):
    """The imaginary part, elementwise; zeros of a real array's dtype (as numpy.imag).

    Example:
        >>> imag(asarray([1 + 2j, 3 - 1j]))
        Array([ 2., -1.], dtype=float32)
    """
    val = asarray(val)
    if val.dtype.kind == "c":
        return lax.imag(val)
    return lax.broadcast_to(asarray(np.zeros((), val.dtype)), val.shape)  # an Array for 0-d too


def conj(x, /):
    """The complex conjugate, elementwise; a real array is returned as it is.

    Example:
        >>> conj(asarray([1 + 2j]))
        Array([1.-2.j], dtype=complex64)
    """
    x = asarray(x)
    return lax.conj(x) if x.dtype.kind == "c" else x


conjugate = conj


def angle(z, deg: bool = False):
    """The argument of complex numbers, ``arctan2(imag, real)``, in radians (degrees with
    ``deg``); 0 or pi for real input, as numpy.angle and jax.numpy.angle.

    Example:
        >>> angle(asarray([1j, -1.0 + 0j]))
        Array([1.5707964, 3.1415927], dtype=float32)
    """
    z = asarray(z)
    re, im = real(z), imag(z)
    if re.dtype.kind != "f":
        re = lax.convert_element_type(re, config.default_float())
        im = lax.convert_element_type(im, config.default_float())
    out = lax.atan2(im, re)
    return lax.mul(out, np.asarray(180 / np.pi, out.dtype)) if deg else out


def _squared_magnitude(x):
    """``|x| ** 2`` elementwise, real: ``x * x``, or ``re * re + im * im`` for complex x
    (no square root, so differentiable at 0)."""
    if x.dtype.kind != "c":
        return lax.mul(x, x)
    re, im = lax.real(x), lax.imag(x)
    return lax.add(lax.mul(re, re), lax.mul(im, im))


def iscomplexobj(x) -> bool:
    """Whether ``x`` has a complex dtype (its values are not looked at), as numpy's."""
    return _dtype_kind(x) == "c"


def isrealobj(x) -> bool:
    """Whether ``x`` has a dtype that is not complex, as numpy's."""
    return _dtype_kind(x) != "c"


def _dtype_kind(x) -> str:
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype).kind if dtype is not None else np.asarray(x).dtype.kind


def iscomplex(x, /):
    """Elementwise: whether the imaginary part is nonzero (False for real arrays)."""
    return lax.ne(imag(x), np.zeros((), imag(x).dtype))


def isreal(x, /):
    """Elementwise: whether the imaginary part is zero (True for real arrays)."""
    return lax.eq(imag(x), np.zeros((), imag(x).dtype))


def astype(x, dtype):
    """``x`` converted to ``dtype`` (x64 rules apply: float64 means float32 unless enabled)."""
    return lax.convert_element_type(asarray(x), config.canonicalize_dtype(np.dtype(dtype)))
