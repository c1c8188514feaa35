"""fnn.numpy.linalg: numpy.linalg on fnn arrays, differentiable, batchable and jittable.

Every function accepts stacks of matrices ``(..., m, n)`` as numpy does. The work is
done by the primitives of :mod:`fnn.lax.linalg`; this module checks arguments,
promotes integers to floats and broadcasts, as numpy does. Where numpy and JAX differ,
JAX wins: ``cholesky`` and ``eigh`` symmetrize their input by default
(``symmetrize_input=True``), failures give NaN instead of raising, and ``pinv``'s
default cutoff is ``10 * max(m, n) * eps``.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.linalg.det(fnp.array([[2.0, 1.0], [1.0, 3.0]]))
    Array(5., dtype=float32)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from fnn import config, lax
from fnn.core import Array, FnnTypeError, Tracer
from fnn.lax import linalg as lax_linalg
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.contraction import cross, matmul, outer, tensordot
from fnn.numpy.contraction import diagonal as _diagonal
from fnn.numpy.math import _squared_magnitude, conj, not_equal, power, sqrt, where
from fnn.numpy.math import abs as _abs
from fnn.numpy.reductions import max as _max
from fnn.numpy.reductions import min as _min
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import broadcast_shapes, broadcast_to, expand_dims, moveaxis, swapaxes

__all__ = [
    "norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "slogdet", "cholesky",
    "eigh", "eigvalsh", "qr", "svd", "svdvals", "pinv", "matrix_power", "matrix_rank",
    "multi_dot", "cond", "matrix_transpose", "matmul", "outer", "cross", "tensordot",
    "eig", "eigvals", "lstsq", "diagonal", "trace", "vecdot", "tensorinv", "tensorsolve",
    "SlogdetResult", "EighResult", "QRResult", "SVDResult", "EigResult",
]  # fmt: skip


class SlogdetResult(NamedTuple):
    sign: Array
    logabsdet: Array


class EighResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class EigResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class QRResult(NamedTuple):
    Q: Array
    R: Array


class SVDResult(NamedTuple):
    U: Array
    S: Array
    Vh: Array


def _float(name, *args):
    out = [asarray(a) for a in promote_args(name, *args, to_float=True)]
    return out if len(out) > 1 else out[0]


def _matrix(name, a):
    a = _float(name, a)
    if a.ndim < 2:
        raise FnnTypeError(f"{name}: expected a matrix (..., m, n), got shape {a.shape}")
    return a


def _square(name, a):
    a = _float(name, a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise FnnTypeError(f"{name}: expected a square matrix (..., n, n), got shape {a.shape}")
    return a


def matrix_transpose(x, /):
    """Swap the last two axes of a stack of matrices.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.matrix_transpose(fnp.ones((5, 2, 3))).shape
        (5, 3, 2)
    """
    return swapaxes(_matrix("matrix_transpose", x), -1, -2)


# ---- norms --------------------------------------------------------------------------------


def _sqrt_at_zero_safe(sq):
    # sqrt has an infinite slope at 0; this gives the subgradient 0 there instead of NaN.
    zero = sq == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, sq)))


def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return _sqrt_at_zero_safe(_sum(_squared_magnitude(x), axis=axes, keepdims=keepdims))
    if isinstance(ord, str):
        raise FnnTypeError(f"norm: invalid norm order {ord!r} for vectors")
    if ord == np.inf:
        return _max(_abs(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return _min(_abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        return _sum(not_equal(x, 0), axis=axes, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return _sum(_abs(x), axis=axes, keepdims=keepdims)
    p = float(ord)
    return power(_sum(power(_abs(x), p), axis=axes, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord is None or ord == "fro":
        return _sqrt_at_zero_safe(_sum(_squared_magnitude(x), axis=axes, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
        s = svdvals(moveaxis(x, (row, col), (-2, -1)))
        out = _sum(s, -1) if ord == "nuc" else _max(s, -1) if ord == 2 else _min(s, -1)
        return _restore_dims(out, x.shape, axes) if keepdims else out
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum.
        sum_axis, pick_axis = (row, col) if ord in (1, -1) else (col, row)
        sums = _sum(_abs(x), axis=sum_axis, keepdims=True)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(sums, axis=pick_axis, keepdims=True)
        return out if keepdims else lax.reshape(out, _drop(x.shape, axes))
    raise FnnTypeError(f"norm: invalid norm order {ord!r} for matrices")


def _drop(shape, axes):
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _restore_dims(out, shape, axes):
    return lax.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def norm(x, ord=None, axis=None, keepdims: bool = False):
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    With ``axis=None`` and ``ord=None`` it is the 2-norm of the flattened array; with one
    axis a vector norm (``ord`` in None, 0, 1, 2, inf, -inf or any p); with two axes a
    matrix norm (None/'fro', 'nuc', 1, -1, 2, -2, inf, -inf). The 2-norm's gradient at
    zero is 0 (a subgradient) rather than NaN.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.norm(fnp.array([3.0, 4.0]))
        Array(5., dtype=float32)
    """
    x = _float("norm", x)
    if axis is None:
        if ord is None:
            out = _sqrt_at_zero_safe(_sum(_squared_magnitude(x)))
            return lax.reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise FnnTypeError(
                f"norm: with ord={ord!r} and axis=None the input must be 1-D or 2-D, got shape "
                f"{x.shape}; pass axis"
            )
        axis = tuple(range(x.ndim))
    raw = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    axes = normalize_axes("norm", raw, x.ndim)
    if len(raw) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(raw) == 2:
        return _matrix_norm(x, ord, tuple(a % x.ndim for a in raw), keepdims)
    raise FnnTypeError(f"norm: axis must name 1 or 2 axes, got {axis!r}")


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
    """The vector norm over ``axis`` (all axes, flattened, when None).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.vector_norm(fnp.ones((2, 2)), ord=1)
        Array(4., dtype=float32)
    """
    x = _float("vector_norm", x)
    axes = normalize_axes("vector_norm", axis, x.ndim)
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
    """The matrix norm of the last two axes.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.matrix_norm(fnp.eye(3), ord="nuc")
        Array(3., dtype=float32)
    """
    x = _matrix("matrix_norm", x)
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


# ---- solving ------------------------------------------------------------------------------


def solve(a, b):
    """``x`` with ``a @ x == b``; ``b`` is a vector when 1-D, else a stack (..., n, k).

    Batch dimensions broadcast, as in numpy 2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.solve(fnp.array([[2.0, 0.0], [0.0, 4.0]]), fnp.array([1.0, 1.0]))
        Array([0.5 , 0.25], dtype=float32)
    """
    a = _square("solve", a)
    a, b = _float("solve", a, b)
    n = a.shape[-1]
    if b.ndim == 1:
        if b.shape[0] != n:
            raise FnnTypeError(f"solve: a of shape {a.shape} needs b of length {n}, got {b.shape}")
        b = broadcast_to(b[:, None], a.shape[:-2] + (n, 1))
        return lax_linalg.solve(a, b)[..., 0]
    if b.shape[-2] != n:
        raise FnnTypeError(
            f"solve: a of shape {a.shape} needs b of shape (..., {n}, k) or ({n},), got {b.shape}"
        )
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return lax_linalg.solve(broadcast_to(a, batch + (n, n)), broadcast_to(b, batch + b.shape[-2:]))


def inv(a):
    """The inverse of each square matrix in a stack.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.inv(fnp.array([[2.0, 0.0], [0.0, 4.0]]))
        Array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    a = _square("inv", a)
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return lax_linalg.solve(a, eye)


def det(a):
    """Determinants of a stack of square matrices.

    The derivative is ``det(a) * inv(a).T``: NaN at singular matrices (where JAX's
    cofactor-based rule gives the adjugate).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.det(fnp.eye(3) * 2.0)
        Array(8., dtype=float32)
    """
    return lax_linalg.det(_square("det", a))


def slogdet(a) -> SlogdetResult:
    """``(sign, logabsdet)`` with ``det(a) == sign * exp(logabsdet)``, without overflow.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.slogdet(fnp.eye(2) * -3.0).logabsdet
        Array(2.1972246, dtype=float32)
    """
    sign, logabsdet = lax_linalg.slogdet(_square("slogdet", a))
    return SlogdetResult(sign, logabsdet)


def matrix_power(a, n: int):
    """``a`` multiplied by itself ``n`` times (inverse powers for negative ``n``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.matrix_power(fnp.array([[1.0, 1.0], [0.0, 1.0]]), 3)
        Array([[1., 3.],
               [0., 1.]], dtype=float32)
    """
    if not isinstance(n, int | np.integer):
        raise FnnTypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    a = asarray(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise FnnTypeError(
            f"matrix_power: expected a square matrix (..., n, n), got shape {a.shape}"
        )
    if n == 0:
        return broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while True:  # binary powering: O(log n) products
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if not n:
            return result
        a = matmul(a, a)


def multi_dot(arrays):
    """The product of a chain of matrices, in the cheapest order (first/last may be 1-D).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.multi_dot([fnp.ones(3), fnp.ones((3, 4)), fnp.ones((4, 2))])
        Array([12., 12.], dtype=float32)
    """
    arrays = [asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise FnnTypeError("multi_dot: expected at least two arrays")
    first_vec, last_vec = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first_vec:
        arrays[0] = arrays[0][None, :]
    if last_vec:
        arrays[-1] = arrays[-1][:, None]
    for i, x in enumerate(arrays):
        if x.ndim != 2:
            raise FnnTypeError(f"multi_dot: array {i} must be 2-D, got shape {x.shape}")
    out = _chain(arrays, _chain_order([x.shape[0] for x in arrays] + [arrays[-1].shape[1]]))
    if first_vec:
        out = out[0]
    if last_vec:
        out = out[..., 0]
    return out


def _chain_order(dims):
    """Split points of the cheapest parenthesisation (the classic O(n^3) dynamic program)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(arrays, split, i=0, j=None):
    j = len(arrays) - 1 if j is None else j
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


# ---- factorizations -----------------------------------------------------------------------


def _symmetrize(a):
    return (a + swapaxes(a, -1, -2)) * 0.5


def cholesky(a, /, *, upper: bool = False, symmetrize_input: bool = True):
    """The Cholesky factor of symmetric positive-definite matrices: ``a = L @ L.T``.

    Returns lower-triangular L (or ``L.T`` when ``upper``). As in JAX, ``a`` is first
    symmetrized (``(a + a.T) / 2``) unless ``symmetrize_input=False``, in which case only
    the lower triangle is read (numpy's behaviour). A matrix that is not positive
    definite gives NaN.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.cholesky(fnp.array([[4.0, 2.0], [2.0, 5.0]]))
        Array([[2., 0.],
               [1., 2.]], dtype=float32)
    """
    a = _square("cholesky", a)
    L = lax_linalg.cholesky(_symmetrize(a) if symmetrize_input else a)
    return swapaxes(L, -1, -2) if upper else L


def eigh(a, UPLO: str | None = None, symmetrize_input: bool = True) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices.

    As in JAX, ``a`` is symmetrized first; with ``symmetrize_input=False`` only the
    triangle named by ``UPLO`` ('L', the default, or 'U') is read, as numpy does.
    Derivatives assume distinct eigenvalues.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.eigh(fnp.array([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
        Array([1., 3.], dtype=float32)
    """
    a = _square("eigh", a)
    UPLO = "L" if UPLO is None else UPLO
    if UPLO not in ("L", "U"):
        raise FnnTypeError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    v, w = lax_linalg.eigh(a, lower=UPLO == "L", symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO: str | None = "L", *, symmetrize_input: bool = True):
    """Eigenvalues (ascending) of symmetric matrices.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.eigvalsh(fnp.array([[2.0, 0.0], [0.0, 1.0]]))
        Array([1., 2.], dtype=float32)
    """
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def qr(a, mode: str = "reduced"):
    """QR factorization ``a = Q @ R``: ``mode`` is 'reduced', 'complete' or 'r' (R only).

    Derivatives exist for 'reduced' and 'r', and for 'complete' when ``m <= n``.

    Example:
        >>> import fnn.numpy as fnp
        >>> Q, R = fnp.linalg.qr(fnp.ones((4, 2)))
        >>> Q.shape, R.shape
        ((4, 2), (2, 2))
    """
    a = _matrix("qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise FnnTypeError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    q, r = lax_linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` with ``S`` descending.

    Returns ``SVDResult(U, S, Vh)``, or ``S`` alone when ``compute_uv=False``.
    Derivatives of ``U`` and ``Vh`` need ``full_matrices=False`` for non-square input and
    assume distinct non-zero singular values. ``hermitian`` is accepted for numpy's
    signature; the general algorithm is used.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.svd(fnp.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
        Array([4., 3.], dtype=float32)
    """
    del hermitian
    a = _matrix("svd", a)
    if not compute_uv:
        return lax_linalg.svd(a, compute_uv=False)
    return SVDResult(*lax_linalg.svd(a, full_matrices=full_matrices))


def svdvals(x, /):
    """Singular values, descending.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.svdvals(fnp.eye(2) * 2.0)
        Array([2., 2.], dtype=float32)
    """
    return lax_linalg.svd(_matrix("svdvals", x), compute_uv=False)


def _default_rtol(a):
    return 10.0 * max(a.shape[-2:]) * float(np.finfo(a.dtype).eps)


def pinv(a, rtol=None, hermitian: bool = False, *, rcond=None):
    """Moore-Penrose pseudo-inverse; singular values at or below ``rtol * max(S)`` count
    as zero.

    The cutoff may be given as ``rtol`` (JAX's and the array API's name) or ``rcond``
    (numpy's); the second positional argument means the same in both. It defaults to
    ``10 * max(m, n) * eps`` as in JAX (numpy's own default is 1e-15), and may be an
    array that broadcasts over a stack of matrices; it must be concrete. With
    ``hermitian=True`` the matrices are taken as symmetric: like :func:`eigh`, fnn
    symmetrizes them first. The derivative assumes the rank is locally constant.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.pinv(fnp.array([[2.0, 0.0], [0.0, 0.0]]))
        Array([[0.5, 0. ],
               [0. , 0. ]], dtype=float32)
    """
    if rtol is not None and rcond is not None:
        raise FnnTypeError("pinv: give the cutoff as rtol or as rcond, not both")
    a = _square("pinv", a) if hermitian else _matrix("pinv", a)
    if hermitian:
        a = _symmetrize(a)
    tol = rcond if rtol is None else rtol
    if tol is None:
        return lax_linalg.pinv(a, _default_rtol(a))
    tols = _concrete_cutoff(tol)
    batch = a.shape[:-2]
    try:
        tols = np.broadcast_to(tols, batch)
    except ValueError:
        raise FnnTypeError(
            f"pinv: a cutoff of shape {tols.shape} does not broadcast over the stack of "
            f"shape {batch}"
        ) from None
    if tols.size == 0 or np.all(tols == tols.flat[0]):
        return lax_linalg.pinv(a, float(tols.flat[0]) if tols.size else 0.0)
    # One cutoff per matrix: each is a static parameter, so each matrix is its own call.
    parts = [lax_linalg.pinv(a[idx], float(tols[idx])) for idx in np.ndindex(batch)]
    out = lax.concatenate([lax.reshape(p, (1, *p.shape)) for p in parts], 0)
    return lax.reshape(out, batch + out.shape[1:])


def _concrete_cutoff(tol):
    if isinstance(tol, Tracer):
        value = tol.concrete_value()
        if value is None:
            raise FnnTypeError(
                "pinv: the cutoff rtol/rcond must be concrete (it decides which singular "
                "values count as zero); pass it as a static argument under jit"
            )
        tol = value
    return np.asarray(tol, np.float64)


def eig(a) -> EigResult:
    """Eigenvalues and right eigenvectors (columns of unit norm) of general square
    matrices: ``a @ v[:, i] == w[i] * v[:, i]``.

    Both are complex (complex64 for float32 input) whatever the values, as in JAX (numpy
    returns real arrays when every eigenvalue happens to be real, which a traced
    program cannot know). The eigenvalues are in LAPACK's order, not sorted. Derivatives
    of eig raise NotImplementedError, as in JAX (those of non-symmetric eigenvectors
    need assumptions on the input that cannot be checked): differentiate
    :func:`eigvals`, or use :func:`eigh` for symmetric matrices.

    Example:
        >>> import fnn.numpy as fnp
        >>> w, v = fnp.linalg.eig(fnp.array([[2.0, 0.0], [0.0, 3.0]]))
        >>> w
        Array([2.+0.j, 3.+0.j], dtype=complex64)
    """
    w, v = lax_linalg.eig(_square("eig", a))
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues of general square matrices (complex, in LAPACK's order), as
    ``eig(a).eigenvalues``, but differentiable: for distinct eigenvalues,
    ``d w_i = (V^-1 dA V)_ii`` (first derivatives only, as in JAX).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.eigvals(fnp.array([[0.0, 1.0], [-2.0, -3.0]]))
        Array([-1.+0.j, -2.+0.j], dtype=complex64)
    """
    (w,) = lax_linalg.eig(_square("eigvals", a), compute_eigenvectors=False)
    return w


def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` of ``a @ x = b``, with the sums of squared
    residuals, ``a``'s rank and its singular values: ``(x, residuals, rank, s)``, as
    numpy.linalg.lstsq. As numpy, ``residuals`` is empty unless ``a`` has full column
    rank with more rows than columns (deciding that needs a concrete rank). Singular
    values at or below ``rcond * max(s)`` count as zero (default ``max(m, n) * eps``).

    Example:
        >>> import fnn.numpy as fnp
        >>> a = fnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> x, res, rank, s = fnp.linalg.lstsq(a, fnp.array([1.0, 2.0, 3.0]))
        >>> x, rank
        (Array([1., 2.], dtype=float32), Array(2, dtype=int32))
    """
    a, b = _float("lstsq", a, b)
    if a.ndim != 2:
        raise FnnTypeError(f"lstsq: a must be a matrix (m, n), got shape {a.shape}")
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise FnnTypeError(
            f"lstsq: b must be (m,) or (m, k) with m = {a.shape[0]} (a's rows), got {b.shape}"
        )
    m, n = a.shape
    cutoff = max(m, n) * float(np.finfo(a.dtype).eps) if rcond is None else float(rcond)
    s = svdvals(a)
    x = matmul(pinv(a, rcond=cutoff), b)
    if s.shape[0]:
        rank = _sum(s > cutoff * _max(s), dtype=config.default_int())
    else:
        rank = asarray(np.zeros((), config.default_int()))
    empty = asarray(np.zeros((0,), a.dtype))
    if m <= n:
        return x, empty, rank, s
    r = matmul(a, x) - b
    resid = _sum(r * r, axis=0)
    full = rank.concrete_value() if isinstance(rank, Tracer) else np.asarray(rank)
    if full is not None and int(full) < n:
        return x, empty, rank, s
    return x, lax.reshape(resid, (1,)) if b.ndim == 1 else resid, rank, s


def diagonal(x, /, *, offset: int = 0):
    """The diagonals of a stack of matrices (the last two axes), as numpy.linalg.diagonal.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.diagonal(fnp.arange(4.0).reshape(2, 2))
        Array([0., 3.], dtype=float32)
    """
    x = asarray(x)
    if x.ndim < 2:
        raise FnnTypeError(f"diagonal: expected a matrix (..., m, n), got shape {x.shape}")
    return _diagonal(x, offset, -2, -1)


def trace(x, /, *, offset: int = 0, dtype=None):
    """The traces of a stack of matrices (the last two axes), as numpy.linalg.trace.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.trace(fnp.ones((2, 3, 3)))
        Array([3., 3.], dtype=float32)
    """
    return _sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def vecdot(x1, x2, /, *, axis: int = -1):
    """``sum(conj(x1) * x2)`` over ``axis``, broadcasting the other axes.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.vecdot(fnp.array([[1.0, 2.0], [3.0, 4.0]]), fnp.array([1.0, 1.0]))
        Array([3., 7.], dtype=float32)
    """
    a, b = (asarray(v) for v in promote_args("vecdot", x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        raise FnnTypeError(f"vecdot: needs arrays with an axis, got shapes {a.shape}, {b.shape}")
    (ax_a,) = normalize_axes("vecdot", axis, a.ndim)
    (ax_b,) = normalize_axes("vecdot", axis, b.ndim)
    if a.shape[ax_a] != b.shape[ax_b]:
        raise FnnTypeError(
            f"vecdot: axis {axis} has length {a.shape[ax_a]} in x1 {a.shape} and "
            f"{b.shape[ax_b]} in x2 {b.shape}"
        )
    a, b = moveaxis(a, ax_a, -1), moveaxis(b, ax_b, -1)
    return _sum(conj(a) * b, axis=-1)


def tensorinv(a, ind: int = 2):
    """The inverse of ``a`` as a linear map from its last axes to its first ``ind`` axes:
    ``tensordot(tensorinv(a, ind), a, ind)`` is the identity, as numpy.linalg.tensorinv.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.tensorinv(fnp.eye(4).reshape(4, 2, 2), ind=1).shape
        (2, 2, 4)
    """
    a = asarray(a)
    if ind <= 0:
        raise FnnTypeError(f"tensorinv: ind must be a positive integer, got {ind}")
    out_shape, in_shape = a.shape[:ind], a.shape[ind:]
    rows, cols = math.prod(out_shape), math.prod(in_shape)
    if rows != cols:
        raise FnnTypeError(
            f"tensorinv: the first {ind} axes {out_shape} and the rest {in_shape} must hold "
            "the same number of elements"
        )
    square = lax.reshape(_float("tensorinv", a), (rows, cols))
    return lax.reshape(inv(square), in_shape + out_shape)


def tensorsolve(a, b, axes=None):
    """``x`` with ``tensordot(a, x, x.ndim) == b``, as numpy.linalg.tensorsolve (the
    ``axes`` of ``a`` move to the end first).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.tensorsolve(fnp.eye(6).reshape(2, 3, 6), fnp.ones((2, 3))).shape
        (6,)
    """
    a, b = _float("tensorsolve", a, b)
    if axes is not None:
        axes = [ax % a.ndim for ax in axes]
        a = moveaxis(a, axes, list(range(a.ndim - len(axes), a.ndim)))
    x_shape = a.shape[b.ndim :]
    if a.shape[: b.ndim] != b.shape:
        raise FnnTypeError(f"tensorsolve: a {a.shape} must start with b's shape {b.shape}")
    n = math.prod(x_shape)
    if math.prod(b.shape) != n:
        raise FnnTypeError(
            f"tensorsolve: b has {math.prod(b.shape)} elements but x (a's remaining axes "
            f"{x_shape}) has {n}"
        )
    x = solve(lax.reshape(a, (n, n)), lax.reshape(b, (n,)))
    return lax.reshape(x, x_shape)


def matrix_rank(A, tol=None, hermitian: bool = False, *, rtol=None):
    """Number of singular values above ``tol`` (default ``max(S) * max(m, n) * eps``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.matrix_rank(fnp.array([[1.0, 2.0], [2.0, 4.0]]))
        Array(1, dtype=int32)
    """
    del hermitian
    A = _float("matrix_rank", A)
    if A.ndim < 2:
        return (_sum(not_equal(A, 0)) > 0).astype(config.default_int())
    s = svdvals(A)
    if tol is None:
        r = max(A.shape[-2:]) * float(np.finfo(A.dtype).eps) if rtol is None else rtol
        tol = _max(s, -1, keepdims=True) * r
    else:
        tol = expand_dims(asarray(tol, A.dtype), -1)
    return _sum(s > tol, axis=-1)


def cond(x, p=None):
    """The condition number ``norm(x, p) * norm(inv(x), p)`` (a ratio of singular values
    for ``p`` in None, 2, -2).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.linalg.cond(fnp.array([[4.0, 0.0], [0.0, 1.0]]))
        Array(4., dtype=float32)
    """
    x = _matrix("cond", x)
    if p in (None, 2, -2):
        s = svdvals(x)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    x = _square("cond", x)
    axes = (-2, -1)
    return norm(x, p, axis=axes) * norm(inv(x), p, axis=axes)
