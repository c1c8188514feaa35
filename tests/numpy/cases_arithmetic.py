"""Harness rows (tests/lax/harness.py) for the elementwise functions of
fnn/numpy/arithmetic.py: logaddexp2, copysign, fmod, divmod, modf, ldexp, nextafter,
spacing, gcd, lcm, bitwise_count, isposinf/isneginf, isclose, frexp."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, broadcast_shapes, same_shapes


def unary(name, fn, ref, dom="real", api=None, **kw):
    return Case(name, fn, ref, same_shapes(1), args(dom), api=api or (name,), **kw)


def binary(name, fn, ref, doms=("real", "real"), api=None, **kw):
    return Case(name, fn, ref, broadcast_shapes(2), args(*doms), api=api or (name,), nargs=2, **kw)


def _frexp_mantissa(module):
    return lambda x: module.frexp(x)[0]


CASES = [
    binary("logaddexp2", fnp.logaddexp2, np.logaddexp2),
    binary("copysign", fnp.copysign, np.copysign, ("real", "away0")),
    binary("fmod_int", fnp.fmod, np.fmod, ("int", "nzint"), diff=None, api=("fmod",)),
    Case(
        "fmod_float",
        lambda x, y: fnp.fmod(x, y),
        np.fmod,
        broadcast_shapes(2),
        # |x| in (0.1, 0.9) and |y| >= 1: no jump of trunc(x / y) near the samples.
        args("unit", "gt1"),
        nargs=2,
        api=("fmod",),
    ),
    binary("divmod_int", fnp.divmod, np.divmod, ("int", "nzint"), diff=None, api=("divmod",)),
    unary("modf", fnp.modf, np.modf, "frac"),
    Case(
        "frexp_mantissa",
        _frexp_mantissa(fnp),
        _frexp_mantissa(np),
        same_shapes(1),
        args("away0"),
        api=("frexp",),
        hvp=False,  # the mantissa is piecewise linear: its second derivative is zero
    ),
    unary("frexp", fnp.frexp, np.frexp, "special", diff=None),
    binary("ldexp", fnp.ldexp, np.ldexp, ("real", "int")),
    # Results depend on the dtype's format: compared with numpy in the input dtype.
    binary(
        "nextafter",
        fnp.nextafter,
        np.nextafter,
        ("special", "special"),
        diff=None,
        ref_in_dtype=True,
    ),
    unary("spacing", fnp.spacing, np.spacing, "special", diff=None, ref_in_dtype=True),
    binary("gcd", fnp.gcd, np.gcd, ("int", "int"), diff=None),
    binary("lcm", fnp.lcm, np.lcm, ("int", "int"), diff=None),
    unary("bitwise_count", fnp.bitwise_count, np.bitwise_count, "int", diff=None),
    unary("isposinf", fnp.isposinf, np.isposinf, "special", diff=None),
    unary("isneginf", fnp.isneginf, np.isneginf, "special", diff=None),
    unary("signbit", fnp.signbit, np.signbit, "real", diff=None),
    unary("fix", fnp.fix, np.fix, "frac", diff=False),
    Case(
        "isclose",
        lambda x, y, **kw: fnp.isclose(x, x + y, **kw),
        lambda x, y, **kw: np.isclose(x, x + y, **kw),
        broadcast_shapes(2).flatmap(
            lambda s: st.sampled_from([{}, {"rtol": 0.5}, {"atol": 1.0}]).map(
                lambda kw: Spec(s.shapes, kw)
            )
        ),
        args("special", "real"),
        nargs=2,
        diff=None,
    ),
]

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
