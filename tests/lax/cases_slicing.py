"""Table rows for slicing and indexing (slice, pad, concatenate, rev, gather, scatter)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.lax as lax
import fnn.numpy as fnp
from tests.lax.harness import DOMAINS, Case, Spec, args, axis_spec, distinct_args, shape

# ---- slice and basic indexing -----------------------------------------------------------


@st.composite
def _slice_spec(draw):
    s = draw(shape(min_dims=1))
    start, limit, strides = [], [], []
    for d in s:
        lo = draw(st.integers(0, d))
        start.append(lo)
        limit.append(draw(st.integers(lo, d)))
        strides.append(draw(st.integers(1, 3)))
    return Spec((s,), {"start": tuple(start), "limit": tuple(limit), "strides": tuple(strides)})


def _np_slice(x, start, limit, strides):
    return x[tuple(slice(a, b, c) for a, b, c in zip(start, limit, strides, strict=True))]


@st.composite
def _basic_index_spec(draw):
    s = draw(shape(min_dims=1))
    k = draw(st.integers(1, len(s)))
    # Index the leading k axes, or (after an Ellipsis) the trailing k axes.
    trailing = draw(st.booleans())
    idx = []
    for d in s[len(s) - k :] if trailing else s[:k]:
        if d and draw(st.booleans()):
            idx.append(draw(st.integers(-d, d - 1)))
        else:
            bound = st.none() | st.integers(-d - 1, d + 1)
            idx.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2]))))
    if draw(st.booleans()):
        idx.insert(draw(st.integers(0, len(idx))), None)
    if trailing:
        idx.insert(0, Ellipsis)
    return Spec((s,), {"idx": tuple(idx)})


def _getitem(x, idx):
    return x[idx]


def _fnn_getitem(x, idx):
    return fnp.asarray(x)[idx]


# ---- pad ------------------------------------------------------------------------------------


@st.composite
def _np_pad_spec(draw):
    s = draw(shape(min_dims=1))
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    # numpy's three spellings: one int, one (before, after) pair, a pair per axis.
    widths = draw(st.integers(0, 2) | pair | st.tuples(*[pair] * len(s)))
    return Spec((s,), {"pad_width": widths, "constant_values": draw(st.sampled_from([0.0, 1.5]))})


@st.composite
def _lax_pad_spec(draw):
    s = draw(shape(min_dims=1))
    config = []
    for d in s:
        it = draw(st.integers(0, 2))
        full = d + max(d - 1, 0) * it
        lo = draw(st.integers(-min(full, 1), 2))
        hi = draw(st.integers(-min(full + lo, 1), 2))
        config.append((lo, hi, it))
    return Spec((s, ()), {"config": tuple(config)})


def _np_lax_pad(x, padding_value, config):
    """lax.pad written independently: place each input index at lo + i * (interior + 1)."""
    out = x
    for axis, (lo, hi, it) in enumerate(config):
        d = out.shape[axis]
        n = lo + hi + d + max(d - 1, 0) * it
        shape_ = list(out.shape)
        shape_[axis] = n
        new = np.full(shape_, padding_value, dtype=x.dtype)
        for i in range(d):
            p = lo + i * (it + 1)
            if 0 <= p < n:
                dst = [slice(None)] * out.ndim
                src = [slice(None)] * out.ndim
                dst[axis], src[axis] = p, i
                new[tuple(dst)] = out[tuple(src)]
        out = new
    return out


# ---- concatenate and rev ----------------------------------------------------------------------


@st.composite
def _concat_spec(draw):
    s = draw(shape(min_dims=1))
    axis = draw(st.integers(-len(s), len(s) - 1))
    shapes = []
    for _ in range(3):
        t = list(s)
        t[axis] = draw(st.integers(0, 3))
        shapes.append(tuple(t))
    return Spec(tuple(shapes), {"axis": axis})


def _concat3(fn):
    return lambda a, b, c, axis: fn([a, b, c], axis=axis)


# ---- gather and scatter ----------------------------------------------------------------------


@st.composite
def _take_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    n = int(np.prod(s)) if axis is None else s[axis]
    return Spec((s, draw(shape(max_dims=2))), {"axis": axis}, {"bound": n})


def _index_values(dom="real", negative=True):
    """Arguments (x, indices): indices in [-bound, bound) (or [0, bound))."""

    def make(rng, spec):
        x = DOMAINS[dom](rng, spec.shapes[0])
        n = spec.extra["bound"]
        idx = rng.integers(-n if negative else 0, n, spec.shapes[1])
        return [np.asarray(x), np.asarray(idx)]

    return make


@st.composite
def _take_along_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    axis = draw(st.integers(-len(s), len(s) - 1))
    idx_shape = list(s)
    idx_shape[axis] = draw(st.integers(1, 4))
    return Spec((s, tuple(idx_shape)), {"axis": axis}, {"bound": s[axis]})


@st.composite
def _advanced_index_spec(draw):
    """x[i], x[:, i], x[i, j] or x[i, :, j] with integer index array arguments."""
    s = draw(shape(min_dims=1, min_side=1))
    patterns = [("a",)]
    if len(s) >= 2:
        patterns += [("s", "a"), ("a", "a")]
    if len(s) >= 3:
        patterns += [("a", "s", "a")]
    pattern = draw(st.sampled_from(patterns))
    idx_shape = draw(shape(max_dims=2))
    bounds = [d for d, p in zip(s, pattern, strict=False) if p == "a"]
    return Spec((s,) + (idx_shape,) * len(bounds), {"pattern": pattern}, {"bounds": bounds})


def _advanced_values(rng, spec):
    x = rng.normal(size=spec.shapes[0])
    idx = [rng.integers(-n, n, spec.shapes[1]) for n in spec.extra["bounds"]]
    return [x, *idx]


def _index_with(x, *idx, pattern):
    it = iter(idx)
    return x[tuple(next(it) if p == "a" else slice(None) for p in pattern)]


def _fnn_index_with(x, *idx, pattern):
    # A numpy x would index itself (and reject traced indices): make it an fnn array.
    return _index_with(fnp.asarray(x), *idx, pattern=pattern)


@st.composite
def _scatter_spec(draw, unique):
    """x, an index array along ``axis`` (0 or 1: ``x.at[:, idx]``), and the updates."""
    s = draw(shape(min_dims=1, min_side=1))
    axis = draw(st.sampled_from([0, 1] if len(s) >= 2 else [0]))
    n = s[axis]
    k = draw(st.integers(1, n)) if unique else draw(st.integers(1, 5))
    u_shape = s[:axis] + (k,) + s[axis + 1 :]
    if draw(st.booleans()):  # updates that broadcast
        u_shape = u_shape[draw(st.integers(0, len(u_shape))) :]
    return Spec((s, (k,), u_shape), {"axis": axis}, {"unique": unique, "bound": n})


def _scatter_values(rng, spec):
    x_shape, (k,), u_shape = spec.shapes
    n = spec.extra["bound"]
    if spec.extra["unique"]:
        idx = rng.permutation(n)[:k] - rng.integers(0, 2) * n  # negative half the time
    else:
        idx = rng.integers(-n, n, k)
    # x and u from one pool of distinct values: no ties for min/max (their kinks).
    x, u = distinct_args(rng, Spec((x_shape, u_shape), {}))
    return [x, idx, u]


def _np_scatter(mode):
    def ref(x, idx, u, axis):
        out = np.array(x, copy=True)
        index = (slice(None),) * axis + (idx,)
        u = np.broadcast_to(u, out[index].shape)
        {
            "set": lambda: out.__setitem__(index, u),
            "add": lambda: np.add.at(out, index, u),
            "multiply": lambda: np.multiply.at(out, index, u),
            "min": lambda: np.minimum.at(out, index, u),
            "max": lambda: np.maximum.at(out, index, u),
        }[mode]()
        return out

    return ref


def _at(mode):
    def fn(x, idx, u, axis):
        index = (slice(None),) * axis + (idx,)
        return getattr(fnp.asarray(x).at[index], mode)(u)

    return fn


@st.composite
def _scatter_slice_spec(draw):
    s = draw(shape(min_dims=1))
    d = s[0]
    sl = slice(
        draw(st.integers(-d, d)), draw(st.integers(-d, d)), draw(st.sampled_from([1, 2, -1]))
    )
    k = len(range(*sl.indices(d)))
    return Spec((s, (k,) + s[1:]), {"sl": sl})


def _np_scatter_slice_add(x, u, sl):
    out = np.array(x, copy=True)
    out[sl] += u
    return out


def _scatter(name, mode, unique, **kw):
    return Case(
        name,
        _at(mode),
        _np_scatter(mode),
        _scatter_spec(unique),
        _scatter_values,
        prims=("scatter",),
        nargs=3,
        **kw,
    )


CASES = [
    Case("slice", lax.slice, _np_slice, _slice_spec(), args("real"), prims=("slice",)),
    Case(
        "getitem_basic",
        _fnn_getitem,
        _getitem,
        _basic_index_spec(),
        args("real"),
        prims=("slice", "rev", "reshape"),
    ),
    Case("pad", fnp.pad, np.pad, _np_pad_spec(), args("real"), prims=("pad",)),
    Case(
        "pad_lax",
        lax.pad,
        _np_lax_pad,
        _lax_pad_spec(),
        args("real", "real"),
        prims=("pad",),
        nargs=2,
        returns_array=False,
    ),
    Case(
        "concatenate",
        _concat3(fnp.concatenate),
        _concat3(np.concatenate),
        _concat_spec(),
        args("real", "real", "real"),
        prims=("concatenate",),
        api=("concatenate",),
        nargs=3,
    ),
    Case(
        "concatenate_int",
        _concat3(fnp.concatenate),
        _concat3(np.concatenate),
        _concat_spec(),
        args("int", "int", "int"),
        diff=None,
        prims=("concatenate",),
        nargs=3,
    ),
    Case("flip", fnp.flip, np.flip, axis_spec(keepdims=False), args("real"), prims=("rev",)),
    Case("take", fnp.take, np.take, _take_spec(), _index_values(), prims=("gather",), nargs=2),
    Case(
        "take_along_axis",
        fnp.take_along_axis,
        np.take_along_axis,
        _take_along_spec(),
        _index_values(negative=False),
        prims=("gather",),
        nargs=2,
    ),
    Case(
        "getitem_advanced",
        _fnn_index_with,
        _index_with,
        _advanced_index_spec(),
        _advanced_values,
        prims=("gather",),
        nargs=2,
    ),
    _scatter("scatter_set", "set", True),
    _scatter("scatter_add", "add", False),
    _scatter("scatter_mul", "multiply", True),
    _scatter("scatter_min", "min", True),
    _scatter("scatter_max", "max", True),
    Case(
        "scatter_slice_add",
        lambda x, u, sl: fnp.asarray(x).at[sl].add(u),
        _np_scatter_slice_add,
        _scatter_slice_spec(),
        args("real", "real"),
        prims=("scatter",),
        nargs=2,
    ),
]
