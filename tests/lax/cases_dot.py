"""Table rows for ``dot_general``: matmul, dot, tensordot, einsum, and the primitive itself
with drawn dimension numbers (any axis order, batch and contracting axes anywhere)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.lax as lax
import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args

# Sizes 1-4, and now and then 0 (an empty contraction sums to zeros).
_side = st.sampled_from([1, 2, 3, 4] * 4 + [0])


@st.composite
def _matmul_spec(draw):
    m, n, k = draw(_side), draw(_side), draw(_side)
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    if kind == "vv":
        return Spec(((n,), (n,)), {})
    if kind == "mv":
        return Spec(((m, n), (n,)), {})
    if kind == "vm":
        return Spec(((n,), draw(st.sampled_from([(), (2,)])) + (n, k)), {})
    if kind == "mm":
        return Spec(((m, n), (n, k)), {})
    batch = draw(st.sampled_from([(2,), (3, 1), (1, 2)]))
    other = draw(st.sampled_from([(), batch, (1,) * len(batch), batch[-1:]]))
    a, b = (batch + (m, n), other + (n, k))
    return Spec((a, b) if draw(st.booleans()) else (other + (m, n), batch + (n, k)), {})


@st.composite
def _dot_spec(draw):
    n = draw(_side)
    a = tuple(draw(st.lists(_side, max_size=1))) + (n,)
    b_lead = tuple(draw(st.lists(_side, max_size=1)))
    b = (n,) if draw(st.booleans()) else b_lead + (n, draw(_side))
    return Spec((a, b), {})


@st.composite
def _tensordot_spec(draw):
    shared = tuple(draw(st.lists(_side, max_size=2)))
    a_free = tuple(draw(st.lists(_side, max_size=2)))
    b_free = tuple(draw(st.lists(_side, max_size=1)))
    if draw(st.booleans()):
        return Spec((a_free + shared, shared + b_free), {"axes": len(shared)})
    # Explicit axis lists: contract shared axes placed anywhere in each operand.
    a_order = draw(st.permutations(range(len(a_free) + len(shared))))
    b_order = draw(st.permutations(range(len(shared) + len(b_free))))
    a_dims, b_dims = a_free + shared, shared + b_free
    a_shape = tuple(a_dims[i] for i in a_order)
    b_shape = tuple(b_dims[i] for i in b_order)
    ax_a = [a_order.index(len(a_free) + j) for j in range(len(shared))]
    ax_b = [b_order.index(j) - len(b_shape) for j in range(len(shared))]  # negative axes
    return Spec((a_shape, b_shape), {"axes": (ax_a, ax_b)})


# (subscripts, number of operands): matrix products, batches, traces, diagonals,
# outer products, ellipses and implicit outputs.
EINSUM_SPECS = [
    ("ij,jk->ik", 2),
    ("bij,bjk->bik", 2),
    ("ij,kj->ki", 2),
    ("i,i->", 2),
    ("i,j->ij", 2),
    ("ii->", 1),
    ("ii", 1),
    ("ii->i", 1),
    ("ij->ji", 1),
    ("ijk->k", 1),
    ("ij,jk", 2),
    ("ba,ca", 2),
    ("...ij,...jk->...ik", 2),
    ("...i,...i->...", 2),
    ("i...,i->...", 2),
    ("ij,jk,kl->il", 3),
    ("bii->b", 1),
    ("ij,ij->i", 2),
]


def _einsum_spec(subscripts):
    """Operand shapes for ``subscripts``: a drawn size per letter and for the ellipsis."""

    @st.composite
    def spec(draw):
        letters = sorted({c for c in subscripts if c.isalpha()})
        sizes = {c: draw(_side) for c in letters}
        ell = tuple(draw(st.lists(_side, max_size=2)))
        shapes = []
        for term in subscripts.split("->")[0].split(","):
            lead, dots, tail = term.partition("...")
            middle = ell if dots else ()
            shapes.append(tuple(sizes[c] for c in lead) + middle + tuple(sizes[c] for c in tail))
        return Spec(tuple(shapes), {"subscripts": subscripts})

    return spec()


def _einsum_name(subscripts):
    return "einsum_" + subscripts.replace("->", "_to_").replace(",", "_").replace("...", "E")


def _einsum(fn):
    return lambda *ops, subscripts: fn(subscripts, *ops)


@st.composite
def _dot_general_spec(draw):
    """Batch, contracting and free axes of each operand, in a random order per operand."""
    nb = draw(st.integers(0, 1))
    nc = draw(st.integers(0, 2))
    batch = [draw(_side) for _ in range(nb)]
    contract = [draw(_side) for _ in range(nc)]
    lfree = [draw(_side) for _ in range(draw(st.integers(0, 2)))]
    rfree = [draw(_side) for _ in range(draw(st.integers(0, 1)))]
    # Each operand lists ("b", i), ("c", i), ("f", i) roles, then gets shuffled.
    lroles = [("b", i) for i in range(nb)] + [("c", i) for i in range(nc)]
    lroles += [("l", i) for i in range(len(lfree))]
    rroles = [("b", i) for i in range(nb)] + [("c", i) for i in range(nc)]
    rroles += [("r", i) for i in range(len(rfree))]
    lroles, rroles = draw(st.permutations(lroles)), draw(st.permutations(rroles))
    size = {"b": batch, "c": contract, "l": lfree, "r": rfree}
    lshape = tuple(size[k][i] for k, i in lroles)
    rshape = tuple(size[k][i] for k, i in rroles)
    # Contracting pairs in a drawn order (not necessarily the order of the axes).
    corder = draw(st.permutations(range(nc)))
    lc = tuple(lroles.index(("c", i)) for i in corder)
    rc = tuple(rroles.index(("c", i)) for i in corder)
    lb = tuple(lroles.index(("b", i)) for i in range(nb))
    rb = tuple(rroles.index(("b", i)) for i in range(nb))
    return Spec((lshape, rshape), {"dimension_numbers": ((lc, rc), (lb, rb))})


def _np_dot_general(x, y, dimension_numbers):
    """dot_general as an einsum: output axes are batch, then lhs free, then rhs free."""
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    xs = [None] * x.ndim
    ys = [None] * y.ndim
    for i, j in zip(lb, rb, strict=True):
        xs[i] = ys[j] = next(letters)
    for i, j in zip(lc, rc, strict=True):
        xs[i] = ys[j] = next(letters)
    for seq in (xs, ys):
        for k, v in enumerate(seq):
            if v is None:
                seq[k] = next(letters)
    out = [xs[i] for i in lb]
    out += [c for k, c in enumerate(xs) if k not in lb and k not in lc]
    out += [c for k, c in enumerate(ys) if k not in rb and k not in rc]
    return np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)


def _real(n):
    return args(*["real"] * n)


def _einsum_args(rng, spec):
    return [rng.normal(size=s) for s in spec.shapes]


EINSUM = [
    Case(
        _einsum_name(subscripts),
        _einsum(fnp.einsum),
        _einsum(np.einsum),
        _einsum_spec(subscripts),
        _einsum_args,
        prims=("dot_general",) if nops > 1 else (),
        api=("einsum",),
        nargs=nops,
    )
    for subscripts, nops in EINSUM_SPECS
]

CASES = [
    Case(
        "matmul", fnp.matmul, np.matmul, _matmul_spec(), _real(2), prims=("dot_general",), nargs=2
    ),
    Case(
        "matmul_int",
        fnp.matmul,
        np.matmul,
        _matmul_spec(),
        args("int", "int"),
        diff=None,
        prims=("dot_general",),
        nargs=2,
    ),
    Case("dot", fnp.dot, np.dot, _dot_spec(), _real(2), prims=("dot_general",), nargs=2),
    Case(
        "tensordot",
        fnp.tensordot,
        np.tensordot,
        _tensordot_spec(),
        _real(2),
        prims=("dot_general",),
        nargs=2,
    ),
    Case(
        "dot_general",
        lax.dot_general,
        _np_dot_general,
        _dot_general_spec(),
        _real(2),
        prims=("dot_general",),
        nargs=2,
    ),
] + EINSUM
