"""Table rows for the structural primitives (broadcast_in_dim, reshape, transpose,
reduce_sum, convert_element_type) and the other reductions (max, min, prod, argmax,
argmin, cumsum, cumprod)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.lax as lax
import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, axis_spec, same_shapes, shape

# ---- structural -------------------------------------------------------------------------


@st.composite
def _broadcast_to_spec(draw):
    target = draw(shape())
    rank = draw(st.integers(0, len(target)))
    src = tuple(d if draw(st.booleans()) else 1 for d in target[len(target) - rank :])
    return Spec((src,), {"shape": target})


@st.composite
def _broadcast_in_dim_spec(draw):
    target = draw(shape(min_dims=1))
    dims = tuple(sorted(draw(st.sets(st.integers(0, len(target) - 1)))))
    src = tuple(target[d] if draw(st.booleans()) else 1 for d in dims)
    return Spec((src,), {"shape": target, "broadcast_dimensions": dims})


def _np_broadcast_in_dim(x, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape)


@st.composite
def _reshape_spec(draw):
    s = draw(shape())
    n = int(np.prod(s))
    options = [(-1,), s[::-1], (1,) + s, (n, 1), (1, -1)]
    options += [(d, n // d) for d in range(1, n + 1) if n % d == 0]
    return Spec((s,), {"shape": draw(st.sampled_from(options))})


@st.composite
def _transpose_spec(draw):
    s = draw(shape())
    n = len(s)
    perm = draw(st.permutations(range(n)))
    perm = [p - n if draw(st.booleans()) else p for p in perm]
    return Spec((s,), {"axes": draw(st.sampled_from([None, tuple(perm)]))})


def _reduce(name, fn, ref, dom="real", prims=(), nonempty=False, **kw):
    # max, min and argmax have no identity: numpy rejects empty axes, and so does fnn.
    spec = axis_spec(min_side=1 if nonempty else 0)
    return Case(name, fn, ref, spec, args(dom), prims=prims, **kw)


STRUCTURAL = [
    Case(
        "broadcast_to",
        fnp.broadcast_to,
        np.broadcast_to,
        _broadcast_to_spec(),
        args("real"),
        prims=("broadcast_in_dim",),
    ),
    Case(
        "broadcast_in_dim",
        lax.broadcast_in_dim,
        _np_broadcast_in_dim,
        _broadcast_in_dim_spec(),
        args("real"),
        prims=("broadcast_in_dim",),
        returns_array=False,
    ),
    Case("reshape", fnp.reshape, np.reshape, _reshape_spec(), args("real"), prims=("reshape",)),
    Case(
        "transpose",
        fnp.transpose,
        np.transpose,
        _transpose_spec(),
        args("real"),
        prims=("transpose",),
    ),
    _reduce("sum", fnp.sum, np.sum, prims=("reduce_sum",)),
    _reduce("sum_int", fnp.sum, np.sum, "int", diff=None, prims=("reduce_sum",)),
    _reduce("sum_bool", fnp.sum, np.sum, "bool", diff=None, prims=("reduce_sum",)),
    Case(
        "astype_int",
        lambda x: fnp.astype(x, np.int32),
        lambda x: x.astype(np.int32),
        same_shapes(1),
        args("frac"),
        diff=None,
        prims=("convert_element_type",),
    ),
    Case(
        "astype_float",
        lambda x: fnp.astype(x, np.float32),
        lambda x: x.astype(np.float32),
        same_shapes(1),
        args("int"),
        diff=None,
        prims=("convert_element_type",),
    ),
    Case(
        "astype_bool",
        lambda x: fnp.astype(x, np.int32),
        lambda x: x.astype(np.int32),
        same_shapes(1),
        args("bool"),
        diff=None,
        prims=("convert_element_type",),
    ),
]

# ---- reductions ---------------------------------------------------------------------------


def _lax_cum_spec():
    @st.composite
    def spec(draw):
        s = draw(shape(min_dims=1))
        return Spec(
            (s,), {"axis": draw(st.integers(0, len(s) - 1)), "reverse": draw(st.booleans())}
        )

    return spec()


def _np_cum(fn):
    def ref(x, axis, reverse):
        if reverse:
            return np.flip(fn(np.flip(x, axis), axis=axis), axis)
        return fn(x, axis=axis)

    return ref


_cum_axis = axis_spec(tuples=False, keepdims=False)
_arg_axis = axis_spec(tuples=False, min_side=1)

REDUCTIONS = [
    _reduce("reduce_max", fnp.max, np.max, "distinct", nonempty=True, prims=("reduce_max",)),
    _reduce("reduce_min", fnp.min, np.min, "distinct", nonempty=True, prims=("reduce_min",)),
    _reduce(
        "reduce_max_int", fnp.max, np.max, "int", nonempty=True, diff=None, prims=("reduce_max",)
    ),
    _reduce("prod", fnp.prod, np.prod, "away0", prims=("reduce_prod",)),
    _reduce("prod_zeros", fnp.prod, np.prod, "zeros", prims=("reduce_prod",)),
    _reduce("all", fnp.all, np.all, "bool", diff=None, prims=("reduce_min",)),
    _reduce("any", fnp.any, np.any, "bool", diff=None, prims=("reduce_max",)),
    Case(
        "argmax", fnp.argmax, np.argmax, _arg_axis, args("distinct"), diff=None, prims=("argmax",)
    ),
    Case(
        "argmin", fnp.argmin, np.argmin, _arg_axis, args("distinct"), diff=None, prims=("argmin",)
    ),
    Case("argmax_int", fnp.argmax, np.argmax, _arg_axis, args("int"), diff=None, prims=("argmax",)),
    Case("cumsum", fnp.cumsum, np.cumsum, _cum_axis, args("real"), prims=("cumsum",)),
    Case("cumprod", fnp.cumprod, np.cumprod, _cum_axis, args("real"), prims=("cumprod",)),
    Case("cumprod_zeros", fnp.cumprod, np.cumprod, _cum_axis, args("zeros"), prims=("cumprod",)),
    Case("cumsum_int", fnp.cumsum, np.cumsum, _cum_axis, args("int"), diff=None, prims=("cumsum",)),
    Case(
        "cumsum_reverse",
        lax.cumsum,
        _np_cum(np.cumsum),
        _lax_cum_spec(),
        args("real"),
        prims=("cumsum",),
    ),
    Case(
        "cumprod_reverse",
        lax.cumprod,
        _np_cum(np.cumprod),
        _lax_cum_spec(),
        args("zeros"),
        prims=("cumprod",),
    ),
]

CASES = STRUCTURAL + REDUCTIONS
