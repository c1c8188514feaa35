"""Polynomials as coefficient arrays (highest power first, numpy's legacy convention)
and 1-D convolution: polyval, polyadd, polysub, polymul, polydiv, polyder, polyint,
poly, roots, polyfit, vander, convolve, correlate.

All are differentiable in the coefficients and values. Shapes come from the lengths of
the inputs, never from their values, so everything runs under jit, except where numpy
strips leading zeros (``roots``' ``strip_zeros``, ``polydiv``'s
``trim_leading_zeros``), which needs concrete input. As in JAX, ``polydiv``'s remainder
keeps the dividend's length and ``roots`` is always complex.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.polyval(fnp.array([1.0, -3.0, 2.0]), fnp.array([0.0, 1.0, 3.0]))
    Array([2., 0., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.contraction import matmul
from fnn.numpy.creation import eye, ones_like
from fnn.numpy.indexing import take
from fnn.numpy.linalg import eigvals, inv, lstsq
from fnn.numpy.math import conj, power, real, sqrt, where
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import concatenate, flip, stack

__all__ = [
    "polyval", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint", "poly",
    "roots", "polyfit", "vander", "convolve", "correlate",
]  # fmt: skip


def _coefficients(name, p):
    p = asarray(p)
    if p.ndim != 1:
        raise FnnTypeError(f"{name}: coefficients must be 1-D (highest power first), got {p.shape}")
    return p


def _concrete(x):
    return x.concrete_value() if isinstance(x, Tracer) else np.asarray(x)


def polyval(p, x, *, unroll: int = 16):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's
    rule, as numpy.polyval (``unroll`` is JAX's and has no effect here).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polyval(fnp.array([3.0, 0.0, 1.0]), 2.0)
        Array(13., dtype=float32)
    """
    del unroll
    p = _coefficients("polyval", p)
    p, x = (asarray(v) for v in promote_args("polyval", p, x))
    y = lax.broadcast_to(np.zeros((), p.dtype), x.shape) if p.shape[0] == 0 else p[0] + x * 0
    for k in range(1, p.shape[0]):
        y = y * x + p[k]
    return y


def _pad_front(p, n):
    return p if p.shape[0] == n else concatenate([np.zeros(n - p.shape[0], p.dtype), p])


def polyadd(a1, a2):
    """The sum of two polynomials (the shorter padded with leading zeros).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polyadd(fnp.array([1, 2]), fnp.array([9, 5, 4]))
        Array([9, 6, 6], dtype=int32)
    """
    a, b = (asarray(v) for v in promote_args("polyadd", _coefficients("polyadd", a1), a2))
    b = _coefficients("polyadd", b)
    n = max(a.shape[0], b.shape[0])
    return _pad_front(a, n) + _pad_front(b, n)


def polysub(a1, a2):
    """The difference of two polynomials (the shorter padded with leading zeros).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polysub(fnp.array([2, 10, -2]), fnp.array([3, 10, -4]))
        Array([-1,  0,  2], dtype=int32)
    """
    a, b = (asarray(v) for v in promote_args("polysub", _coefficients("polysub", a1), a2))
    b = _coefficients("polysub", b)
    n = max(a.shape[0], b.shape[0])
    return _pad_front(a, n) - _pad_front(b, n)


def polymul(a1, a2, *, trim_leading_zeros: bool = False):
    """The product of two polynomials (the convolution of their coefficients).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polymul(fnp.array([1.0, 2.0]), fnp.array([1.0, -2.0]))
        Array([ 1.,  0., -4.], dtype=float32)
    """
    a, b = _coefficients("polymul", a1), _coefficients("polymul", a2)
    if trim_leading_zeros:
        a, b = _strip_leading(a), _strip_leading(b)
    return convolve(a, b)


def _strip_leading(p):
    val = _concrete(p)
    if val is None:
        raise FnnTypeError(
            "trimming leading zeros needs concrete coefficients (it decides the shape); "
            "under jit leave trim_leading_zeros/strip_zeros off"
        )
    nz = np.nonzero(val)[0]
    return p[nz[0] :] if nz.size else p[:1]


def polydiv(u, v, *, trim_leading_zeros: bool = False):
    """Quotient and remainder of polynomial division ``u / v``: ``u = q * v + r``.

    As in JAX, the remainder keeps ``u``'s length (with leading zeros), unless
    ``trim_leading_zeros`` (concrete input) strips them as numpy does.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polydiv(fnp.array([1.0, -3.0, 2.0]), fnp.array([1.0, -1.0]))
        (Array([ 1., -2.], dtype=float32), Array([0., 0., 0.], dtype=float32))
    """
    u, v = _coefficients("polydiv", u), _coefficients("polydiv", v)
    u, v = (asarray(x) for x in promote_args("polydiv", u, v, to_float=True))
    if v.shape[0] == 0:
        raise FnnTypeError("polydiv: the divisor has no coefficients")
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = 1.0 / v[0]
    q = []
    r = u
    for k in range(max(m - n + 1, 0)):
        d = scale * r[k]
        q.append(d)
        r = r - concatenate([np.zeros(k, r.dtype), d * v, np.zeros(m - n - k, r.dtype)])
    quotient = stack(q) if q else asarray(np.zeros(1, u.dtype))
    if trim_leading_zeros:
        val = _concrete(r)
        if val is None:
            raise FnnTypeError("polydiv: trim_leading_zeros needs a concrete remainder")
        start = 0
        while start < val.shape[0] - 1 and np.allclose(val[start], 0, rtol=1e-14):
            start += 1
        r = r[start:]
    return quotient, r


def polyder(p, m=1):
    """The ``m``-th derivative of a polynomial.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polyder(fnp.array([1.0, 2.0, 3.0, 4.0]), 2)
        Array([6., 4.], dtype=float32)
    """
    if m < 0:
        raise FnnTypeError(f"polyder: the order m must be non-negative, got {m}")
    p = _coefficients("polyder", p)
    for _ in range(int(m)):
        n = max(p.shape[0] - 1, 0)
        p = p[:n] * np.arange(n, 0, -1).astype(_float_or(p.dtype))  # empty past the degree
    return p


def _float_or(dtype):
    return dtype if np.issubdtype(dtype, np.inexact) else config.default_int()


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of a polynomial, the integration constants ``k`` (one
    per integration, last integration first as in numpy; zeros by default).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polyint(fnp.array([3.0, 2.0, 1.0]), 2, k=[1.0, 2.0])
        Array([0.25      , 0.33333334, 0.5       , 1.        , 2.        ], dtype=float32)
    """
    if m < 0:
        raise FnnTypeError(f"polyint: the order m must be non-negative, got {m}")
    p = _coefficients("polyint", p)
    (p,) = promote_args("polyint", p, to_float=True)
    p = asarray(p)
    ks = np.zeros(m) if k is None else k
    ks = [ks] * m if np.ndim(ks) == 0 and not isinstance(ks, list | tuple) else list(ks)
    if len(ks) != m:
        raise FnnTypeError(f"polyint: k must give {m} integration constants, got {len(ks)}")
    for i in range(int(m)):
        n = p.shape[0]
        p = concatenate([p / np.arange(n, 0, -1).astype(p.dtype), asarray(ks[i], p.dtype)[None]])
    return p


def poly(seq_of_zeros):
    """The coefficients (leading 1) of the polynomial with the given zeros; for a square
    matrix, of its characteristic polynomial, as numpy.poly.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.poly(fnp.array([1.0, 2.0, 3.0]))
        Array([ 1., -6., 11., -6.], dtype=float32)
    """
    z = asarray(seq_of_zeros)
    if z.ndim == 1 and z.shape[0] == 0:
        return asarray(np.ones((), config.default_float()))  # numpy: the empty product, 1.0
    real_matrix = False
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] > 0:
        real_matrix = z.dtype.kind != "c"
        z = eigvals(z)
    elif z.ndim != 1:
        raise FnnTypeError(f"poly: expected zeros (1-D) or a square matrix, got {z.shape}")
    if not np.issubdtype(z.dtype, np.inexact):
        z = lax.convert_element_type(z, config.default_float())
    out = asarray(np.ones(1, z.dtype))
    for i in range(z.shape[0]):
        out = convolve(out, stack([asarray(np.ones((), z.dtype)), -z[i]]))
    # A real matrix has a real characteristic polynomial (its zeros come in conjugates).
    return real(out) if real_matrix else out


def roots(p, *, strip_zeros: bool = True):
    """The zeros of a polynomial: the eigenvalues of its companion matrix, complex (as
    in JAX), as numpy.roots. With ``strip_zeros`` (default; concrete input) leading
    zeros are dropped and trailing ones give roots at 0, as numpy does.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.roots(fnp.array([1.0, -3.0, 2.0]))
        Array([2.+0.j, 1.+0.j], dtype=complex64)
    """
    p = _coefficients("roots", p)
    (p,) = promote_args("roots", p, to_float=True)
    p = asarray(p)
    trailing = 0
    if strip_zeros:
        val = _concrete(p)
        if val is None:
            raise FnnTypeError("roots: strip_zeros needs concrete coefficients; pass False")
        nz = np.nonzero(val)[0]
        if nz.size == 0:
            return asarray(np.zeros(0, np.result_type(p.dtype, np.complex64)))
        trailing = p.shape[0] - 1 - int(nz[-1])
        p = p[int(nz[0]) : int(nz[-1]) + 1]
    n = p.shape[0] - 1
    if n < 1:
        out = asarray(np.zeros(0, p.dtype))
    else:
        first = lax.reshape(-p[1:] / p[0], (1, n))
        companion = concatenate([first, eye(n - 1, n, dtype=p.dtype)]) if n > 1 else first
        out = eigvals(companion)
    if trailing:
        out = concatenate([out, np.zeros(trailing, out.dtype)])
    return out if out.dtype.kind == "c" else lax.convert_element_type(out, _complex(out.dtype))


def _complex(dtype):
    return np.complex64 if np.dtype(dtype).itemsize <= 4 else np.complex128


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of ``x``: columns ``x**(N-1), ..., x, 1`` (the other way
    round when ``increasing``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.vander(fnp.array([1, 2, 3]), 3)
        Array([[1, 1, 1],
               [4, 2, 1],
               [9, 3, 1]], dtype=int32)
    """
    x = asarray(x)
    if x.ndim != 1:
        raise FnnTypeError(f"vander: x must be 1-D, got shape {x.shape}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise FnnTypeError(f"vander: N must be non-negative, got {N}")
    cols = [ones_like(x) if k == 0 else power(x, k) for k in range(n)]
    out = stack(cols, axis=1) if cols else asarray(np.zeros((x.shape[0], 0), x.dtype))
    return out if increasing else flip(out, 1)


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree ``deg`` through ``(x, y)`` (``y`` may hold
    several columns), with weights ``w``, as numpy.polyfit: the coefficients, and with
    ``full`` also ``(residuals, rank, singular_values, rcond)``, or with ``cov`` the
    coefficients' covariance (``cov='unscaled'`` leaves out numpy's residual scaling).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.polyfit(fnp.array([0.0, 1.0, 2.0]), fnp.array([1.0, 3.0, 5.0]), 1)
        Array([2., 1.], dtype=float32)
    """
    x, y = (asarray(v) for v in promote_args("polyfit", x, y, to_float=True))
    order = int(deg) + 1
    if deg < 0:
        raise FnnTypeError(f"polyfit: deg must be non-negative, got {deg}")
    if x.ndim != 1 or x.shape[0] == 0:
        raise FnnTypeError(f"polyfit: x must be a non-empty 1-D array, got shape {x.shape}")
    if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise FnnTypeError(
            f"polyfit: y must be (n,) or (n, k) with n = {x.shape[0]}, got {y.shape}"
        )
    rcond = x.shape[0] * float(np.finfo(x.dtype).eps) if rcond is None else rcond
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        w = asarray(w, x.dtype)
        if w.shape != x.shape:
            raise FnnTypeError(f"polyfit: w must have x's shape {x.shape}, got {w.shape}")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if rhs.ndim == 1 else w[:, None])
    # numpy scales the columns to unit norm for conditioning, and undoes it after.
    scale = sqrt(_sum(lhs * lhs, axis=0))
    scale = where(scale == 0, 1.0, scale)
    c, resids, rank, s = lstsq(lhs / scale, rhs, rcond)
    c = (c.T / scale).T
    if full:
        return c, resids, rank, s, rcond
    if cov:
        v_base = inv(matmul((lhs / scale).T, lhs / scale)) / (scale[:, None] * scale[None, :])
        if cov == "unscaled":
            fac = 1.0
        else:
            if x.shape[0] <= order:
                raise FnnTypeError("polyfit: not enough data points to estimate the covariance")
            r = matmul(lhs, c) - rhs
            fac = _sum(r * r, axis=0) / (x.shape[0] - order)
        if y.ndim == 1:
            return c, v_base * fac
        return c, v_base[:, :, None] * fac
    return c


# ---- convolution ---------------------------------------------------------------------------


def _full_convolution(a, v):
    """The full discrete convolution of 1-D ``a`` and ``v`` as one gather and one
    matrix-vector product (a differentiable Toeplitz product)."""
    n, m = a.shape[0], v.shape[0]
    padded = concatenate([np.zeros(m - 1, a.dtype), a, np.zeros(m - 1, a.dtype)])
    windows = take(padded, np.arange(n + m - 1)[:, None] + np.arange(m)[None, :])
    return matmul(windows, flip(v, 0))


def _mode_slice(full, n, m, mode):
    lo, hi = min(n, m), max(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (lo - 1) // 2
        return full[start : start + hi]
    if mode == "valid":
        return full[lo - 1 : hi]
    raise FnnTypeError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """The discrete linear convolution of two 1-D arrays, ``mode`` 'full', 'same' or
    'valid', as numpy.convolve (``precision`` and ``preferred_element_type`` are JAX's
    and have no effect here).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.convolve(fnp.array([1.0, 2.0, 3.0]), fnp.array([0.0, 1.0, 0.5]))
        Array([0. , 1. , 2.5, 4. , 1.5], dtype=float32)
    """
    del precision, preferred_element_type
    a, v = (asarray(x) for x in promote_args("convolve", a, v))
    if a.ndim != 1 or v.ndim != 1:
        raise FnnTypeError(f"convolve: expected 1-D arrays, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise FnnTypeError("convolve: the arrays must not be empty")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    return _mode_slice(_full_convolution(a, v), a.shape[0], v.shape[0], mode)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """The cross-correlation ``c[k] = sum_n a[n + k] * conj(v[n])`` of two 1-D arrays,
    ``mode`` 'valid' (default), 'same' or 'full', as numpy.correlate.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.correlate(fnp.array([1.0, 2.0, 3.0]), fnp.array([0.0, 1.0, 0.5]))
        Array([3.5], dtype=float32)
    """
    del precision, preferred_element_type
    a, v = (asarray(x) for x in promote_args("correlate", a, v))
    if a.ndim != 1 or v.ndim != 1:
        raise FnnTypeError(f"correlate: expected 1-D arrays, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise FnnTypeError("correlate: the arrays must not be empty")
    n, m = a.shape[0], v.shape[0]
    full = convolve(a, flip(conj(v), 0), "full")
    if n >= m:
        return _mode_slice(full, n, m, mode)
    # numpy correlates the longer with the shorter and reverses: for 'same' the window
    # is centred from the other end.
    return flip(_mode_slice(flip(full, 0), n, m, mode), 0)
