"""Reductions other than sum: max, min, prod, argmax/argmin, cumulative sums and products."""

from __future__ import annotations

import math

import numpy as np

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import _fast_reduce, split_rules
from fnn.lax.base import Zero, batching_rules, defprim, jvp_rules
from fnn.lax.elementwise import div, eq, mul, select
from fnn.lax.slicing import pad, slice_in_dim
from fnn.lax.structural import (
    broadcast_in_dim,
    convert_element_type,
    linear_jet,
    linearized_jet,
    moveaxis,
    reduce_sum,
    reshape,
    transpose,
)
from fnn.lowering import FRESH, Lowering
from fnn.rules import jet_rules, transpose_rules

__all__ = [
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
]


def _reduce_abstract(name):
    def abstract(x, *, axes):
        for a in axes:
            if not 0 <= a < x.ndim:
                raise FnnTypeError(f"{name}: axis {a} out of bounds for shape {x.shape}")
            if x.shape[a] == 0 and name in ("reduce_max", "reduce_min"):
                raise FnnTypeError(f"{name}: zero-size axis {a} of shape {x.shape} has no identity")
        return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)

    return abstract


reduce_max_p = defprim(
    "reduce_max", lambda x, *, axes: _fast_reduce.fast_max(x, axes), _reduce_abstract("reduce_max")
)
reduce_min_p = defprim(
    "reduce_min", lambda x, *, axes: _fast_reduce.fast_min(x, axes), _reduce_abstract("reduce_min")
)
reduce_prod_p = defprim(
    "reduce_prod",
    lambda x, *, axes: np.prod(x, axis=axes, dtype=x.dtype),
    _reduce_abstract("reduce_prod"),
)


def _extremum_codegen(fn: str, ufunc: str):
    def rule(args, eqn, out=None):
        axes, aval = eqn.params["axes"], eqn.inputs[0].aval
        out_kw = f", out={out}" if out else ""
        if _fast_reduce.small_axes_apply(aval.shape, axes, aval.dtype):  # pooling windows
            return f"_reduce_small_axes(np.{ufunc}, {args[0]}, {axes}{out_kw})"
        return f"np.{fn}({args[0]}, axis={axes}{out_kw})"

    return rule


for _prim, _fn, _ufunc in ((reduce_max_p, "max", "maximum"), (reduce_min_p, "min", "minimum")):
    lowering.register(
        _prim,
        Lowering(
            emit=_extremum_codegen(_fn, _ufunc),
            memory=FRESH,
            split=split_rules.reduce_rule(_fn),
            helpers={"_reduce_small_axes": _fast_reduce.reduce_small_axes},
        ),
    )


def reduce_max(x, axes):
    return reduce_max_p.bind(x, axes=tuple(sorted(axes)))


def reduce_min(x, axes):
    return reduce_min_p.bind(x, axes=tuple(sorted(axes)))


def reduce_prod(x, axes):
    return reduce_prod_p.bind(x, axes=tuple(sorted(axes)))


def _keep(x, out, axes):
    """``out`` broadcast back to the shape of ``x`` along ``axes``."""
    shape = core.get_aval(x).shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return broadcast_in_dim(out, shape, kept)


def _chooser_jvp(prim):
    # JAX's rule: the tangent is the mean of the tangents at the positions that attain
    # the extremum (ties share it), sum(t * mask) / count with a float mask. The product
    # is what keeps NaN, where a select by the mask (used here before) dropped it: a NaN
    # extremum equals no entry, so the count is 0 and every entry's cotangent is
    # (ct / 0) * 0 = NaN; a NaN or inf cotangent reaches every entry of its window
    # (inf * 0 = NaN). The count is summed in the smallest unsigned integer that holds a
    # window (a view of the bool mask in jit), not in floats. The product costs a float
    # cast of the mask and no longer lets passes.merge_selects fold the ReLU's select
    # into the pool's: the gradient of ReLU then max-pool on the benchmark cnn's chunk
    # got slower (benchmarks/README.md, the NaN propagation row).
    def rule(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        aval = core.get_aval(x)
        at = eq(x, _keep(x, out, axes))
        window = math.prod(aval.shape[a] for a in axes)
        counts = reduce_sum(convert_element_type(at, np.min_scalar_type(window)), axes)
        location = convert_element_type(at, aval.dtype)
        total = reduce_sum(mul(t, location), axes)
        return out, div(total, convert_element_type(counts, aval.dtype))

    jvp_rules[prim] = rule


_chooser_jvp(reduce_max_p)
_chooser_jvp(reduce_min_p)
jet_rules[reduce_max_p] = linearized_jet(reduce_max_p)
jet_rules[reduce_min_p] = linearized_jet(reduce_min_p)


def _prod_jvp(primals, tangents, *, axes):
    # d prod = sum_i t_i * prod_{j != i} x_j, with the products of the others taken
    # by exclusive cumulative products from both ends (correct when some x_j == 0).
    (x,), (t,) = primals, tangents
    out = reduce_prod(x, axes)
    aval = core.get_aval(x)
    kept = [i for i in range(aval.ndim) if i not in axes]
    perm = kept + list(axes)
    xs = transpose(x, perm)
    ts = transpose(t, perm)
    lead = tuple(aval.shape[i] for i in kept)
    n = math.prod([aval.shape[a] for a in axes])
    xs = reshape(xs, lead + (n,))
    ts = reshape(ts, lead + (n,))
    others = mul(_exclusive_cumprod(xs, reverse=False), _exclusive_cumprod(xs, reverse=True))
    return out, reduce_sum(mul(ts, others), (len(lead),))


def _exclusive_cumprod(x, reverse):

    aval = core.get_aval(x)
    n, axis = aval.shape[-1], aval.ndim - 1
    if n == 0:
        return x  # an empty product: nothing to shift (slicing to n - 1 would be invalid)
    one = np.ones((), aval.dtype)
    if reverse:
        shifted = pad(slice_in_dim(x, 1, n, axis=axis), one, [(0, 0, 0)] * axis + [(0, 1, 0)])
    else:
        shifted = pad(slice_in_dim(x, 0, n - 1, axis=axis), one, [(0, 0, 0)] * axis + [(1, 0, 0)])
    return cumprod(shifted, axis, reverse=reverse)


jvp_rules[reduce_prod_p] = _prod_jvp


def _reduce_batch(prim):
    def rule(vals, dims, *, axes):
        (x,), (d,) = vals, dims
        new_axes = tuple(a + 1 if a >= d else a for a in axes)
        out_d = d - sum(1 for a in new_axes if a < d)
        return prim.bind(x, axes=new_axes), out_d

    batching_rules[prim] = rule


for _p in (reduce_max_p, reduce_min_p, reduce_prod_p):
    _reduce_batch(_p)


# ---- argmax / argmin -----------------------------------------------------------------------


def _arg_abstract(name):
    def abstract(x, *, axis, index_dtype):
        if not 0 <= axis < x.ndim:
            raise FnnTypeError(f"{name}: axis {axis} out of bounds for shape {x.shape}")
        if x.shape[axis] == 0:
            raise FnnTypeError(f"{name}: attempt to get {name} of an empty axis {axis}")
        return ShapedArray(x.shape[:axis] + x.shape[axis + 1 :], index_dtype)

    return abstract


argmax_p = defprim(
    "argmax",
    lambda x, *, axis, index_dtype: np.argmax(x, axis=axis).astype(index_dtype),
    _arg_abstract("argmax"),
)
argmin_p = defprim(
    "argmin",
    lambda x, *, axis, index_dtype: np.argmin(x, axis=axis).astype(index_dtype),
    _arg_abstract("argmin"),
)


def _arg_batch(prim):
    def rule(vals, dims, *, axis, index_dtype):
        x = moveaxis(vals[0], dims[0], 0)
        return prim.bind(x, axis=axis + 1, index_dtype=index_dtype), 0

    batching_rules[prim] = rule


for _p in (argmax_p, argmin_p):
    _arg_batch(_p)
    lowering.register(_p, Lowering(split=split_rules.axis_param_rule("axis", shift_out=True)))

    def _arg_jvp(primals, tangents, _p=_p, **params):
        out = _p.bind(*primals, **params)
        return out, Zero(core.get_aval(out))

    jvp_rules[_p] = _arg_jvp


def argmax(x, axis, index_dtype):
    return argmax_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


def argmin(x, axis, index_dtype):
    return argmin_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


# ---- cumulative --------------------------------------------------------------------------


def _cum_impl(fn):
    def impl(x, *, axis, reverse):
        if reverse:
            return np.flip(fn(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return fn(x, axis=axis, dtype=x.dtype)

    return impl


def _cum_abstract(name):
    def abstract(x, *, axis, reverse):
        if not 0 <= axis < x.ndim:
            raise FnnTypeError(f"{name}: axis {axis} out of bounds for shape {x.shape}")
        return x

    return abstract


cumsum_p = defprim("cumsum", _cum_impl(np.cumsum), _cum_abstract("cumsum"))
cumprod_p = defprim("cumprod", _cum_impl(np.cumprod), _cum_abstract("cumprod"))


def cumsum(x, axis, reverse=False):
    return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cumprod(x, axis, reverse=False):
    return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))


def _cumsum_jvp(primals, tangents, *, axis, reverse):
    (x,), (t,) = primals, tangents
    return cumsum(x, axis, reverse), cumsum(t, axis, reverse)


def _cumprod_jvp(primals, tangents, *, axis, reverse):
    # d y_i = sum_{j<=i} t_j prod_{k<=i, k!=j} x_k, built from an (n, n) table of
    # masked products so that zeros in x are handled exactly. O(n^2) in the axis length.

    (x,), (t,) = primals, tangents
    y = cumprod(x, axis, reverse)
    aval = core.get_aval(x)
    n = aval.shape[axis]
    xm = moveaxis(x, axis, -1)
    tm = moveaxis(t, axis, -1)
    lead = core.get_aval(xm).shape[:-1]
    nd = len(lead)
    i_idx = np.arange(n)[:, None]
    j_idx = np.arange(n)[None, :]
    # table[..., i, k] = x_k if k is in the prefix of i (else 1); then drop k == j.
    in_prefix = (j_idx >= i_idx) if reverse else (j_idx <= i_idx)
    xb = broadcast_in_dim(xm, lead + (n, n), tuple(range(nd)) + (nd + 1,))
    one = np.ones((), aval.dtype)
    table = select(np.broadcast_to(in_prefix, (n, n)), xb, one)
    # others[..., i, j] = prod_k table[..., i, k] with k != j
    tj = broadcast_in_dim(table, lead + (n, n, n), tuple(range(nd)) + (nd, nd + 2))
    not_j = np.arange(n)[:, None] != np.arange(n)[None, :]  # [j, k]
    masked = select(np.broadcast_to(not_j, (n, n, n)), tj, one)
    others = reduce_prod(masked, (nd + 2,))  # [..., i, j]
    weights = select(np.broadcast_to(in_prefix, (n, n)), others, np.zeros((), aval.dtype))
    tb = broadcast_in_dim(tm, lead + (n, n), tuple(range(nd)) + (nd + 1,))
    dy = reduce_sum(mul(weights, tb), (nd + 1,))
    return y, moveaxis(dy, -1, axis)


jvp_rules[cumsum_p] = _cumsum_jvp
jet_rules[cumsum_p] = linear_jet(cumsum_p)
jvp_rules[cumprod_p] = _cumprod_jvp
transpose_rules[cumsum_p] = lambda ct, x, *, axis, reverse: [cumsum(ct, axis, not reverse)]


def _cum_batch(prim):
    def rule(vals, dims, *, axis, reverse):
        x = moveaxis(vals[0], dims[0], 0)
        return prim.bind(x, axis=axis + 1, reverse=reverse), 0

    batching_rules[prim] = rule


_cum_batch(cumsum_p)
_cum_batch(cumprod_p)
lowering.register(cumsum_p, Lowering(split=split_rules.axis_param_rule("axis")))
lowering.register(cumprod_p, Lowering(split=split_rules.axis_param_rule("axis")))


# jit runs these by calling their impls.
for _p in (reduce_prod_p,):
    lowering.register(_p, lowering.INTERPRETED)
