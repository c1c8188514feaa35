"""Elementwise primitives: arithmetic, transcendental functions, comparisons, select.

Operands broadcast with numpy's rules (lax here is looser than XLA's, which saves a
broadcast per operation in eager code); transposes sum cotangents back to each
operand's shape with ``unbroadcast``. Dtypes must already agree: fnn.numpy promotes.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import _select_bits
from fnn.lax.base import (
    Zero,
    batching_rules,
    broadcast_shapes,
    check_same_dtype,
    defprim,
    is_zero,
    jvp_rules,
    real_dtype,
    transpose_rules,
)
from fnn.lax.split_rules import elementwise_rule
from fnn.lax.structural import (
    broadcast_to,
    linear_jet,
    linearized_jet,
    moveaxis,
    reshape,
    unbroadcast,
    zero_jet,
)
from fnn.lowering import FRESH, Lowering
from fnn.rules import is_undefined_primal, jet_rules

__all__ = []  # the lax functions are re-exported by fnn.lax

_FLOAT = "float"  # floating or complex
_REAL_FLOAT = "real_float"  # floating only: no complex form in JAX (floor, erf, ...)
_NUMERIC = "numeric"
_REAL_NUMERIC = "real_numeric"  # integer or floating: no complex form (rem, floor_divide)
_INT = "int"
_BOOL_OR_INT = "bool_or_int"
_ANY = "any"


def _check_kind(name, dtype, kind):
    # dtype.kind letters rather than np.issubdtype: this runs on every eager operation.
    k = dtype.kind
    if kind == _FLOAT:
        ok = k in "fc"
    elif kind == _REAL_FLOAT:
        ok = k == "f"
    elif kind == _NUMERIC:
        ok = k != "b"
    elif kind == _REAL_NUMERIC:
        ok = k in "iuf"
    elif kind == _INT:
        ok = k in "iu"
    elif kind == _BOOL_OR_INT:
        ok = k in "biu"
    else:
        ok = True
    if not ok:
        want = {
            _FLOAT: "a floating-point or complex",
            _REAL_FLOAT: "a real floating-point (not complex)",
            _NUMERIC: "a numeric (non-bool)",
            _REAL_NUMERIC: "a real numeric (integer or floating, not complex)",
            _INT: "an integer",
            _BOOL_OR_INT: "a bool or integer",
        }[kind]
        raise FnnTypeError(f"{name}: expected {want} dtype, got {dtype}")


def _elementwise_abstract(name, kind, out_dtype=None):
    def abstract(*avals, **params):
        dtype = check_same_dtype(name, avals) if len(avals) > 1 else avals[0].dtype
        _check_kind(name, dtype, kind)
        shape = broadcast_shapes(name, *[a.shape for a in avals])
        if callable(out_dtype):
            return ShapedArray(shape, out_dtype(dtype))
        return ShapedArray(shape, out_dtype or dtype)

    return abstract


def _elementwise_batch(prim):
    def rule(vals, dims, **params):
        out_rank = max(core.get_aval(v).ndim - (d is not None) for v, d in zip(vals, dims))
        new_vals = []
        for v, d in zip(vals, dims, strict=True):
            if d is None:
                new_vals.append(v)
                continue
            v = moveaxis(v, d, 0)
            shape = core.get_aval(v).shape
            missing = out_rank - (len(shape) - 1)
            if missing:
                v = reshape(v, (shape[0],) + (1,) * missing + shape[1:])
            new_vals.append(v)
        return prim.bind(*new_vals, **params), 0

    batching_rules[prim] = rule


# An elementwise primitive compiled by calling its impl (a scipy function).
_IMPL_ELEMENTWISE = Lowering(elementwise=True, split=elementwise_rule)


def _ufunc(name, np_fn, kind, nargs, out_dtype=None, ufunc_name=None):
    prim = defprim(name, np_fn, _elementwise_abstract(name, kind, out_dtype))
    _elementwise_batch(prim)
    if ufunc_name:
        lowering.register(
            prim, Lowering(ufunc=ufunc_name, memory=FRESH, elementwise=True, split=elementwise_rule)
        )
    else:  # a scipy function through its impl
        lowering.register(prim, _IMPL_ELEMENTWISE)
    return prim


# ---- unary -------------------------------------------------------------------------------

neg_p = _ufunc("neg", np.negative, _NUMERIC, 1, ufunc_name="negative")
sign_p = _ufunc("sign", np.sign, _NUMERIC, 1, ufunc_name="sign")
floor_p = _ufunc("floor", np.floor, _REAL_FLOAT, 1, ufunc_name="floor")
ceil_p = _ufunc("ceil", np.ceil, _REAL_FLOAT, 1, ufunc_name="ceil")
round_p = _ufunc("round", np.rint, _REAL_FLOAT, 1, ufunc_name="rint")
exp_p = _ufunc("exp", np.exp, _FLOAT, 1, ufunc_name="exp")
log_p = _ufunc("log", np.log, _FLOAT, 1, ufunc_name="log")
log1p_p = _ufunc("log1p", np.log1p, _FLOAT, 1, ufunc_name="log1p")
expm1_p = _ufunc("expm1", np.expm1, _FLOAT, 1, ufunc_name="expm1")
sin_p = _ufunc("sin", np.sin, _FLOAT, 1, ufunc_name="sin")
cos_p = _ufunc("cos", np.cos, _FLOAT, 1, ufunc_name="cos")
tan_p = _ufunc("tan", np.tan, _FLOAT, 1, ufunc_name="tan")
asin_p = _ufunc("asin", np.arcsin, _FLOAT, 1, ufunc_name="arcsin")
acos_p = _ufunc("acos", np.arccos, _FLOAT, 1, ufunc_name="arccos")
atan_p = _ufunc("atan", np.arctan, _FLOAT, 1, ufunc_name="arctan")
sinh_p = _ufunc("sinh", np.sinh, _FLOAT, 1, ufunc_name="sinh")
cosh_p = _ufunc("cosh", np.cosh, _FLOAT, 1, ufunc_name="cosh")
tanh_p = _ufunc("tanh", np.tanh, _FLOAT, 1, ufunc_name="tanh")
asinh_p = _ufunc("asinh", np.arcsinh, _FLOAT, 1, ufunc_name="arcsinh")
acosh_p = _ufunc("acosh", np.arccosh, _FLOAT, 1, ufunc_name="arccosh")
atanh_p = _ufunc("atanh", np.arctanh, _FLOAT, 1, ufunc_name="arctanh")
sqrt_p = _ufunc("sqrt", np.sqrt, _FLOAT, 1, ufunc_name="sqrt")
cbrt_p = _ufunc("cbrt", np.cbrt, _REAL_FLOAT, 1, ufunc_name="cbrt")
abs_p = _ufunc("abs", np.abs, _NUMERIC, 1, out_dtype=real_dtype, ufunc_name="absolute")
logistic_p = _ufunc("logistic", lambda x: sps.expit(x).astype(x.dtype), _REAL_FLOAT, 1)
erf_p = _ufunc("erf", lambda x: sps.erf(x).astype(x.dtype), _REAL_FLOAT, 1)
erf_inv_p = _ufunc("erf_inv", lambda x: sps.erfinv(x).astype(x.dtype), _REAL_FLOAT, 1)
# 1 - erf(x) loses every digit for large x: erfc is a primitive of its own.
erfc_p = _ufunc("erfc", lambda x: sps.erfc(x).astype(x.dtype), _REAL_FLOAT, 1)
lgamma_p = _ufunc("lgamma", lambda x: sps.gammaln(x).astype(x.dtype), _REAL_FLOAT, 1)
is_finite_p = _ufunc("is_finite", np.isfinite, _FLOAT, 1, out_dtype=np.bool_)
not_p = _ufunc("not", np.invert, _BOOL_OR_INT, 1, ufunc_name="invert")


def _polygamma_impl(x, *, n):
    return sps.polygamma(n, x).astype(x.dtype)


polygamma_p = defprim("polygamma", _polygamma_impl, _elementwise_abstract("polygamma", _REAL_FLOAT))
_elementwise_batch(polygamma_p)
lowering.register(polygamma_p, _IMPL_ELEMENTWISE)

# ---- binary ------------------------------------------------------------------------------

add_p = _ufunc("add", np.add, _ANY, 2, ufunc_name="add")
sub_p = _ufunc("sub", np.subtract, _NUMERIC, 2, ufunc_name="subtract")
mul_p = _ufunc("mul", np.multiply, _ANY, 2, ufunc_name="multiply")
div_p = _ufunc("div", np.true_divide, _FLOAT, 2, ufunc_name="true_divide")
floor_divide_p = _ufunc(
    "floor_divide", np.floor_divide, _REAL_NUMERIC, 2, ufunc_name="floor_divide"
)
rem_p = _ufunc("rem", np.mod, _REAL_NUMERIC, 2, ufunc_name="mod")
pow_p = _ufunc("pow", np.power, _FLOAT, 2, ufunc_name="power")
max_p = _ufunc("max", np.maximum, _ANY, 2, ufunc_name="maximum")
min_p = _ufunc("min", np.minimum, _ANY, 2, ufunc_name="minimum")
atan2_p = _ufunc("atan2", np.arctan2, _REAL_FLOAT, 2, ufunc_name="arctan2")
and_p = _ufunc("and", np.bitwise_and, _BOOL_OR_INT, 2, ufunc_name="bitwise_and")
or_p = _ufunc("or", np.bitwise_or, _BOOL_OR_INT, 2, ufunc_name="bitwise_or")
xor_p = _ufunc("xor", np.bitwise_xor, _BOOL_OR_INT, 2, ufunc_name="bitwise_xor")
shift_left_p = _ufunc("shift_left", np.left_shift, _INT, 2, ufunc_name="left_shift")
shift_right_p = _ufunc("shift_right", np.right_shift, _INT, 2, ufunc_name="right_shift")
eq_p = _ufunc("eq", np.equal, _ANY, 2, out_dtype=np.bool_, ufunc_name="equal")
ne_p = _ufunc("ne", np.not_equal, _ANY, 2, out_dtype=np.bool_, ufunc_name="not_equal")
lt_p = _ufunc("lt", np.less, _NUMERIC, 2, out_dtype=np.bool_, ufunc_name="less")
le_p = _ufunc("le", np.less_equal, _NUMERIC, 2, out_dtype=np.bool_, ufunc_name="less_equal")
gt_p = _ufunc("gt", np.greater, _NUMERIC, 2, out_dtype=np.bool_, ufunc_name="greater")
ge_p = _ufunc("ge", np.greater_equal, _NUMERIC, 2, out_dtype=np.bool_, ufunc_name="greater_equal")


def _integer_pow_impl(x, *, y):
    if 2 < y <= _MAX_EXPANDED_POW:
        return _pow_by_squaring(x, y)
    return np.power(x, y) if y >= 0 else np.power(x, float(y)).astype(x.dtype)


# numpy's power is fast for exponents 0-2 only (x**3 is far slower than x*x*x; see
# benchmarks/README.md): small ones are multiplied out by squaring, as XLA expands
# integer_pow.
_MAX_EXPANDED_POW = 16


def _pow_by_squaring(x, y: int):
    """``x ** y`` for an integer ``y`` > 2 by repeated squaring (at most 2 log2 y products)."""
    x = np.asarray(x)
    result, base = None, x
    while y:
        if y & 1:
            result = base.copy() if result is None else np.multiply(result, base, out=result)
        y >>= 1
        if y:
            base = np.multiply(base, base)
    return result


integer_pow_p = defprim(
    "integer_pow", _integer_pow_impl, _elementwise_abstract("integer_pow", _NUMERIC)
)
_elementwise_batch(integer_pow_p)


def _integer_pow_emit(a, eqn, out=None):
    if out:
        return None
    y = eqn.params["y"]
    return f"np.square({a[0]})" if y == 2 else f"_integer_pow({a[0]}, y={y})"


lowering.register(
    integer_pow_p,
    Lowering(
        emit=_integer_pow_emit,
        memory=FRESH,
        elementwise=True,
        split=elementwise_rule,
        helpers={"_integer_pow": _integer_pow_impl},
    ),
)


def _select_impl(pred, on_true, on_false):
    if _select_bits.fast_select_applies(
        np.shape(pred), np.shape(on_true), np.shape(on_false), np.result_type(on_true, on_false)
    ):
        return _select_bits.select(np.asarray(pred), on_true, on_false)
    return np.where(pred, on_true, on_false)


def _select_abstract(pred, on_true, on_false):
    if pred.dtype != np.bool_:
        raise FnnTypeError(f"select: the condition must be bool, got {pred.dtype}")
    dtype = check_same_dtype("select", [on_true, on_false])
    return ShapedArray(broadcast_shapes("select", pred.shape, on_true.shape, on_false.shape), dtype)


select_p = defprim("select", _select_impl, _select_abstract, silent=True)
_elementwise_batch(select_p)


def _select_codegen(args, eqn, out=None):
    pred, on_true, on_false = (getattr(x, "aval", None) for x in eqn.inputs)
    shapes = [x.shape if x is not None else () for x in (pred, on_true, on_false)]
    dtype = eqn.out_binders[0].aval.dtype
    if shapes[0] == eqn.out_binders[0].aval.shape and _select_bits.fast_select_applies(
        *shapes, dtype
    ):
        out_kw = f", out={out}" if out else ""
        return f"_select_bits({args[0]}, {args[1]}, {args[2]}{out_kw})"
    return None if out else f"np.where({args[0]}, {args[1]}, {args[2]})"


lowering.register(
    select_p,
    Lowering(
        emit=_select_codegen,
        memory=FRESH,
        fortran_out=True,  # _select_bits writes through ufuncs: any layout of ``out`` works
        elementwise=True,
        split=elementwise_rule,
        helpers={"_select_bits": _select_bits.select},
    ),
)

# ---- lax-level functions (no promotion; used by rules and by fnn.numpy) -------------------


def _b(prim):
    def f(*args, **params):
        return prim.bind(*args, **params)

    f.__name__ = prim.name
    return f


neg, sign, floor, ceil, round_ = _b(neg_p), _b(sign_p), _b(floor_p), _b(ceil_p), _b(round_p)
exp, log, log1p, expm1 = _b(exp_p), _b(log_p), _b(log1p_p), _b(expm1_p)
sin, cos, tan, asin, acos, atan = (
    _b(sin_p),
    _b(cos_p),
    _b(tan_p),
    _b(asin_p),
    _b(acos_p),
    _b(atan_p),
)
sinh, cosh, tanh = _b(sinh_p), _b(cosh_p), _b(tanh_p)
asinh, acosh, atanh = _b(asinh_p), _b(acosh_p), _b(atanh_p)
sqrt, cbrt, abs_, logistic = _b(sqrt_p), _b(cbrt_p), _b(abs_p), _b(logistic_p)
erf, erf_inv, erfc, lgamma, is_finite, not_ = (
    _b(erf_p),
    _b(erf_inv_p),
    _b(erfc_p),
    _b(lgamma_p),
    _b(is_finite_p),
    _b(not_p),
)
add, sub, mul, div, rem, pow_ = _b(add_p), _b(sub_p), _b(mul_p), _b(div_p), _b(rem_p), _b(pow_p)
max_, min_, atan2, floor_divide = _b(max_p), _b(min_p), _b(atan2_p), _b(floor_divide_p)
and_, or_, xor, shift_left, shift_right = (
    _b(and_p),
    _b(or_p),
    _b(xor_p),
    _b(shift_left_p),
    _b(shift_right_p),
)
eq, ne, lt, le, gt, ge = _b(eq_p), _b(ne_p), _b(lt_p), _b(le_p), _b(gt_p), _b(ge_p)
select = _b(select_p)


def integer_pow(x, y: int):
    return integer_pow_p.bind(x, y=int(y))


def polygamma(n: int, x):
    return polygamma_p.bind(x, n=int(n))


def digamma(x):
    return polygamma_p.bind(x, n=0)


def full_like_scalar(x, value):
    """A 0-d array of ``value`` in x's dtype (broadcasts against x)."""
    return np.asarray(value, dtype=core.get_aval(x).dtype)


# ---- JVP rules ---------------------------------------------------------------------------


def _out_zero(out):
    return Zero(core.get_aval(out))


def _unary_jvp(prim, tangent_fn):
    """tangent_fn(t, x, out) -> tangent of out."""

    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        return out, tangent_fn(t, x, out, **params)

    jvp_rules[prim] = rule


def _zero_jvp(prim):
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if prim.multiple_results:
            return out, [_out_zero(o) for o in out]
        return out, _out_zero(out)

    jvp_rules[prim] = rule


def _c(x, v):
    return full_like_scalar(x, v)


_unary_jvp(neg_p, lambda t, x, y: neg(t))
_unary_jvp(exp_p, lambda t, x, y: mul(t, y))
_unary_jvp(log_p, lambda t, x, y: div(t, x))
_unary_jvp(log1p_p, lambda t, x, y: div(t, add(x, _c(x, 1))))
_unary_jvp(expm1_p, lambda t, x, y: mul(t, add(y, _c(y, 1))))
_unary_jvp(sin_p, lambda t, x, y: mul(t, cos(x)))
_unary_jvp(cos_p, lambda t, x, y: neg(mul(t, sin(x))))
_unary_jvp(tan_p, lambda t, x, y: mul(t, add(_c(y, 1), mul(y, y))))
_unary_jvp(asin_p, lambda t, x, y: div(t, sqrt(sub(_c(x, 1), mul(x, x)))))
_unary_jvp(acos_p, lambda t, x, y: neg(div(t, sqrt(sub(_c(x, 1), mul(x, x))))))
_unary_jvp(atan_p, lambda t, x, y: div(t, add(_c(x, 1), mul(x, x))))
_unary_jvp(sinh_p, lambda t, x, y: mul(t, cosh(x)))
_unary_jvp(cosh_p, lambda t, x, y: mul(t, sinh(x)))
_unary_jvp(tanh_p, lambda t, x, y: mul(t, sub(_c(y, 1), mul(y, y))))
_unary_jvp(asinh_p, lambda t, x, y: div(t, sqrt(add(mul(x, x), _c(x, 1)))))
_unary_jvp(acosh_p, lambda t, x, y: div(t, _acosh_slope_denominator(x)))
_unary_jvp(atanh_p, lambda t, x, y: div(t, sub(_c(x, 1), mul(x, x))))
_unary_jvp(sqrt_p, lambda t, x, y: div(t, mul(_c(y, 2), y)))
_unary_jvp(cbrt_p, lambda t, x, y: div(t, mul(_c(y, 3), mul(y, y))))


def _acosh_slope_denominator(x):
    # sqrt(x - 1) * sqrt(x + 1), not sqrt(x*x - 1): equal for real x > 1, but for complex
    # x left of the imaginary axis the single root takes the other branch (the derivative
    # would have the wrong sign; JAX's rule has that flaw).
    if core.get_aval(x).dtype.kind == "c":
        return mul(sqrt(sub(x, _c(x, 1))), sqrt(add(x, _c(x, 1))))
    return sqrt(sub(mul(x, x), _c(x, 1)))


# abs of a complex number needs its real part: its JVP rule is in fnn/lax/complex_ops.py.
_unary_jvp(logistic_p, lambda t, x, y: mul(t, mul(y, sub(_c(y, 1), y))))
_unary_jvp(erf_p, lambda t, x, y: mul(t, mul(_c(x, 2 / np.sqrt(np.pi)), exp(neg(mul(x, x))))))
_unary_jvp(erf_inv_p, lambda t, x, y: mul(t, mul(_c(x, np.sqrt(np.pi) / 2), exp(mul(y, y)))))
_unary_jvp(erfc_p, lambda t, x, y: mul(t, mul(_c(x, -2 / np.sqrt(np.pi)), exp(neg(mul(x, x))))))
_unary_jvp(lgamma_p, lambda t, x, y: mul(t, digamma(x)))
_unary_jvp(polygamma_p, lambda t, x, y, *, n: mul(t, polygamma(n + 1, x)))
_unary_jvp(integer_pow_p, lambda t, x, out, *, y: _integer_pow_tangent(t, x, y))


def _integer_pow_tangent(t, x, y):
    if y == 0:
        return Zero(core.get_aval(x))
    dx = _c(x, y) if y == 1 else mul(_c(x, y), integer_pow(x, y - 1))
    return mul(t, dx)


for _p in (sign_p, floor_p, ceil_p, round_p, is_finite_p, not_p, floor_divide_p):
    _zero_jvp(_p)
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p, and_p, or_p, xor_p, shift_left_p, shift_right_p):
    _zero_jvp(_p)


def _binary_jvp(prim, tx_fn, ty_fn):
    """tx_fn(t, x, y, out) and ty_fn(t, x, y, out): tangent contributions of each operand."""

    def rule(primals, tangents, **params):
        x, y = primals
        tx, ty = tangents
        out = prim.bind(x, y, **params)
        shape = core.get_aval(out).shape
        parts = []
        if not is_zero(tx):
            parts.append(tx_fn(tx, x, y, out))
        if not is_zero(ty):
            parts.append(ty_fn(ty, x, y, out))
        total = parts[0] if len(parts) == 1 else add(parts[0], parts[1])
        return out, broadcast_to(total, shape)

    jvp_rules[prim] = rule


_binary_jvp(add_p, lambda t, x, y, o: t, lambda t, x, y, o: t)
_binary_jvp(sub_p, lambda t, x, y, o: t, lambda t, x, y, o: neg(t))
_binary_jvp(mul_p, lambda t, x, y, o: mul(t, y), lambda t, x, y, o: mul(x, t))
_binary_jvp(div_p, lambda t, x, y, o: div(t, y), lambda t, x, y, o: neg(mul(t, div(o, y))))
# d/dy (x mod y) = -floor(x / y) = -(x - o) / y, an integer up to rounding: round it (a
# floor of 2.9999999 would be off by one).
_binary_jvp(rem_p, lambda t, x, y, o: t, lambda t, x, y, o: neg(mul(t, round_(div(sub(x, o), y)))))
_binary_jvp(
    atan2_p,
    lambda t, x, y, o: mul(t, div(y, add(mul(x, x), mul(y, y)))),
    lambda t, x, y, o: neg(mul(t, div(x, add(mul(x, x), mul(y, y))))),
)


def _pow_tx(t, x, y, o):
    # d/dx x**y = y * x**(y-1), computed without dividing by x (x may be 0). Where y == 0
    # it is 0 (as in JAX): the exponent becomes 1 - 1 there, so 0 * 0**-1 = nan never occurs.
    y_safe = select(eq(y, _c(y, 0)), _c(y, 1), y)
    return mul(t, mul(y, pow_(x, sub(y_safe, _c(y, 1)))))


def _pow_ty(t, x, y, o):
    # d/dy x**y = log(x) * x**y, taken as 0 where x == 0 (as JAX does).
    zero = _c(x, 0)
    safe_x = select(eq(x, zero), _c(x, 1), x)
    return mul(t, mul(log(safe_x), o))


_binary_jvp(pow_p, _pow_tx, _pow_ty)


def _minmax_jvp(prim, pick):
    # Ties split the tangent evenly between the operands, as JAX does.
    def tx(t, x, y, o):
        return mul(t, _select_weight(pick(x, y), eq(x, y), x))

    def ty(t, x, y, o):
        return mul(t, _select_weight(pick(y, x), eq(x, y), y))

    _binary_jvp(prim, tx, ty)


def _select_weight(wins, ties, like):
    one, half, zero = _c(like, 1), _c(like, 0.5), _c(like, 0)
    return select(wins, one, select(ties, half, zero))


_minmax_jvp(max_p, gt)
_minmax_jvp(min_p, lt)


def _select_jvp(primals, tangents):
    pred, x, y = primals
    _, tx, ty = tangents
    out = select(pred, x, y)
    shape = core.get_aval(out).shape
    if is_zero(tx) and is_zero(ty):
        return out, _out_zero(out)
    tx = _zeros_for(tx)
    ty = _zeros_for(ty)
    return out, broadcast_to(select(pred, tx, ty), shape)


def _zeros_for(t):
    return np.zeros((), t.aval.dtype) if is_zero(t) else t


jvp_rules[select_p] = _select_jvp

# ---- transpose rules ---------------------------------------------------------------------


def _shape(x):
    return x.aval.shape if is_undefined_primal(x) else core.get_aval(x).shape


def _add_transpose(ct, x, y):
    return [
        unbroadcast(ct, _shape(x)) if is_undefined_primal(x) else None,
        unbroadcast(ct, _shape(y)) if is_undefined_primal(y) else None,
    ]


def _sub_transpose(ct, x, y):
    return [
        unbroadcast(ct, _shape(x)) if is_undefined_primal(x) else None,
        unbroadcast(neg(ct), _shape(y)) if is_undefined_primal(y) else None,
    ]


def _mul_transpose(ct, x, y):
    if is_undefined_primal(x) and is_undefined_primal(y):
        raise ValueError("mul: transpose of a product of two linear values (not linear)")
    if is_undefined_primal(x):
        return [unbroadcast(mul(ct, y), _shape(x)), None]
    return [None, unbroadcast(mul(x, ct), _shape(y))]


def _div_transpose(ct, x, y):
    if is_undefined_primal(y):
        raise ValueError("div: transpose with respect to the divisor (not linear)")
    return [unbroadcast(div(ct, y), _shape(x)), None]


def _neg_transpose(ct, x):
    return [neg(ct)]


def _select_transpose(ct, pred, x, y):
    zero = np.zeros((), core.get_aval(ct).dtype)
    return [
        None,
        unbroadcast(select(pred, ct, zero), _shape(x)) if is_undefined_primal(x) else None,
        unbroadcast(select(pred, zero, ct), _shape(y)) if is_undefined_primal(y) else None,
    ]


transpose_rules[add_p] = _add_transpose
transpose_rules[sub_p] = _sub_transpose
transpose_rules[mul_p] = _mul_transpose
transpose_rules[div_p] = _div_transpose
transpose_rules[neg_p] = _neg_transpose
transpose_rules[select_p] = _select_transpose


def add_any(a, b):
    """Sum of two cotangents of the same abstract value."""
    return add(a, b)


# ---- Taylor-mode rules -------------------------------------------------------------------
# A series is a list [c0, c1, ..., cK] of normalized Taylor coefficients of x(t) (c0 is the
# primal, None marks a zero coefficient). Products and compositions follow the classical
# recurrences (Griewank and Walther, "Evaluating Derivatives", ch. 13): a function y of x
# with y' = g(x) x' has  k y_k = sum_{j=1..k} j x_j g_{k-j}.


def _t_add(a, b):
    if a is None:
        return b
    return a if b is None else add(a, b)


def _t_sub(a, b):
    if b is None:
        return a
    return neg(b) if a is None else sub(a, b)


def _t_mul(a, b):
    return None if a is None or b is None else mul(a, b)


def _t_scale(a, c: float):
    return None if a is None else mul(a, _c(a, c))


def _t_sum(terms):
    total = None
    for t in terms:
        total = _t_add(total, t)
    return total


def series_mul(a, b):
    """The product of two series (the Cauchy product), truncated to their length."""
    return [_t_sum(_t_mul(a[j], b[k - j]) for j in range(k + 1)) for k in range(len(a))]


def series_div(a, b):
    """``a / b``: c_k = (a_k - sum_{j=1..k} b_j c_{k-j}) / b_0."""
    c = [div(a[0], b[0])]
    for k in range(1, len(a)):
        num = _t_sub(a[k], _t_sum(_t_mul(b[j], c[k - j]) for j in range(1, k + 1)))
        c.append(None if num is None else div(num, b[0]))
    return c


def series_integrate(a, g, y0):
    """The series of y with y' = g x' (g known to one order below a's) and y(0) = y0."""
    y = [y0]
    for k in range(1, len(a)):
        s = _t_sum(_t_scale(_t_mul(a[j], g[k - j]), j / k) for j in range(1, k + 1))
        y.append(s)
    return y


def series_ode(a, y0, slope):
    """The series of y with y' = slope(y) x': ``slope`` maps the series of y known so far
    (orders 0..k-1) to its own series of the same length."""
    y = [y0]
    for k in range(1, len(a)):
        g = slope(y)
        y.append(_t_sum(_t_scale(_t_mul(a[j], g[k - j]), j / k) for j in range(1, k + 1)))
    return y


def _const_series(like, value, n):
    return [_c(like, value)] + [None] * (n - 1)


def series_exp(a):
    return series_ode(a, exp(a[0]), lambda y: y)


def series_log(a, y0=None):
    """``log a`` (or, with y0 = log1p(a0) and a0 shifted by one, log1p):
    y_k = (a_k - (1/k) sum_{j=1..k-1} j y_j a_{k-j}) / a_0."""
    y = [log(a[0]) if y0 is None else y0]
    for k in range(1, len(a)):
        s = _t_sum(_t_scale(_t_mul(y[j], a[k - j]), j / k) for j in range(1, k))
        num = _t_sub(a[k], s)
        y.append(None if num is None else div(num, a[0]))
    return y


def series_sqrt(a):
    """``sqrt a``: y_k = (a_k - sum_{j=1..k-1} y_j y_{k-j}) / (2 y_0)."""
    y = [sqrt(a[0])]
    for k in range(1, len(a)):
        num = _t_sub(a[k], _t_sum(_t_mul(y[j], y[k - j]) for j in range(1, k)))
        y.append(None if num is None else div(num, mul(_c(y[0], 2), y[0])))
    return y


def series_pow_const(a, p, y0):
    """``a ** p`` for a constant (array) exponent p, from a y' = p y a':
    y_k = sum_{j=1..k} (p j - (k - j)) a_j y_{k-j} / (k a_0)."""
    y = [y0]
    for k in range(1, len(a)):
        parts = []
        for j in range(1, k + 1):
            term = _t_mul(a[j], y[k - j])
            if term is not None:
                coef = sub(mul(p, _c(term, j)), _c(term, k - j)) if not np.isscalar(p) else None
                parts.append(
                    mul(term, coef) if coef is not None else _t_scale(term, p * j - (k - j))
                )
        s = _t_sum(parts)
        y.append(None if s is None else div(s, mul(_c(a[0], k), a[0])))
    return y


def series_integer_pow(a, n: int):
    """``a ** n`` by repeated squaring: exact where a_0 = 0, unlike the recurrence."""
    if n < 0:
        return series_div(_const_series(a[0], 1, len(a)), series_integer_pow(a, -n))
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else series_mul(result, base)
        n >>= 1
        if n:
            base = series_mul(base, base)
    return _const_series(a[0], 1, len(a)) if result is None else result


def series_sin_cos(a):
    s, c = [sin(a[0])], [cos(a[0])]
    for k in range(1, len(a)):
        s.append(_t_sum(_t_scale(_t_mul(a[j], c[k - j]), j / k) for j in range(1, k + 1)))
        c.append(_t_sum(_t_scale(_t_mul(a[j], s[k - j]), -j / k) for j in range(1, k + 1)))
    return s, c


def series_sinh_cosh(a):
    s, c = [sinh(a[0])], [cosh(a[0])]
    for k in range(1, len(a)):
        s.append(_t_sum(_t_scale(_t_mul(a[j], c[k - j]), j / k) for j in range(1, k + 1)))
        c.append(_t_sum(_t_scale(_t_mul(a[j], s[k - j]), j / k) for j in range(1, k + 1)))
    return s, c


def _series_add_const(a, value):
    return [add(a[0], _c(a[0], value))] + list(a[1:])


def _series_neg(a):
    return [None if t is None else neg(t) for t in a]


def series_polygamma(n: int, a):
    """``polygamma(n, a)``, whose derivative is polygamma(n + 1, a)."""
    y0 = polygamma(n, a[0])
    if len(a) == 1:
        return [y0]
    return series_integrate(a, series_polygamma(n + 1, a[:-1]), y0)


def _rsqrt_series(a):
    """1 / sqrt(a)."""
    return series_div(_const_series(a[0], 1, len(a)), series_sqrt(a))


def _by_slope(primitive_fn, slope_series):
    """A series function for y = f(x) with y' = g(x) x', g given as a series function."""

    def fn(a):
        return series_integrate(a, slope_series(a[:-1]), primitive_fn(a[0]))

    return fn


def _one_minus_square(a):
    return _series_add_const(_series_neg(series_mul(a, a)), 1)


def _square_plus(value):
    return lambda a: _series_add_const(series_mul(a, a), value)


_UNARY_SERIES = {
    exp_p: series_exp,
    log_p: series_log,
    log1p_p: lambda a: series_log(_series_add_const(a, 1), y0=log1p(a[0])),
    expm1_p: lambda a: series_ode(a, expm1(a[0]), lambda y: _series_add_const(y, 1)),
    sin_p: lambda a: series_sin_cos(a)[0],
    cos_p: lambda a: series_sin_cos(a)[1],
    tan_p: lambda a: series_ode(a, tan(a[0]), _square_plus(1)),
    asin_p: _by_slope(asin, lambda a: _rsqrt_series(_one_minus_square(a))),
    acos_p: _by_slope(acos, lambda a: _series_neg(_rsqrt_series(_one_minus_square(a)))),
    atan_p: _by_slope(
        atan, lambda a: series_div(_const_series(a[0], 1, len(a)), _square_plus(1)(a))
    ),
    sinh_p: lambda a: series_sinh_cosh(a)[0],
    cosh_p: lambda a: series_sinh_cosh(a)[1],
    tanh_p: lambda a: series_ode(a, tanh(a[0]), _one_minus_square),
    asinh_p: _by_slope(asinh, lambda a: _rsqrt_series(_square_plus(1)(a))),
    acosh_p: _by_slope(acosh, lambda a: _rsqrt_series(_square_plus(-1)(a))),
    atanh_p: _by_slope(
        atanh, lambda a: series_div(_const_series(a[0], 1, len(a)), _one_minus_square(a))
    ),
    sqrt_p: series_sqrt,
    cbrt_p: lambda a: series_pow_const(a, 1.0 / 3.0, cbrt(a[0])),
    logistic_p: lambda a: series_ode(
        a, logistic(a[0]), lambda y: series_mul(y, _series_add_const(_series_neg(y), 1))
    ),
    erf_p: _by_slope(
        erf,
        lambda a: [
            None if t is None else mul(t, _c(t, 2 / np.sqrt(np.pi)))
            for t in series_exp(_series_neg(series_mul(a, a)))
        ],
    ),
    erfc_p: _by_slope(
        erfc,
        lambda a: [
            None if t is None else mul(t, _c(t, -2 / np.sqrt(np.pi)))
            for t in series_exp(_series_neg(series_mul(a, a)))
        ],
    ),
    erf_inv_p: lambda a: series_ode(
        a,
        erf_inv(a[0]),
        lambda y: [
            None if t is None else mul(t, _c(t, np.sqrt(np.pi) / 2))
            for t in series_exp(series_mul(y, y))
        ],
    ),
    lgamma_p: _by_slope(lgamma, lambda a: series_polygamma(0, a)),
}


def _unary_jet(prim, series_fn):
    def rule(primals, series, **params):
        (x,), (s,) = primals, series
        y = series_fn([x, *s], **params)
        return y[0], list(y[1:])

    jet_rules[prim] = rule


for _p, _fn in _UNARY_SERIES.items():
    _unary_jet(_p, _fn)
_unary_jet(polygamma_p, lambda a, *, n: series_polygamma(n, a))
_unary_jet(integer_pow_p, lambda a, *, y: [integer_pow(a[0], y), *series_integer_pow(a, y)[1:]])


def bilinear_jet(bind):
    """The jet rule of ``bind(x, y)`` bilinear in (x, y) (mul, dot_general, convolution):
    c_k = sum_{j=0..k} bind(x_j, y_{k-j})."""

    def rule(primals, series, **params):
        (x, y), (sx, sy) = primals, series
        a, b = [x, *sx], [y, *sy]
        out = bind(x, y, **params)
        terms = []
        for k in range(1, len(a)):
            parts = [
                bind(a[j], b[k - j], **params)
                for j in range(k + 1)
                if a[j] is not None and b[k - j] is not None
            ]
            terms.append(_t_sum(parts))
        return out, terms

    return rule


def _binary_series_jet(prim, series_fn):
    def rule(primals, series, **params):
        (x, y), (sx, sy) = primals, series
        z = series_fn([x, *sx], [y, *sy])
        return z[0], list(z[1:])

    jet_rules[prim] = rule


def _pow_series(a, b):
    y0 = pow_(a[0], b[0])
    if all(t is None for t in b[1:]):
        return series_pow_const(a, b[0], y0)
    # x ** y = exp(y log x), with the primal from pow itself (exact where log would not be).
    y = series_exp(series_mul(b, series_log(a)))
    return [y0, *y[1:]]


def _atan2_series(a, b):
    """atan2(a, b): its derivative is (b a' - a b') / (a**2 + b**2)."""
    n = len(a)

    def deriv(s):
        return [
            None if s[m + 1] is None else mul(s[m + 1], _c(s[m + 1], m + 1)) for m in range(n - 1)
        ]

    num = [
        _t_sub(u, v)
        for u, v in zip(series_mul(b[:-1], deriv(a)), series_mul(a[:-1], deriv(b)), strict=True)
    ]
    den = _series_add_const(series_mul(a[:-1], a[:-1]), 0)
    den = [_t_add(u, v) for u, v in zip(den, series_mul(b[:-1], b[:-1]), strict=True)]
    q = series_div(num, den) if num[0] is not None else [None] * (n - 1)
    return [atan2(a[0], b[0])] + [_t_scale(q[k - 1], 1.0 / k) for k in range(1, n)]


jet_rules[mul_p] = bilinear_jet(mul)
_binary_series_jet(div_p, series_div)
_binary_series_jet(pow_p, _pow_series)
_binary_series_jet(atan2_p, _atan2_series)
for _p in (add_p, sub_p, neg_p, select_p):
    jet_rules[_p] = linear_jet(_p)
for _p in (max_p, min_p, rem_p):
    jet_rules[_p] = linearized_jet(_p)
_abs_real_jet = linearized_jet(abs_p)


def _abs_jet(primals, series):
    # |x| of a real x is piecewise linear; |z| of a complex z is sqrt(z conj(z)), smooth
    # away from 0: the nested-JVP expansion is exact there.
    if np.issubdtype(core.get_aval(primals[0]).dtype, np.complexfloating):
        return NotImplemented
    return _abs_real_jet(primals, series)


jet_rules[abs_p] = _abs_jet
for _p in (sign_p, floor_p, ceil_p, round_p, is_finite_p, not_p, floor_divide_p):
    jet_rules[_p] = zero_jet(_p)
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p, and_p, or_p, xor_p, shift_left_p, shift_right_p):
    jet_rules[_p] = zero_jet(_p)
