"""The fnn.numpy functions that are compositions of primitives, as rows of the shared
harness table (tests/lax/harness.py). The functions that bind one primitive directly
are rows of tests/lax/cases.py already; ``api`` names every fnn.numpy function a row
exercises, so that the coverage test can check the issue's list against both tables.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp
from tests.lax.harness import (
    Case,
    Spec,
    args,
    axis_spec,
    broadcast_shapes,
    distinct_args,
    same_shapes,
    shape,
)


def unary(name, fn, ref, dom="real", api=None, **kw):
    return Case(name, fn, ref, same_shapes(1), args(dom), api=api or (name,), **kw)


def binary(name, fn, ref, doms=("real", "real"), api=None, **kw):
    return Case(name, fn, ref, broadcast_shapes(2), args(*doms), api=api or (name,), nargs=2, **kw)


def _with(spec_fn):
    """A spec strategy from a function of ``draw`` (a composite, named by the function)."""
    return st.composite(spec_fn)()


# ---- elementwise -------------------------------------------------------------------------


ELEMENTWISE = [
    binary("true_divide", fnp.true_divide, np.true_divide, ("real", "away0")),
    binary(
        "true_divide_int",
        fnp.true_divide,
        np.true_divide,
        ("int", "nzint"),
        diff=None,
        api=("true_divide",),
    ),
    unary("reciprocal", fnp.reciprocal, np.reciprocal, "away0"),
    unary("exp2", fnp.exp2, np.exp2),
    unary("log2", fnp.log2, np.log2, "pos"),
    unary("log10", fnp.log10, np.log10, "pos"),
    unary("square_of_ints", fnp.square, np.square, "int", diff=None, api=("square",)),
    unary(
        "sqrt_of_ints",
        fnp.sqrt,
        lambda x: np.sqrt(x.astype(float)),
        "posint",
        diff=None,
        api=("sqrt",),
        check_dtype=False,
    ),
    Case(
        "clip",
        lambda x, lo, hi: fnp.clip(x, lo, hi),
        lambda x, lo, hi: np.clip(x, lo, hi),
        shape().map(lambda s: Spec((s,), {"lo": -1.0, "hi": 1.0})),
        args("frac"),
        api=("clip",),
    ),
    Case(
        "clip_upper_only",
        lambda x: fnp.clip(x, None, 0.5),
        lambda x: np.clip(x, None, 0.5),
        same_shapes(1),
        args("frac"),
        api=("clip",),
    ),
    Case(
        "round_decimals",
        lambda x: fnp.round(x, 1),
        lambda x: np.round(x, 1),
        same_shapes(1),
        args("tenths"),
        diff=False,
        api=("round",),
        rtol32=1e-6,
    ),
    unary("round_int", fnp.round, np.round, "int", diff=None, api=("round",)),
    unary("floor_int", fnp.floor, np.floor, "int", diff=None, api=("floor",)),
    unary("trunc", fnp.trunc, np.trunc, "frac", diff=False),
    unary("isnan", fnp.isnan, np.isnan, "special", diff=None),
    unary("isinf", fnp.isinf, np.isinf, "special", diff=None),
    unary(
        "logical_not_of_floats",
        fnp.logical_not,
        np.logical_not,
        "int",
        diff=None,
        api=("logical_not",),
    ),
    binary(
        "logical_and_of_ints",
        fnp.logical_and,
        np.logical_and,
        ("int", "int"),
        diff=None,
        api=("logical_and",),
    ),
    binary(
        "logical_or_of_ints",
        fnp.logical_or,
        np.logical_or,
        ("int", "int"),
        diff=None,
        api=("logical_or",),
    ),
    binary(
        "power_float_int", fnp.power, np.power, ("pos", "int"), check_dtype=False, api=("power",)
    ),
    binary("power_ints", fnp.power, np.power, ("int", "smallint"), diff=None, api=("power",)),
    Case(
        "power_scalar_exponent",
        lambda x: fnp.power(x, 2.5),
        lambda x: np.power(x, 2.5),
        same_shapes(1),
        args("pos"),
        api=("power",),
    ),
    Case(
        "where_scalars",
        lambda c, x: fnp.where(c, x, 0.0),
        lambda c, x: np.where(c, x, np.float32(0.0)).astype(x.dtype),
        broadcast_shapes(2),
        args("bool", "real"),
        api=("where",),
        nargs=2,
    ),
    Case(
        "where_of_floats_condition",
        lambda c, x, y: fnp.where(c, x, y),
        np.where,
        broadcast_shapes(3),
        args("int", "real", "real"),
        api=("where",),
        nargs=3,
    ),
    binary("logaddexp", fnp.logaddexp, np.logaddexp),
    binary("hypot", fnp.hypot, np.hypot, ("away0", "away0")),
    unary("sinc", fnp.sinc, np.sinc, "away0"),
    unary("deg2rad", fnp.deg2rad, np.deg2rad),
    Case("fmax", fnp.fmax, np.fmax, broadcast_shapes(2), distinct_args, api=("fmax",), nargs=2),
    unary("nan_to_num", fnp.nan_to_num, np.nan_to_num, "special", diff=None, ref_in_dtype=True),
]

# ---- reductions ----------------------------------------------------------------------------

_two_or_more = axis_spec(min_side=2)


@st.composite
def _var_spec(draw):
    spec = draw(_two_or_more)
    return Spec(spec.shapes, {**spec.params, "ddof": draw(st.sampled_from([0, 1]))})


REDUCTIONS = [
    Case("mean", fnp.mean, np.mean, axis_spec(min_side=1), args("real"), api=("mean",)),
    Case(
        "mean_int",
        fnp.mean,
        np.mean,
        axis_spec(min_side=1),
        args("int"),
        diff=None,
        api=("mean",),
    ),
    Case("var", fnp.var, np.var, _var_spec(), args("real"), api=("var",)),
    Case("std", fnp.std, np.std, _var_spec(), args("real"), api=("std",)),
    Case("ptp", fnp.ptp, np.ptp, axis_spec(min_side=1), args("distinct"), api=("ptp",)),
    Case(
        "count_nonzero",
        fnp.count_nonzero,
        np.count_nonzero,
        axis_spec(keepdims=False),
        args("int"),
        diff=None,
        check_dtype=False,
        api=("count_nonzero",),
    ),
    Case(
        "sum_dtype",
        lambda x, **kw: fnp.sum(x, dtype=np.float32, **kw),
        lambda x, **kw: np.sum(x, dtype=np.float32, **kw),
        axis_spec(),
        args("int"),
        diff=None,
        api=("sum",),
    ),
    Case("amax", fnp.amax, np.amax, axis_spec(min_side=1), args("distinct"), api=("max", "amax")),
    Case("amin", fnp.amin, np.amin, axis_spec(min_side=1), args("distinct"), api=("min", "amin")),
    Case(
        "cumsum_bool",
        fnp.cumsum,
        np.cumsum,
        axis_spec(tuples=False, keepdims=False),
        args("bool"),
        diff=None,
        api=("cumsum",),
    ),
    Case(
        "average_weights",
        lambda x, w, axis: fnp.average(x, axis=axis, weights=w),
        lambda x, w, axis: np.average(x, axis=axis, weights=w),
        shape(min_dims=1, min_side=1).map(lambda s: Spec((s, s), {"axis": -1})),
        args("real", "pos"),
        api=("average",),
        nargs=2,
    ),
]

# ---- contractions ----------------------------------------------------------------------------


def _vdot_spec(draw):
    s = draw(shape(min_dims=1, max_dims=2))
    return Spec((s, s), {})


def _inner_spec(draw):
    n = draw(st.integers(1, 4))
    return Spec((draw(shape(max_dims=1)) + (n,), draw(shape(max_dims=1)) + (n,)), {})


def _trace_spec(draw):
    s = draw(shape(min_dims=2, max_dims=3, min_side=1))
    axis1, axis2 = draw(st.permutations(range(len(s))))[:2]
    return Spec((s,), {"offset": draw(st.integers(-2, 2)), "axis1": axis1, "axis2": axis2})


def _diag_spec(draw):
    return Spec((draw(shape(min_dims=1, max_dims=2, min_side=1)),), {"k": draw(st.integers(-2, 2))})


def _tri_spec(draw):
    return Spec((draw(shape(min_dims=2, max_dims=3)),), {"k": draw(st.integers(-2, 2))})


def _kron_spec(draw):
    rank = draw(st.sampled_from([1, 2]))
    return Spec(
        (
            draw(shape(min_dims=rank, max_dims=rank, min_side=1)),
            draw(shape(min_dims=rank, max_dims=rank, min_side=1)),
        ),
        {},
    )


def _cross_spec(draw):
    lead = draw(shape(max_dims=1))
    return Spec((lead + (3,), lead + (3,)), {})


CONTRACTIONS = [
    Case(
        "vdot", fnp.vdot, np.vdot, _with(_vdot_spec), args("real", "real"), nargs=2, api=("vdot",)
    ),
    Case(
        "inner",
        fnp.inner,
        np.inner,
        _with(_inner_spec),
        args("real", "real"),
        nargs=2,
        api=("inner",),
    ),
    Case(
        "outer",
        fnp.outer,
        np.outer,
        broadcast_shapes(2),
        args("real", "real"),
        nargs=2,
        api=("outer",),
    ),
    Case("trace", fnp.trace, np.trace, _with(_trace_spec), args("real"), api=("trace",)),
    Case(
        "diagonal",
        fnp.diagonal,
        np.diagonal,
        _with(_trace_spec),
        args("real"),
        api=("diagonal",),
    ),
    Case("diag", fnp.diag, np.diag, _with(_diag_spec), args("real"), api=("diag",)),
    Case("triu", fnp.triu, np.triu, _with(_tri_spec), args("real"), api=("triu",)),
    Case("tril", fnp.tril, np.tril, _with(_tri_spec), args("real"), api=("tril",)),
    Case(
        "kron", fnp.kron, np.kron, _with(_kron_spec), args("real", "real"), nargs=2, api=("kron",)
    ),
    Case(
        "cross",
        fnp.cross,
        np.cross,
        _with(_cross_spec),
        args("real", "real"),
        nargs=2,
        api=("cross",),
    ),
]

# ---- shapes ------------------------------------------------------------------------------------


def _squeeze_spec(draw):
    s = draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=4).map(tuple))
    ones = [i for i, d in enumerate(s) if d == 1]
    axis = draw(st.none() | st.sampled_from(ones) if ones else st.none())
    return Spec((s,), {"axis": axis})


def _expand_dims_spec(draw):
    s = draw(shape())
    n = len(s) + 1
    axis = draw(st.integers(-n, n - 1) | st.just((0, -1)) if n >= 2 else st.integers(-n, n - 1))
    return Spec((s,), {"axis": axis})


def _moveaxis_spec(draw):
    s = draw(shape(min_dims=1))
    n = len(s)
    k = draw(st.integers(1, n))
    src = draw(st.permutations(range(n)))[:k]
    dst = draw(st.permutations(range(-n, 0)))[:k]
    if k == 1 and draw(st.booleans()):
        return Spec((s,), {"source": src[0], "destination": dst[0]})
    return Spec((s,), {"source": tuple(src), "destination": tuple(dst)})


def _swapaxes_spec(draw):
    s = draw(shape(min_dims=1))
    n = len(s)
    return Spec(
        (s,), {"axis1": draw(st.integers(-n, n - 1)), "axis2": draw(st.integers(-n, n - 1))}
    )


def _stack_spec(draw):
    s = draw(shape())
    n = len(s) + 1
    return Spec((s, s, s), {"axis": draw(st.integers(-n, n - 1))})


def _stack_spec_for(axis_of_rank):
    """Shapes for hstack/vstack: equal except along the axis they join."""

    def spec(draw):
        rank = draw(st.sampled_from([1, 2, 3]))
        base = list(draw(shape(min_dims=rank, max_dims=rank, min_side=1)))
        axis = axis_of_rank(rank)
        shapes = []
        for _ in range(3):
            t = list(base)
            if axis is not None:
                t[axis] = draw(st.integers(1, 3))
            shapes.append(tuple(t))
        return Spec(tuple(shapes), {})

    return _with(spec)


def _seq(fn):
    return lambda a, b, c, **kw: fn([a, b, c], **kw)


def _split_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    n = len(s)
    axis = draw(st.integers(-n, n - 1))
    d = s[axis]
    divisors = [k for k in range(1, d + 1) if d % k == 0]
    if draw(st.booleans()):
        sections = draw(st.sampled_from(divisors))
    else:
        sections = sorted(draw(st.lists(st.integers(0, d + 1), max_size=3)))
    return Spec((s,), {"indices_or_sections": sections, "axis": axis})


def _tile_spec(draw):
    s = draw(shape())
    reps = draw(st.integers(1, 3) | st.lists(st.integers(1, 3), max_size=3).map(tuple))
    return Spec((s,), {"reps": reps})


def _repeat_spec(draw):
    s = draw(shape(min_dims=1))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    n = int(np.prod(s)) if axis is None else s[axis]
    repeats = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return Spec((s,), {"repeats": repeats, "axis": axis})


def _roll_spec(draw):
    s = draw(shape(min_dims=1))
    n = len(s)
    if draw(st.booleans()):
        return Spec(
            (s,),
            {"shift": draw(st.integers(-5, 5)), "axis": draw(st.none() | st.integers(-n, n - 1))},
        )
    axes = draw(st.permutations(range(n)))[: draw(st.integers(1, n))]
    shifts = tuple(draw(st.integers(-5, 5)) for _ in axes)
    return Spec((s,), {"shift": shifts, "axis": tuple(axes)})


def _pad_mode_spec(draw):
    s = draw(shape(min_dims=1, min_side=2))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in s)
    return Spec(
        (s,),
        {
            "pad_width": widths,
            "mode": draw(st.sampled_from(["edge", "reflect", "wrap", "symmetric"])),
        },
    )


def _reshape_ravel_spec(draw):
    return Spec((draw(shape()),), {})


SHAPES = [
    Case("ravel", fnp.ravel, np.ravel, _with(_reshape_ravel_spec), args("real"), api=("ravel",)),
    Case("squeeze", fnp.squeeze, np.squeeze, _with(_squeeze_spec), args("real"), api=("squeeze",)),
    Case(
        "expand_dims",
        fnp.expand_dims,
        np.expand_dims,
        _with(_expand_dims_spec),
        args("real"),
        api=("expand_dims",),
    ),
    Case(
        "moveaxis",
        fnp.moveaxis,
        np.moveaxis,
        _with(_moveaxis_spec),
        args("real"),
        api=("moveaxis",),
    ),
    Case(
        "swapaxes",
        fnp.swapaxes,
        np.swapaxes,
        _with(_swapaxes_spec),
        args("real"),
        api=("swapaxes",),
    ),
    Case(
        "stack",
        _seq(fnp.stack),
        _seq(np.stack),
        _with(_stack_spec),
        args("real", "real", "real"),
        nargs=3,
        api=("stack",),
    ),
    Case(
        "hstack",
        _seq(fnp.hstack),
        _seq(np.hstack),
        _stack_spec_for(lambda rank: 0 if rank == 1 else 1),
        args("real", "real", "real"),
        nargs=3,
        api=("hstack",),
    ),
    Case(
        "vstack",
        _seq(fnp.vstack),
        _seq(np.vstack),
        _stack_spec_for(lambda rank: None if rank == 1 else 0),
        args("real", "real", "real"),
        nargs=3,
        api=("vstack",),
    ),
    Case(
        "dstack",
        _seq(fnp.dstack),
        _seq(np.dstack),
        _stack_spec_for(lambda rank: None if rank < 3 else 2),
        args("real", "real", "real"),
        nargs=3,
        api=("dstack",),
    ),
    Case("split", fnp.split, np.split, _with(_split_spec), args("real"), api=("split",)),
    Case(
        "array_split",
        fnp.array_split,
        np.array_split,
        _with(_split_spec),
        args("real"),
        api=("array_split",),
    ),
    Case("tile", fnp.tile, np.tile, _with(_tile_spec), args("real"), api=("tile",)),
    Case("repeat", fnp.repeat, np.repeat, _with(_repeat_spec), args("real"), api=("repeat",)),
    Case("roll", fnp.roll, np.roll, _with(_roll_spec), args("real"), api=("roll",)),
    Case("pad_modes", fnp.pad, np.pad, _with(_pad_mode_spec), args("real"), api=("pad",)),
    Case(
        "fliplr",
        fnp.fliplr,
        np.fliplr,
        shape(min_dims=2).map(lambda s: Spec((s,), {})),
        args("real"),
        api=("fliplr", "flip"),
    ),
    Case(
        "flipud",
        fnp.flipud,
        np.flipud,
        shape(min_dims=1).map(lambda s: Spec((s,), {})),
        args("real"),
        api=("flipud", "flip"),
    ),
]

CASES = ELEMENTWISE + REDUCTIONS + CONTRACTIONS + SHAPES

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
