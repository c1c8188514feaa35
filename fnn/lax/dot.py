"""``dot_general``: every contraction (matmul, dot, tensordot, einsum pairs) as one primitive.

``dimension_numbers = ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``; the
output's axes are the batch axes, then lhs's free axes, then rhs's free axes (as in
lax). It runs as one ``np.matmul`` on (batch, M, K) @ (batch, K, N) views, so BLAS does
the work; the transposes and reshapes around it are planned once from static shapes.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import split_rules
from fnn.lax.base import Zero, batching_rules, defprim, is_zero, jvp_rules
from fnn.lax.elementwise import add, bilinear_jet
from fnn.lax.structural import moveaxis, transpose
from fnn.lowering import FRESH, Lowering
from fnn.rules import is_undefined_primal, jet_rules, transpose_rules

__all__ = ["dot_general"]


def _free(ndim, contract, batch):
    return [i for i in range(ndim) if i not in contract and i not in batch]


@functools.lru_cache(maxsize=1024)
def _plan(lshape, rshape, dn):
    """Permutations and shapes that turn the contraction into one batched matmul.

    Cached: eager code plans the same few contractions on every step."""
    (lc, rc), (lb, rb) = dn
    lf, rf = _free(len(lshape), lc, lb), _free(len(rshape), rc, rb)
    size = lambda shape, axes: math.prod([shape[a] for a in axes])  # noqa: E731  (ints, exact)
    B, M, K, N = size(lshape, lb), size(lshape, lf), size(lshape, lc), size(rshape, rf)
    lperm = tuple(lb) + tuple(lf) + tuple(lc)
    rperm = tuple(rb) + tuple(rc) + tuple(rf)
    out_shape = (
        tuple(lshape[a] for a in lb) + tuple(lshape[a] for a in lf) + tuple(rshape[a] for a in rf)
    )
    batched = len(lb) > 0
    lmat = (B, M, K) if batched else (M, K)
    rmat = (B, K, N) if batched else (K, N)
    return lperm, lmat, rperm, rmat, out_shape


def _dot_impl(lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    lperm, lmat, rperm, rmat, out_shape = _plan(lhs.shape, rhs.shape, dimension_numbers)
    a = np.transpose(lhs, lperm).reshape(lmat)
    b = np.transpose(rhs, rperm).reshape(rmat)
    # A transposed operand (a weight gradient's x.T) goes to BLAS as a transpose flag;
    # computing (b.T @ a.T).T and copying it contiguous instead is slower (see
    # benchmarks/README.md).
    return np.matmul(a, b).reshape(out_shape)


def _dot_codegen(args, eqn, out=None):
    """One np.matmul with the planned transposes/reshapes, omitting the trivial ones.

    With ``out`` (a C-contiguous buffer of the output's shape) the product is written
    into it through ``_matmul_into``.
    """
    lhs, rhs = (v.aval.shape for v in eqn.inputs)
    lperm, lmat, rperm, rmat, out_shape = _plan(lhs, rhs, eqn.params["dimension_numbers"])

    def prep(name, shape, perm, mat):
        expr = name
        if perm != tuple(range(len(perm))):
            expr = f"np.transpose({expr}, {perm})"
        if tuple(shape[p] for p in perm) != mat:
            expr = f"np.reshape({expr}, {mat})"
        return expr

    mat_out = _mat_out(lmat, rmat)
    lhs_expr, rhs_expr = prep(args[0], lhs, lperm, lmat), prep(args[1], rhs, rperm, rmat)
    if out is not None:
        return f"_matmul_into({lhs_expr}, {rhs_expr}, {out}, {mat_out})"
    expr = f"np.matmul({lhs_expr}, {rhs_expr})"
    if mat_out != out_shape:
        expr = f"np.reshape({expr}, {out_shape})"
    return expr


def _mat_out(lmat, rmat):
    """The shape of the planned matmul's result."""
    return (lmat[0], lmat[-2], rmat[-1]) if len(lmat) == 3 else (lmat[0], rmat[1])


def _matmul_into(a, b, out, mat_shape):
    """``out`` (an array of the output's shape) := a @ b, the product of ``mat_shape``."""
    if out.shape == mat_shape or out.flags.c_contiguous:
        np.matmul(a, b, out=out.reshape(mat_shape))  # a view of out
    else:  # reshaping a Fortran-ordered out copies it: the product would land in the copy
        np.copyto(out, np.matmul(a, b).reshape(out.shape))
    return out


def _writes_fortran_out(eqn) -> bool:
    """Whether the product writes correctly into a Fortran-ordered buffer: only when
    its matmul's result has the output's own 2-D shape (a batched matrix times a
    vector, (2, 4096, 4) @ (4,), is an (8192, 4) @ (4, 1) product reshaped to (2, 4096),
    which ``_matmul_into`` must copy into a Fortran-ordered buffer)."""
    lhs, rhs = (v.aval.shape for v in eqn.inputs)
    _, lmat, _, rmat, out_shape = _plan(lhs, rhs, eqn.params["dimension_numbers"])
    return len(out_shape) == 2 and _mat_out(lmat, rmat) == out_shape


class _ShapesText:
    def __init__(self, lhs, rhs):
        self.lhs, self.rhs = lhs, rhs

    def __format__(self, spec):
        return f"{self.lhs.str_short()} and {self.rhs.str_short()}"


def _dot_abstract(lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    shapes = _ShapesText(lhs, rhs)  # formatted only for an error message
    if lhs.dtype != rhs.dtype:
        raise FnnTypeError(f"dot_general: dtypes differ: {shapes}")
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise FnnTypeError(f"dot_general: dimension numbers {dimension_numbers} unbalanced")
    for axes, nd in ((lc + lb, lhs.ndim), (rc + rb, rhs.ndim)):
        if any(not 0 <= a < nd for a in axes) or len(set(axes)) != len(axes):
            raise FnnTypeError(
                f"dot_general: invalid axes in {dimension_numbers} for shapes {shapes}"
            )
    lcs, rcs = tuple(lhs.shape[a] for a in lc), tuple(rhs.shape[a] for a in rc)
    if lcs != rcs:
        raise FnnTypeError(
            f"dot_general: contracting dims {lcs} and {rcs} differ for shapes "
            f"{lhs.shape} @ {rhs.shape}"
        )
    lbs, rbs = tuple(lhs.shape[a] for a in lb), tuple(rhs.shape[a] for a in rb)
    if lbs != rbs:
        raise FnnTypeError(
            f"dot_general: batch dims {lbs} and {rbs} differ for shapes {lhs.shape} @ {rhs.shape}"
        )
    return ShapedArray(_plan(lhs.shape, rhs.shape, dimension_numbers)[4], lhs.dtype)


dot_general_p = defprim("dot_general", _dot_impl, _dot_abstract)


def dot_general(lhs, rhs, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(map(int, lc)), tuple(map(int, rc))), (tuple(map(int, lb)), tuple(map(int, rb))))
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn)


def _dot_jvp(primals, tangents, *, dimension_numbers, preferred_element_type=None):
    x, y = primals
    tx, ty = tangents
    out = dot_general(x, y, dimension_numbers)
    parts = []
    if not is_zero(tx):
        parts.append(dot_general(tx, y, dimension_numbers))
    if not is_zero(ty):
        parts.append(dot_general(x, ty, dimension_numbers))
    if not parts:
        return out, Zero(core.get_aval(out))
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _ranks(xs):
    return [a.aval.ndim if is_undefined_primal(a) else core.get_aval(a).ndim for a in xs]


def _transpose_lhs(ct, x_ndim, y, dn):
    """Cotangent of lhs: contract ct's rhs-free axes with y's free axes, then reorder."""
    (lc, rc), (lb, rb) = dn
    y_ndim = core.get_aval(y).ndim
    nb = len(lb)
    lf = _free(x_ndim, lc, lb)
    rf = _free(y_ndim, rc, rb)
    ct_rf = tuple(range(nb + len(lf), nb + len(lf) + len(rf)))
    ct_b = tuple(range(nb))
    out = dot_general(ct, y, ((ct_rf, tuple(rf)), (ct_b, tuple(rb))))
    # out axes: batch, lhs free, then y's remaining (contracting) axes in increasing order.
    rc_sorted = sorted(rc)
    pos = {}
    for i, a in enumerate(lb):
        pos[a] = i
    for i, a in enumerate(lf):
        pos[a] = nb + i
    for k, a in enumerate(lc):
        pos[a] = nb + len(lf) + rc_sorted.index(rc[k])
    perm = tuple(pos[a] for a in range(x_ndim))
    return transpose(out, perm)


def _transpose_rhs(ct, y_ndim, x, dn):
    """Cotangent of rhs: contract x's free axes with ct's, so that for ``h @ W`` the
    weight gradient is ``h.T @ ct`` in W's own (C) layout rather than a transposed
    ``(ct.T @ h).T`` view, whose strided layout slows every later elementwise use."""
    (lc, rc), (lb, rb) = dn
    x_ndim = core.get_aval(x).ndim
    nb = len(lb)
    lf = _free(x_ndim, lc, lb)
    rf = _free(y_ndim, rc, rb)
    ct_lf = tuple(range(nb, nb + len(lf)))
    out = dot_general(x, ct, ((tuple(lf), ct_lf), (tuple(lb), tuple(range(nb)))))
    # out axes: batch, x's contracting axes in increasing order, then y's free axes.
    lc_sorted = sorted(lc)
    pos = {}
    for i, a in enumerate(rb):
        pos[a] = i
    for k, a in enumerate(lc_sorted):
        pos[rc[lc.index(a)]] = nb + k
    for i, a in enumerate(rf):
        pos[a] = nb + len(lc) + i
    perm = tuple(pos[a] for a in range(y_ndim))
    return transpose(out, perm)


def _dot_transpose(ct, x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    x_ndim, y_ndim = _ranks([x, y])
    ct_x = ct_y = None
    if is_undefined_primal(x):
        ct_x = _transpose_lhs(ct, x_ndim, y, dimension_numbers)
    if is_undefined_primal(y):
        ct_y = _transpose_rhs(ct, y_ndim, x, dimension_numbers)
    return [ct_x, ct_y]


def _shift_axes(axes, d):
    return tuple(a + 1 if a >= d else a for a in axes)


def _dot_batch(vals, dims, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    x, y = vals
    dx, dy = dims
    if dx is not None and dy is not None:
        x, y = moveaxis(x, dx, 0), moveaxis(y, dy, 0)
        dn = (
            (_shift_axes(lc, 0), _shift_axes(rc, 0)),
            ((0,) + _shift_axes(lb, 0), (0,) + _shift_axes(rb, 0)),
        )
        return dot_general(x, y, dn), 0
    if dx is not None:
        x = moveaxis(x, dx, 0)
        dn = ((_shift_axes(lc, 0), rc), (_shift_axes(lb, 0), rb))
        return dot_general(x, y, dn), len(lb)
    y = moveaxis(y, dy, 0)
    dn = ((lc, _shift_axes(rc, 0)), (lb, _shift_axes(rb, 0)))
    x_ndim = core.get_aval(x).ndim
    n_lf = len(_free(x_ndim, lc, lb))
    return dot_general(x, y, dn), len(lb) + n_lf


jvp_rules[dot_general_p] = _dot_jvp
jet_rules[dot_general_p] = bilinear_jet(dot_general_p.bind)
transpose_rules[dot_general_p] = _dot_transpose
batching_rules[dot_general_p] = _dot_batch
lowering.register(
    dot_general_p,
    Lowering(
        emit=_dot_codegen,
        memory=FRESH,
        fortran_out=_writes_fortran_out,
        split=split_rules.dot_rule,
        helpers={"_matmul_into": _matmul_into},
    ),
)
