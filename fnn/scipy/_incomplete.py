"""The regularized incomplete gamma and beta functions, written with fnn.numpy so that
grad (in every argument), vmap and jit see ordinary primitives (no new primitive).

``igamma_pair``: the power series of P(a, x) for x < a + 1 and Legendre's continued
fraction for Q(a, x) otherwise (the split Numerical Recipes uses). ``ibeta_pair``: the
continued fraction of DLMF 8.17.22 for I_x(a, b) when x < (a + 1) / (a + b + 2), where
it converges fast, and the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise. Each
returns the function and its complement, and the one that is small is computed
directly, so ``gammaincc`` and ``betainc(b, a, 1 - x)`` keep their relative accuracy in
the upper tail.

Both are evaluated to a fixed depth, vectorised, so that every transform (reverse mode
included) is the plain composition: the series as a cumulative sum of the logs of the
term ratios; a continued fraction as the product of its 2x2 recurrence matrices, paired
up in a tree (log2(depth) rounds of elementwise products, each rescaled). A fixed depth
bounds the parameters: where the last term still matters (shape parameters beyond about
1e4, in float64 and float32) the result is NaN, never a truncated value. Arrays whose
terms would not fit a memory budget are evaluated in chunks of elements.

Exact arithmetic in the tree would give the same convergents as the usual forward
recurrence, but rounding inside a pair can cancel (``1 + d_odd`` near 0): each element
forms it in whichever of two algebraically equal ways loses fewer digits
(``_beta_cf_terms``), which keeps the tree as accurate as Lentz's sequential algorithm.
"""

from __future__ import annotations

import numpy as np

import fnn.numpy as fnp
from fnn import lax
from fnn.scipy._lgamma import betaln, log_gamma_prefactor

__all__ = ["igamma_pair", "ibeta_pair"]

# Depths (series terms, gamma fraction terms, beta fraction term pairs) per dtype, and
# the size of the last contribution (relative) beyond which the result is not trusted.
_DEPTH = {np.dtype(np.float64): (1024, 512, 256), np.dtype(np.float32): (512, 256, 128)}


def _depths(dtype):
    return _DEPTH.get(np.dtype(dtype), _DEPTH[np.dtype(np.float32)])


# At most this many series or fraction terms are held at once: a larger array is
# evaluated in chunks of elements (lax.map), which bounds the forward pass's memory.
# (Reverse mode still keeps every chunk's terms for the backward pass.)
_MAX_TERMS = 1 << 20


def _in_chunks(fn, depth, args, fill):
    """``fn(*args)`` (same-shape arrays in, a tuple out), at most ``_MAX_TERMS // depth``
    elements at a time; ``fill`` pads the last chunk with harmless arguments."""
    shape = args[0].shape
    n = int(np.prod(shape))
    chunk = max(_MAX_TERMS // depth, 1)
    if n <= chunk:
        return fn(*args)
    rows = -(-n // chunk)
    flat = [
        fnp.reshape(fnp.pad(fnp.ravel(v), (0, rows * chunk - n), constant_values=f), (rows, chunk))
        for v, f in zip(args, fill, strict=True)
    ]
    outs = lax.map(lambda xs: fn(*xs), tuple(flat))
    return tuple(fnp.reshape(fnp.ravel(o)[:n], shape) for o in outs)


def _tolerance(dtype):
    return 64 * float(np.finfo(dtype).eps)


def _const(x, value):
    return np.asarray(value, x.dtype)


def _matrix_tree(p, q, r, s):
    """The product, over the last axis (a power of 2), of the 2x2 matrices
    ``[[p, q], [r, s]]``, in order. Each round multiplies neighbours and rescales by the
    largest entry (a constant for autodiff): continued fractions only use ratios."""
    while p.shape[-1] > 1:
        n, axis = p.shape[-1], p.ndim - 1

        def halves(m, n=n, axis=axis):
            return (lax.slice_in_dim(m, 0, n, 2, axis), lax.slice_in_dim(m, 1, n, 2, axis))

        (p1, p2), (q1, q2), (r1, r2), (s1, s2) = halves(p), halves(q), halves(r), halves(s)
        p, q = p1 * p2 + q1 * r2, p1 * q2 + q1 * s2
        r, s = r1 * p2 + s1 * r2, r1 * q2 + s1 * s2
        big = fnp.maximum(fnp.maximum(fnp.abs(p), fnp.abs(q)), fnp.maximum(fnp.abs(r), fnp.abs(s)))
        scale = lax.stop_gradient(fnp.where(big > 0, big, 1.0))
        p, q, r, s = p / scale, q / scale, r / scale, s / scale
    return tuple(fnp.squeeze(m, -1) for m in (p, q, r, s))


def _last(x):
    return fnp.expand_dims(x, -1)


def _gamma_series(a, x, depth):
    """P(a, x) by its power series (x < a + 1) and the relative size of its tail."""
    k = np.arange(1, depth + 1, dtype=a.dtype)
    log_terms = fnp.cumsum(fnp.log(_last(x) / (_last(a) + k)), axis=-1)
    terms = fnp.exp(log_terms)
    total = 1.0 + fnp.sum(terms, axis=-1)
    last = fnp.squeeze(lax.slice_in_dim(terms, depth - 1, depth, 1, terms.ndim - 1), -1)
    # the tail beyond the last term is geometric with ratio below x / (a + depth)
    tail = last * (a + depth) / (a + depth - x) / total
    return fnp.exp(log_gamma_prefactor(a, x)) * total, tail


def _gamma_cf(a, x, depth):
    """Q(a, x) by Legendre's continued fraction (x >= a + 1) and the relative change of
    its last convergent."""
    k = np.arange(1, depth + 1, dtype=a.dtype)
    num = -k * (k - _last(a))  # partial numerators a_k
    den = _last(x) + (2 * k + 1) - _last(a)  # partial denominators b_k
    p, q, r, s = _matrix_tree(den, fnp.ones_like(den), num, fnp.zeros_like(den))
    b0 = x + 1.0 - a
    # [[b0, 1], [1, 0]] times the product: convergents A_n / B_n and A_{n-1} / B_{n-1}
    value, previous = (b0 * p + r) / p, (b0 * q + s) / q
    change = fnp.abs(value - previous) / fnp.abs(value)
    log_pre = log_gamma_prefactor(a, x) + fnp.log(a)
    return fnp.exp(log_pre) / value, change


def igamma_pair(a, x):
    """``(P(a, x), Q(a, x))``, the regularized lower and upper incomplete gamma functions,
    with scipy's values at the edges (NaN for a < 0, x < 0 or a = x = 0); a and x of one
    shape and dtype."""
    return _in_chunks(_igamma_pair, max(_depths(a.dtype)[:2]), (a, x), (1.0, 1.0))


def _igamma_pair(a, x):
    dtype = a.dtype
    series_depth, cf_depth, _ = _depths(dtype)
    invalid = (
        fnp.isnan(a)
        | fnp.isnan(x)
        | (a < 0)
        | (x < 0)
        | ((a == 0) & (x == 0))
        | (fnp.isinf(a) & fnp.isinf(x))
    )
    p_is_one = ~invalid & ((a == 0) | fnp.isinf(x))
    p_is_zero = ~invalid & ~p_is_one & ((x == 0) | fnp.isinf(a))
    inside = ~(invalid | p_is_one | p_is_zero)
    a_in = fnp.where(inside, a, 1.0)
    x_in = fnp.where(inside, x, 1.0)
    series = x_in < a_in + 1.0
    # each branch runs on every element: give the other branch's elements a harmless x
    p_series, tail = _gamma_series(a_in, fnp.where(series, x_in, 0.5 * a_in), series_depth)
    q_cf, change = _gamma_cf(a_in, fnp.where(series, a_in + 1.0, x_in), cf_depth)
    p = fnp.where(series, p_series, 1.0 - q_cf)
    q = fnp.where(series, 1.0 - p_series, q_cf)
    unsure = fnp.where(series, tail, change) > _tolerance(dtype)
    nan = invalid | (inside & unsure)
    p = fnp.where(nan, np.nan, fnp.where(p_is_one, 1.0, fnp.where(p_is_zero, 0.0, p)))
    q = fnp.where(nan, np.nan, fnp.where(p_is_one, 0.0, fnp.where(p_is_zero, 1.0, q)))
    return p, q


def _beta_cf_terms(a, b, x, y, pairs):
    """The continued fraction of I_x(a, b) as matrices: ``1 + d_(2m+1)`` for m = 0..pairs
    and ``d_(2m)`` for m = 1..pairs.

    ``1 + d_(2m+1) = 1 - t`` with ``t = (a+m)(a+b+m) x / ((a+2m)(a+2m+1))`` cancels when t
    is near 1; over the common denominator, with y = 1 - x, it is a sum whose terms
    cancel elsewhere. Each element takes the form whose terms are smaller against the
    result (the one with fewer digits lost).
    """
    m = np.arange(0, pairs + 1, dtype=a.dtype)
    a_, b_, x_, y_ = _last(a), _last(b), _last(x), _last(y)
    u = a_ + m
    den = (a_ + 2 * m) * (a_ + 2 * m + 1)
    t = u * (u + b_) * x_ / den
    direct = 1.0 - t
    parts = (u * (2 * m + 1 - b_), m * (m + 1), u * (u + b_) * y_)
    summed = parts[0] + parts[1] + parts[2]
    # digits lost: (size of the terms) / (size of the result), compared without dividing
    lost_direct = (1.0 + t) * fnp.abs(summed)
    lost_summed = (fnp.abs(parts[0]) + parts[1] + parts[2]) * fnp.abs(direct) * den
    one_plus_odd = fnp.where(lost_direct <= lost_summed / den, direct, summed / den)
    m1 = m[1:]
    even = m1 * (b_ - m1) * x_ / ((a_ + 2 * m1 - 1) * (a_ + 2 * m1))
    return one_plus_odd, even


def _beta_cf(a, b, x, y, pairs):
    """I_x(a, b) by its continued fraction, and the relative change of its last
    convergent; y = 1 - x, given separately so that it is exact."""
    one_plus_odd, even = _beta_cf_terms(a, b, x, y, pairs)
    first = fnp.squeeze(lax.slice_in_dim(one_plus_odd, 0, 1, 1, one_plus_odd.ndim - 1), -1)
    rest = lax.slice_in_dim(one_plus_odd, 1, pairs + 1, 1, one_plus_odd.ndim - 1)
    # pair m is [[1, 1], [d_2m, 0]] [[1, 1], [d_2m+1, 0]] = [[1 + d_2m+1, 1], [d_2m, d_2m]]
    p, q, r, s = _matrix_tree(rest, fnp.ones_like(rest), even, even)
    # the first pair, [[1, 1], [1, 0]] [[1, 1], [d_1, 0]] = [[1 + d_1, 1], [1, 1]]
    value, previous = (first * p + r) / (p + r), (first * q + s) / (q + s)
    change = fnp.abs(value - previous) / fnp.abs(value)
    log_pre = a * fnp.log(x) + b * fnp.log(y) - fnp.log(a) - betaln(a, b)
    return fnp.exp(log_pre) / value, change


def ibeta_pair(a, b, x):
    """``(I_x(a, b), 1 - I_x(a, b))``, the regularized incomplete beta function and its
    complement, with scipy's values at the edges; a, b and x of one shape and dtype."""
    # (a pair of fraction terms makes several temporaries: count it as four terms)
    return _in_chunks(_ibeta_pair, 4 * _depths(a.dtype)[2], (a, b, x), (1.0, 1.0, 0.5))


def _ibeta_pair(a, b, x):
    dtype = a.dtype
    _, _, pairs = _depths(dtype)
    invalid = (
        fnp.isnan(a)
        | fnp.isnan(b)
        | fnp.isnan(x)
        | (a < 0)
        | (b < 0)
        | (x < 0)
        | (x > 1)
        | ((a == 0) & (b == 0))
        | (fnp.isinf(a) & fnp.isinf(b))
    )
    # mass at x = 0 (a = 0 or b = inf) or at x = 1 (b = 0 or a = inf)
    at_zero = (a == 0) | fnp.isinf(b)
    at_one = (b == 0) | fnp.isinf(a)
    i_is_one = ~invalid & ((x == 1) | (at_zero & (x > 0)))
    i_is_zero = ~invalid & ~i_is_one & ((x == 0) | at_one)
    inside = ~(invalid | i_is_one | i_is_zero)
    a_in = fnp.where(inside, a, 1.0)
    b_in = fnp.where(inside, b, 1.0)
    x_in = fnp.where(inside, x, 0.5)
    flip = x_in > (a_in + 1.0) / (a_in + b_in + 2.0)
    big_a = fnp.where(flip, b_in, a_in)
    big_b = fnp.where(flip, a_in, b_in)
    big_x = fnp.where(flip, 1.0 - x_in, x_in)
    big_y = fnp.where(flip, x_in, 1.0 - x_in)
    j, change = _beta_cf(big_a, big_b, big_x, big_y, pairs)
    i = fnp.where(flip, 1.0 - j, j)
    ic = fnp.where(flip, j, 1.0 - j)
    nan = invalid | (inside & (change > _tolerance(dtype)))
    i = fnp.where(nan, np.nan, fnp.where(i_is_one, 1.0, fnp.where(i_is_zero, 0.0, i)))
    ic = fnp.where(nan, np.nan, fnp.where(i_is_one, 0.0, fnp.where(i_is_zero, 1.0, ic)))
    return i, ic
