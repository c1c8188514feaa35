"""Finite differences, integrals and interpolation of sampled functions: diff,
ediff1d, gradient, trapezoid, unwrap, interp. Each is a composition of slices and arithmetic, so it is differentiable in
the samples (and in the sample coordinates), batchable and jittable.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.diff(fnp.array([1.0, 4.0, 9.0, 16.0]), n=2)
    Array([2., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args
from fnn.numpy.indexing import take
from fnn.numpy.math import abs as _abs
from fnn.numpy.math import logical_and, not_equal
from fnn.numpy.math import mod as _mod
from fnn.numpy.math import where as _where
from fnn.numpy.reductions import cumsum, normalize_axes
from fnn.numpy.reductions import sum as _sum
from fnn.numpy.shape import broadcast_to, concatenate, ravel, reshape
from fnn.numpy.sorting import argsort, searchsorted

__all__ = ["diff", "ediff1d", "gradient", "trapezoid", "interp", "unwrap"]


def _slice(a, start, stop, axis):
    """``a[..., start:stop, ...]`` along ``axis`` (negative bounds count from the end)."""
    n = a.shape[axis]
    start, stop, _ = slice(start, stop).indices(n)
    return lax.slice_in_dim(a, start, max(start, stop), axis=axis)


def _edge(a, value, axis, name):
    """``value`` as a block to join to ``a`` along ``axis``: a scalar becomes a slab of
    length 1, an array keeps its own length but must match ``a`` elsewhere."""
    value = asarray(value)
    if value.ndim == 0:
        shape = list(a.shape)
        shape[axis] = 1
        return broadcast_to(value, tuple(shape))
    if value.ndim != a.ndim or any(
        d != e for i, (d, e) in enumerate(zip(value.shape, a.shape, strict=True)) if i != axis
    ):
        raise FnnTypeError(
            f"diff: {name} of shape {value.shape} must be a scalar or match a {a.shape} "
            f"on every axis but axis {axis}"
        )
    return value


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis``: ``a[1:] - a[:-1]``, repeated
    ``n`` times, after joining ``prepend`` and ``append`` to the ends (scalars become
    one sample). Booleans give ``a[1:] != a[:-1]``, as in numpy.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.diff(fnp.array([[1, 3, 6], [0, 0, 5]]), axis=1, prepend=0)
        Array([[1, 2, 3],
               [0, 0, 5]], dtype=int32)
    """
    a = asarray(a)
    if a.ndim == 0:
        raise FnnTypeError("diff: needs an array with at least one axis, got a scalar")
    if not isinstance(n, int | np.integer) or n < 0:
        raise FnnTypeError(f"diff: the order n must be a non-negative integer, got {n!r}")
    (ax,) = normalize_axes("diff", axis, a.ndim)
    if n == 0:
        return a
    parts = [a]
    if prepend is not None:
        parts.insert(0, _edge(a, prepend, ax, "prepend"))
    if append is not None:
        parts.append(_edge(a, append, ax, "append"))
    if len(parts) > 1:
        a = concatenate(promote_args("diff", *parts), axis=ax)
    for _ in range(int(n)):
        hi, lo = _slice(a, 1, None, ax), _slice(a, None, -1, ax)
        a = not_equal(hi, lo) if a.dtype == np.bool_ else lax.sub(hi, lo)
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of consecutive elements of the flattened ``ary``, with the flattened
    ``to_begin`` and ``to_end`` joined to the front and back, as numpy.ediff1d.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.ediff1d(fnp.array([1, 2, 4, 7]), to_begin=-99)
        Array([-99,   1,   2,   3], dtype=int32)
    """
    d = diff(ravel(ary))
    if to_begin is None and to_end is None:
        return d
    # numpy keeps ary's dtype: the ends are cast to it.
    parts = [ravel(asarray(to_begin, d.dtype))] if to_begin is not None else []
    parts.append(d)
    if to_end is not None:
        parts.append(ravel(asarray(to_end, d.dtype)))
    return concatenate(parts)


def _float_dtype(f):
    return f.dtype if np.issubdtype(f.dtype, np.inexact) else config.default_float()


def _spacings(name, varargs, axes, f):
    """One spacing per axis in ``axes``: a scalar step, or the 1-D coordinates."""
    if len(varargs) == 0:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise FnnTypeError(
            f"{name}: give no spacing, one scalar, or one spacing per axis ({len(axes)}), "
            f"got {len(varargs)}"
        )
    out = []
    for ax, h in zip(axes, varargs, strict=True):
        if np.ndim(h) == 0:
            out.append(h)
            continue
        h = asarray(h)
        if h.ndim != 1 or h.shape[0] != f.shape[ax]:
            raise FnnTypeError(
                f"{name}: coordinates for axis {ax} must be 1-D of length {f.shape[ax]} "
                f"(the axis' length), got shape {h.shape}"
            )
        out.append(h)
    return out


def _along(v, axis, ndim):
    """A 1-D ``v`` shaped to broadcast along ``axis`` of a rank-``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = v.shape[0]
    return reshape(v, tuple(shape))


def _gradient_uniform(f, h, ax, edge_order):
    f0, f1, f2 = (_slice(f, k, k + 1, ax) for k in range(3))
    g3, g2, g1 = (_slice(f, -k, f.shape[ax] - k + 1, ax) for k in (3, 2, 1))
    interior = (_slice(f, 2, None, ax) - _slice(f, None, -2, ax)) / (2.0 * h)
    if edge_order == 1:
        first, last = (f1 - f0) / h, (g1 - g2) / h
    else:
        first = (-1.5 * f0 + 2.0 * f1 - 0.5 * f2) / h
        last = (0.5 * g3 - 2.0 * g2 + 1.5 * g1) / h
    return concatenate([first, interior, last], axis=ax)


def _gradient_coordinates(f, x, ax, edge_order):
    """Second-order accurate differences on the grid ``x`` (numpy's formulas for uneven
    spacing; they reduce to the uniform ones when the steps are equal)."""
    dx = _along(diff(x), ax, f.ndim)
    d1, d2 = _slice(dx, None, -1, ax), _slice(dx, 1, None, ax)
    a = -d2 / (d1 * (d1 + d2))
    b = (d2 - d1) / (d1 * d2)
    c = d1 / (d2 * (d1 + d2))
    interior = a * _slice(f, None, -2, ax) + b * _slice(f, 1, -1, ax) + c * _slice(f, 2, None, ax)
    f0, f1, f2 = (_slice(f, k, k + 1, ax) for k in range(3))
    g3, g2, g1 = (_slice(f, -k, f.shape[ax] - k + 1, ax) for k in (3, 2, 1))
    h0, h1 = _slice(dx, 0, 1, ax), _slice(dx, 1, 2, ax)
    k1, k2 = _slice(dx, -2, -1, ax), _slice(dx, -1, None, ax)
    if edge_order == 1:
        first, last = (f1 - f0) / h0, (g1 - g2) / k2
    else:
        s = h0 + h1
        first = -(2.0 * h0 + h1) / (h0 * s) * f0 + s / (h0 * h1) * f1 - h0 / (h1 * s) * f2
        s = k1 + k2
        last = k2 / (k1 * s) * g3 - s / (k1 * k2) * g2 + (2.0 * k2 + k1) / (k2 * s) * g1
    return concatenate([first, interior, last], axis=ax)


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of sampled values ``f``: central differences inside, one-sided
    differences of order ``edge_order`` (1 or 2) at the ends, along each of ``axis``
    (all axes when None). ``varargs`` gives the spacing: nothing (1), one scalar for
    every axis, or per axis a scalar step or the 1-D sample coordinates (possibly
    uneven). One axis gives an array, several a tuple of arrays, as numpy.gradient.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.gradient(fnp.array([1.0, 2.0, 4.0, 7.0]), 0.5)
        Array([2., 3., 5., 6.], dtype=float32)
    """
    f = asarray(f)
    if f.ndim == 0:
        raise FnnTypeError("gradient: needs an array with at least one axis, got a scalar")
    if edge_order not in (1, 2):
        raise FnnTypeError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    raw = tuple(range(f.ndim)) if axis is None else axis
    raw = (raw,) if isinstance(raw, int | np.integer) else tuple(raw)
    axes = [normalize_axes("gradient", a, f.ndim)[0] for a in raw]
    if len(set(axes)) != len(axes):
        raise FnnTypeError(f"gradient: repeated axis in {axis!r}")
    dtype = _float_dtype(f)
    f = lax.convert_element_type(f, dtype) if f.dtype != dtype else f
    out = []
    for ax, h in zip(axes, _spacings("gradient", varargs, axes, f), strict=True):
        if f.shape[ax] < edge_order + 1:
            raise FnnTypeError(
                f"gradient: axis {ax} has {f.shape[ax]} samples; edge_order={edge_order} "
                f"needs at least {edge_order + 1}"
            )
        if np.ndim(h) == 0:
            g = _gradient_uniform(f, asarray(h, dtype) if _is_array_like(h) else h, ax, edge_order)
        else:
            g = _gradient_coordinates(f, h, ax, edge_order)
        # numpy writes into an array of f's float dtype, whatever the spacing's dtype.
        out.append(lax.convert_element_type(g, dtype) if g.dtype != dtype else g)
    return out[0] if len(out) == 1 else tuple(out)


def _is_array_like(h) -> bool:
    return not isinstance(h, int | float)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of samples ``y`` along ``axis`` by the trapezoidal rule, at
    coordinates ``x`` (1-D along ``axis``, or of ``y``'s shape) or spacing ``dx``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.trapezoid(fnp.array([1.0, 2.0, 3.0]), dx=0.5)
        Array(2., dtype=float32)
    """
    y = asarray(y)
    if y.ndim == 0:
        raise FnnTypeError("trapezoid: needs an array with at least one axis, got a scalar")
    (ax,) = normalize_axes("trapezoid", axis, y.ndim)
    if not np.issubdtype(y.dtype, np.inexact):
        y = lax.convert_element_type(y, config.default_float())
    if x is None:
        d = dx
    else:
        x = asarray(x)
        if x.ndim == 1:
            if x.shape[0] != y.shape[ax]:
                raise FnnTypeError(
                    f"trapezoid: x of length {x.shape[0]} does not match axis {ax} of y {y.shape}"
                )
            d = _along(diff(x), ax, y.ndim)
        else:
            d = diff(x, axis=ax)
    mid = (_slice(y, 1, None, ax) + _slice(y, None, -1, ax)) * 0.5
    return _sum(mid * d, axis=ax)


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """``p`` with every jump between neighbours along ``axis`` larger than ``discont``
    (default ``period / 2``) replaced by its equivalent modulo ``period``, as
    numpy.unwrap (phase unwrapping).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unwrap(fnp.array([0.0, 3.0, 6.5, 9.0]))
        Array([0.        , 3.        , 0.21681488, 2.7168148 ], dtype=float32)
    """
    p = asarray(p)
    if p.ndim == 0:
        raise FnnTypeError("unwrap: needs an array with at least one axis, got a scalar")
    (ax,) = normalize_axes("unwrap", axis, p.ndim)
    dd = diff(p, axis=ax)
    if discont is None:
        discont = period / 2
    if np.issubdtype(p.dtype, np.integer) and isinstance(period, int | np.integer):
        high, rem = divmod(int(period), 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = _mod(dd - low, period) + low
    if ambiguous:
        # Jumps of exactly half a period go up, as numpy decides.
        ddmod = _where(logical_and(ddmod == low, dd > 0), high, ddmod)
    correction = _where(_abs(dd) < discont, 0, ddmod - dd)
    tail = _slice(p, 1, None, ax) + cumsum(correction, axis=ax)
    head = _slice(p, 0, 1, ax)
    return concatenate(promote_args("unwrap", head, tail), axis=ax)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the samples ``(xp, fp)`` (``xp`` increasing) at
    ``x``, as numpy.interp: ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside
    the samples, or a periodic extension with ``period``. Differentiable in ``x`` and
    ``fp`` (and ``xp``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.interp(fnp.array([0.5, 3.0]), fnp.array([0.0, 1.0, 2.0]), fnp.array([0.0, 10.0, 5.0]))
        Array([5., 5.], dtype=float32)
    """
    x, xp = (asarray(v) for v in promote_args("interp", x, xp, to_float=True))
    fp = asarray(fp)
    if not np.issubdtype(fp.dtype, np.inexact):
        fp = lax.convert_element_type(fp, x.dtype)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape != fp.shape or xp.shape[0] == 0:
        raise FnnTypeError(
            f"interp: xp and fp must be 1-D of one non-zero length, got {xp.shape} and {fp.shape}"
        )
    if period is not None:
        if period == 0:
            raise FnnTypeError("interp: period must be non-zero")
        period = abs(period)
        x, xp = _mod(x, period), _mod(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    n = xp.shape[0]
    if n == 1:
        value = lax.broadcast_to(fp[0], x.shape)
    else:
        i = searchsorted(xp, x, side="right")
        i = lax.min(lax.max(i, np.ones((), i.dtype)), np.asarray(n - 1, i.dtype))
        x0, x1 = take(xp, i - 1), take(xp, i)
        f0, f1 = take(fp, i - 1), take(fp, i)
        dx = x1 - x0
        slope = (f1 - f0) / _where(dx == 0, 1, dx)
        value = f0 + slope * (x - x0)
    if period is None:
        lo = fp[0] if left is None else left
        hi = fp[-1] if right is None else right
        value = _where(x == xp[-1], fp[-1], value)
        value = _where(x < xp[0], lo, _where(x > xp[-1], hi, value))
    return value
