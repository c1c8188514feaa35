"""Harness rows (tests/lax/harness.py) for the rest of fnn.numpy's breadth: the array
API names, insert/delete/block and the in-place writes' functional forms, index arrays,
polynomials and convolution, interp and unwrap, lexsort, i0 and kaiser, isin,
vectorize and apply_along_axis, geomspace, and bit packing."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, axis_spec, broadcast_shapes, same_shapes, shape


def _with(spec_fn):
    return st.composite(spec_fn)()


def _axis(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


# ---- the array API's names ------------------------------------------------------------------


def _cumulative_spec(draw):
    s = draw(shape(min_dims=1))
    axis = draw(st.integers(-len(s), len(s) - 1)) if len(s) > 1 else draw(st.none() | st.just(0))
    return Spec((s,), {"axis": axis, "include_initial": draw(st.booleans())})


def _matvec_spec(draw):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(shape(max_dims=2, min_side=1, max_side=2))
    other = batch[draw(st.integers(0, len(batch))) :]
    return Spec((batch + (m, n), other + (n,)), {})


def _vecmat_spec(draw):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(shape(max_dims=2, min_side=1, max_side=2))
    other = batch[draw(st.integers(0, len(batch))) :]
    return Spec((other + (n,), batch + (n, m)), {})


def _unstack_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    return Spec((s,), {"axis": _axis(draw, len(s))})


def _permute_spec(draw):
    s = draw(shape())
    return Spec((s,), {"axes": tuple(draw(st.permutations(range(len(s)))))})


ARRAY_API = [
    Case(
        "cumulative_sum",
        fnp.cumulative_sum,
        np.cumulative_sum,
        _with(_cumulative_spec),
        args("real"),
    ),
    Case(
        "cumulative_prod",
        fnp.cumulative_prod,
        np.cumulative_prod,
        _with(_cumulative_spec),
        args("real"),
    ),
    Case("matvec", fnp.matvec, np.matvec, _with(_matvec_spec), args("real", "real"), nargs=2),
    Case("vecmat", fnp.vecmat, np.vecmat, _with(_vecmat_spec), args("real", "real"), nargs=2),
    Case("unstack", fnp.unstack, np.unstack, _with(_unstack_spec), args("real")),
    Case("permute_dims", fnp.permute_dims, np.permute_dims, _with(_permute_spec), args("real")),
]

# ---- insert, delete, block, and the in-place writes ---------------------------------------------


def _insert_spec(draw):
    s = draw(shape(min_dims=1, max_dims=2, min_side=1))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    n = int(np.prod(s)) if axis is None else s[axis]
    if draw(st.booleans()):
        obj = draw(st.integers(-n, n))
        values_shape = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    else:
        obj = tuple(draw(st.lists(st.integers(0, n), min_size=1, max_size=3)))
        values_shape = ()
    if axis is not None and values_shape and len(s) > 1:
        values_shape = ()  # a vector of new values fits a 1-D insert only
    return Spec((s, values_shape), {"obj": obj, "axis": axis})


def _insert(module):
    def fn(a, v, obj, axis):
        return module.insert(a, list(obj) if isinstance(obj, tuple) else obj, v, axis=axis)

    return fn


def _delete_spec(draw):
    s = draw(shape(min_dims=1, max_dims=3, min_side=1))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    n = int(np.prod(s)) if axis is None else s[axis]
    obj = draw(
        st.integers(-n, n - 1)
        | st.lists(st.integers(-n, n - 1), max_size=3).map(tuple)
        | st.just(slice(0, None, 2))
    )
    return Spec((s,), {"obj": obj, "axis": axis})


def _delete(module):
    def fn(a, obj, axis):
        return module.delete(a, list(obj) if isinstance(obj, tuple) else obj, axis=axis)

    return fn


def _block(module):
    def fn(a, b, c, d):
        return module.block([[a, b], [c, d]])

    return fn


def _block_spec(draw):
    r1, r2, c1, c2 = (draw(st.integers(1, 3)) for _ in range(4))
    return Spec(((r1, c1), (r1, c2), (r2, c1), (r2, c2)), {})


def _fill_diagonal(module):
    def fn(a, v, wrap):
        if module is np:
            out = a.copy()
            np.fill_diagonal(out, v, wrap=wrap)
            return out
        return fnp.fill_diagonal(a, v, wrap=wrap, inplace=False)

    return fn


def _fill_spec(draw):
    s = draw(st.sampled_from([(3, 3), (5, 2), (2, 4), (2, 2, 2)]))
    return Spec((s, (draw(st.integers(1, 3)),)), {"wrap": draw(st.booleans())})


def _put(module):
    def fn(a, v, ind, mode):
        if module is np:
            out = a.copy()
            np.put(out, np.asarray(ind), v, mode=mode)
            return out
        return fnp.put(a, np.asarray(ind), v, mode=mode, inplace=False)

    return fn


def _put_spec(draw):
    s = draw(shape(min_dims=1, max_dims=2, min_side=1))
    n = int(np.prod(s))
    mode = draw(st.sampled_from(["raise", "wrap", "clip"]))
    bound = (0, n - 1) if mode == "raise" else (-2 * n, 2 * n)
    ind = tuple(draw(st.lists(st.integers(*bound), min_size=1, max_size=3, unique=True)))
    if mode != "raise":  # distinct after wrapping or clipping: no order-dependent duplicates
        fix = (lambda i: i % n) if mode == "wrap" else (lambda i: min(max(i, 0), n - 1))
        seen, kept = set(), []
        for i in ind:
            if fix(i) not in seen:
                seen.add(fix(i))
                kept.append(i)
        ind = tuple(kept)
    return Spec((s, (draw(st.integers(1, 3)),)), {"ind": ind, "mode": mode})


def _put_along(module):
    def fn(a, v, idx, axis):
        idx = np.asarray(idx)
        if module is np:
            out = a.copy()
            np.put_along_axis(out, idx, v, axis)
            return out
        return fnp.put_along_axis(a, idx, v, axis, inplace=False)

    return fn


def _put_along_spec(draw):
    s = draw(shape(min_dims=1, max_dims=3, min_side=1))
    ax = draw(st.integers(0, len(s) - 1))
    # One index per slice (distinct positions, so no write is overwritten).
    idx_shape = tuple(1 if i == ax else d for i, d in enumerate(s))
    idx = np.asarray(draw(st.lists(st.integers(0, s[ax] - 1), min_size=int(np.prod(idx_shape)),
                                   max_size=int(np.prod(idx_shape))))).reshape(idx_shape)  # fmt: skip
    return Spec((s, idx_shape), {"idx": tuple(map(tuple, idx.reshape(-1, 1))), "axis": ax})


def _put_along_fix(module):
    inner = _put_along(module)

    def fn(a, v, idx, axis):
        shape_ = tuple(1 if i == axis else d for i, d in enumerate(np.shape(a)))
        return inner(a, v, np.asarray(idx).reshape(shape_), axis)

    return fn


def _place(module):
    def fn(a, v, mask):
        m = np.asarray(mask).reshape(np.shape(a))
        if module is np:
            out = a.copy()
            np.place(out, m, v)
            return out
        return fnp.place(a, m, v, inplace=False)

    return fn


def _place_spec(draw):
    s = draw(shape(min_dims=1, max_dims=2, min_side=1))
    mask = tuple(draw(st.lists(st.booleans(), min_size=int(np.prod(s)), max_size=int(np.prod(s)))))
    return Spec((s, (draw(st.integers(1, 3)),)), {"mask": mask})


ASSEMBLY = [
    Case("insert", _insert(fnp), _insert(np), _with(_insert_spec), args("real", "real"), nargs=2),
    Case("delete", _delete(fnp), _delete(np), _with(_delete_spec), args("real")),
    Case(
        "block",
        _block(fnp),
        _block(np),
        _with(_block_spec),
        args("real", "real", "real", "real"),
        nargs=4,
    ),
    Case(
        "resize",
        fnp.resize,
        np.resize,
        _with(lambda d: Spec((d(shape(min_side=1)),), {"new_shape": d(shape(max_dims=2))})),
        args("real"),
    ),
    Case(
        "diagflat",
        fnp.diagflat,
        np.diagflat,
        _with(lambda d: Spec((d(shape(max_dims=2)),), {"k": d(st.integers(-2, 2))})),
        args("real"),
    ),
    Case(
        "fill_diagonal",
        _fill_diagonal(fnp),
        _fill_diagonal(np),
        _with(_fill_spec),
        args("real", "real"),
        nargs=2,
    ),
    Case("put", _put(fnp), _put(np), _with(_put_spec), args("real", "real"), nargs=2),
    Case(
        "put_along_axis",
        _put_along_fix(fnp),
        _put_along_fix(np),
        _with(_put_along_spec),
        args("real", "real"),
        nargs=2,
    ),
    Case("place", _place(fnp), _place(np), _with(_place_spec), args("real", "real"), nargs=2),
]

# ---- index arrays ----------------------------------------------------------------------------


def _unravel_spec(draw):
    dims = draw(shape(min_dims=1, min_side=1))
    return Spec((draw(shape(max_dims=2)),), {"shape": dims, "order": draw(st.sampled_from("CF"))})


def _unravel(module):
    def fn(i, shape, order):
        size = int(np.prod(shape))
        return module.unravel_index(module.abs(i) % size, shape, order=order)

    return fn


def _ravel_multi(module):
    def fn(i, j, dims, mode):
        return module.ravel_multi_index((i, j), dims, mode=mode)

    return fn


INDEX_ARRAYS = [
    Case(
        "unravel_index", _unravel(fnp), _unravel(np), _with(_unravel_spec), args("int"), diff=None
    ),
    Case(
        "ravel_multi_index",
        _ravel_multi(fnp),
        _ravel_multi(np),
        broadcast_shapes(2).flatmap(
            lambda s: st.sampled_from(["wrap", "clip", ("clip", "wrap")]).map(
                lambda m: Spec(s.shapes, {"dims": (3, 4), "mode": m})
            )
        ),
        args("int", "int"),
        nargs=2,
        diff=None,
    ),
]

# ---- polynomials and convolution -------------------------------------------------------------


def _poly_pair_spec(draw):
    return Spec(((draw(st.integers(1, 4)),), (draw(st.integers(1, 4)),)), {})


def _conv_spec(draw):
    return Spec(((draw(st.integers(1, 5)),), (draw(st.integers(1, 5)),)),
                {"mode": draw(st.sampled_from(["full", "same", "valid"]))})  # fmt: skip


def _polyval_spec(draw):
    return Spec(((draw(st.integers(1, 4)),), draw(shape(max_dims=2))), {})


def _polyfit(module):
    def fn(x, y, deg):
        # Distinct, ordered sample points (a well-posed fit) from the real argument.
        xs = module.cumsum(module.abs(x) + 0.5)
        return module.polyfit(xs, y, deg)

    return fn


def _polyfit_spec(draw):
    n = draw(st.integers(4, 6))
    return Spec(((n,), (n,) if draw(st.booleans()) else (n, 2)), {"deg": draw(st.integers(0, 2))})


def _polydiv(module):
    def fn(u, v):
        v = module.concatenate([module.ones(1) * 1.5, v])  # a leading coefficient away from 0
        if module is np:
            q, r = np.polydiv(u, v)
            full = np.concatenate([np.zeros(len(u) - len(r)), r]) if len(r) < len(u) else r
            return q, full
        return fnp.polydiv(u, v)

    return fn


def _vander_spec(draw):
    n = draw(st.integers(0, 4))
    return Spec(
        ((n,),), {"N": draw(st.none() | st.integers(0, 4)), "increasing": draw(st.booleans())}
    )


POLYNOMIALS = [
    Case("polyval", fnp.polyval, np.polyval, _with(_polyval_spec), args("real", "real"), nargs=2),
    Case("polyadd", fnp.polyadd, np.polyadd, _with(_poly_pair_spec), args("real", "real"), nargs=2),
    Case("polysub", fnp.polysub, np.polysub, _with(_poly_pair_spec), args("real", "real"), nargs=2),
    Case("polymul", fnp.polymul, np.polymul, _with(_poly_pair_spec), args("real", "real"), nargs=2),
    Case(
        "polydiv",
        _polydiv(fnp),
        _polydiv(np),
        _with(lambda d: Spec(((d(st.integers(2, 5)),), (d(st.integers(0, 1)),)), {})),
        args("real", "real"),
        nargs=2,
    ),
    Case(
        "polyder",
        fnp.polyder,
        np.polyder,
        _with(lambda d: Spec(((d(st.integers(1, 5)),),), {"m": d(st.integers(0, 3))})),
        args("real"),
    ),
    Case(
        "polyint",
        lambda p, m: fnp.polyint(p, m, k=[0.5] * m),
        lambda p, m: np.polyint(p, m, k=[0.5] * m),
        _with(lambda d: Spec(((d(st.integers(1, 4)),),), {"m": d(st.integers(0, 2))})),
        args("real"),
    ),
    Case(
        "poly",
        fnp.poly,
        np.poly,
        _with(lambda d: Spec(((d(st.integers(0, 4)),),), {})),
        args("real"),
    ),
    Case(
        "polyfit",
        _polyfit(fnp),
        _polyfit(np),
        _with(_polyfit_spec),
        args("real", "real"),
        nargs=2,
        rtol32=2e-4,
    ),
    Case(
        "vander",
        fnp.vander,
        np.vander,
        _with(_vander_spec),
        args("real"),
    ),
    Case("convolve", fnp.convolve, np.convolve, _with(_conv_spec), args("real", "real"), nargs=2),
    Case(
        "correlate", fnp.correlate, np.correlate, _with(_conv_spec), args("real", "real"), nargs=2
    ),
]

# ---- interp, unwrap, lexsort, i0, kaiser, isin -------------------------------------------------


def _interp(module):
    def fn(x, steps, fp, **kw):
        xp = module.cumsum(steps) - 1.5  # increasing sample points around the x values
        return module.interp(x, xp, fp, **kw)

    return fn


def _interp_spec(draw):
    n = draw(st.integers(1, 5))
    kw = draw(st.sampled_from([{}, {"left": -3.0, "right": 4.0}, {"period": 2.5}]))
    return Spec((draw(shape(max_dims=2)), (n,), (n,)), kw)


def _lexsort(module):
    def fn(a, b, axis):
        return module.lexsort((a, b), axis=axis)

    return fn


MISC = [
    Case(
        "interp",
        _interp(fnp),
        _interp(np),
        _with(_interp_spec),
        args("frac", "pos", "real"),
        nargs=3,
    ),
    Case(
        "unwrap",
        fnp.unwrap,
        np.unwrap,
        _with(
            lambda d: (
                lambda s: Spec(
                    (s,), {"axis": _axis(d, len(s)), "discont": d(st.none() | st.just(4.0))}
                )
            )(d(shape(min_dims=1)))
        ),
        args("frac"),
        hvp=True,
    ),
    Case(
        "lexsort",
        _lexsort(fnp),
        _lexsort(np),
        _with(lambda d: (lambda s: Spec((s, s), {"axis": _axis(d, len(s))}))(d(shape(min_dims=1)))),
        args("smallint", "smallint"),
        nargs=2,
        diff=None,
    ),
    # x * 12 spans both of i0's branches (the series below |x| = 20, the expansion above).
    Case(
        "i0",
        lambda x: fnp.i0(x * 12.0),
        lambda x: np.i0(x * 12.0),
        same_shapes(1),
        args("real"),
    ),
    Case(
        "kaiser",
        lambda beta, M: fnp.kaiser(M, beta),
        lambda beta, M: np.kaiser(M, beta),
        _with(lambda d: Spec(((),), {"M": d(st.integers(0, 6))})),
        args("pos"),
        hvp=False,  # i0's own row checks second derivatives; kaiser only composes it
    ),
    Case(
        "isin",
        lambda a, b, invert: fnp.isin(a, b, invert=invert),
        lambda a, b, invert: np.isin(a, b, invert=invert),
        _with(
            lambda d: Spec(
                (d(shape(max_dims=2)), d(shape(max_dims=2))), {"invert": d(st.booleans())}
            )
        ),
        args("smallint", "smallint"),
        nargs=2,
        diff=None,
    ),
]

# ---- vectorize, apply_along_axis, apply_over_axes, geomspace, bits ------------------------------


def _vectorized(module):
    f = module.vectorize(lambda a, b: a * module.sin(b) + b)
    return lambda a, b: f(a, b)


def _vectorized_sig(module):
    f = module.vectorize(lambda a, b: module.sum(a * b) * a, signature="(n),(n)->(n)")
    return lambda a, b: f(a, b)


def _sig_spec(draw):
    n = draw(st.integers(1, 3))
    lead = draw(shape(max_dims=2, min_side=1, max_side=3))
    return Spec((lead + (n,), lead[draw(st.integers(0, len(lead))) :] + (n,)), {})


def _along(module):
    def fn(x, axis):
        return module.apply_along_axis(lambda v: module.cumsum(v) * v[0], axis, x)

    return fn


def _along_spec(draw):
    s = draw(shape(min_dims=1, min_side=1))
    return Spec((s,), {"axis": _axis(draw, len(s))})


def _over(module):
    def fn(x, axes):
        return module.apply_over_axes(module.sum, x, list(axes))

    return fn


FUNCTIONAL = [
    Case(
        "vectorize",
        _vectorized(fnp),
        _vectorized(np),
        broadcast_shapes(2, max_side=3),
        args("real", "real"),
        nargs=2,
    ),
    Case(
        "vectorize_signature",
        _vectorized_sig(fnp),
        _vectorized_sig(np),
        _with(_sig_spec),
        args("real", "real"),
        nargs=2,
        api=("vectorize",),
    ),  # fmt: skip
    Case("apply_along_axis", _along(fnp), _along(np), _with(_along_spec), args("real")),
    Case(
        "apply_over_axes",
        _over(fnp),
        _over(np),
        axis_spec(min_side=1, none=False, keepdims=False).map(
            lambda s: Spec(s.shapes, {"axes": np.atleast_1d(s.params["axis"]).tolist()})
        ),
        args("real"),
    ),
    Case(
        "geomspace",
        lambda a, b, num, endpoint: fnp.geomspace(a, b, num, endpoint=endpoint),
        lambda a, b, num, endpoint: np.geomspace(a, b, num, endpoint=endpoint),
        _with(
            lambda d: Spec(((), ()), {"num": d(st.integers(0, 5)), "endpoint": d(st.booleans())})
        ),
        args("pos", "pos"),
        nargs=2,
    ),
    Case(
        "packbits",
        lambda a, axis, bitorder: fnp.packbits(a, axis=axis, bitorder=bitorder),
        lambda a, axis, bitorder: np.packbits(a, axis=axis, bitorder=bitorder),
        _with(
            lambda d: (
                lambda s: Spec(
                    (s,),
                    {
                        "axis": d(st.none() | st.integers(0, len(s) - 1)),
                        "bitorder": d(st.sampled_from(["big", "little"])),
                    },
                )
            )(d(shape(min_dims=1, max_side=10)))
        ),
        args("bool"),
        diff=None,
    ),
    Case(
        "unpackbits",
        lambda a, count: fnp.unpackbits(fnp.asarray(a).astype(np.uint8), count=count),
        lambda a, count: np.unpackbits(a.astype(np.uint8), count=count),
        _with(
            lambda d: Spec(
                (d(shape(min_dims=1, max_dims=1, min_side=1)),),
                {"count": d(st.none() | st.integers(-8, 12))},
            )
        ),
        args("smallint"),
        diff=None,
    ),
]

CASES = ARRAY_API + ASSEMBLY + INDEX_ARRAYS + POLYNOMIALS + MISC + FUNCTIONAL

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
