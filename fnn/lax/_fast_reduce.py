"""Faster forms of two reductions numpy runs slowly, used by eager impls and by ``jit``.

numpy reduces over axes other than the innermost one by walking the array once per
output row, well below memory speed. Two shapes of that kind dominate convolutional
training steps:

- **every axis but the last** (a bias gradient, ``sum(ct, axis=(0, 1, 2))``): one BLAS
  matrix-vector product with a vector of ones reads the array at memory speed;
- **small windows** (max pooling's ``max(x, axis=(2, 4))`` over 2x2 windows, and its
  gradient's tie counts): one elementwise ufunc call per window element on strided
  slices, the gain largest with one channel.

benchmarks/README.md records the gains on the benchmark cnn's arrays.

Both give numpy's results: max and min exactly (NaN propagates as in ``np.max``),
integer sums exactly (they wrap around alike in any order), float sums up to rounding
(the order of additions differs; numpy's own order over these axes is sequential, not
pairwise, so neither is more accurate).

Example:
    >>> x = np.arange(8.0).reshape(2, 2, 2)
    >>> reduce_small_axes(np.maximum, x, (1,))
    array([[2., 3.],
           [6., 7.]])
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = [
    "fast_sum",
    "fast_max",
    "fast_min",
    "sum_leading",
    "reduce_small_axes",
    "sum_leading_applies",
    "small_axes_apply",
    "small_sum_applies",
]

# Below this many elements numpy's own reduction is as fast as either form.
_MIN_SIZE = 16384
# At most this many elements per reduced window: one ufunc call per element. Fewer when
# the window includes the last axis, whose runs numpy reduces well: by slices, a 4-element
# last axis reduces far faster, a 16-element one slower (benchmarks/README.md).
_MAX_WINDOW = 16
_MAX_WINDOW_WITH_LAST_AXIS = 8
_BLAS_KINDS = (np.dtype(np.float32), np.dtype(np.float64))


def sum_leading_applies(shape, axes, dtype) -> bool:
    """Whether a sum of ``shape`` over ``axes`` is every axis but the last of a large
    float32/float64 array (the BLAS form)."""
    n = len(shape)
    return (
        n >= 2
        and tuple(axes) == tuple(range(n - 1))
        and np.dtype(dtype) in _BLAS_KINDS
        and math.prod(shape) >= _MIN_SIZE
    )


def small_axes_apply(shape, axes, dtype) -> bool:
    """Whether a reduction of ``shape`` over ``axes`` reduces small windows (at most
    ``_MAX_WINDOW`` elements) of a large float or integer array."""
    if not axes:
        return False
    window = math.prod(shape[a] for a in axes)
    limit = _MAX_WINDOW_WITH_LAST_AXIS if len(shape) - 1 in axes else _MAX_WINDOW
    kind = np.dtype(dtype).kind
    return kind in "fiu" and 2 <= window <= limit and math.prod(shape) >= _MIN_SIZE


def sum_leading(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x.sum(axis=tuple(range(x.ndim - 1)))`` as ``ones @ x.reshape(-1, last)``."""
    rows = x.reshape(-1, x.shape[-1])  # a copy if x is not contiguous: still right
    return np.matmul(_ones(rows.shape[0], x.dtype), rows, out=out)


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ones, kept: filling it anew costs as much as the sum."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def reduce_small_axes(ufunc: np.ufunc, x: np.ndarray, axes, out: np.ndarray | None = None):
    """``ufunc.reduce`` over ``axes`` as one ``ufunc`` call per element of the window.

    The highest axis is reduced first, so the lower axis numbers stay valid; only the
    last step writes into ``out``.
    """
    axes = sorted(axes)
    for k, a in enumerate(reversed(axes)):
        last = k == len(axes) - 1
        lead = (slice(None),) * a
        n = x.shape[a]
        if n == 1:
            x = x[(*lead, 0)]
            if last and out is not None:
                np.copyto(out, x)
                x = out
            continue
        acc = ufunc(x[(*lead, 0)], x[(*lead, 1)], out=out if last else None)
        for j in range(2, n):
            ufunc(acc, x[(*lead, j)], out=acc)
        x = acc
    return x


def small_sum_applies(shape, axes, dtype) -> bool:
    """:func:`small_axes_apply` for a sum: float32/float64 and integers only (float16
    partial sums would round at every step; integer sums are exact in any order)."""
    dtype = np.dtype(dtype)
    return (dtype in _BLAS_KINDS or dtype.kind in "iu") and small_axes_apply(shape, axes, dtype)


def fast_sum(x: np.ndarray, axes, out: np.ndarray | None = None) -> np.ndarray:
    """``np.add.reduce(x, axis=axes, dtype=x.dtype, out=out)`` by the fastest form."""
    axes = tuple(axes)
    if sum_leading_applies(x.shape, axes, x.dtype):
        return sum_leading(x, out)
    if small_sum_applies(x.shape, axes, x.dtype):
        return reduce_small_axes(np.add, x, axes, out)
    return np.add.reduce(x, axis=axes, dtype=x.dtype, out=out)


def fast_max(x: np.ndarray, axes, out: np.ndarray | None = None) -> np.ndarray:
    """``np.max(x, axis=axes, out=out)``, by window slices where that is faster."""
    if small_axes_apply(x.shape, tuple(axes), x.dtype):
        return reduce_small_axes(np.maximum, x, axes, out)
    return np.max(x, axis=tuple(axes), out=out)


def fast_min(x: np.ndarray, axes, out: np.ndarray | None = None) -> np.ndarray:
    """``np.min(x, axis=axes, out=out)``, by window slices where that is faster."""
    if small_axes_apply(x.shape, tuple(axes), x.dtype):
        return reduce_small_axes(np.minimum, x, axes, out)
    return np.min(x, axis=tuple(axes), out=out)
