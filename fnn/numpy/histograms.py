"""Counting into bins: bincount, digitize, histogram, histogram_bin_edges,
histogram2d, histogramdd, with numpy's signatures.

The counts are scatter-adds into an array whose length is fixed by the bins, so they
work under jit when that length is known: ``histogram`` always (its number of bins is
given), ``bincount`` when given ``length=`` (JAX's keyword) or a concrete input. Bin
edges may be traced (``range`` from traced values), and counts with ``weights`` are
differentiable in the weights.

Example:
    >>> import fnn.numpy as fnp
    >>> counts, edges = fnp.histogram(fnp.array([0.0, 1.0, 1.5, 3.0]), bins=3)
    >>> counts, edges
    (Array([1, 2, 1], dtype=int32), Array([0., 1., 2., 3.], dtype=float32))
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, is_array, promote_args
from fnn.numpy.calculus import diff
from fnn.numpy.math import logical_and, where
from fnn.numpy.reductions import max as _max
from fnn.numpy.reductions import min as _min
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import ravel, reshape, stack
from fnn.numpy.sorting import searchsorted

__all__ = [
    "bincount", "digitize", "histogram", "histogram_bin_edges", "histogram2d",
    "histogramdd",
]  # fmt: skip


def _concrete(x):
    if isinstance(x, Tracer):
        return x.concrete_value()
    return np.asarray(x)


def _scatter_add(index, values, length):
    """An array of ``length`` zeros with ``values`` added at ``index`` (1-D each)."""
    return lax.broadcast_to(np.zeros((), values.dtype), (length,)).at[index].add(values)


def bincount(x, /, weights=None, minlength=0, *, length=None):
    """How often each value ``0, 1, ...`` occurs in the non-negative integer array
    ``x`` (or the sum of ``weights`` there), as numpy.bincount. The output has
    ``max(max(x) + 1, minlength)`` entries, which needs a concrete ``x``; under jit pass
    ``length=`` (values at or beyond it, and negative ones, are then left out).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.bincount(fnp.array([0, 1, 1, 3]))
        Array([1, 2, 0, 1], dtype=int32)
    """
    x = asarray(x)
    if x.ndim != 1:
        raise FnnTypeError(f"bincount: x must be 1-D, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer) and x.dtype != np.bool_:
        raise FnnTypeError(f"bincount: x must hold non-negative integers, got dtype {x.dtype}")
    if minlength is None or minlength < 0:
        raise FnnTypeError(f"bincount: minlength must be a non-negative int, got {minlength!r}")
    if length is None:
        val = _concrete(x)
        if val is None:
            raise FnnTypeError(
                "bincount: the output's length is max(x) + 1, which needs a concrete x; "
                "under jit pass length= (the number of bins)"
            )
        if val.size and val.min() < 0:
            raise FnnTypeError(f"bincount: x must be non-negative, got the value {val.min()}")
        length = builtins.max(int(val.max()) + 1 if val.size else 0, int(minlength))
    x = lax.convert_element_type(x, config.default_int()) if x.dtype == np.bool_ else x
    if weights is None:
        values = lax.broadcast_to(np.ones((), config.default_int()), x.shape)
    else:
        values = asarray(weights)
        if values.shape != x.shape:
            raise FnnTypeError(
                f"bincount: weights of shape {values.shape} must match x of shape {x.shape}"
            )
        if values.dtype == np.bool_ or np.issubdtype(values.dtype, np.integer):
            values = lax.convert_element_type(values, config.default_float())
    inside = logical_and(x >= 0, x < length)
    index = where(inside, x, 0)
    return _scatter_add(index, where(inside, values, 0), int(length))


def digitize(x, bins, right=False):
    """The index of the bin each ``x`` falls in, for monotonic ``bins``, as numpy.digitize:
    ``bins[i-1] <= x < bins[i]`` (``<``/``<=`` swapped with ``right``), counted from the
    other end for decreasing bins.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.digitize(fnp.array([0.5, 1.0, 3.0, 4.0]), fnp.array([1.0, 2.0, 3.0]))
        Array([0, 1, 3, 3], dtype=int32)
    """
    x, bins = (asarray(v) for v in promote_args("digitize", x, bins))
    if bins.ndim != 1:
        raise FnnTypeError(f"digitize: bins must be 1-D, got shape {bins.shape}")
    side = "left" if right else "right"
    n = bins.shape[0]
    increasing = searchsorted(bins, x, side=side)
    decreasing = n - searchsorted(bins[::-1], x, side=side)
    if n < 2:
        return increasing
    concrete = _concrete(bins)
    if concrete is not None:
        if not (np.all(np.diff(concrete) >= 0) or np.all(np.diff(concrete) <= 0)):
            raise FnnTypeError("digitize: bins must be monotonically increasing or decreasing")
        return increasing if concrete[-1] >= concrete[0] else decreasing
    return where(bins[-1] >= bins[0], increasing, decreasing)


def _range_of(name, a, range_):
    """(low, high) of the bins: ``range`` or the data's extent, widened by 0.5 each way
    when it is a single value. numpy scalars when concrete, else traced arrays."""
    if range_ is not None:
        lo, hi = range_
        lo_c, hi_c = _concrete(asarray(lo)), _concrete(asarray(hi))
        if lo_c is not None and hi_c is not None:
            if not lo_c <= hi_c:
                raise FnnTypeError(f"{name}: range must have low <= high, got {tuple(range_)}")
            return float(lo_c), float(hi_c)  # numpy spaces a given range in float64
        return asarray(lo, a.dtype), asarray(hi, a.dtype)
    if a.size == 0:
        return 0.0, 1.0
    if not isinstance(a, Tracer):  # under a transform the edges must follow a's values
        values = np.asarray(a)
        lo, hi = values.min(), values.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise FnnTypeError(
                f"{name}: the data's range [{lo}, {hi}] is not finite; pass range= or bins= edges"
            )
        return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)
    lo, hi = _min(a), _max(a)
    same = lo == hi
    return where(same, lo - 0.5, lo), where(same, hi + 0.5, hi)


def _float_data(a):
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        a = lax.convert_element_type(a, config.default_float())
    return a


def _edges(name, a, bins, range_):
    if isinstance(bins, str):
        raise NotImplementedError(f"{name}: bin estimators such as {bins!r} are not supported")
    if isinstance(bins, int | np.integer):
        if bins < 1:
            raise FnnTypeError(f"{name}: the number of bins must be positive, got {bins}")
        lo, hi = _range_of(name, a, range_)
        n = int(bins)
        if not (is_array(lo) or is_array(hi)):
            # numpy.linspace in float64, cast: the very edges numpy.histogram uses.
            return asarray(np.linspace(lo, hi, n + 1, dtype=a.dtype))
        step = (hi - lo) / n
        inner = lo + np.arange(n, dtype=a.dtype) * step
        return lax.concatenate([asarray(inner, a.dtype), reshape(asarray(hi, a.dtype), (1,))], 0)
    edges = asarray(bins, a.dtype)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise FnnTypeError(f"{name}: bin edges must be 1-D with at least 2 entries, got {bins!r}")
    concrete = _concrete(edges)
    if concrete is not None and np.any(np.diff(concrete) < 0):
        raise FnnTypeError(f"{name}: bin edges must increase monotonically, got {concrete}")
    return edges


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002 - numpy's name
    """The bin edges :func:`histogram` uses: ``bins + 1`` even steps over ``range`` (the
    data's extent by default), or the given edges.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.histogram_bin_edges(fnp.array([0.0, 4.0]), bins=4)
        Array([0., 1., 2., 3., 4.], dtype=float32)
    """
    del weights  # numpy accepts it for the string estimators only
    a = ravel(_float_data(a))
    return _edges("histogram_bin_edges", a, bins, range)


def _bin_index(a, edges):
    """Each value's bin (the last edge belongs to the last bin) and whether it has one."""
    n = edges.shape[0] - 1
    idx = searchsorted(edges, a, side="right") - 1
    idx = where(a == edges[-1], n - 1, idx)
    inside = logical_and(a >= edges[0], a <= edges[-1])
    return where(inside, idx, 0), inside


def _weights(name, weights, shape, dtype):
    if weights is None:
        return None
    w = asarray(weights)
    if w.shape != shape:
        raise FnnTypeError(f"{name}: weights of shape {w.shape} must match the data {shape}")
    return w


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002 - numpy's name
    """Counts of ``a`` (flattened) in bins, and the bin edges, as numpy.histogram. Every
    bin is half-open ``[left, right)`` except the last, which includes its right edge;
    values outside the bins are not counted. ``density`` divides by the total count
    and the bin widths.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.histogram(fnp.array([1, 2, 1]), bins=[0, 1, 2, 3])[0]
        Array([0, 2, 1], dtype=int32)
    """
    a = _float_data(a)
    w = _weights("histogram", weights, a.shape, a.dtype)
    a, w = ravel(a), (ravel(w) if w is not None else None)
    edges = _edges("histogram", a, bins, range)
    idx, inside = _bin_index(a, edges)
    n = edges.shape[0] - 1
    if w is None:
        counts = _scatter_add(idx, lax.convert_element_type(inside, config.default_int()), n)
    else:
        counts = _scatter_add(idx, where(inside, w, 0), n)
    if density:
        counts = counts / (_sum(counts) * diff(edges))
    return counts, edges


def histogramdd(sample, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """A D-dimensional histogram of ``sample`` (N points of D coordinates, as an (N, D)
    array or a sequence of D arrays), as numpy.histogramdd. ``bins`` is one count, or
    per dimension a count or the edges; ``range`` a (low, high) pair per dimension.

    Example:
        >>> import fnn.numpy as fnp
        >>> h, edges = fnp.histogramdd(fnp.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), bins=2)
        >>> h
        Array([[1., 0.],
               [1., 1.]], dtype=float32)
    """
    if isinstance(sample, list | tuple):
        sample = stack([ravel(asarray(s)) for s in sample], axis=1)
    sample = _float_data(sample)
    if sample.ndim == 1:
        sample = reshape(sample, (-1, 1))
    if sample.ndim != 2:
        raise FnnTypeError(f"histogramdd: sample must be (N, D), got shape {sample.shape}")
    npts, d = sample.shape
    if isinstance(bins, int | np.integer):
        bins = [bins] * d
    if len(bins) != d:
        raise FnnTypeError(f"histogramdd: bins must give one entry per dimension ({d})")
    ranges = [None] * d if range is None else list(range)
    if len(ranges) != d:
        raise FnnTypeError(f"histogramdd: range must give one (low, high) per dimension ({d})")
    edges = [_edges("histogramdd", sample[:, k], bins[k], ranges[k]) for k in builtins.range(d)]
    nbins = [e.shape[0] - 1 for e in edges]
    flat = None
    inside_all = None
    for k in builtins.range(d):
        idx, inside = _bin_index(sample[:, k], edges[k])
        stride = math.prod(nbins[k + 1 :])
        term = idx * stride
        flat = term if flat is None else flat + term
        inside_all = inside if inside_all is None else logical_and(inside_all, inside)
    w = _weights("histogramdd", weights, (npts,), sample.dtype)
    values = where(inside_all, 1.0 if w is None else w, 0.0)
    values = asarray(values, sample.dtype if w is None else None)
    hist = reshape(_scatter_add(where(inside_all, flat, 0), values, math.prod(nbins)), nbins)
    if density:
        hist = hist / _sum(hist)
        for k in builtins.range(d):
            shape = [1] * d
            shape[k] = nbins[k]
            hist = hist / reshape(diff(edges[k]), shape)
    return hist, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """The 2-D histogram of points ``(x[i], y[i])``: ``(H, xedges, yedges)``, as
    numpy.histogram2d. ``bins`` is a count, edges for both, or a pair of either.

    Example:
        >>> import fnn.numpy as fnp
        >>> H, xe, ye = fnp.histogram2d(fnp.array([0.0, 1.0]), fnp.array([0.0, 1.0]), bins=2)
        >>> H
        Array([[1., 0.],
               [0., 1.]], dtype=float32)
    """
    x, y = asarray(x), asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise FnnTypeError(f"histogram2d: x and y must be 1-D of one length, got {x.shape} "
                           f"and {y.shape}")  # fmt: skip
    if not isinstance(bins, int | np.integer) and len(bins) != 2:
        bins = [bins, bins]  # one array of edges for both axes
    elif isinstance(bins, int | np.integer):
        bins = [bins, bins]
    hist, (xedges, yedges) = histogramdd([x, y], bins, range, density, weights)
    return hist, xedges, yedges
