"""Rows of the shared harness (tests/lax/harness.py) for the numpy functions of issue
23's "numpy breadth" list: append, diagonal, diff, gradient, kron, cross, rollaxis,
rot90, select, partition, the split family, ... Each row is checked against numpy in
float32 and float64, against finite differences (first and second derivatives), for
the vjp/jvp adjoint identity, under jit and under vmap (tests/numpy/test_breadth.py).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, shape


def _with(spec_fn):
    return st.composite(spec_fn)()


def _axis(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


# ---- shapes ------------------------------------------------------------------------------


def _append_spec(draw):
    s = draw(shape(min_dims=1))
    if draw(st.booleans()):
        return Spec((s, draw(shape())), {"axis": None})
    ax = _axis(draw, len(s))
    t = list(s)
    t[ax] = draw(st.integers(0, 3))
    return Spec((s, tuple(t)), {"axis": ax})


def _rollaxis_spec(draw):
    s = draw(shape(min_dims=1))
    n = len(s)
    return Spec((s,), {"axis": _axis(draw, n), "start": draw(st.integers(-n, n))})


def _rot90_spec(draw):
    s = draw(shape(min_dims=2))
    n = len(s)
    a0, a1 = draw(st.permutations(range(n)))[:2]
    if draw(st.booleans()):
        a0 -= n
    return Spec((s,), {"k": draw(st.integers(-5, 5)), "axes": (a0, a1)})


def _split_family_spec(rank, axis_of):
    def spec(draw):
        s = list(draw(shape(min_dims=rank, max_dims=max(rank, 3), min_side=1)))
        ax = axis_of(len(s))
        s[ax] = draw(st.sampled_from([2, 4, 6]))
        if draw(st.booleans()):
            sections = draw(st.sampled_from([k for k in (1, 2) if s[ax] % k == 0]))
        else:
            sections = sorted(draw(st.lists(st.integers(0, s[ax] + 1), max_size=3)))
        return Spec((tuple(s),), {"indices_or_sections": sections})

    return _with(spec)


def _diagonal_spec(draw):
    # Negative axes, and offsets past the edge (an empty diagonal).
    s = draw(shape(min_dims=2, max_dims=4, min_side=1))
    n = len(s)
    a1, a2 = draw(st.permutations(range(n)))[:2]
    return Spec(
        (s,),
        {
            "offset": draw(st.integers(-5, 5)),
            "axis1": a1 - n,
            "axis2": a2 - n * draw(st.booleans()),
        },
    )


SHAPES = [
    Case(
        "flatten_method",
        lambda x, order: fnp.asarray(x).flatten(order),
        lambda x, order: x.flatten(order),
        shape().flatmap(
            lambda s: st.sampled_from(["C", "F"]).map(lambda o: Spec((s,), {"order": o}))
        ),
        args("real"),
        api=("ndarray.flatten",),
    ),
    Case(
        "real_of_real",
        fnp.real,
        np.real,
        shape().map(lambda s: Spec((s,), {})),
        args("real"),
        api=("real",),
    ),
    Case(
        "imag_of_real",
        fnp.imag,
        np.imag,
        shape().map(lambda s: Spec((s,), {})),
        args("real"),
        diff=False,
        api=("imag",),
    ),
    Case("append", fnp.append, np.append, _with(_append_spec), args("real", "real"), nargs=2),
    Case("rollaxis", fnp.rollaxis, np.rollaxis, _with(_rollaxis_spec), args("real")),
    Case("rot90", fnp.rot90, np.rot90, _with(_rot90_spec), args("real")),
    Case(
        "vsplit",
        fnp.vsplit,
        np.vsplit,
        _split_family_spec(2, lambda n: 0),
        args("real"),
    ),
    Case(
        "hsplit",
        fnp.hsplit,
        np.hsplit,
        _split_family_spec(1, lambda n: 1 if n > 1 else 0),
        args("real"),
    ),
    Case(
        "dsplit",
        fnp.dsplit,
        np.dsplit,
        _split_family_spec(3, lambda n: 2),
        args("real"),
    ),
    Case(
        "diagonal_negative_axes",
        fnp.diagonal,
        np.diagonal,
        _with(_diagonal_spec),
        args("real"),
        api=("diagonal",),
    ),
    Case(
        "ravel_order_F",
        lambda x: fnp.ravel(x, order="F"),
        lambda x: np.ravel(x, order="F"),
        shape().map(lambda s: Spec((s,), {})),
        args("real"),
        api=("ravel",),
    ),
    Case(
        "reshape_order_F",
        lambda x: fnp.reshape(x, (-1, 2), order="F"),
        lambda x: np.reshape(x, (-1, 2), order="F"),
        shape(min_dims=1).map(lambda s: Spec((s[:-1] + (2 * s[-1],),), {})),
        args("real"),
        api=("reshape",),
    ),
]

# ---- differences and integrals ---------------------------------------------------------------


def _diff_spec(draw):
    s = draw(shape(min_dims=1))
    n = len(s)
    params = {"n": draw(st.integers(0, 3)), "axis": _axis(draw, n)}
    if draw(st.booleans()):
        params["prepend"] = draw(st.sampled_from([-1.5, 2.0]))
    return Spec((s,), params)


def _diff_edges_spec(draw):
    s = draw(shape(min_dims=1))
    ax = _axis(draw, len(s))
    pre, app = list(s), list(s)
    pre[ax], app[ax] = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    return Spec((s, tuple(pre), tuple(app)), {"n": draw(st.integers(1, 2)), "axis": ax})


def _gradient_spec(draw):
    edge_order = draw(st.sampled_from([1, 2]))
    s = draw(shape(min_dims=1, min_side=edge_order + 1))
    n = len(s)
    params = {"edge_order": edge_order}
    if draw(st.booleans()):
        params["axis"] = _axis(draw, n)
    if draw(st.booleans()):
        params["spacing"] = draw(st.sampled_from([0.5, 2.0]))
    return Spec((s,), params)


def _gradient(module):
    def fn(f, spacing=None, **kw):
        return module.gradient(f, *(() if spacing is None else (spacing,)), **kw)

    return fn


def _gradient_coords_spec(draw):
    # Uneven sample coordinates along one axis (their steps are an argument too).
    edge_order = draw(st.sampled_from([1, 2]))
    s = draw(shape(min_dims=1, min_side=edge_order + 1))
    ax = _axis(draw, len(s))
    return Spec((s, (s[ax],)), {"axis": ax, "edge_order": edge_order})


def _gradient_coords(module):
    def fn(f, steps, axis, edge_order):
        return module.gradient(f, module.cumsum(steps), axis=axis, edge_order=edge_order)

    return fn


def _trapezoid_spec(draw):
    s = draw(shape(min_dims=1))
    ax = _axis(draw, len(s))
    kind = draw(st.sampled_from(["dx", "x1d", "xfull"]))
    if kind == "dx":
        return Spec((s, ()), {"axis": ax, "kind": kind})
    return Spec((s, (s[ax],) if kind == "x1d" else s), {"axis": ax, "kind": kind})


def _trapezoid(module):
    def fn(y, x, axis, kind):
        if kind == "dx":
            return module.trapezoid(y, dx=x, axis=axis)
        return module.trapezoid(y, x, axis=axis)

    return fn


CALCULUS = [
    Case("diff", fnp.diff, np.diff, _with(_diff_spec), args("real")),
    Case(
        "diff_prepend_append",
        lambda a, p, q, **kw: fnp.diff(a, prepend=p, append=q, **kw),
        lambda a, p, q, **kw: np.diff(a, prepend=p, append=q, **kw),
        _with(_diff_edges_spec),
        args("real", "real", "real"),
        nargs=3,
        api=("diff",),
    ),
    Case(
        "diff_bool",
        fnp.diff,
        np.diff,
        _with(_diff_spec).map(
            lambda s: Spec(s.shapes, {k: v for k, v in s.params.items() if k != "prepend"})
        ),
        args("bool"),
        diff=None,
        api=("diff",),
    ),
    Case(
        "ediff1d",
        lambda a, b: fnp.ediff1d(a, to_begin=b, to_end=-1.0),
        lambda a, b: np.ediff1d(a, to_begin=b, to_end=-1.0),
        st.tuples(shape(), shape(max_dims=1)).map(lambda t: Spec(t, {})),
        args("real", "real"),
        nargs=2,
    ),
    Case("gradient", _gradient(fnp), _gradient(np), _with(_gradient_spec), args("real")),
    Case(
        "gradient_coordinates",
        _gradient_coords(fnp),
        _gradient_coords(np),
        _with(_gradient_coords_spec),
        args("real", "pos"),
        nargs=2,
        api=("gradient",),
        rtol32=2e-4,  # divided differences of float32 samples over small steps
    ),
    Case(
        "gradient_of_ints",
        fnp.gradient,
        np.gradient,
        shape(min_dims=1, max_dims=1, min_side=2).map(lambda s: Spec((s,), {})),
        args("int"),
        diff=None,
        api=("gradient",),
    ),
    Case(
        "trapezoid",
        _trapezoid(fnp),
        _trapezoid(np),
        _with(_trapezoid_spec),
        args("real", "real"),
        nargs=2,
    ),
]

# ---- products --------------------------------------------------------------------------------


def _kron_spec(draw):
    return Spec((draw(shape(max_dims=3, max_side=3)), draw(shape(max_dims=3, max_side=3))), {})


def _cross_spec(draw):
    la, lb = draw(st.sampled_from([2, 3])), draw(st.sampled_from([2, 3]))
    lead = draw(shape(max_dims=2, min_side=1, max_side=3))
    other = tuple(draw(st.sampled_from([1, d])) for d in lead)
    other = other[draw(st.integers(0, len(other))) :]  # fewer leading axes broadcast too
    ia, ib = draw(st.integers(0, len(lead))), draw(st.integers(0, len(other)))
    sa = lead[:ia] + (la,) + lead[ia:]
    sb = other[:ib] + (lb,) + other[ib:]
    params = {"axisa": ia - draw(st.sampled_from([0, len(sa)])), "axisb": ib}
    if la == 3 or lb == 3:
        params["axisc"] = _axis(draw, max(len(lead), len(other)) + 1)
    return Spec((sa, sb), params)


def _cross_axis_spec(draw):
    lead = draw(shape(max_dims=2, min_side=1, max_side=3))
    ax = draw(st.integers(0, len(lead)))
    s = lead[:ax] + (3,) + lead[ax:]
    return Spec((s, s), {"axis": ax})


def _cross_ref(a, b, **kw):
    with warnings.catch_warnings():  # numpy 2 deprecates 2-vectors; JAX keeps them
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.cross(a, b, **kw)


PRODUCTS = [
    Case(
        "kron_any_rank",
        fnp.kron,
        np.kron,
        _with(_kron_spec),
        args("real", "real"),
        nargs=2,
        api=("kron",),
    ),
    Case(
        "cross_axes",
        fnp.cross,
        _cross_ref,
        _with(_cross_spec),
        args("real", "real"),
        nargs=2,
        api=("cross",),
    ),
    Case(
        "cross_axis",
        fnp.cross,
        _cross_ref,
        _with(_cross_axis_spec),
        args("real", "real"),
        nargs=2,
        api=("cross",),
    ),
]

# ---- choosing and sorting ----------------------------------------------------------------------


def _select_spec(draw):
    s = draw(shape(min_dims=1))
    return Spec((s, s, s, s), {})


def _select(module):
    def fn(c1, c2, x, y):
        return module.select([c1, c2], [x, 2.0 * y], default=-1.0)

    return fn


def _piecewise(module):
    def fn(x):
        return module.piecewise(x, [x < -0.5, x > 0.5], [lambda v: v**2, lambda v: -v, 3.0])

    return fn


def _partition_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    n = len(s)
    axis = draw(st.none() | st.integers(-n, n - 1))
    length = int(np.prod(s)) if axis is None else s[axis]
    kth = draw(
        st.integers(-length, length - 1)
        | st.lists(st.integers(0, length - 1), min_size=1, max_size=2)
    )
    return Spec((s,), {"kth": kth, "axis": axis})


def _sorted_ref(a, kth, axis):
    # fnn's partition sorts the whole axis: one of the valid partitions (the property
    # itself is checked against numpy.partition in test_breadth.py).
    del kth
    return np.sort(a, axis=axis)


def _stable_argsort_ref(a, kth, axis):
    del kth
    return np.argsort(a, axis=axis, kind="stable")


SELECTION = [
    Case(
        "select",
        _select(fnp),
        _select(np),
        _with(_select_spec),
        args("bool", "bool", "real", "real"),
        nargs=4,
        api=("select",),
    ),
    Case(
        "piecewise",
        _piecewise(fnp),
        _piecewise(np),
        shape().map(lambda s: Spec((s,), {})),
        args("frac"),
        api=("piecewise",),
    ),
    Case(
        "choose_wrap",
        lambda i, a, b: fnp.choose(i, [a, b], mode="wrap"),
        lambda i, a, b: np.choose(i, [a, b], mode="wrap"),
        _with(lambda draw: Spec((draw(shape()),) * 3, {})),
        args("int", "real", "real"),
        nargs=3,
        api=("choose",),
    ),
    Case("partition", fnp.partition, _sorted_ref, _with(_partition_spec), args("distinct")),
    Case(
        "argpartition",
        fnp.argpartition,
        _stable_argsort_ref,
        _with(_partition_spec),
        args("int"),
        diff=None,
    ),
]

CASES = SHAPES + CALCULUS + PRODUCTS + SELECTION

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
