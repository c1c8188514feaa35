"""Primitives that move data without arithmetic: broadcast_in_dim, reshape, transpose,
reduce_sum, convert_element_type; and the helpers the other rules, and the
interpreters in ``fnn.transforms``, are written with (zeros of an abstract value,
moving or inserting a batch axis).
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import _fast_reduce, split_rules
from fnn.lax.base import (
    Zero,
    batching_rules,
    defprim,
    is_float,
    is_zero,
    jvp_rules,
    transpose_rules,
)
from fnn.lowering import FRESH, VIEW, Lowering
from fnn.rules import jet_rules

__all__ = [
    "broadcast_in_dim",
    "reshape",
    "transpose",
    "reduce_sum",
    "convert_element_type",
    "unbroadcast",
    "moveaxis",
    "broadcast_to",
    "expand_dims",
    "broadcast_axis",
    "zeros_like_aval",
    "instantiate",
    "bdim_at_front",
    "linear_jet",
    "linearized_jet",
    "zero_jet",
]


def _linear_jvp(prim):
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        (t,) = tangents
        return out, Zero(core.get_aval(out)) if is_zero(t) else prim.bind(t, **params)

    jvp_rules[prim] = rule


# ---- Taylor-mode rule builders (fnn.rules.jet_rules; series are lists of normalized
# coefficients 1..K, None where zero) ---------------------------------------------------


def linear_jet(prim):
    """The jet rule of a primitive linear in its floating operands jointly (integer and
    boolean operands, such as indices or a predicate, are held at their primal values):
    coefficient k of the output is the primitive applied to coefficient k of the inputs."""

    def rule(primals, series, **params):
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else [out]
        if not any(is_float(core.get_aval(o).dtype) for o in outs):
            return out, _no_terms(prim, outs, series)
        terms = []
        for k in range(len(series[0])):
            if all(s[k] is None for s in series):
                terms.append(None)
                continue
            args = [
                _term_or_zeros(x, s[k]) if is_float(core.get_aval(x).dtype) else x
                for x, s in zip(primals, series, strict=True)
            ]
            terms.append(prim.bind(*args, **params))
        if prim.multiple_results:
            return out, [[t if t is None else t[i] for t in terms] for i in range(len(outs))]
        return out, terms

    return rule


def linearized_jet(prim):
    """The jet rule of a piecewise-linear primitive (max, abs, sort, a reduction's max):
    away from its kinks every derivative past the first vanishes, so coefficient k of the
    output is the JVP at the primal applied to coefficient k of the inputs."""

    def rule(primals, series, **params):
        jvp = jvp_rules[prim]
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else [out]
        terms = []
        for k in range(len(series[0])):
            if all(s[k] is None for s in series):
                terms.append(None)
                continue
            tangents = [
                Zero(core.get_aval(x)) if s[k] is None else s[k]
                for x, s in zip(primals, series, strict=True)
            ]
            _, t = jvp(primals, tangents, **params)
            terms.append(t)
        if prim.multiple_results:
            return out, [
                [_none_if_zero(t[i]) if t is not None else None for t in terms]
                for i in range(len(outs))
            ]
        return out, [None if t is None else _none_if_zero(t) for t in terms]

    return rule


def zero_jet(prim):
    """The jet rule of a primitive whose derivatives all vanish (sign, floor, comparisons,
    integer outputs)."""

    def rule(primals, series, **params):
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else [out]
        return out, _no_terms(prim, outs, series)

    return rule


def _no_terms(prim, outs, series):
    order = len(series[0])
    if prim.multiple_results:
        return [[None] * order for _ in outs]
    return [None] * order


def _term_or_zeros(x, term):
    return zeros_like_aval(core.get_aval(x)) if term is None else term


def _none_if_zero(t):
    return None if is_zero(t) else t


# ---- broadcast_in_dim ------------------------------------------------------------------


def _bid_shape_for(operand_shape, shape, dims):
    s = [1] * len(shape)
    for i, d in enumerate(dims):
        s[d] = operand_shape[i]
    return tuple(s)


def _bid_impl(x, *, shape, broadcast_dimensions):
    return np.broadcast_to(x.reshape(_bid_shape_for(x.shape, shape, broadcast_dimensions)), shape)


def _bid_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise FnnTypeError(
            f"broadcast_in_dim: operand of shape {x.shape} needs {x.ndim} broadcast "
            f"dimensions, got {broadcast_dimensions}"
        )
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise FnnTypeError(
                f"broadcast_in_dim: cannot broadcast operand of shape {x.shape} to {shape} "
                f"with broadcast_dimensions={broadcast_dimensions}"
            )
    return ShapedArray(shape, x.dtype)


broadcast_in_dim_p = defprim("broadcast_in_dim", _bid_impl, _bid_abstract, silent=True)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    shape = tuple(int(d) for d in shape)
    broadcast_dimensions = tuple(int(d) for d in broadcast_dimensions)
    if core.get_aval(x).shape == shape and broadcast_dimensions == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=broadcast_dimensions)


def _bid_transpose(ct, x, *, shape, broadcast_dimensions):
    in_shape = x.aval.shape
    sum_axes = [i for i in range(len(shape)) if i not in broadcast_dimensions]
    sum_axes += [
        d for i, d in enumerate(broadcast_dimensions) if in_shape[i] == 1 and shape[d] != 1
    ]
    out = reduce_sum(ct, tuple(sorted(sum_axes))) if sum_axes else ct
    return [reshape(out, in_shape)]


def _bid_batch(vals, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    size = core.get_aval(x).shape[0]
    new_dims = (0,) + tuple(b + 1 for b in broadcast_dimensions)
    return broadcast_in_dim(x, (size,) + tuple(shape), new_dims), 0


_linear_jvp(broadcast_in_dim_p)
jet_rules[broadcast_in_dim_p] = linear_jet(broadcast_in_dim_p)
transpose_rules[broadcast_in_dim_p] = _bid_transpose
batching_rules[broadcast_in_dim_p] = _bid_batch


def _bid_emit(args, eqn, out=None):
    if out:
        return None
    p = eqn.params
    shape = _static_bid_shape_expr(args[0], p["shape"], p["broadcast_dimensions"])
    return f"np.broadcast_to({args[0]}.reshape({shape}), {p['shape']})"


lowering.register(
    broadcast_in_dim_p, Lowering(emit=_bid_emit, memory=VIEW, split=split_rules.broadcast_rule)
)


def _static_bid_shape_expr(arg, shape, dims):
    parts = ["1"] * len(shape)
    for i, d in enumerate(dims):
        parts[d] = f"{arg}.shape[{i}]"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# ---- reshape -----------------------------------------------------------------------------


def _reshape_abstract(x, *, new_sizes):
    if math.prod(new_sizes) != x.size:
        raise FnnTypeError(f"reshape: cannot reshape an array of shape {x.shape} to {new_sizes}")
    return ShapedArray(new_sizes, x.dtype)


reshape_p = defprim(
    "reshape", lambda x, *, new_sizes: np.reshape(x, new_sizes), _reshape_abstract, silent=True
)


def reshape(x, new_sizes):
    new_sizes = tuple(int(d) for d in new_sizes)
    if core.get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


_linear_jvp(reshape_p)
jet_rules[reshape_p] = linear_jet(reshape_p)
transpose_rules[reshape_p] = lambda ct, x, *, new_sizes: [reshape(ct, x.aval.shape)]


def _reshape_batch(vals, dims, *, new_sizes):
    x = moveaxis(vals[0], dims[0], 0)
    return reshape(x, (core.get_aval(x).shape[0],) + new_sizes), 0


batching_rules[reshape_p] = _reshape_batch
lowering.register(
    reshape_p,
    Lowering(
        emit=lambda a, eqn, out=None: (
            None if out else f"np.reshape({a[0]}, {eqn.params['new_sizes']})"
        ),
        memory=VIEW,
        split=split_rules.reshape_rule,
    ),
)


# ---- transpose ---------------------------------------------------------------------------


def _transpose_abstract(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise FnnTypeError(
            f"transpose: axes {permutation} are not a permutation of the {x.ndim} axes of an "
            f"array of shape {x.shape}"
        )
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype)


transpose_p = defprim(
    "transpose",
    lambda x, *, permutation: np.transpose(x, permutation),
    _transpose_abstract,
    silent=True,
)


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


_linear_jvp(transpose_p)
jet_rules[transpose_p] = linear_jet(transpose_p)
transpose_rules[transpose_p] = lambda ct, x, *, permutation: [
    transpose(ct, tuple(np.argsort(permutation)))
]


def _transpose_batch(vals, dims, *, permutation):
    x = moveaxis(vals[0], dims[0], 0)
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


batching_rules[transpose_p] = _transpose_batch
lowering.register(
    transpose_p,
    Lowering(
        emit=lambda a, eqn, out=None: (
            None if out else f"np.transpose({a[0]}, {eqn.params['permutation']})"
        ),
        memory=VIEW,
        split=split_rules.transpose_rule,
    ),
)


# ---- reduce_sum --------------------------------------------------------------------------


def _reduce_sum_abstract(x, *, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise FnnTypeError(f"reduce_sum: axis {a} out of bounds for shape {x.shape}")
    return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)


reduce_sum_p = defprim(
    "reduce_sum", lambda x, *, axes: _fast_reduce.fast_sum(x, axes), _reduce_sum_abstract
)


def reduce_sum(x, axes):
    axes = tuple(sorted(int(a) for a in axes))
    if not axes:
        return x
    return reduce_sum_p.bind(x, axes=axes)


_linear_jvp(reduce_sum_p)
jet_rules[reduce_sum_p] = linear_jet(reduce_sum_p)


def _reduce_sum_transpose(ct, x, *, axes):
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [broadcast_in_dim(ct, shape, kept)]


def _reduce_sum_batch(vals, dims, *, axes):
    (x,), (d,) = vals, dims
    # axes are in the unbatched numbering; shift those at or after the batch axis
    new_axes = tuple(_shift(a, d) for a in axes)
    out_d = d - sum(1 for a in new_axes if a < d)
    return reduce_sum(x, new_axes), out_d


def _shift(a, d):
    return a + 1 if a >= d else a


transpose_rules[reduce_sum_p] = _reduce_sum_transpose
batching_rules[reduce_sum_p] = _reduce_sum_batch


def _reduce_sum_codegen(args, eqn, out=None):
    axes = eqn.params["axes"]
    shape, dtype = eqn.inputs[0].aval.shape, eqn.out_binders[0].aval.dtype
    out_kw = f", out={out}" if out else ""
    # The faster forms of _fast_reduce, chosen here once from the shapes.
    if _fast_reduce.sum_leading_applies(shape, axes, dtype):
        return f"_sum_leading({args[0]}{out_kw})"
    if _fast_reduce.small_sum_applies(shape, axes, dtype):
        return f"_reduce_small_axes(np.add, {args[0]}, {axes}{out_kw})"
    # dtype= as in impl: np.add.reduce widens int32/bool sums to the platform int64.
    axis = axes[0] if len(axes) == 1 else axes
    return f"np.add.reduce({args[0]}, axis={axis}, dtype=np.{dtype}{out_kw})"


lowering.register(
    reduce_sum_p,
    Lowering(
        emit=_reduce_sum_codegen,
        memory=FRESH,
        split=split_rules.reduce_rule("add"),
        helpers={
            "_sum_leading": _fast_reduce.sum_leading,
            "_reduce_small_axes": _fast_reduce.reduce_small_axes,
        },
    ),
)


# ---- convert_element_type ----------------------------------------------------------------


def _convert_abstract(x, *, new_dtype):
    return ShapedArray(x.shape, new_dtype)


def _drops_imaginary(in_dtype, new_dtype) -> bool:
    """complex -> a real number type: the real part is kept, as in JAX (numpy's astype
    would warn that the imaginary part is discarded; lax says so in its name)."""
    return np.dtype(in_dtype).kind == "c" and np.dtype(new_dtype).kind in "iuf"


def _convert_impl(x, *, new_dtype):
    if _drops_imaginary(x.dtype, new_dtype):
        return x.real.astype(new_dtype)
    return x.astype(new_dtype)


convert_element_type_p = defprim("convert_element_type", _convert_impl, _convert_abstract)


def convert_element_type(x, new_dtype):
    new_dtype = config.canonicalize_dtype(new_dtype)
    if core.get_aval(x).dtype == new_dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype)


def _convert_jvp(primals, tangents, *, new_dtype):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype)
    float_in = is_float(core.get_aval(x).dtype)
    if is_zero(t) or not (float_in and is_float(new_dtype)):
        return out, Zero(core.get_aval(out))
    return out, convert_element_type_p.bind(t, new_dtype=new_dtype)


jvp_rules[convert_element_type_p] = _convert_jvp
jet_rules[convert_element_type_p] = linearized_jet(convert_element_type_p)
transpose_rules[convert_element_type_p] = lambda ct, x, *, new_dtype: [
    convert_element_type(ct, x.aval.dtype)
]
batching_rules[convert_element_type_p] = lambda vals, dims, *, new_dtype: (
    convert_element_type_p.bind(vals[0], new_dtype=new_dtype),
    dims[0],
)


def _bool_to_byte(eqn) -> bool:
    """A bool -> (u)int8 conversion: the same bytes (0 or 1), so a view in jit (the tie
    counts of max-pool's gradient sum such a mask)."""
    return eqn.inputs[0].aval.dtype == np.bool_ and np.dtype(eqn.params["new_dtype"]) in (
        np.dtype(np.uint8),
        np.dtype(np.int8),
    )


def _convert_codegen(args, eqn, out=None):
    dtype = eqn.params["new_dtype"]
    if _bool_to_byte(eqn):
        return None if out else f"{args[0]}.view(np.{dtype})"
    x = args[0]
    if _drops_imaginary(eqn.inputs[0].aval.dtype, dtype):
        x = f"{x}.real"
    return f"_cast_into({x}, {out})" if out else f"{x}.astype(np.{dtype})"


def _cast_into(x, out):
    """``out`` := x converted to out's dtype (as ``astype``: unsafe casting)."""
    np.copyto(out, x, casting="unsafe")
    return out


lowering.register(
    convert_element_type_p,
    Lowering(
        emit=_convert_codegen,
        memory=lambda eqn: VIEW if _bool_to_byte(eqn) else FRESH,
        # Order-keeping: astype and views keep the input's order, _cast_into (np.copyto)
        # writes any layout of ``out``.
        fortran_out=True,
        elementwise=True,
        split=split_rules.elementwise_rule,
        helpers={"_cast_into": _cast_into},
    ),
)


# ---- helpers -----------------------------------------------------------------------------


def unbroadcast(x, shape):
    """Sum ``x`` down to ``shape`` (the transpose of numpy broadcasting)."""
    xshape = core.get_aval(x).shape
    shape = tuple(shape)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    axes = list(range(lead))
    axes += [lead + i for i, d in enumerate(shape) if d == 1 and xshape[lead + i] != 1]
    out = reduce_sum(x, tuple(axes))
    return reshape(out, shape)


def broadcast_to(x, shape):
    """numpy-style broadcast of ``x`` to ``shape``."""
    xshape = core.get_aval(x).shape
    shape = tuple(shape)
    if xshape == shape:
        return x
    lead = len(shape) - len(xshape)
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def moveaxis(x, src, dst):
    ndim = core.get_aval(x).ndim
    src, dst = src % ndim, dst % ndim
    if src == dst:
        return x
    perm = [i for i in range(ndim) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def expand_dims(x, axis):
    shape = list(core.get_aval(x).shape)
    shape.insert(axis, 1)
    return reshape(x, shape)


def broadcast_axis(x, size, axis):
    """Insert a new axis of length ``size`` at ``axis`` (negative counts from the end)."""
    aval = core.get_aval(x)
    ndim = aval.ndim + 1
    axis = axis % ndim
    shape = list(aval.shape)
    shape.insert(axis, size)
    dims = tuple(i for i in range(ndim) if i != axis)
    return broadcast_in_dim(x, shape, dims)


def zeros_like_aval(aval: ShapedArray):
    """An array of zeros of ``aval``'s shape and dtype (a broadcast scalar)."""
    return broadcast_in_dim(np.zeros((), aval.dtype), aval.shape, ())


def instantiate(t):
    """A real array for a tangent or cotangent that may be the symbolic ``Zero``."""
    return zeros_like_aval(t.aval) if type(t) is Zero else t


def bdim_at_front(x, d, size: int):
    """``x`` with its batch axis (``d``, or None when it has none) first, broadcasting
    to ``size`` when it has none."""
    if d is None:
        return broadcast_axis(x, size, 0)
    return moveaxis(x, d, 0) if d != 0 else x
