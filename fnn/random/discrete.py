"""Discrete samplers: bernoulli, categorical, randint, permutation, choice.

They follow JAX's algorithms step for step (randint's double-width remainder, shuffling
by sorting random 32-bit keys, the Gumbel-max trick), so those built on integer
arithmetic alone (randint, permutation, choice without ``p``) agree with JAX bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, core, lax
from fnn.core import Array, FnnTypeError
from fnn.lax.base import normalize_axis
from fnn.lax.random_bits import random_argsort
from fnn.numpy import arange, cumsum, moveaxis, reshape, take, take_along_axis
from fnn.numpy import sum as fnp_sum
from fnn.numpy._core import asarray, is_array
from fnn.random._util import (
    as_dtype,
    canonical_shape,
    check_key,
    check_shape,
    const,
    int_dtype,
    shape_of,
)
from fnn.random.continuous import _uniform, gumbel
from fnn.random.keys import random_bits, split

__all__ = ["bernoulli", "categorical", "randint", "permutation", "choice"]


def _two_keys(key):
    keys = split(key, 2)
    return [lax.reshape(lax.slice(keys, (i, 0), (i + 1, 2)), (2,)) for i in (0, 1)]


def _float_param_dtype(x) -> np.dtype:
    dt = core.get_aval(x).dtype if is_array(x) else np.asarray(x).dtype
    dt = config.canonicalize_dtype(dt)
    return dt if np.issubdtype(dt, np.floating) else config.default_float()


def bernoulli(key, p=0.5, shape: int | tuple[int, ...] | None = None) -> Array:
    """Booleans that are True with probability ``p`` (``shape`` defaults to p's shape).

    Values of ``p`` outside [0, 1] act as 0 or 1 (no error is raised, as in JAX).

    Example:
        >>> import fnn
        >>> fnn.random.bernoulli(fnn.random.key(0), 0.3, (4,)).dtype
        dtype('bool')
    """
    dtype = _float_param_dtype(p)
    p = as_dtype(p, dtype)
    shape = shape_of(p) if shape is None else canonical_shape(shape, "bernoulli")
    check_shape("bernoulli", tuple(shape), shape_of(p))
    u = _uniform(key, tuple(shape), dtype, const(0.0, dtype), const(1.0, dtype), "bernoulli")
    return lax.lt(u, p)


def categorical(key, logits, axis: int = -1, shape: int | tuple[int, ...] | None = None) -> Array:
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis`` (Gumbel-max).

    ``shape`` defaults to the shape of ``logits`` without ``axis``; a longer ``shape``
    draws that many independent samples for each distribution (its trailing dimensions
    must be the batch shape of ``logits``).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> logits = fnp.array([-30.0, 0.0])   # class 1 almost surely
        >>> fnn.random.categorical(fnn.random.key(0), logits, shape=(3,))
        Array([1, 1, 1], dtype=int32)
    """
    logits = asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = lax.convert_element_type(logits, config.default_float())
    nd = logits.ndim
    if nd == 0:
        raise FnnTypeError("categorical: logits must have at least one dimension, got a scalar")
    axis = normalize_axis("categorical", axis, nd)
    batch_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    shape = batch_shape if shape is None else canonical_shape(shape, "categorical")
    check_shape("categorical", shape, batch_shape)
    prefix = shape[: len(shape) - len(batch_shape)]
    sample_shape = list(shape[len(prefix) :])
    sample_shape.insert(axis, logits.shape[axis])
    g = gumbel(key, prefix + tuple(sample_shape), logits.dtype)
    scores = lax.add(g, lax.reshape(logits, (1,) * len(prefix) + logits.shape))
    return lax.argmax(scores, len(prefix) + axis, config.default_int())


def _int_param(x, dtype: np.dtype):
    """``x`` clipped into ``dtype``'s range and converted, and where it exceeded the max."""
    info = np.iinfo(dtype)
    if not is_array(x):
        v = np.asarray(x)
        if not np.issubdtype(v.dtype, np.integer):
            v = v.astype(np.int64)  # as JAX: non-integer bounds are truncated
        v = v.astype(object)  # exact comparisons whatever the two ranges are
        too_big = np.asarray(v > info.max, bool)
        clipped = np.asarray(np.clip(v, info.min, info.max), object).astype(dtype)
        return clipped, (too_big if too_big.any() else None)
    if not np.issubdtype(x.dtype, np.integer):
        x = lax.convert_element_type(x, config.default_int())
    src = np.iinfo(x.dtype)
    lo, hi = max(info.min, src.min), min(info.max, src.max)
    too_big = lax.gt(x, const(hi, x.dtype)) if src.max > info.max else None
    x = lax.min(lax.max(x, const(lo, x.dtype)), const(hi, x.dtype))
    return lax.convert_element_type(x, dtype), too_big


def _rem_wrapping(x, span):
    """``x % span`` where a span of 0 stands for 2**nbits (the whole range): x itself."""
    zero = lax.eq(span, const(0, span.dtype))
    safe = lax.select(zero, const(1, span.dtype), span)
    return lax.select(zero, x, lax.rem(x, safe))


def randint(key, shape: int | tuple[int, ...], minval, maxval, dtype=int) -> Array:
    """Integers uniform in ``[minval, maxval)``; ``dtype`` defaults to the default int.

    Bounds are clipped into ``dtype``'s range (so ``maxval`` one past its maximum is
    allowed). Where ``maxval <= minval`` the result is ``minval``, without an error, as
    in JAX (numpy raises instead); bounds may be arrays, so this is checked per element.
    Twice ``dtype``'s bits are drawn per number, which makes the bias of the remainder
    negligible for ranges up to ``2**(bits/2)``.

    Example:
        >>> import fnn
        >>> x = fnn.random.randint(fnn.random.key(0), (1000,), 3, 7)
        >>> sorted(set(x.tolist()))
        [3, 4, 5, 6]
    """
    dtype = int_dtype(dtype, "randint")
    shape = canonical_shape(shape, "randint")
    check_shape("randint", shape, shape_of(minval), shape_of(maxval))
    minval, _ = _int_param(minval, dtype)
    maxval, too_big = _int_param(maxval, dtype)
    nbits = dtype.itemsize * 8
    k1, k2 = _two_keys(check_key(key, "randint"))
    higher = random_bits(k1, nbits, shape, "randint")
    lower = random_bits(k2, nbits, shape, "randint")
    udt = np.dtype(f"uint{nbits}")
    one = const(1, udt)
    span = lax.sub(lax.convert_element_type(maxval, udt), lax.convert_element_type(minval, udt))
    span = lax.select(lax.le(maxval, minval), one, span)  # an empty range gives minval
    if too_big is not None:  # maxval = max + 1 of dtype: the span is one more
        span = lax.select(
            lax.bitwise_and(too_big, lax.gt(maxval, minval)), lax.add(span, one), span
        )
    # (higher * 2**nbits + lower) % span, with 2**nbits % span computed as
    # (2**(nbits/2) % span)**2 % span. As in JAX, the products wrap for spans above
    # 2**(nbits/2), which leaves a small bias for such huge ranges.
    rem = lax.rem if too_big is None else _rem_wrapping
    multiplier = rem(const(2 ** (nbits // 2), udt), span)
    multiplier = rem(lax.mul(multiplier, multiplier), span)
    offset = lax.add(lax.mul(rem(higher, span), multiplier), rem(lower, span))
    offset = rem(offset, span)
    return lax.broadcast_to(lax.add(minval, lax.convert_element_type(offset, dtype)), shape)


def _shuffle(key, x, axis: int):
    # Sorting by random 32-bit keys; repeated so that ties (which keep their order)
    # are unlikely to bias the result: 3 * log(n) / log(2**32) rounds, as JAX.
    rounds = int(np.ceil(3 * np.log(max(1, x.size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        key, subkey = _two_keys(key)
        sort_keys = random_bits(subkey, 32, x.shape, "permutation")
        x = take_along_axis(x, random_argsort(sort_keys, axis), axis)
    return x


def _take(x, ind, axis: int):
    """``take(x, ind, axis)``, gathering along axis 0 and moving the new axes into place.

    (vmap of fnn's gather with batched indices needs the indexed axis first.)
    """
    out = take(moveaxis(x, axis, 0), ind, 0)  # ind.shape + x.shape without axis
    k = core.get_aval(ind).ndim
    perm = [*range(k, k + axis), *range(k), *range(k + axis, out.ndim)]
    return lax.transpose(out, perm)


def _concrete_int(x, name: str, what: str) -> int:
    aval_dtype = core.get_aval(x).dtype if is_array(x) else np.asarray(x).dtype
    if not np.issubdtype(aval_dtype, np.integer):
        raise FnnTypeError(f"{name}: {what} must be an integer or an array, got {x!r:.60}")
    return int(x)  # a traced value raises ConcretizationTypeError here


def permutation(key, x, axis: int = 0, independent: bool = False) -> Array:
    """A random permutation of ``arange(x)`` (x an int), or ``x`` shuffled along ``axis``.

    With ``independent=True`` each slice along ``axis`` gets its own permutation;
    otherwise whole slices move together.

    Example:
        >>> import fnn
        >>> sorted(fnn.random.permutation(fnn.random.key(0), 5).tolist())
        [0, 1, 2, 3, 4]
    """
    key = check_key(key, "permutation")
    if not is_array(x) and np.ndim(x) == 0 or is_array(x) and x.ndim == 0:
        n = _concrete_int(x, "permutation", "x")
        return _shuffle(key, arange(n), 0)
    x = asarray(x)
    axis = normalize_axis("permutation", axis, x.ndim)
    if independent or x.ndim == 1:
        return _shuffle(key, x, axis)
    order = _shuffle(key, arange(x.shape[axis]), 0)
    return _take(x, order, axis)


def choice(
    key, a, shape: int | tuple[int, ...] = (), replace: bool = True, p=None, axis: int = 0
) -> Array:
    """Random draws from ``arange(a)`` (a an int) or from ``a``'s slices along ``axis``.

    ``p`` gives the probability of each entry (default uniform); ``replace=False`` draws
    distinct entries. The result has shape ``shape`` (for an int ``a``) or ``a``'s
    shape with ``axis`` replaced by ``shape``.

    Example:
        >>> import fnn
        >>> fnn.random.choice(fnn.random.key(0), 10, (3,), replace=False).shape
        (3,)
    """
    key = check_key(key, "choice")
    shape = canonical_shape(shape, "choice")
    if not is_array(a) and np.ndim(a) == 0 or is_array(a) and a.ndim == 0:
        arr, n_inputs = None, _concrete_int(a, "choice", "a")
        out_shape = shape
    else:
        arr = asarray(a)
        axis = normalize_axis("choice", axis, arr.ndim)
        n_inputs = arr.shape[axis]
        out_shape = arr.shape[:axis] + shape + arr.shape[axis + 1 :]
    n_draws = math.prod(shape)
    if n_draws == 0:
        dtype = config.default_int() if arr is None else arr.dtype
        return lax.broadcast_to(np.zeros((), dtype), out_shape)
    if n_inputs <= 0:
        raise ValueError(f"choice: cannot draw {n_draws} samples from an empty population")
    if not replace and n_draws > n_inputs:
        raise ValueError(
            f"choice: cannot draw {n_draws} distinct samples from a population of "
            f"{n_inputs} (replace=False)"
        )
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
        else:
            ind = lax.slice(permutation(key, n_inputs), (0,), (n_draws,))
    else:
        p = asarray(p)
        if not np.issubdtype(p.dtype, np.floating):
            p = lax.convert_element_type(p, config.default_float())
        if p.shape != (n_inputs,):
            raise ValueError(
                f"choice: p must have shape ({n_inputs},) to match the population, got {p.shape}"
            )
        if replace:
            # Inverse CDF: the first entry whose cumulative probability reaches r.
            cdf = cumsum(p)
            total = lax.slice(cdf, (n_inputs - 1,), (n_inputs,))
            u = _uniform(key, shape, p.dtype, const(0.0, p.dtype), const(1.0, p.dtype), "choice")
            r = lax.mul(total, lax.sub(const(1.0, p.dtype), u))
            ind = fnp_sum(lax.lt(cdf, lax.expand_dims(r, len(shape))), axis=-1)
        else:
            # Gumbel top-k: the n_draws largest of log(p) + Gumbel noise.
            g = lax.add(gumbel(key, (n_inputs,), p.dtype), lax.log(p))
            ind = lax.slice(random_argsort(lax.neg(g)), (0,), (n_draws,))
    result = ind if arr is None else _take(arr, ind, axis)
    return reshape(result, out_shape)
