"""Table rows for the elementwise primitives (fnn/lax/elementwise.py), through the
fnn.numpy function that binds each one (fnn.lax where numpy has no such function)."""

from __future__ import annotations

import numpy as np
import scipy.special as sps

import fnn.lax as lax
import fnn.numpy as fnp
from tests.lax.harness import DOMAINS, Case, args, broadcast_shapes, distinct_args, same_shapes


def unary(name, fn, ref, dom="real", prims=None, **kw):
    return Case(name, fn, ref, same_shapes(1), args(dom), prims=prims or (name,), **kw)


def binary(name, fn, ref, doms=("real", "real"), prims=None, make=None, **kw):
    make = make or args(*doms)
    return Case(name, fn, ref, broadcast_shapes(2), make, prims=prims or (name,), nargs=2, **kw)


def _ref_integer_pow(y):
    return lambda x: np.power(x, float(y)).astype(x.dtype) if y < 0 else np.power(x, y)


def _rem_args(rng, spec):
    # x / y at least 0.1 from an integer: mod jumps there, and FD steps must not cross.
    (s, _) = spec.shapes
    y = DOMAINS["away0"](rng, s)
    return [y * DOMAINS["frac"](rng, s), y]


UNARY = [
    unary("neg", fnp.negative, np.negative),
    unary("exp", fnp.exp, np.exp),
    unary("log", fnp.log, np.log, "pos"),
    unary("log1p", fnp.log1p, np.log1p, "pos"),
    unary("expm1", fnp.expm1, np.expm1),
    unary("sin", fnp.sin, np.sin),
    unary("cos", fnp.cos, np.cos),
    unary("tan", fnp.tan, np.tan, "unit"),
    unary("asin", fnp.arcsin, np.arcsin, "unit"),
    unary("acos", fnp.arccos, np.arccos, "unit"),
    unary("atan", fnp.arctan, np.arctan),
    unary("sinh", fnp.sinh, np.sinh),
    unary("cosh", fnp.cosh, np.cosh),
    unary("tanh", fnp.tanh, np.tanh),
    unary("asinh", fnp.arcsinh, np.arcsinh),
    unary("acosh", fnp.arccosh, np.arccosh, "gt1"),
    unary("atanh", fnp.arctanh, np.arctanh, "unit"),
    unary("sqrt", fnp.sqrt, np.sqrt, "pos"),
    unary("cbrt", fnp.cbrt, np.cbrt, "away0"),
    unary("abs", fnp.abs, np.abs, "away0"),
    unary("logistic", lax.logistic, sps.expit),
    unary("erf", lax.erf, sps.erf),
    unary("erf_inv", lax.erf_inv, sps.erfinv, "unit"),
    unary("erfc", lax.erfc, sps.erfc),
    unary("lgamma", lax.lgamma, sps.gammaln, "pos"),
    unary("digamma", lax.digamma, sps.digamma, "pos", prims=("polygamma",), rtol32=1e-4),
    unary(
        "polygamma1",
        lambda x: lax.polygamma(1, x),
        lambda x: sps.polygamma(1, x).astype(x.dtype),
        "pos",
        prims=("polygamma",),
        rtol32=1e-4,
    ),
    unary("square", fnp.square, np.square, prims=("integer_pow",)),
    unary("cube", lambda x: fnp.power(x, 3), _ref_integer_pow(3), prims=("integer_pow",)),
    unary(
        "inverse_square",
        lambda x: fnp.power(x, -2),
        _ref_integer_pow(-2),
        "away0",
        prims=("integer_pow",),
    ),
    unary(
        "pow0", lambda x: fnp.power(x, 0), _ref_integer_pow(0), diff=False, prims=("integer_pow",)
    ),
    unary("square_int", fnp.square, np.square, "int", diff=None, prims=("integer_pow",)),
    # Piecewise constant: values away from the jumps, derivative exactly zero.
    unary("sign", fnp.sign, np.sign, "away0", diff=False),
    unary("floor", fnp.floor, np.floor, "frac", diff=False),
    unary("ceil", fnp.ceil, np.ceil, "frac", diff=False),
    unary("round", fnp.round, np.round, "frac", diff=False),
    unary("stop_gradient", lax.stop_gradient, lambda x: x, diff=False),
    unary("is_finite", fnp.isfinite, np.isfinite, "special", diff=None),
    unary("logical_not", fnp.logical_not, np.logical_not, "bool", diff=None, prims=("not",)),
    unary("invert_int", fnp.invert, np.invert, "int", diff=None, prims=("not",)),
    unary("neg_int", fnp.negative, np.negative, "int", diff=None, prims=("neg",)),
    unary("abs_int", fnp.abs, np.abs, "int", diff=None, prims=("abs",)),
    unary("sign_int", fnp.sign, np.sign, "int", diff=None, prims=("sign",)),
]

BINARY = [
    binary("add", fnp.add, np.add),
    binary("sub", fnp.subtract, np.subtract),
    binary("mul", fnp.multiply, np.multiply),
    binary("div", fnp.divide, np.divide, ("real", "away0"), api=("divide",)),
    binary("pow", fnp.power, np.power, ("pos", "real")),
    binary("max", fnp.maximum, np.maximum, make=distinct_args),
    binary("min", fnp.minimum, np.minimum, make=distinct_args),
    binary("atan2", fnp.arctan2, np.arctan2, ("away0", "away0")),
    Case("rem", fnp.mod, np.mod, same_shapes(2), _rem_args, prims=("rem",), nargs=2),
    binary("add_int", fnp.add, np.add, ("int", "int"), diff=None, prims=("add",)),
    binary("mul_int", fnp.multiply, np.multiply, ("int", "int"), diff=None, prims=("mul",)),
    binary("max_int", fnp.maximum, np.maximum, ("int", "int"), diff=None, prims=("max",)),
    binary("rem_int", fnp.mod, np.mod, ("int", "nzint"), diff=None, prims=("rem",)),
    binary(
        "floor_divide_int",
        fnp.floor_divide,
        np.floor_divide,
        ("int", "nzint"),
        diff=None,
        prims=("floor_divide",),
    ),
    binary(
        "floor_divide",
        fnp.floor_divide,
        np.floor_divide,
        ("frac", "pos"),
        diff=False,
        prims=("floor", "div"),
    ),
    binary(
        "logical_and", fnp.logical_and, np.logical_and, ("bool", "bool"), diff=None, prims=("and",)
    ),
    binary("logical_or", fnp.logical_or, np.logical_or, ("bool", "bool"), diff=None, prims=("or",)),
    binary(
        "logical_xor", fnp.logical_xor, np.logical_xor, ("bool", "bool"), diff=None, prims=("xor",)
    ),
    binary(
        "bitwise_and", fnp.bitwise_and, np.bitwise_and, ("int", "int"), diff=None, prims=("and",)
    ),
    binary("bitwise_or", fnp.bitwise_or, np.bitwise_or, ("int", "int"), diff=None, prims=("or",)),
    binary(
        "bitwise_xor", fnp.bitwise_xor, np.bitwise_xor, ("int", "int"), diff=None, prims=("xor",)
    ),
    binary("shift_left", fnp.left_shift, np.left_shift, ("smallint", "smallint"), diff=None),
    binary("shift_right", fnp.right_shift, np.right_shift, ("int", "smallint"), diff=None),
]

# Integers tie often, so equality-sensitive comparisons get both outcomes.
COMPARISONS = [
    binary(name, fn, ref, ("int", "int"), diff=None)
    for name, fn, ref in [
        ("eq", fnp.equal, np.equal),
        ("ne", fnp.not_equal, np.not_equal),
        ("lt", fnp.less, np.less),
        ("le", fnp.less_equal, np.less_equal),
        ("gt", fnp.greater, np.greater),
        ("ge", fnp.greater_equal, np.greater_equal),
    ]
] + [
    binary("lt_float", fnp.less, np.less, diff=None, prims=("lt",)),
    binary("eq_float", fnp.equal, np.equal, ("frac", "frac"), diff=None, prims=("eq",)),
]

SELECT = [
    Case(
        "select",
        fnp.where,
        np.where,
        broadcast_shapes(3),
        args("bool", "real", "real"),
        prims=("select",),
        nargs=3,
    ),
    Case(
        "select_int",
        fnp.where,
        np.where,
        broadcast_shapes(3),
        args("bool", "int", "int"),
        diff=None,
        prims=("select",),
        nargs=3,
    ),
]

CASES = UNARY + BINARY + COMPARISONS + SELECT
