"""Linear-algebra primitives: cholesky, triangular_solve, solve, det, slogdet, eigh, qr,
svd, pinv.

Every primitive acts on stacks of matrices ``(..., m, n)`` (numpy.linalg accepts stacks,
so batching only moves the vmapped axis to the front). Solvers take equal batch shapes;
fnn.numpy.linalg broadcasts. The JVP rules are written with lax operations on the
primal outputs, so they are differentiable again, and every operation they apply to a
tangent is linear in it (``dot_general``, ``select``, ``triangular_solve`` and ``solve``
in their right-hand side), so reverse mode needs transpose rules only for those.

Where LAPACK fails (a matrix that is not positive definite for cholesky, a singular
matrix for solve) the result is NaN for that matrix, as in JAX, rather than an exception
from inside a transformed function.

Example:
    >>> import numpy as np
    >>> from fnn.lax import linalg
    >>> linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]], np.float32))
    Array([[2., 0.],
           [1., 2.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax.base import Zero, batching_rules, defprim, is_zero, jvp_rules, transpose_rules
from fnn.lax.dot import dot_general
from fnn.lax.elementwise import add, div, mul, neg, select, sub
from fnn.lax.slicing import concatenate, slice_in_dim
from fnn.lax.structural import (
    bdim_at_front,
    convert_element_type,
    moveaxis,
    reduce_sum,
    reshape,
    transpose,
)
from fnn.rules import is_undefined_primal

__all__ = [
    "cholesky",
    "triangular_solve",
    "solve",
    "det",
    "slogdet",
    "eigh",
    "qr",
    "svd",
    "pinv",
    "eig",
]


# ---- helpers on stacks of matrices, written with lax ops (differentiable) ---------------


def _aval(x) -> ShapedArray:
    return core.get_aval(x)


def _T(x):
    """Swap the last two axes."""
    nd = _aval(x).ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _mm(a, b):
    """Batched matrix product of (..., m, k) and (..., k, n) with equal batch shapes."""
    nd = _aval(a).ndim
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _const(x, value):
    return np.asarray(value, _aval(x).dtype)


def _eye(n, like):
    return np.eye(n, dtype=_aval(like).dtype)


def _keep(x, mask):
    """Entries of x where the (n, n) numpy ``mask`` holds, zero elsewhere."""
    return select(mask, x, _const(x, 0))


def _tril(x, k=0):
    m, n = _aval(x).shape[-2:]
    return _keep(x, np.tri(m, n, k, dtype=bool))


def _triu(x, k=0):
    m, n = _aval(x).shape[-2:]
    return _keep(x, ~np.tri(m, n, k - 1, dtype=bool))


def _sym_from_lower(x):
    """The symmetric matrix whose lower triangle is x's (what LAPACK's 'L' routines read)."""
    return add(_tril(x), _T(_tril(x, -1)))


def _diag(x):
    """The diagonal of the last two axes: (..., n, n) -> (..., n)."""
    n = _aval(x).shape[-1]
    return reduce_sum(mul(x, _eye(n, x)), (_aval(x).ndim - 1,))


def _trace(x):
    nd, n = _aval(x).ndim, _aval(x).shape[-1]
    return reduce_sum(mul(x, _eye(n, x)), (nd - 2, nd - 1))


def _row(v):
    """(..., n) -> (..., 1, n)."""
    shape = _aval(v).shape
    return reshape(v, shape[:-1] + (1, shape[-1]))


def _col(v):
    """(..., n) -> (..., n, 1)."""
    return reshape(v, _aval(v).shape + (1,))


def _out_zero(x):
    return Zero(_aval(x))


def _bind(prim, *args, **params):
    """Check shapes first: eager evaluation skips abstract_eval, and a LAPACK error on a
    malformed input would otherwise turn into NaN."""
    prim.abstract_eval(*[_aval(a) for a in args], **params)
    return prim.bind(*args, **params)


# ---- shape checks -------------------------------------------------------------------------


def _check_float(name, aval):
    if not np.issubdtype(aval.dtype, np.floating):
        raise FnnTypeError(
            f"{name}: expected a floating-point matrix, got dtype {aval.dtype} "
            "(fnn.numpy.linalg converts integers; lax does not)"
        )


def _check_matrix(name, aval):
    if aval.ndim < 2:
        raise FnnTypeError(f"{name}: expected a matrix (..., m, n), got shape {aval.shape}")
    _check_float(name, aval)


def _check_square(name, aval):
    if aval.ndim < 2 or aval.shape[-1] != aval.shape[-2]:
        raise FnnTypeError(f"{name}: expected a square matrix (..., n, n), got shape {aval.shape}")
    _check_float(name, aval)


def _check_rhs(name, a, b, common_axis):
    """b: (..., n, k) with a's batch shape, and its ``common_axis`` matching a's order n."""
    if b.ndim != a.ndim:
        raise FnnTypeError(
            f"{name}: b must be a stack of matrices of the same rank as a, got a of shape "
            f"{a.shape} and b of shape {b.shape} (fnn.numpy.linalg broadcasts; lax does not)"
        )
    if a.shape[:-2] != b.shape[:-2]:
        raise FnnTypeError(
            f"{name}: batch dimensions differ: a has shape {a.shape} and b has shape {b.shape}"
        )
    if b.shape[common_axis] != a.shape[-1]:
        raise FnnTypeError(
            f"{name}: a of shape {a.shape} and b of shape {b.shape} do not fit: b needs "
            f"{a.shape[-1]} along axis {common_axis}"
        )
    if a.dtype != b.dtype:
        raise FnnTypeError(f"{name}: dtypes differ: a is {a.dtype} and b is {b.dtype}")


def _move_front_rule(prim):
    """Batching for one-operand primitives: numpy.linalg handles leading stack axes."""

    def rule(vals, dims, **params):
        x = moveaxis(vals[0], dims[0], 0)
        out = prim.bind(x, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    batching_rules[prim] = rule


def _nan_where_failing(fn, out_shape, *arrays):
    """fn on a stack; where LAPACK fails for one matrix, NaN for that matrix (as JAX)."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError:
        out = np.full(out_shape, np.nan, arrays[0].dtype)
        for idx in np.ndindex(arrays[0].shape[:-2]):
            try:
                out[idx] = fn(*(x[idx] for x in arrays))
            except np.linalg.LinAlgError:
                pass
        return out


# ---- cholesky -----------------------------------------------------------------------------


def _cholesky_impl(a):
    return _nan_where_failing(np.linalg.cholesky, a.shape, a).astype(a.dtype, copy=False)


def _cholesky_abstract(a):
    _check_square("cholesky", a)
    return ShapedArray(a.shape, a.dtype)


cholesky_p = defprim("cholesky", _cholesky_impl, _cholesky_abstract)


def cholesky(a):
    """Lower Cholesky factor L of a positive-definite ``a`` (only its lower triangle is read).

    Example:
        >>> import numpy as np
        >>> cholesky(np.array([[4.0, 99.0], [2.0, 5.0]], np.float32))  # 99 is not read
        Array([[2., 0.],
               [1., 2.]], dtype=float32)
    """
    return _bind(cholesky_p, a)


def _cholesky_jvp(primals, tangents):
    # A = L L^T  =>  dL = L Phi(L^-1 dA L^-T), Phi: lower triangle with the diagonal halved.
    (a,), (da,) = primals, tangents
    L = cholesky_p.bind(a)
    n = _aval(a).shape[-1]
    tmp = triangular_solve(L, _sym_from_lower(da), left_side=True, lower=True)
    tmp = triangular_solve(L, tmp, left_side=False, lower=True, transpose_a=True)
    phi = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)
    return L, _mm(L, mul(tmp, phi.astype(_aval(a).dtype)))


jvp_rules[cholesky_p] = _cholesky_jvp
_move_front_rule(cholesky_p)


# ---- triangular_solve ---------------------------------------------------------------------


def _triangular_solve_2d(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    kw = dict(lower=lower, unit_diagonal=unit_diagonal, check_finite=False)
    if left_side:
        return scipy.linalg.solve_triangular(a, b, trans=int(transpose_a), **kw)
    # X op(A) = B  <=>  op(A)^T X^T = B^T
    return scipy.linalg.solve_triangular(a, b.T, trans=int(not transpose_a), **kw).T


def _triangular_solve_stack(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    # A batched LAPACK solve on the triangle beats a Python loop of small solves.
    n = a.shape[-1]
    mask = np.tri(n, dtype=bool) if lower else ~np.tri(n, k=-1, dtype=bool)
    tri = np.where(mask, a, 0)
    if unit_diagonal:
        tri = np.where(np.eye(n, dtype=bool), 1, tri)
    if transpose_a:
        tri = np.swapaxes(tri, -1, -2)
    if left_side:
        return _nan_where_failing(np.linalg.solve, b.shape, tri, b)
    bt = np.swapaxes(b, -1, -2)
    out = _nan_where_failing(np.linalg.solve, bt.shape, np.swapaxes(tri, -1, -2), bt)
    return np.swapaxes(out, -1, -2)


def _triangular_solve_impl(a, b, **params):
    solver = _triangular_solve_2d if a.ndim == 2 else _triangular_solve_stack
    # A zero on the diagonal (singular) gives inf/NaN, as in JAX, rather than an error.
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            out = solver(a, b, **params)
        except np.linalg.LinAlgError:
            out = np.full(b.shape, np.nan, b.dtype)
    return np.ascontiguousarray(out, a.dtype)


def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    _check_square("triangular_solve", a)
    _check_rhs("triangular_solve", a, b, -2 if left_side else -1)
    return ShapedArray(b.shape, b.dtype)


triangular_solve_p = defprim("triangular_solve", _triangular_solve_impl, _triangular_solve_abstract)


def triangular_solve(
    a,
    b,
    left_side: bool = False,
    lower: bool = False,
    transpose_a: bool = False,
    unit_diagonal: bool = False,
):
    """Solve ``op(a) x = b`` (``left_side``) or ``x op(a) = b`` with triangular ``a``.

    ``op(a)`` is ``a.T`` when ``transpose_a``. Only the triangle named by ``lower`` is read;
    with ``unit_diagonal`` the diagonal is taken as ones. Names and defaults follow
    ``jax.lax.linalg.triangular_solve``.

    Example:
        >>> import numpy as np
        >>> L = np.array([[2.0, 0.0], [1.0, 1.0]], np.float32)
        >>> triangular_solve(L, np.array([[2.0], [3.0]], np.float32), left_side=True, lower=True)
        Array([[1.],
               [2.]], dtype=float32)
    """
    return _bind(
        triangular_solve_p,
        a,
        b,
        left_side=bool(left_side),
        lower=bool(lower),
        transpose_a=bool(transpose_a),
        unit_diagonal=bool(unit_diagonal),
    )


def _triangular_solve_jvp(primals, tangents, **params):
    a, b = primals
    da, db = tangents
    x = triangular_solve_p.bind(a, b, **params)
    parts = []
    if not is_zero(db):
        parts.append(triangular_solve_p.bind(a, db, **params))
    if not is_zero(da):
        # d(op(A)^-1 B) = -op(A)^-1 op(dA) X, with dA restricted to the triangle that is read.
        k = 1 if params["unit_diagonal"] else 0
        da = _tril(da, -k) if params["lower"] else _triu(da, k)
        da = _T(da) if params["transpose_a"] else da
        rhs = _mm(da, x) if params["left_side"] else _mm(x, da)
        parts.append(neg(triangular_solve_p.bind(a, rhs, **params)))
    if not parts:
        return x, _out_zero(x)
    return x, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _triangular_solve_transpose(ct, a, b, **params):
    if is_undefined_primal(a):
        raise ValueError("triangular_solve: transpose with respect to the matrix (not linear)")
    params = dict(params, transpose_a=not params["transpose_a"])
    return [None, triangular_solve_p.bind(a, ct, **params)]


def _solve_like_batch(prim, left_side):
    """Batching for (matrix, rhs) primitives. An unmapped matrix keeps its size: the
    batch of right-hand sides is folded into extra columns (rows on the right side)."""

    def rule(vals, dims, **params):
        (a, b), (da, db) = vals, dims
        left = params.get("left_side", left_side)
        if da is None:
            nd = _aval(b).ndim
            if left:
                b = moveaxis(b, db, nd - 1)  # (..., n, k, B) -> (..., n, k*B)
                shape = _aval(b).shape
                out = prim.bind(a, reshape(b, shape[:-2] + (shape[-2] * shape[-1],)), **params)
                return reshape(out, shape), nd - 1
            b = moveaxis(b, db, nd - 3)  # (..., B, k, n) -> (..., B*k, n)
            shape = _aval(b).shape
            flat = reshape(b, shape[:-3] + (shape[-3] * shape[-2], shape[-1]))
            return reshape(prim.bind(a, flat, **params), shape), nd - 3
        size = _aval(a).shape[da]
        return prim.bind(bdim_at_front(a, da, size), bdim_at_front(b, db, size), **params), 0

    batching_rules[prim] = rule


jvp_rules[triangular_solve_p] = _triangular_solve_jvp
transpose_rules[triangular_solve_p] = _triangular_solve_transpose
_solve_like_batch(triangular_solve_p, left_side=True)


# ---- solve --------------------------------------------------------------------------------


def _solve_impl(a, b):
    return _nan_where_failing(np.linalg.solve, b.shape, a, b).astype(a.dtype, copy=False)


def _solve_abstract(a, b):
    _check_square("solve", a)
    _check_rhs("solve", a, b, -2)
    return ShapedArray(b.shape, b.dtype)


solve_p = defprim("solve", _solve_impl, _solve_abstract)


def solve(a, b):
    """``x`` with ``a @ x = b`` for a (..., n, n) and b (..., n, k) of the same batch shape.

    Example:
        >>> import numpy as np
        >>> solve(np.diag([2.0, 4.0]).astype(np.float32), np.ones((2, 1), np.float32))
        Array([[0.5 ],
               [0.25]], dtype=float32)
    """
    return _bind(solve_p, a, b)


def _solve_jvp(primals, tangents):
    # x = A^-1 b  =>  dx = A^-1 (db - dA x)
    a, b = primals
    da, db = tangents
    x = solve_p.bind(a, b)
    if is_zero(da):
        return x, solve_p.bind(a, db)
    rhs = neg(_mm(da, x)) if is_zero(db) else sub(db, _mm(da, x))
    return x, solve_p.bind(a, rhs)


def _solve_transpose(ct, a, b):
    if is_undefined_primal(a):
        raise ValueError("solve: transpose with respect to the matrix (not linear)")
    return [None, solve_p.bind(_T(a), ct)]


jvp_rules[solve_p] = _solve_jvp
transpose_rules[solve_p] = _solve_transpose
_solve_like_batch(solve_p, left_side=True)


# ---- det and slogdet ----------------------------------------------------------------------


def _det_abstract(a):
    _check_square("det", a)
    return ShapedArray(a.shape[:-2], a.dtype)


det_p = defprim("det", lambda a: np.asarray(np.linalg.det(a), a.dtype), _det_abstract)


def det(a):
    """Determinants of a stack of square matrices.

    Example:
        >>> import numpy as np
        >>> det(np.array([[2.0, 1.0], [1.0, 3.0]], np.float32))
        Array(5., dtype=float32)
    """
    return _bind(det_p, a)


def _det_jvp(primals, tangents):
    # d det(A) = det(A) tr(A^-1 dA)
    (a,), (da,) = primals, tangents
    d = det_p.bind(a)
    return d, mul(d, _trace(solve_p.bind(a, da)))


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return [np.asarray(sign, a.dtype), np.asarray(logabsdet, a.dtype)]


def _slogdet_abstract(a):
    _check_square("slogdet", a)
    out = ShapedArray(a.shape[:-2], a.dtype)
    return [out, out]


slogdet_p = defprim("slogdet", _slogdet_impl, _slogdet_abstract, multiple_results=True)


def slogdet(a):
    """``(sign, log|det|)`` of a stack of square matrices.

    Example:
        >>> import numpy as np
        >>> slogdet(np.array([[0.0, 2.0], [1.0, 0.0]], np.float32))
        [Array(-1., dtype=float32), Array(0.6931472, dtype=float32)]
    """
    return _bind(slogdet_p, a)


def _slogdet_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    sign, logabsdet = slogdet_p.bind(a)
    return [sign, logabsdet], [_out_zero(sign), _trace(solve_p.bind(a, da))]


jvp_rules[det_p] = _det_jvp
jvp_rules[slogdet_p] = _slogdet_jvp
_move_front_rule(det_p)
_move_front_rule(slogdet_p)


# ---- eigh ---------------------------------------------------------------------------------


def _eigh_impl(a):
    w, v = np.linalg.eigh(a, UPLO="L")
    return [w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)]


def _eigh_abstract(a):
    _check_square("eigh", a)
    return [ShapedArray(a.shape[:-1], a.dtype), ShapedArray(a.shape, a.dtype)]


eigh_p = defprim("eigh", _eigh_impl, _eigh_abstract, multiple_results=True)


def eigh(a, lower: bool = True, symmetrize_input: bool = True):
    """Eigenvectors and eigenvalues ``(v, w)`` of symmetric matrices, ``w`` ascending.

    As ``jax.lax.linalg.eigh``: with ``symmetrize_input`` the matrix is replaced by
    ``(a + a.T) / 2``; otherwise only the triangle named by ``lower`` is read.

    Example:
        >>> import numpy as np
        >>> v, w = eigh(np.diag([3.0, 1.0]).astype(np.float32))
        >>> w
        Array([1., 3.], dtype=float32)
    """
    _check_square("eigh", _aval(a))
    w, v = _bind(eigh_p, _symmetric_input(a, lower, symmetrize_input))
    return v, w


def _symmetric_input(a, lower, symmetrize_input):
    if symmetrize_input:
        return mul(add(a, _T(a)), _const(a, 0.5))
    return a if lower else _T(a)


def _eigh_jvp(primals, tangents):
    # Distinct eigenvalues: dw = diag(V^T dA V), dV = V (F o V^T dA V), F_ij = 1/(w_j - w_i).
    (a,), (da,) = primals, tangents
    w, v = eigh_p.bind(a)
    n = _aval(a).shape[-1]
    vt_da_v = _mm(_T(v), _mm(_sym_from_lower(da), v))
    eye = _eye(n, a)
    f = sub(div(_const(a, 1), add(sub(_row(w), _col(w)), eye)), eye)
    return [w, v], [_diag(vt_da_v), _mm(v, mul(f, vt_da_v))]


jvp_rules[eigh_p] = _eigh_jvp
_move_front_rule(eigh_p)


# ---- qr -----------------------------------------------------------------------------------


def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return [q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)]


def _qr_abstract(a, *, full_matrices):
    _check_matrix("qr", a)
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    return [ShapedArray((*batch, m, k), a.dtype), ShapedArray((*batch, k, n), a.dtype)]


qr_p = defprim("qr", _qr_impl, _qr_abstract, multiple_results=True)


def qr(a, full_matrices: bool = True):
    """``(q, r)`` with orthonormal columns in ``q`` and upper-triangular ``r``, ``a = q r``.

    Example:
        >>> import numpy as np
        >>> q, r = qr(np.eye(3, 2, dtype=np.float32), full_matrices=False)
        >>> q.shape, r.shape
        ((3, 2), (2, 2))
    """
    return _bind(qr_p, a, full_matrices=bool(full_matrices))


def _qr_jvp_tall(q, r, dx):
    """JVP of the reduced QR of a (..., m, n) matrix with m >= n."""
    dx_rinv = triangular_solve(r, dx, left_side=False, lower=False)  # dA R^-1
    qt_dx_rinv = _mm(_T(q), dx_rinv)
    low = _tril(qt_dx_rinv, -1)
    skew = sub(low, _T(low))  # Q^T dQ, skew-symmetric
    dq = add(_mm(q, sub(skew, qt_dx_rinv)), dx_rinv)
    dr = _mm(sub(qt_dx_rinv, skew), r)
    return dq, dr


def _qr_jvp(primals, tangents, *, full_matrices):
    (a,), (da,) = primals, tangents
    *_, m, n = _aval(a).shape
    if full_matrices and m > n:
        raise NotImplementedError(
            f"qr: the derivative of full_matrices=True (mode='complete') for a tall matrix of "
            f"shape {_aval(a).shape} is not unique; use full_matrices=False (mode='reduced')"
        )
    q, r = qr_p.bind(a, full_matrices=full_matrices)
    if m >= n:
        dq, dr = _qr_jvp_tall(q, r, da)
        return [q, r], [dq, dr]
    # Wide: A = [X | Y] with X square; Q R1 = X, R2 = Q^T Y.
    nd = _aval(a).ndim
    dq, dr1 = _qr_jvp_tall(
        q, slice_in_dim(r, 0, m, axis=nd - 1), slice_in_dim(da, 0, m, axis=nd - 1)
    )
    y, dy = slice_in_dim(a, m, n, axis=nd - 1), slice_in_dim(da, m, n, axis=nd - 1)
    dr2 = add(_mm(_T(dq), y), _mm(_T(q), dy))
    return [q, r], [dq, concatenate([dr1, dr2], nd - 1)]


jvp_rules[qr_p] = _qr_jvp
_move_front_rule(qr_p)


# ---- svd ----------------------------------------------------------------------------------


def _svd_impl(a, *, full_matrices, compute_uv):
    if not compute_uv:
        return [np.linalg.svd(a, compute_uv=False).astype(a.dtype, copy=False)]
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return [x.astype(a.dtype, copy=False) for x in (u, s, vh)]


def _svd_abstract(a, *, full_matrices, compute_uv):
    _check_matrix("svd", a)
    *batch, m, n = a.shape
    k = min(m, n)
    s = ShapedArray((*batch, k), a.dtype)
    if not compute_uv:
        return [s]
    ku, kv = (m, n) if full_matrices else (k, k)
    return [ShapedArray((*batch, m, ku), a.dtype), s, ShapedArray((*batch, kv, n), a.dtype)]


svd_p = defprim("svd", _svd_impl, _svd_abstract, multiple_results=True)


def svd(a, full_matrices: bool = True, compute_uv: bool = True):
    """Singular value decomposition ``(u, s, vh)`` (``s`` descending), or ``s`` alone.

    Example:
        >>> import numpy as np
        >>> svd(np.diag([1.0, 3.0]).astype(np.float32), compute_uv=False)
        Array([3., 1.], dtype=float32)
    """
    out = _bind(svd_p, a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    return tuple(out) if compute_uv else out[0]


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    (a,), (da,) = primals, tangents
    *_, m, n = _aval(a).shape
    k = min(m, n)
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            f"svd: the derivative of full_matrices=True for a non-square matrix of shape "
            f"{_aval(a).shape} is not unique; use full_matrices=False"
        )
    u, s, vh = svd_p.bind(a, full_matrices=False, compute_uv=True)
    v = _T(vh)
    ds_mat = _mm(_T(u), _mm(da, v))  # U^T dA V, (..., k, k)
    ds = _diag(ds_mat)
    if not compute_uv:
        return [s], [ds]
    # Distinct singular values: F_ij = 1 / (s_j^2 - s_i^2) off the diagonal.
    eye = _eye(k, a)
    s2 = mul(s, s)
    f = sub(div(_const(a, 1), add(sub(_row(s2), _col(s2)), eye)), eye)
    dss = mul(ds_mat, _row(s))  # dS diag(s)
    sds = mul(_col(s), ds_mat)  # diag(s) dS
    du = _mm(u, mul(f, add(dss, _T(dss))))
    dv = _mm(v, mul(f, add(sds, _T(sds))))
    if m > k:  # the part of dA V outside span(U)
        du = add(du, div(sub(_mm(da, v), _mm(u, ds_mat)), _row(s)))
    if n > k:
        du_t = _mm(_T(da), u)
        dv = add(dv, div(sub(du_t, _mm(v, _T(ds_mat))), _row(s)))
    return [u, s, vh], [du, ds, _T(dv)]


jvp_rules[svd_p] = _svd_jvp
_move_front_rule(svd_p)


# ---- pinv ---------------------------------------------------------------------------------


def _pinv_abstract(a, *, rtol):
    _check_matrix("pinv", a)
    return ShapedArray(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)


pinv_p = defprim(
    "pinv",
    lambda a, *, rtol: np.linalg.pinv(a, rtol=rtol).astype(a.dtype, copy=False),
    _pinv_abstract,
)


def pinv(a, rtol: float):
    """Moore-Penrose pseudo-inverse; singular values below ``rtol * max(s)`` count as zero.

    Example:
        >>> import numpy as np
        >>> pinv(np.diag([2.0, 0.0]).astype(np.float32), 1e-6)
        Array([[0.5, 0. ],
               [0. , 0. ]], dtype=float32)
    """
    return _bind(pinv_p, a, rtol=float(rtol))


def _pinv_jvp(primals, tangents, *, rtol):
    # Golub & Pereyra (1973), valid where the rank is locally constant:
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    (a,), (da,) = primals, tangents
    p = pinv_p.bind(a, rtol=rtol)
    dat = _T(da)
    t1 = neg(_mm(_mm(p, da), p))
    ppt = _mm(p, _T(p))
    t2 = _mm(ppt, sub(dat, _mm(_mm(dat, a), p)))
    dat_ptp = _mm(dat, _mm(_T(p), p))
    t3 = sub(dat_ptp, _mm(p, _mm(a, dat_ptp)))
    return p, add(add(t1, t2), t3)


jvp_rules[pinv_p] = _pinv_jvp
_move_front_rule(pinv_p)


# ---- eig ----------------------------------------------------------------------------------


def _complex_of(dtype) -> np.dtype:
    """complex64 for float32 (or narrower, or complex64) input, else complex128."""
    single = np.dtype(dtype) in (np.float16, np.float32, np.complex64)
    return np.dtype(np.complex64 if single else np.complex128)


_EIG_OUTPUTS = {"none": 1, "right": 2, "inverse": 3}


def _eig_one(x, vectors, cdtype):
    if vectors == "none":
        return [np.linalg.eigvals(x).astype(cdtype)]
    w, v = np.linalg.eig(x)
    out = [w.astype(cdtype), v.astype(cdtype)]
    if vectors == "inverse":
        out.append(np.linalg.inv(v).astype(cdtype))
    return out


def _eig_impl(a, *, vectors):
    cdtype = _complex_of(a.dtype)
    avals = _eig_abstract(ShapedArray(a.shape, a.dtype), vectors=vectors)
    try:
        return _eig_one(a, vectors, cdtype)
    except np.linalg.LinAlgError:
        # NaN for each matrix LAPACK fails on (NaN or inf entries, a defective matrix's
        # singular eigenvector matrix for "inverse"), as JAX gives NaN rather than raising.
        outs = [np.full(av.shape, np.nan, cdtype) for av in avals]
        for idx in np.ndindex(a.shape[:-2]):
            try:
                for out, part in zip(outs, _eig_one(a[idx], vectors, cdtype), strict=True):
                    out[idx] = part
            except np.linalg.LinAlgError:
                pass
        return outs


def _eig_abstract(a, *, vectors):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise FnnTypeError(f"eig: expected a square matrix (..., n, n), got shape {a.shape}")
    if a.dtype.kind not in "fc":
        raise FnnTypeError(
            f"eig: expected a floating-point or complex matrix, got dtype {a.dtype} "
            "(fnn.numpy.linalg converts integers; lax does not)"
        )
    cdtype = _complex_of(a.dtype)
    values = ShapedArray(a.shape[:-1], cdtype)
    return [values] + [ShapedArray(a.shape, cdtype)] * (_EIG_OUTPUTS[vectors] - 1)


eig_p = defprim("eig", _eig_impl, _eig_abstract, multiple_results=True)


def eig(a, compute_eigenvectors: bool = True):
    """Eigenvalues ``w`` and right eigenvectors ``v`` (columns, unit norm) of general
    square matrices, complex whatever the input: ``[w, v]``, or ``[w]`` alone.

    Only the eigenvalues are differentiable (``compute_eigenvectors=False``), as in
    JAX: derivatives of non-symmetric eigenvectors hold only under assumptions on the
    input that cannot be checked. Each derivative is first order (the rule itself
    uses eigenvectors).

    Example:
        >>> import numpy as np
        >>> (w,) = eig(np.array([[0.0, -1.0], [1.0, 0.0]], np.float32), False)
        >>> np.sort_complex(np.asarray(w))
        array([0.-1.j, 0.+1.j], dtype=complex64)
    """
    vectors = "right" if compute_eigenvectors else "none"
    return _bind(eig_p, a, vectors=vectors)


def _eig_jvp(primals, tangents, *, vectors):
    if vectors == "inverse":  # only the eigenvalues' own JVP binds this form
        raise NotImplementedError(
            "eigvals: only first derivatives are implemented (the first-order rule uses "
            "the eigenvectors, whose derivatives are not), as in JAX"
        )
    if vectors != "none":
        raise NotImplementedError(
            "eig: derivatives of eigenvectors of non-symmetric matrices are not "
            "implemented (they hold only under assumptions on the input that fnn cannot "
            "check, as in JAX); differentiate the eigenvalues with eigvals, or use eigh "
            "for symmetric matrices"
        )
    # For distinct eigenvalues, d(w_i) = (V^-1 dA V)_ii (first-order perturbation).
    (a,), (da,) = primals, tangents
    w, v, v_inv = eig_p.bind(a, vectors="inverse")
    if is_zero(da):
        return [w], [Zero(_aval(w))]
    cdtype = _aval(w).dtype
    da = convert_element_type(da, cdtype) if _aval(da).dtype != cdtype else da
    return [w], [_diag(_mm(v_inv, _mm(da, v)))]


jvp_rules[eig_p] = _eig_jvp
_move_front_rule(eig_p)


# jit runs these by calling their impls.
for _p in (
    cholesky_p,
    triangular_solve_p,
    solve_p,
    det_p,
    slogdet_p,
    eigh_p,
    qr_p,
    svd_p,
    pinv_p,
    eig_p,
):
    lowering.register(_p, lowering.INTERPRETED)
