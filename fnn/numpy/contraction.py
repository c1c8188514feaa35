"""Products and contractions: matmul, dot, tensordot, einsum, outer, inner, trace, diag."""

from __future__ import annotations

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.math import multiply, where
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import broadcast_arrays, broadcast_shapes, moveaxis, ravel, stack

__all__ = [
    "matmul", "dot", "vdot", "tensordot", "einsum", "outer", "inner", "trace", "diag",
    "diagonal", "triu", "tril", "kron", "cross",
]  # fmt: skip


def _promote2(name, a, b):
    a, b = promote_args(name, a, b)
    return asarray(a), asarray(b)


def matmul(a, b, /):
    """Matrix product with numpy's rules (1-D operands, broadcast batch dimensions).

    Example:
        >>> import fnn.numpy as fnp
        >>> (fnp.ones((2, 3)) @ fnp.ones((3, 4))).shape
        (2, 4)
    """
    a, b = _promote2("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise FnnTypeError(
            f"matmul: operands must not be scalars, got shapes {a.shape} and {b.shape}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise FnnTypeError(
            f"matmul: the last axis of a ({a.shape}) must equal the second-to-last axis of b "
            f"({b.shape}): {a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]}"
        )
    if b.ndim == 1:
        return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))
    if a.ndim == 1:
        out = lax.dot_general(a, b, (((0,), (b.ndim - 2,)), ((), ())))
        return out if b.ndim == 2 else moveaxis(out, -1, -1)
    if b.ndim == 2:
        # (..., n, k) @ (k, m): one GEMM over all leading rows.
        return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = lax.broadcast_to(a, batch + a.shape[-2:])
    b = lax.broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    return lax.dot_general(a, b, (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb)))))


def dot(a, b):
    """numpy.dot: sum over the last axis of a and the second-to-last of b."""
    a, b = _promote2("dot", a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    cb = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[cb]:
        raise FnnTypeError(
            f"dot: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} != {b.shape[cb]}"
        )
    return lax.dot_general(a, b, (((a.ndim - 1,), (cb,)), ((), ())))


def vdot(a, b):
    """The dot product of the flattened arrays, conjugating ``a`` if complex (as numpy).

    Example:
        >>> vdot(asarray([1j, 2.0]), asarray([1j, 1.0]))
        Array(3.+0.j, dtype=complex64)
    """
    a = asarray(a)
    if a.dtype.kind == "c":
        a = lax.conj(a)
    return dot(ravel(a), ravel(b))


def inner(a, b):
    a, b = _promote2("inner", a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return lax.dot_general(a, b, (((a.ndim - 1,), (b.ndim - 1,)), ((), ())))


def outer(a, b):
    a, b = _promote2("outer", a, b)
    return multiply(ravel(a)[:, None], ravel(b)[None, :])


def tensordot(a, b, axes=2):
    """Sum products over the last ``axes`` of a and first of b, or over given axis lists."""
    a, b = _promote2("tensordot", a, b)
    if isinstance(axes, int | np.integer):
        n = int(axes)
        ax_a = tuple(range(a.ndim - n, a.ndim))
        ax_b = tuple(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = (ax_a,) if isinstance(ax_a, int | np.integer) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, int | np.integer) else tuple(ax_b)
        ax_a = tuple(x % a.ndim for x in ax_a)
        ax_b = tuple(x % b.ndim for x in ax_b)
    for i, j in zip(ax_a, ax_b, strict=True):
        if a.shape[i] != b.shape[j]:
            raise FnnTypeError(
                f"tensordot: shape mismatch: axis {i} of a {a.shape} and axis {j} of b {b.shape}"
            )
    return lax.dot_general(a, b, ((ax_a, ax_b), ((), ())))


# ---- einsum -----------------------------------------------------------------------------------


def _parse(subscripts: str, operands):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins, out = subscripts, None
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise FnnTypeError(
            f"einsum: {len(terms)} terms in {subscripts!r} but {len(operands)} operands"
        )
    used = set(c for c in subscripts if c.isalpha())
    free_letters = [
        c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used
    ]
    ell_rank = 0
    for t, op in zip(terms, operands, strict=True):
        if "..." in t:
            ell_rank = max(ell_rank, op.ndim - (len(t) - 3))
    ell = "".join(free_letters[:ell_rank])
    new_terms = []
    for t, op in zip(terms, operands, strict=True):
        if "..." in t:
            k = op.ndim - (len(t) - 3)
            t = t.replace("...", ell[ell_rank - k :])
        if len(t) != op.ndim:
            raise FnnTypeError(
                f"einsum: term {t!r} has {len(t)} letters but the operand has shape {op.shape}"
            )
        new_terms.append(t)
    if out is None:
        counts = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_terms, out


def _take_diagonals(term: str, x):
    """Collapse repeated letters in one operand (e.g. 'ii') to their diagonal."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        n = x.shape[i]
        eye_shape = [1] * x.ndim
        eye_shape[i], eye_shape[j] = n, n
        mask = np.eye(n, dtype=x.dtype).reshape(eye_shape)
        x = lax.reduce_sum(multiply(x, mask), (j,))
        term = term[:j] + term[j + 1 :]
    return term, x


def einsum(subscripts: str, *operands, optimize=None, precision=None):
    """Einstein summation, evaluated as a sequence of ``dot_general`` contractions.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.einsum("bij,bjk->bik", fnp.ones((2, 3, 4)), fnp.ones((2, 4, 5))).shape
        (2, 3, 5)
    """
    ops = [asarray(o) for o in promote_args("einsum", *operands)]
    terms, out = _parse(subscripts, ops)
    sizes: dict[str, int] = {}
    for t, op in zip(terms, ops, strict=True):
        for c, d in zip(t, op.shape, strict=True):
            if c in sizes and sizes[c] != d and 1 not in (sizes[c], d):
                raise FnnTypeError(
                    f"einsum: letter {c!r} has size {sizes[c]} and {d} in {subscripts!r}"
                )
            # Size 1 broadcasts to the other size (0 included, so not max()).
            sizes[c] = d if sizes.get(c, 1) == 1 else sizes[c]
    pairs = [_take_diagonals(t, op) for t, op in zip(terms, ops, strict=True)]
    # Broadcast size-1 axes (from ellipses) to the common size.
    pairs = [
        (
            t,
            lax.broadcast_to(x, tuple(sizes[c] for c in t))
            if x.shape != tuple(sizes[c] for c in t)
            else x,
        )
        for t, x in pairs
    ]

    # Sum out letters that only one operand has and the output does not keep.
    def needed_elsewhere(c, k):
        return c in out or any(c in t for i, (t, _) in enumerate(pairs) if i != k)

    reduced = []
    for k, (t, x) in enumerate(pairs):
        drop = [i for i, c in enumerate(t) if not needed_elsewhere(c, k)]
        if drop:
            x = lax.reduce_sum(x, tuple(drop))
            t = "".join(c for i, c in enumerate(t) if i not in drop)
        reduced.append((t, x))
    t, x = reduced[0]
    for k in range(1, len(reduced)):
        t2, y = reduced[k]
        rest = out + "".join(tt for tt, _ in reduced[k + 1 :])
        common = [c for c in t if c in t2]
        batch = [c for c in common if c in rest]
        contract = [c for c in common if c not in rest]
        dn = (
            (tuple(t.index(c) for c in contract), tuple(t2.index(c) for c in contract)),
            (tuple(t.index(c) for c in batch), tuple(t2.index(c) for c in batch)),
        )
        x = lax.dot_general(x, y, dn)
        t = (
            "".join(batch)
            + "".join(c for c in t if c not in common)
            + "".join(c for c in t2 if c not in common)
        )
    drop = [i for i, c in enumerate(t) if c not in out]
    if drop:
        x = lax.reduce_sum(x, tuple(drop))
        t = "".join(c for i, c in enumerate(t) if i not in drop)
    return lax.transpose(x, tuple(t.index(c) for c in out))


# ---- diagonals and triangles ------------------------------------------------------------------


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal over ``axis1``/``axis2``, appended as the last axis (numpy's layout)."""
    a = asarray(a)
    a = moveaxis(a, (axis1, axis2), (0, 1))
    n, m = a.shape[0], a.shape[1]
    if offset >= 0:
        k = max(0, min(n, m - offset))
        i, j = np.arange(k), np.arange(k) + offset
    else:
        k = max(0, min(n + offset, m))
        i, j = np.arange(k) - offset, np.arange(k)
    out = lax.gather(a, [i, j], (("a",), ("a",)))
    return moveaxis(out, 0, -1)


def trace(a, offset=0, axis1=0, axis2=1):
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """The k-th diagonal of a matrix, or a matrix with ``v`` on its k-th diagonal."""
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise FnnTypeError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    i = np.arange(v.shape[0]) + max(0, -k)
    j = np.arange(v.shape[0]) + max(0, k)
    zeros = np.zeros((n, n), v.dtype)
    return lax.scatter(zeros, v, [i, j], (("a",), ("a",)), "set")


def tril(m, k=0):
    m = asarray(m)
    mask = np.tri(m.shape[-2], m.shape[-1], k, dtype=bool)
    return where(mask, m, 0)


def triu(m, k=0):
    m = asarray(m)
    mask = ~np.tri(m.shape[-2], m.shape[-1], k - 1, dtype=bool)
    return where(mask, m, 0)


def kron(a, b):
    """The Kronecker product: blocks ``a[i, j, ...] * b``, for arrays of any rank (the
    lower-rank operand gains leading axes of size 1), as numpy.kron.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.kron(fnp.array([1, 10]), fnp.array([1, 2, 3]))
        Array([ 1,  2,  3, 10, 20, 30], dtype=int32)
    """
    a, b = _promote2("kron", a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    nd = max(a.ndim, b.ndim)
    a_shape = (1,) * (nd - a.ndim) + a.shape
    b_shape = (1,) * (nd - b.ndim) + b.shape
    # a's axes at the even places and b's at the odd ones of a rank-2nd product, so that
    # merging each pair (i, i') gives the index i * len_b + i' of the result.
    a = lax.reshape(a, tuple(d for n in a_shape for d in (n, 1)))
    b = lax.reshape(b, tuple(d for n in b_shape for d in (1, n)))
    out = multiply(a, b)
    return lax.reshape(out, tuple(m * n for m, n in zip(a_shape, b_shape, strict=True)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, whose third component is 0) along
    ``axisa`` of ``a`` and ``axisb`` of ``b``, written along ``axisc``; ``axis`` sets all
    three. Two 2-vectors give the scalar z component. The other axes broadcast.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.cross(fnp.array([1.0, 0.0, 0.0]), fnp.array([0.0, 1.0, 0.0]))
        Array([0., 0., 1.], dtype=float32)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _promote2("cross", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise FnnTypeError(
            f"cross: both operands need at least one axis, got shapes {a.shape} and {b.shape}"
        )
    a = moveaxis(a, _axis("cross", "axisa", axisa, a.ndim), -1)
    b = moveaxis(b, _axis("cross", "axisb", axisb, b.ndim), -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise FnnTypeError(
            "cross: the vector axes must have length 2 or 3, got "
            f"{a.shape[-1]} (axisa={axisa}) and {b.shape[-1]} (axisb={axisb})"
        )
    broadcast_shapes(a.shape[:-1], b.shape[:-1])  # a clear error if they do not
    # A 2-vector's missing z component is left out of the products (None), not
    # multiplied as 0, so infinities in the other operand do not turn into NaN.
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2] if a.shape[-1] == 3 else None
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2] if b.shape[-1] == 3 else None
    z = a0 * b1 - a1 * b0
    if a2 is None and b2 is None:
        return z
    x = _minus(_times(a1, b2), _times(a2, b1))
    y = _minus(_times(a2, b0), _times(a0, b2))
    out = stack(broadcast_arrays(x, y, z), axis=-1)
    return moveaxis(out, -1, _axis("cross", "axisc", axisc, out.ndim))


def _axis(name, arg, axis, ndim):
    if not -ndim <= axis < ndim:
        raise FnnTypeError(
            f"{name}: {arg}={axis} is out of bounds for an operand of rank {ndim} "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return int(axis) % ndim


def _times(u, v):
    return None if u is None or v is None else u * v


def _minus(u, v):
    if v is None:
        return u
    return -v if u is None else u - v
