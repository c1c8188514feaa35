"""Per-primitive rules of jit's batch split (``fnn/backend/batch_split.py``): where
the batch axis goes. Each primitive's record (``fnn/lowering.py``) names its rule.

Like vmap's batching rules, but the batch is split rather than added: each rule gets an
equation and, per input, ``None`` (not mapped) or ``Mapped(axis, unit)``, and returns the
outputs' infos (``Mapped`` or ``Partial``: a reduction over the batch), the unmapped
inputs that must be cut into chunks along with the batch (``{input index: Mapped}``),
and ``params(c)``: the equation's parameters for a chunk of ``c`` rows. A rule raises
:class:`Unsplittable` when the equation mixes batch rows (a reduction it cannot express,
an outer product over the batch, a slice along it).
"""

from __future__ import annotations

import math

from fnn.lowering import Mapped, Partial, Unsplittable

__all__ = [
    "elementwise_rule",
    "reduce_rule",
    "axis_param_rule",
    "axes_param_rule",
    "transpose_rule",
    "broadcast_rule",
    "reshape_rule",
    "dot_rule",
    "slice_rule",
    "pad_rule",
    "concatenate_rule",
    "leading_axis_rule",
    "col2im_dot_rule",
    "rev_rule",
]

# rule(eqn, infos, B) -> (out_infos, slices, new_params_fn)
#   infos[i]: None | Mapped for each input; slices: {input index: Mapped} for unmapped
#   inputs that must be cut per chunk; new_params_fn(c) -> params for chunk size c.


def _show_infos(eqn, infos) -> str:
    return ", ".join(f"{x.aval.str_short()}:{f}" for x, f in zip(eqn.inputs, infos, strict=True))


def _same(params):
    return lambda c: params


def elementwise_rule(eqn, infos, B):
    out_nd = eqn.out_binders[0].aval.ndim
    target = None
    for x, info in zip(eqn.inputs, infos, strict=True):
        if info is not None:
            aligned = Mapped(info.axis + out_nd - x.aval.ndim, info.unit)
            if target is not None and aligned != target:
                raise Unsplittable(
                    f"{eqn.primitive.name}: operands mapped on different axes ({_show_infos(eqn, infos)})"
                )
            target = aligned
    slices = {}
    for i, (x, info) in enumerate(zip(eqn.inputs, infos, strict=True)):
        if info is not None:
            continue
        axis = target.axis - (out_nd - x.aval.ndim)
        if axis < 0 or x.aval.shape[axis] == 1:
            continue  # broadcasts against the chunk as it did against the batch
        if x.aval.shape[axis] != B * target.unit:
            raise Unsplittable(f"{eqn.primitive.name}: unexpected operand shape")
        slices[i] = Mapped(axis, target.unit)
    return [target] * len(eqn.out_binders), slices, _same(eqn.params)


def reduce_rule(combine):
    def rule(eqn, infos, B):
        (info,) = infos
        axes = eqn.params["axes"]
        if info.axis in axes:
            return [Partial(combine)], {}, _same(eqn.params)
        out = Mapped(info.axis - sum(1 for a in axes if a < info.axis), info.unit)
        return [out], {}, _same(eqn.params)

    return rule


def axis_param_rule(name, shift_out=False):
    """Primitives with one axis parameter that must not be the batch axis."""

    def rule(eqn, infos, B):
        (info, *rest) = infos
        if any(r is not None for r in rest):
            raise Unsplittable(f"{eqn.primitive.name}: several mapped operands")
        axis = eqn.params[name]
        if axis == info.axis:
            raise Unsplittable(f"{eqn.primitive.name} along the batch axis")
        out = info
        if shift_out and axis < info.axis:
            out = Mapped(info.axis - 1, info.unit)
        return [out] * len(eqn.out_binders), {}, _same(eqn.params)

    return rule


def axes_param_rule(name):
    """Primitives acting along the axes in parameter ``name`` and independently across
    the others (fft): any other axis may hold the batch."""

    def rule(eqn, infos, B):
        (info,) = infos
        if info.axis in eqn.params[name]:
            raise Unsplittable(f"{eqn.primitive.name} along the batch axis")
        return [info], {}, _same(eqn.params)

    return rule


def transpose_rule(eqn, infos, B):
    (info,) = infos
    perm = eqn.params["permutation"]
    return [Mapped(perm.index(info.axis), info.unit)], {}, _same(eqn.params)


def broadcast_rule(eqn, infos, B):
    (info,) = infos
    dims = eqn.params["broadcast_dimensions"]
    axis = dims[info.axis]
    shape = eqn.params["shape"]
    if shape[axis] != B * info.unit:
        raise Unsplittable("broadcast_in_dim expands the batch axis")

    def params(c):
        new = list(shape)
        new[axis] = c * info.unit
        return {**eqn.params, "shape": tuple(new)}

    return [Mapped(axis, info.unit)], {}, params


def reshape_rule(eqn, infos, B):
    (info,) = infos
    in_shape = eqn.inputs[0].aval.shape
    new = eqn.params["new_sizes"]
    prefix = math.prod(in_shape[: info.axis])
    acc, axis = 1, None
    for b, size in enumerate(new):
        if acc == prefix and size % B == 0 and size > 0:
            axis = b
            break
        acc *= size
    if axis is None:
        raise Unsplittable("reshape splits the batch axis")
    unit = new[axis] // B

    def params(c):
        sizes = list(new)
        sizes[axis] = c * unit
        return {**eqn.params, "new_sizes": tuple(sizes)}

    return [Mapped(axis, unit)], {}, params


def dot_rule(eqn, infos, B):
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    li, ri = infos
    lhs, rhs = (x.aval for x in eqn.inputs)

    def free(nd, c, b):
        return [a for a in range(nd) if a not in c and a not in b]

    lf, rf = free(lhs.ndim, lc, lb), free(rhs.ndim, rc, rb)

    def partner(axis, mine_c, mine_b, other_c, other_b):
        if axis in mine_c:
            return "contract", other_c[mine_c.index(axis)]
        if axis in mine_b:
            return "batch", other_b[mine_b.index(axis)]
        return "free", None

    slices = {}
    if li is not None and ri is not None:
        kind_l, pl = partner(li.axis, lc, lb, rc, rb)
        if kind_l == "free" or pl != ri.axis or li.unit != ri.unit:
            raise Unsplittable("dot_general pairs batch rows of two operands")
        kind, unit, out_axis = kind_l, li.unit, lb.index(li.axis) if kind_l == "batch" else None
    else:
        mapped_is_lhs = li is not None
        info = li if mapped_is_lhs else ri
        mine = (lc, lb) if mapped_is_lhs else (rc, rb)
        other = (rc, rb) if mapped_is_lhs else (lc, lb)
        kind, p = partner(info.axis, mine[0], mine[1], other[0], other[1])
        unit = info.unit
        if kind != "free":
            slices[1 if mapped_is_lhs else 0] = Mapped(p, unit)
        if kind == "batch":
            out_axis = mine[1].index(info.axis)
        elif kind == "free":
            nb = len(lb)
            out_axis = (
                nb + lf.index(info.axis) if mapped_is_lhs else nb + len(lf) + rf.index(info.axis)
            )
    if kind == "contract":
        return [Partial("add")], slices, _same(eqn.params)
    return [Mapped(out_axis, unit)], slices, _same(eqn.params)


def slice_rule(eqn, infos, B):
    (info,) = infos
    p = eqn.params
    a = info.axis
    strides = p["strides"] or (1,) * len(p["start"])
    if p["start"][a] != 0 or p["limit"][a] != B * info.unit or strides[a] != 1:
        raise Unsplittable("slice along the batch axis")

    def params(c):
        limit = list(p["limit"])
        limit[a] = c * info.unit
        return {**p, "limit": tuple(limit)}

    return [info], {}, params


def pad_rule(eqn, infos, B):
    info, pv = infos
    if pv is not None or tuple(eqn.params["config"][info.axis]) != (0, 0, 0):
        raise Unsplittable("pad along the batch axis")
    return [info], {}, _same(eqn.params)


def concatenate_rule(eqn, infos, B):
    d = eqn.params["dimension"]
    mapped = {i for i, info in enumerate(infos) if info is not None}
    target = infos[min(mapped)]
    if target.axis == d or any(infos[i] != target for i in mapped):
        raise Unsplittable("concatenate along the batch axis")
    slices = {}
    for i, x in enumerate(eqn.inputs):
        if i not in mapped:
            if x.aval.shape[target.axis] != B * target.unit:
                raise Unsplittable("concatenate: unexpected operand shape")
            slices[i] = target
    return [target], slices, _same(eqn.params)


def leading_axis_rule(eqn, infos, B):
    """conv_patches / col2im: images (N, spatial..., C) mapped along N only."""
    (info,) = infos
    if info.axis != 0 or info.unit != 1:
        raise Unsplittable(f"{eqn.primitive.name} mapped off its batch axis")
    return [info], {}, _same(eqn.params)


def col2im_dot_rule(eqn, infos, B):
    """A convolution's input gradient: cotangent images mapped along N, the kernel whole."""
    ct, w = infos
    if w is not None or ct.axis != 0 or ct.unit != 1:
        raise Unsplittable("col2im_dot mapped off its batch axis")
    return [ct], {}, _same(eqn.params)


def rev_rule(eqn, infos, B):
    (info,) = infos
    if info.axis in eqn.params["dimensions"]:
        raise Unsplittable("rev along the batch axis")
    return [info], {}, _same(eqn.params)
