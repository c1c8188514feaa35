"""Slicing and indexing primitives: slice, pad, concatenate, rev, gather and scatter.

``gather`` and ``scatter`` carry numpy's advanced indexing: a static ``template`` of
slices (``("s", start, stop, step)``), with ``("a",)`` where an index array operand
goes. ``x[template]`` is the gather; ``scatter`` writes, adds, multiplies, or takes the
min/max of ``updates`` into those positions (duplicate indices accumulate for add).
"""

from __future__ import annotations

import numpy as np

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import split_rules
from fnn.lax.base import Zero, batching_rules, defprim, is_zero, jvp_rules
from fnn.lax.elementwise import add, eq, mul, select
from fnn.lax.structural import (
    bdim_at_front,
    broadcast_in_dim,
    broadcast_to,
    instantiate,
    linear_jet,
    moveaxis,
    reduce_sum,
    reshape,
    transpose,
    unbroadcast,
)
from fnn.lowering import FRESH, VIEW, Lowering
from fnn.rules import is_undefined_primal, jet_rules, transpose_rules

__all__ = ["slice", "slice_in_dim", "pad", "concatenate", "rev", "gather", "scatter"]

_builtin_slice = slice


def _linear_jvp(prim, nlinear=1):
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        ts = tangents[:nlinear]
        if all(is_zero(t) for t in ts):
            return out, Zero(core.get_aval(out))
        ts = [_instantiate_zero(t) for t in ts]
        return out, prim.bind(*ts, *primals[nlinear:], **params)

    jvp_rules[prim] = rule


def _instantiate_zero(t):

    return instantiate(t)


# ---- slice ---------------------------------------------------------------------------------


def _slice_abstract(x, *, start, limit, strides):
    if not (len(start) == len(limit) == len(strides) == x.ndim):
        raise FnnTypeError(f"slice: need {x.ndim} start/limit/strides for shape {x.shape}")
    shape = []
    for s, l, st, d in zip(start, limit, strides, x.shape, strict=True):
        if not (0 <= s <= l <= d) or st < 1:
            raise FnnTypeError(
                f"slice: start {start}, limit {limit}, strides {strides} invalid for shape "
                f"{x.shape}"
            )
        shape.append(max(0, -(-(l - s) // st)))
    return ShapedArray(shape, x.dtype)


def _slice_impl(x, *, start, limit, strides):
    return x[
        tuple(_builtin_slice(s, l, st) for s, l, st in zip(start, limit, strides, strict=True))
    ]


slice_p = defprim("slice", _slice_impl, _slice_abstract, silent=True)


def _slice_emit(a, eqn, out=None):
    if out:
        return None
    p = eqn.params
    bounds = zip(p["start"], p["limit"], p["strides"], strict=True)
    return f"{a[0]}[{', '.join(f'{s}:{l}:{st}' for s, l, st in bounds)},]"


lowering.register(slice_p, Lowering(emit=_slice_emit, memory=VIEW, split=split_rules.slice_rule))


def slice(x, start, limit, strides=None):  # noqa: A001 - lax's name
    ndim = core.get_aval(x).ndim
    strides = tuple(strides) if strides is not None else (1,) * ndim
    return slice_p.bind(x, start=tuple(start), limit=tuple(limit), strides=strides)


def slice_in_dim(x, start, limit, stride=1, axis=0):
    shape = core.get_aval(x).shape
    st = [0] * len(shape)
    li = list(shape)
    sd = [1] * len(shape)
    st[axis], li[axis], sd[axis] = start, limit, stride
    return slice(x, st, li, sd)


_linear_jvp(slice_p)
jet_rules[slice_p] = linear_jet(slice_p)


def _slice_transpose(ct, x, *, start, limit, strides):
    shape = x.aval.shape
    config = []
    ct_shape = core.get_aval(ct).shape
    for s, st, d, c in zip(start, strides, shape, ct_shape, strict=True):
        real_limit = s + (c - 1) * st + 1 if c else s
        config.append((s, d - real_limit, st - 1))
    zero = np.zeros((), x.aval.dtype)
    return [pad(ct, zero, config)]


def _slice_batch(vals, dims, *, start, limit, strides):
    x = moveaxis(vals[0], dims[0], 0)
    size = core.get_aval(x).shape[0]
    return slice(x, (0,) + start, (size,) + limit, (1,) + strides), 0


transpose_rules[slice_p] = _slice_transpose
batching_rules[slice_p] = _slice_batch


# ---- pad -------------------------------------------------------------------------------------


def _pad_shape(shape, config):
    out = []
    for d, (lo, hi, interior) in zip(shape, config, strict=True):
        out.append(lo + hi + d + max(0, d - 1) * interior)
    return tuple(out)


def _pad_abstract(x, padding_value, *, config):
    if len(config) != x.ndim:
        raise FnnTypeError(f"pad: need {x.ndim} (low, high, interior) triples, got {config}")
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise FnnTypeError(
            f"pad: padding value must be a scalar of dtype {x.dtype}, got "
            f"{padding_value.str_short()}"
        )
    shape = _pad_shape(x.shape, config)
    if any(d < 0 for d in shape) or any(c[2] < 0 for c in config):
        raise FnnTypeError(f"pad: config {config} gives a negative size for shape {x.shape}")
    return ShapedArray(shape, x.dtype)


def _pad_into(x, padding_value, out, *, config):
    """``pad`` written into ``out`` (no negative padding): the borders are filled slab by
    slab and ``x`` copied into the interior, so an arena buffer costs no page faults."""
    interior = any(it for _, _, it in config)
    if interior:
        out.fill(padding_value)
    lead = []
    for size, (lo, hi, _) in zip(out.shape, config, strict=True):
        if not interior:
            if lo:
                out[(*lead, _builtin_slice(0, lo))] = padding_value
            if hi:
                out[(*lead, _builtin_slice(size - hi, size))] = padding_value
        lead.append(_builtin_slice(lo, size - hi))
    idx = tuple(
        _builtin_slice(lo, lo + d + max(0, d - 1) * it, it + 1)
        for d, (lo, _, it) in zip(x.shape, config, strict=True)
    )
    out[idx] = x
    return out


def _pad_impl(x, padding_value, *, config):
    # Pad with the positive parts into a fresh grid, then crop the negative ones.
    grow = tuple((max(lo, 0), max(hi, 0), it) for lo, hi, it in config)
    out = np.empty(_pad_shape(x.shape, grow), x.dtype)
    _pad_into(x, padding_value, out, config=grow)
    crop = tuple(
        _builtin_slice(max(-lo, 0), max(-lo, 0) + s)
        for (lo, _, _), s in zip(config, _pad_shape(x.shape, config), strict=True)
    )
    return out[crop]


pad_p = defprim("pad", _pad_impl, _pad_abstract)


def _pad_emit(args, eqn, out=None):
    """Into ``out`` only; a fresh result and a crop call the impl."""
    if out is None or any(lo < 0 or hi < 0 for lo, hi, _ in eqn.params["config"]):
        return None
    return f"_pad_into({args[0]}, {args[1]}, {out}, config={eqn.params['config']})"


lowering.register(
    pad_p,
    Lowering(
        emit=_pad_emit, memory=FRESH, split=split_rules.pad_rule, helpers={"_pad_into": _pad_into}
    ),
)


def pad(x, padding_value, config):
    config = tuple((int(lo), int(hi), int(it)) for lo, hi, it in config)
    if all(c == (0, 0, 0) for c in config):
        return x
    dtype = core.get_aval(x).dtype
    if not isinstance(padding_value, core.Tracer) and not hasattr(padding_value, "aval"):
        padding_value = np.asarray(padding_value, dtype)
    return pad_p.bind(x, padding_value, config=config)


def _pad_jvp(primals, tangents, *, config):
    x, pv = primals
    tx, tpv = tangents
    out = pad_p.bind(x, pv, config=config)
    if is_zero(tx) and is_zero(tpv):
        return out, Zero(core.get_aval(out))
    return out, pad_p.bind(_instantiate_zero(tx), _instantiate_zero(tpv), config=config)


def _pad_transpose(ct, x, pv, *, config):

    shape = core.get_aval(ct).shape
    # Undo negative padding by padding the cotangent back with zeros, then take a strided slice.
    zero = np.zeros((), core.get_aval(ct).dtype)
    unneg = pad(ct, zero, [(max(-lo, 0), max(-hi, 0), 0) for lo, hi, _ in config])
    ushape = core.get_aval(unneg).shape
    start = [max(lo, 0) for lo, hi, _ in config]
    limit = [u - max(hi, 0) for u, (lo, hi, _) in zip(ushape, config, strict=True)]
    strides = [it + 1 for _, _, it in config]
    ct_x = slice(unneg, start, limit, strides) if is_undefined_primal(x) else None
    ct_pv = None
    if is_undefined_primal(pv):
        total = reduce_sum(ct, tuple(range(len(shape))))
        inner = reduce_sum(ct_x, tuple(range(len(shape)))) if ct_x is not None else 0
        ct_pv = total - inner if ct_x is not None else total
    return [ct_x, ct_pv]


def _pad_batch(vals, dims, *, config):

    x, pv = vals
    dx, dpv = dims
    if dpv is None:
        x = moveaxis(x, dx, 0)
        return pad(x, pv, ((0, 0, 0),) + config), 0
    # One padding value per example: pad with zeros, then select each example's value
    # wherever x did not land (a static mask, from the impl on a block of ones).
    size = core.get_aval(pv).shape[dpv]
    x = bdim_at_front(x, dx, size)
    aval = core.get_aval(x)
    padded = pad(x, np.zeros((), aval.dtype), ((0, 0, 0),) + config)
    lands = _pad_impl(np.ones(aval.shape[1:], np.bool_), np.asarray(False), config=config)
    pv = reshape(moveaxis(pv, dpv, 0), (size,) + (1,) * len(config))
    return select(lands, padded, pv), 0


jvp_rules[pad_p] = _pad_jvp
jet_rules[pad_p] = linear_jet(pad_p)
transpose_rules[pad_p] = _pad_transpose
batching_rules[pad_p] = _pad_batch


# ---- concatenate -----------------------------------------------------------------------------


def _concat_abstract(*xs, dimension):
    base = xs[0]
    for x in xs[1:]:
        if x.dtype != base.dtype:
            raise FnnTypeError(f"concatenate: dtypes differ: {[str(a.dtype) for a in xs]}")
        if x.ndim != base.ndim or any(
            a != b for i, (a, b) in enumerate(zip(x.shape, base.shape)) if i != dimension
        ):
            raise FnnTypeError(
                f"concatenate: shapes {[a.shape for a in xs]} differ outside axis {dimension}"
            )
    shape = list(base.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(shape, base.dtype)


concatenate_p = defprim(
    "concatenate",
    lambda *xs, dimension: np.concatenate(xs, axis=dimension),
    _concat_abstract,
    silent=True,
)
lowering.register(
    concatenate_p,
    Lowering(
        emit=lambda a, eqn, out=None: (
            f"np.concatenate(({', '.join(a)},), axis={eqn.params['dimension']}"
            + (f", out={out})" if out else ")")
        ),
        memory=FRESH,
        split=split_rules.concatenate_rule,
    ),
)


def concatenate(xs, dimension):
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, dimension=int(dimension))


def _concat_jvp(primals, tangents, *, dimension):
    out = concatenate_p.bind(*primals, dimension=dimension)
    if all(is_zero(t) for t in tangents):
        return out, Zero(core.get_aval(out))
    return out, concatenate_p.bind(*[_instantiate_zero(t) for t in tangents], dimension=dimension)


def _concat_transpose(ct, *xs, dimension):
    outs, pos = [], 0
    for x in xs:
        n = (x.aval if is_undefined_primal(x) else core.get_aval(x)).shape[dimension]
        outs.append(
            slice_in_dim(ct, pos, pos + n, axis=dimension) if is_undefined_primal(x) else None
        )
        pos += n
    return outs


def _concat_batch(vals, dims, *, dimension):
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)

    xs = [bdim_at_front(v, d, size) for v, d in zip(vals, dims, strict=True)]
    return concatenate(xs, dimension + 1), 0


jvp_rules[concatenate_p] = _concat_jvp
jet_rules[concatenate_p] = linear_jet(concatenate_p)
transpose_rules[concatenate_p] = _concat_transpose
batching_rules[concatenate_p] = _concat_batch


# ---- rev -------------------------------------------------------------------------------------


def _rev_abstract(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim:
            raise FnnTypeError(f"rev: dimension {d} out of bounds for shape {x.shape}")
    return x


rev_p = defprim("rev", lambda x, *, dimensions: np.flip(x, dimensions), _rev_abstract, silent=True)
lowering.register(rev_p, Lowering(memory=VIEW, split=split_rules.rev_rule))


def rev(x, dimensions):
    dimensions = tuple(int(d) for d in dimensions)
    if not dimensions:
        return x
    return rev_p.bind(x, dimensions=dimensions)


_linear_jvp(rev_p)
jet_rules[rev_p] = linear_jet(rev_p)
transpose_rules[rev_p] = lambda ct, x, *, dimensions: [rev(ct, dimensions)]
batching_rules[rev_p] = lambda vals, dims, *, dimensions: (
    rev(moveaxis(vals[0], dims[0], 0), tuple(d + 1 for d in dimensions)),
    0,
)


# ---- gather / scatter (numpy advanced indexing) -----------------------------------------------


def _index_tuple(template, arrays):
    it = iter(arrays)
    out = []
    for t in template:
        if t[0] == "a":
            out.append(next(it))
        else:
            out.append(_builtin_slice(t[1], t[2], t[3]))
    return tuple(out)


def _gather_impl(x, *idx, template):
    return x[_index_tuple(template, idx)]


def _gather_shape(x_shape, idx_avals, template):
    dummy = np.broadcast_to(np.zeros((), np.int8), x_shape)
    idx = [np.zeros(a.shape, np.intp) for a in idx_avals]
    return dummy[_index_tuple(template, idx)].shape


def _check_indices(name, x, idx, template):
    for a in idx:
        if not np.issubdtype(a.dtype, np.integer):
            raise FnnTypeError(f"{name}: index arrays must be integers, got {a.dtype}")
    if len(template) > x.ndim:
        raise FnnTypeError(
            f"{name}: too many indices ({len(template)}) for an array of rank {x.ndim}"
        )
    try:
        return _gather_shape(x.shape, idx, template)
    except IndexError as e:
        raise FnnTypeError(f"{name}: bad index for shape {x.shape}: {e}") from None


def _gather_abstract(x, *idx, template):
    return ShapedArray(_check_indices("gather", x, idx, template), x.dtype)


gather_p = defprim("gather", _gather_impl, _gather_abstract)


def gather(x, idx, template):
    return gather_p.bind(x, *idx, template=tuple(template))


def _scatter_impl(x, updates, *idx, template, mode):
    out = np.array(x, copy=True)
    index = _index_tuple(template, idx)
    if mode == "set":
        out[index] = updates
    elif mode == "add":
        if idx:
            np.add.at(out, index, updates)
        else:
            out[index] += updates
    elif mode == "mul":
        np.multiply.at(out, index, updates)
    elif mode == "min":
        np.minimum.at(out, index, updates)
    elif mode == "max":
        np.maximum.at(out, index, updates)
    else:
        raise ValueError(f"scatter: unknown mode {mode!r}")
    return out


def _scatter_abstract(x, updates, *idx, template, mode):
    shape = _check_indices("scatter", x, idx, template)
    try:
        np.broadcast_shapes(updates.shape, shape)
        ok = np.broadcast_shapes(updates.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise FnnTypeError(
            f"scatter ({mode}): updates of shape {updates.shape} do not broadcast to the "
            f"indexed shape {tuple(shape)}"
        )
    if updates.dtype != x.dtype:
        raise FnnTypeError(f"scatter: updates dtype {updates.dtype} differs from {x.dtype}")
    return x


scatter_p = defprim("scatter", _scatter_impl, _scatter_abstract)


def scatter(x, updates, idx, template, mode):
    return scatter_p.bind(x, updates, *idx, template=tuple(template), mode=mode)


def _gather_jvp(primals, tangents, *, template):
    x, *idx = primals
    out = gather(x, idx, template)
    if is_zero(tangents[0]):
        return out, Zero(core.get_aval(out))
    return out, gather(tangents[0], idx, template)


def _gather_transpose(ct, x, *idx, template):
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [scatter(zeros, ct, idx, template, "add")] + [None] * len(idx)


jvp_rules[gather_p] = _gather_jvp
jet_rules[gather_p] = linear_jet(gather_p)
transpose_rules[gather_p] = _gather_transpose


def _scatter_jvp(primals, tangents, *, template, mode):
    x, u, *idx = primals
    tx, tu = tangents[0], tangents[1]
    out = scatter(x, u, idx, template, mode)
    if is_zero(tx) and is_zero(tu):
        return out, Zero(core.get_aval(out))
    tx, tu = _instantiate_zero(tx), _instantiate_zero(tu)
    if mode in ("set", "add"):
        return out, scatter(tx, tu, idx, template, mode)
    if mode == "mul":
        # (x * s)' = x' * s + x * s', with s the scattered product. The updates' part
        # below is exact only when no two updates land on one element; like JAX without
        # unique_indices, refuse rather than return a wrong derivative otherwise.
        if not is_zero(tangents[1]):
            _check_unique_indices(idx)
        gathered_x = gather(x, idx, template)

        part_x = scatter(tx, u, idx, template, "mul")
        zeros = np.zeros(core.get_aval(x).shape, core.get_aval(x).dtype)
        part_u = scatter(zeros, mul(gathered_x, tu), idx, template, "add")
        return out, add(part_x, part_u)
    # min / max: the tangent follows whichever value won (x on ties); unique indices.
    x_won = eq(out, x)
    tu_scattered = scatter(_zeros_like(x), tu, idx, template, "set")
    return out, select(x_won, tx, tu_scattered)


def _check_unique_indices(idx) -> None:
    """Raise unless the (concrete) index arrays address each element at most once."""
    if any(isinstance(i, core.Tracer) for i in idx):
        raise NotImplementedError(
            "the derivative of x.at[idx].multiply(v) with respect to v needs indices known "
            "to be unique; these are traced values. Pass the indices as a concrete (numpy) "
            "array, or write the product with x * fnn.numpy.ones_like(x).at[idx].set(v)."
        )
    arrays = np.broadcast_arrays(*[np.asarray(i) for i in idx])
    flat = np.stack([a.ravel() for a in arrays], axis=1) if arrays else np.zeros((0, 0))
    if len(np.unique(flat, axis=0)) < len(flat):
        raise NotImplementedError(
            "the derivative of x.at[idx].multiply(v) with respect to v is not implemented "
            "for repeated indices (as in JAX): an element multiplied by several updates "
            f"(indices {flat.T.tolist() if flat.shape[1] > 1 else flat.ravel().tolist()})"
        )


def _zeros_like(x):
    a = core.get_aval(x)
    return np.zeros(a.shape, a.dtype)


def _scatter_transpose(ct, x, u, *idx, template, mode):
    if is_undefined_primal(u) and mode not in ("set", "add"):
        raise ValueError(f"scatter {mode}: not linear in the updates")
    u_shape = u.aval.shape if is_undefined_primal(u) else None
    if mode == "add":
        ct_x = ct if is_undefined_primal(x) else None
        ct_u = unbroadcast(gather(ct, idx, template), u_shape) if u_shape is not None else None
        return [ct_x, ct_u] + [None] * len(idx)
    if mode == "set":
        zero = np.zeros((), core.get_aval(ct).dtype)
        ct_x = scatter(ct, zero, idx, template, "set") if is_undefined_primal(x) else None
        ct_u = unbroadcast(gather(ct, idx, template), u_shape) if u_shape is not None else None
        return [ct_x, ct_u] + [None] * len(idx)
    if mode == "mul":
        return [scatter(ct, u, idx, template, "mul"), None] + [None] * len(idx)
    raise ValueError(f"scatter {mode}: not linear")


jvp_rules[scatter_p] = _scatter_jvp
_scatter_linear_jet = linear_jet(scatter_p)


def _scatter_jet(primals, series, *, template, mode):
    # "set" and "add" are linear in (operand, updates); "mul", "min" and "max" are
    # expanded by nested JVPs.
    if mode in ("set", "add"):
        return _scatter_linear_jet(primals, series, template=template, mode=mode)
    return NotImplemented


jet_rules[scatter_p] = _scatter_jet
transpose_rules[scatter_p] = _scatter_transpose


def _advanced_adjacent(template) -> bool:
    pos = [i for i, t in enumerate(template) if t[0] == "a"]
    return not pos or pos == list(range(pos[0], pos[-1] + 1))


def _batch_indexing(vals, dims, template, size):
    """Rewrite a batched indexing as one numpy indexing of (batch, ...).

    Returns (x, idx_arrays, new_template, perm): numpy's result of ``x[new_template]``
    is ``transpose(r, perm)`` where ``r`` is the wanted result with the batch axis first.
    numpy moves the broadcast index dimensions to the front when index arrays are
    separated by slices, so ``perm`` is the identity only when that move is harmless.
    """

    x, idx = vals[0], list(vals[1:])
    dx, didx = dims[0], list(dims[1:])
    x = bdim_at_front(x, dx, size)
    template = tuple(template)
    n_adv = max((core.get_aval(a).ndim - (d is not None) for a, d in zip(idx, didx)), default=0)
    # r's layout: batch, then the example's layout (numpy's rules on the original template).
    adjacent = _advanced_adjacent(template)
    first = next((i for i, t in enumerate(template) if t[0] == "a"), 0)
    if all(d is None for d in didx):
        # A full slice over the batch axis; the same index arrays for every example.
        tmpl = (("s", None, None, None),) + template
        if adjacent:
            return x, idx, tmpl, None
        # numpy: index dims first, then the batch axis, then the sliced axes.
        perm = tuple(range(1, n_adv + 1)) + (0,)
        return x, idx, tmpl, perm
    # A batch arange as the first index array selects each example's own row.
    new_idx = [np.arange(size).reshape((size,) + (1,) * n_adv)]
    for a, d in zip(idx, didx, strict=True):
        if d is not None:
            a = moveaxis(a, d, 0)
            shape = core.get_aval(a).shape
            missing = n_adv - (len(shape) - 1)
            if missing:
                a = reshape(a, (shape[0],) + (1,) * missing + shape[1:])
        new_idx.append(a)  # unbatched arrays broadcast from the right, as they should
    tmpl = (("a",),) + template
    if not adjacent or first == 0:
        return x, new_idx, tmpl, None
    # The example's index dims sat after `first` sliced axes; numpy put them first.
    perm = (0,) + tuple(range(first + 1, first + 1 + n_adv)) + tuple(range(1, first + 1))
    return x, new_idx, tmpl, perm


def _full_perm(perm, ndim):
    return None if perm is None else perm + tuple(range(len(perm), ndim))


def _gather_batch(vals, dims, *, template):

    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    x, idx, tmpl, perm = _batch_indexing(vals, dims, template, size)
    out = gather(x, idx, tmpl)
    perm = _full_perm(perm, core.get_aval(out).ndim)
    return (out, 0) if perm is None else (transpose(out, tuple(np.argsort(perm))), 0)


def _scatter_batch(vals, dims, *, template, mode):

    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    x, u = vals[0], vals[1]
    dx, du = dims[0], dims[1]
    xb, idx, tmpl, perm = _batch_indexing(
        [x] + list(vals[2:]), [dx] + list(dims[2:]), template, size
    )
    # The updates, batch first, in the example's layout; then numpy's layout.
    x_shape = core.get_aval(x).shape if dx is None else core.get_aval(xb).shape[1:]
    idx_avals = [
        core.get_aval(a)
        if d is None
        else core.ShapedArray(
            core.get_aval(a).shape[:d] + core.get_aval(a).shape[d + 1 :], core.get_aval(a).dtype
        )
        for a, d in zip(vals[2:], dims[2:], strict=True)
    ]
    target = tuple(_gather_shape(x_shape, idx_avals, template))
    if du is None:
        u = broadcast_in_dim(
            broadcast_to(u, target), (size,) + target, tuple(range(1, len(target) + 1))
        )
    else:
        u = moveaxis(u, du, 0)
        ushape = core.get_aval(u).shape
        missing = len(target) - (len(ushape) - 1)
        if missing:
            u = reshape(u, (ushape[0],) + (1,) * missing + ushape[1:])
        u = broadcast_to(u, (size,) + target)
    perm = _full_perm(perm, len(target) + 1)
    if perm is not None:
        u = transpose(u, perm)
    return scatter(xb, u, idx, tmpl, mode), 0


batching_rules[gather_p] = _gather_batch
batching_rules[scatter_p] = _scatter_batch


# jit runs these by calling their impls (a gather with basic indices returns a view: declared
# interpreted, its result may share memory with any input).
for _p in (
    gather_p,
    scatter_p,
):
    lowering.register(_p, lowering.INTERPRETED)
