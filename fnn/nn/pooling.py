"""Pooling: ``max_pool``/``avg_pool`` with Flax's signatures, their layers, and global pools.

Inputs are channels-last ``(batch..., *spatial, features)`` with ``len(window_shape)``
spatial axes; no batch axis or several batch axes work too, as in Flax.

As in ``flax.linen.max_pool``, ``strides`` defaults to 1 in every spatial dimension
(overlapping windows), not to ``window_shape``: halve a 28x28 image with
``max_pool(x, (2, 2), strides=(2, 2))``. Non-overlapping VALID windows (stride ==
window) are a reshape and a reduction over the window axes; other windows are read
with the sliding-window patches primitive of ``fnn.lax.conv``, so gradients flow
through lax's ``reduce_max``/``reduce_sum`` rules.

Example:
    >>> import fnn.numpy as fnp
    >>> x = fnp.arange(16.0).reshape(1, 4, 4, 1)
    >>> max_pool(x, (2, 2), strides=(2, 2))[0, :, :, 0]
    Array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import fnn.numpy as fnp
from fnn import core, lax
from fnn.lax.conv import conv_patches, padtype_to_pads

__all__ = ["MaxPool", "AvgPool", "GlobalAvgPool", "GlobalMaxPool", "max_pool", "avg_pool"]

Padding = str | Sequence[tuple[int, int]]


def _window(window_shape, ndim: int) -> tuple[int, ...]:
    # An int means the same size along every spatial axis of a (N, *spatial, C) input.
    if isinstance(window_shape, int | np.integer):
        return (int(window_shape),) * (ndim - 2)
    return tuple(int(k) for k in window_shape)


def _strides(strides, n: int) -> tuple[int, ...]:
    if strides is None:
        return (1,) * n
    if isinstance(strides, int | np.integer):
        return (int(strides),) * n
    strides = tuple(int(s) for s in strides)
    if len(strides) != n:
        raise ValueError(f"pool: strides {strides} need {n} entries, one per window axis")
    return strides


def _pads(padding, spatial, window, strides) -> list[tuple[int, int]]:
    if isinstance(padding, str):
        return padtype_to_pads(spatial, window, strides, padding)
    pads = [(int(lo), int(hi)) for lo, hi in padding]
    if len(pads) != len(window):
        raise ValueError(f"pool: padding {padding!r} needs {len(window)} (low, high) pairs")
    return pads


def _pool_shape(shape, window, strides, pads) -> tuple[int, ...]:
    n = len(window)
    spatial = shape[len(shape) - n - 1 : -1]
    out = tuple(
        (d + lo + hi - k) // s + 1
        for d, k, s, (lo, hi) in zip(spatial, window, strides, pads, strict=True)
    )
    return tuple(shape[: len(shape) - n - 1]) + out + (shape[-1],)


def _lowest(dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.floating):
        return np.array(-np.inf, dtype)
    return np.array(np.iinfo(dtype).min if dtype != np.bool_ else False, dtype)


def _reduce_windows(x, window, strides, pads, kind):
    """Sum or max over windows of ``x`` of shape ``(N, *spatial, C)``."""
    n = len(window)
    shape = core.get_aval(x).shape
    reduce = lax.reduce_max if kind == "max" else lax.reduce_sum
    if all(p == (0, 0) for p in pads) and tuple(strides) == tuple(window):
        # Non-overlapping: drop the VALID remainder, view the windows as axes, reduce them.
        out = [d // k for d, k in zip(shape[1 : 1 + n], window, strict=True)]
        limit = (shape[0], *(o * k for o, k in zip(out, window, strict=True)), shape[-1])
        if limit != shape:
            x = lax.slice(x, (0,) * len(shape), limit)
        split = [shape[0]]
        for o, k in zip(out, window, strict=True):
            split += [o, k]
        x = lax.reshape(x, (*split, shape[-1]))
        return reduce(x, tuple(2 + 2 * i for i in range(n)))
    fill = (
        _lowest(core.get_aval(x).dtype) if kind == "max" else np.zeros((), core.get_aval(x).dtype)
    )
    x = lax.pad(x, fill, [(0, 0, 0)] + [(lo, hi, 0) for lo, hi in pads] + [(0, 0, 0)])
    patches = conv_patches(x, window, strides)
    ps = core.get_aval(patches).shape
    patches = lax.reshape(patches, ps[:-1] + (math.prod(window), shape[-1]))
    return reduce(patches, (n + 1,))


def _pool(inputs, window_shape, strides, padding, kind):
    x = fnp.asarray(inputs)
    window = _window(window_shape, x.ndim)
    n = len(window)
    if x.ndim < n + 1:
        raise ValueError(
            f"pool: a {n}-d window {window} needs inputs of rank >= {n + 1} "
            f"((batch...,) {n} spatial, features), got shape {x.shape}"
        )
    strides = _strides(strides, n)
    batch = x.shape[: x.ndim - n - 1]
    # Work on exactly one batch axis, as the patches primitive expects.
    x = lax.reshape(x, (math.prod(batch),) + x.shape[len(batch) :])
    pads = _pads(padding, x.shape[1 : 1 + n], window, strides)
    y = _reduce_windows(x, window, strides, pads, kind)
    return y, batch, window, strides, pads


def max_pool(
    inputs,
    window_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Padding = "VALID",
):
    """Max over sliding windows (``flax.linen.max_pool``); strides default to 1.

    ``padding`` is ``"VALID"``, ``"SAME"`` or ``[(lo, hi), ...]`` per spatial axis;
    padded positions never win. Where several entries tie for the maximum, the
    gradient is shared equally between them.

    Example:
        >>> import fnn.numpy as fnp
        >>> max_pool(fnp.ones((8, 28, 28, 3)), (2, 2), strides=(2, 2)).shape
        (8, 14, 14, 3)
        >>> max_pool(fnp.ones((8, 28, 28, 3)), (3, 3), padding="SAME").shape
        (8, 28, 28, 3)
    """
    y, batch, *_ = _pool(inputs, window_shape, strides, padding, "max")
    return lax.reshape(y, batch + core.get_aval(y).shape[1:])


def avg_pool(
    inputs,
    window_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Padding = "VALID",
    count_include_pad: bool = True,
):
    """Mean over sliding windows (``flax.linen.avg_pool``); strides default to 1.

    With padding, ``count_include_pad=True`` (Flax's default) divides every window by
    its full size; ``False`` divides by the number of real (unpadded) entries.

    Example:
        >>> import fnn.numpy as fnp
        >>> avg_pool(fnp.ones((1, 4, 4, 1)), (2, 2), strides=(2, 2))[0, :, :, 0]
        Array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    y, batch, window, strides, pads = _pool(inputs, window_shape, strides, padding, "sum")
    dtype = core.get_aval(y).dtype
    if count_include_pad or all(p == (0, 0) for p in pads):
        y = y / np.asarray(math.prod(window), dtype)
    else:
        # Static shapes: count the real entries of each window once, in numpy.
        n = len(window)
        spatial = core.get_aval(fnp.asarray(inputs)).shape[-n - 1 : -1]
        ones = np.pad(np.ones(spatial), pads)
        view = np.lib.stride_tricks.sliding_window_view(ones, window)
        counts = view[tuple(slice(None, None, s) for s in strides)].sum(axis=tuple(range(n, 2 * n)))
        y = y / counts.astype(dtype)[..., None]
    return lax.reshape(y, batch + core.get_aval(y).shape[1:])


def _spatial_axes(x) -> tuple[int, ...]:
    ndim = core.get_aval(x).ndim
    if ndim < 3:
        raise ValueError(f"global pooling: expected (N, *spatial, C) inputs, got rank {ndim}")
    return tuple(range(1, ndim - 1))


class _Stateless:
    """No parameters: ``init`` returns ``{}``."""

    def init(self, key, input_shape: Sequence[int]) -> dict:
        return {}


@dataclass(frozen=True)
class MaxPool(_Stateless):
    """Layer form of :func:`max_pool` (strides default to 1, as in Flax).

    Example:
        >>> import fnn.numpy as fnp
        >>> pool = MaxPool((2, 2), strides=(2, 2))
        >>> pool.apply({}, fnp.ones((4, 28, 28, 32))).shape
        (4, 14, 14, 32)
        >>> pool.output_shape((4, 28, 28, 32))
        (4, 14, 14, 32)
    """

    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"

    def __post_init__(self):
        _freeze(self)

    def apply(self, params, x, *, key=None, train: bool = False):
        return max_pool(x, self.window_shape, self.strides, self.padding)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return _output_shape(self, input_shape)


@dataclass(frozen=True)
class AvgPool(_Stateless):
    """Layer form of :func:`avg_pool` (strides default to 1, as in Flax).

    Example:
        >>> pool = AvgPool((2, 2), strides=(2, 2))
        >>> pool.output_shape((4, 28, 28, 32))
        (4, 14, 14, 32)
    """

    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"
    count_include_pad: bool = True

    def __post_init__(self):
        _freeze(self)

    def apply(self, params, x, *, key=None, train: bool = False):
        return avg_pool(x, self.window_shape, self.strides, self.padding, self.count_include_pad)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return _output_shape(self, input_shape)


@dataclass(frozen=True)
class GlobalAvgPool(_Stateless):
    """Mean over all spatial axes: ``(N, *spatial, C) -> (N, C)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> GlobalAvgPool().apply({}, fnp.ones((2, 7, 7, 64))).shape
        (2, 64)
    """

    def apply(self, params, x, *, key=None, train: bool = False):
        return fnp.mean(x, axis=_spatial_axes(x))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (input_shape[0], input_shape[-1])


@dataclass(frozen=True)
class GlobalMaxPool(_Stateless):
    """Max over all spatial axes: ``(N, *spatial, C) -> (N, C)``.

    Example:
        >>> import fnn.numpy as fnp
        >>> GlobalMaxPool().apply({}, fnp.ones((2, 7, 7, 64))).shape
        (2, 64)
    """

    def apply(self, params, x, *, key=None, train: bool = False):
        return fnp.max(x, axis=_spatial_axes(x))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (input_shape[0], input_shape[-1])


def _freeze(layer) -> None:
    # Lists become tuples so that layers stay hashable (jit's static arguments).
    for name in ("window_shape", "strides", "padding"):
        v = getattr(layer, name)
        if isinstance(v, list | tuple):
            v = tuple(tuple(p) if isinstance(p, list | tuple) else p for p in v)
            object.__setattr__(layer, name, v)


def _output_shape(layer, input_shape) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    window = _window(layer.window_shape, len(shape))
    strides = _strides(layer.strides, len(window))
    spatial = shape[len(shape) - len(window) - 1 : -1]
    return _pool_shape(shape, window, strides, _pads(layer.padding, spatial, window, strides))
