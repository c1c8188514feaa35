"""Convolution layers with Flax's semantics: ``Conv`` and ``ConvTranspose``.

Inputs are channels-last, ``(batch..., *spatial, features)`` (NWC, NHWC, ...). Params
are ``{"kernel": (*kernel_size, in_features // feature_group_count, features),
"bias": (features,)}``; the kernel defaults to ``lecun_normal()`` and the bias to
zeros, as in Flax.

One difference: an ``int`` kernel_size (and strides, dilations) is repeated over the
input's spatial axes (``Conv(32, 3)`` on NHWC is a 3x3 conv), where Flax reads an int
as a 1-D kernel.

Example:
    >>> import fnn.random
    >>> conv = Conv(32, (5, 5))
    >>> params = conv.init(fnn.random.key(0), (1, 28, 28, 1))
    >>> params["kernel"].shape, params["bias"].shape
    ((5, 5, 1, 32), (32,))
    >>> conv.output_shape((128, 28, 28, 1))
    (128, 28, 28, 32)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import fnn.numpy as fnp
from fnn import lax, random
from fnn.lax.conv import (
    _conv_transpose_padding,
    conv_general_dilated,
    conv_transpose,
    padtype_to_pads,
)
from fnn.nn import initializers

__all__ = ["Conv", "ConvTranspose"]

PaddingLike = str | int | Sequence[int | tuple[int, int]]


def _default_inits(kernel_init, bias_init):
    # Imported here: fnn.nn.initializers needs fnn.random, which imports after lax.

    return (
        kernel_init if kernel_init is not None else initializers.lecun_normal(),
        bias_init if bias_init is not None else initializers.zeros,
    )


def _split_key(key):

    k1, k2 = random.split(key)
    return k1, k2


def _ints(name: str, v, n: int) -> tuple[int, ...]:
    if v is None:
        return (1,) * n
    if isinstance(v, int | np.integer):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{name} {v} needs {n} entries, one per spatial axis")
    return v


def _padding(padding, n: int):
    """Flax's canonicalize_padding: a string, or ``n`` (low, high) pairs."""
    if isinstance(padding, str):
        return padding.upper()
    if isinstance(padding, int | np.integer):
        return [(int(padding), int(padding))] * n
    pads = []
    for p in padding:
        if isinstance(p, int | np.integer):
            pads.append((int(p), int(p)))
        elif len(p) == 2:
            pads.append((int(p[0]), int(p[1])))
    if len(pads) != n or len(pads) != len(padding):
        raise ValueError(
            f"padding must be a string ('SAME', 'VALID', 'CIRCULAR', 'CAUSAL'), an int, or "
            f"{n} ints or (low, high) pairs, got {padding!r}"
        )
    return pads


def _freeze(layer, names) -> None:
    # Lists become tuples so layers stay hashable (usable as jit static arguments).
    for name in names:
        v = getattr(layer, name)
        if isinstance(v, list | tuple):
            v = tuple(tuple(p) if isinstance(p, list | tuple) else p for p in v)
            object.__setattr__(layer, name, v)


def _kernel_size(kernel_size, ndim: int) -> tuple[int, ...]:
    if isinstance(kernel_size, int | np.integer):
        return (int(kernel_size),) * (ndim - 2)
    return tuple(int(k) for k in kernel_size)


def _flatten_batch(x, n: int):
    """``x`` as ``(N, *spatial, C)``, and the batch shape to restore afterwards."""
    x = fnp.asarray(x)
    if x.ndim < n + 1:
        raise ValueError(
            f"a {n}-d kernel needs inputs of rank >= {n + 1} ((batch...,) {n} spatial, "
            f"features), got shape {x.shape}"
        )
    batch = x.shape[: x.ndim - n - 1]
    return lax.reshape(x, (math.prod(batch),) + x.shape[len(batch) :]), batch


def _unflatten_batch(y, batch):
    return lax.reshape(y, batch + y.shape[1:])


def _same_dtype(x, kernel):
    dtype = fnp.result_type(x, kernel)
    return fnp.asarray(x, dtype), fnp.asarray(kernel, dtype)


@dataclass(frozen=True)
class Conv:
    """Convolution (``flax.linen.Conv``): ``y = conv(x, kernel) + bias``.

    ``padding``: ``"SAME"`` (output ``ceil(in / stride)``), ``"VALID"``, ``"CIRCULAR"``
    (periodic), ``"CAUSAL"`` (1-D, output ``t`` sees inputs ``<= t``), an int, or
    ``(low, high)`` pairs per spatial axis. ``input_dilation > 1`` needs explicit pads,
    as in Flax/JAX. ``feature_group_count = in_features`` is a depthwise convolution.

    Example:
        >>> import fnn.random, fnn.numpy as fnp
        >>> conv = Conv(8, (3, 3), strides=2)
        >>> params = conv.init(fnn.random.key(0), (1, 28, 28, 3))
        >>> conv.apply(params, fnp.ones((4, 28, 28, 3))).shape
        (4, 14, 14, 8)
    """

    features: int
    kernel_size: int | Sequence[int]
    strides: int | Sequence[int] = 1
    padding: PaddingLike = "SAME"
    input_dilation: int | Sequence[int] = 1
    kernel_dilation: int | Sequence[int] = 1
    feature_group_count: int = 1
    use_bias: bool = True
    kernel_init: Callable | None = None
    bias_init: Callable | None = None

    def __post_init__(self):
        _freeze(self, ("kernel_size", "strides", "padding", "input_dilation", "kernel_dilation"))

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        ks = _kernel_size(self.kernel_size, len(input_shape))
        cin, g = int(input_shape[-1]), int(self.feature_group_count)
        if cin % g or self.features % g:
            raise ValueError(
                f"Conv: in_features {cin} and features {self.features} must both be divisible "
                f"by feature_group_count={g}"
            )
        return ks + (cin // g, int(self.features))

    def init(self, key, input_shape: Sequence[int]) -> dict:
        kernel_init, bias_init = _default_inits(self.kernel_init, self.bias_init)
        k_key, b_key = _split_key(key)
        params = {"kernel": kernel_init(k_key, self._kernel_shape(input_shape))}
        if self.use_bias:
            params["bias"] = bias_init(b_key, (int(self.features),))
        return params

    def _lax_args(self, x_shape, ks):
        """(input padding config or None, strides, lax padding, lhs and rhs dilation)."""
        n = len(ks)
        strides = _ints("Conv: strides", self.strides, n)
        lhs_dil = _ints("Conv: input_dilation", self.input_dilation, n)
        rhs_dil = _ints("Conv: kernel_dilation", self.kernel_dilation, n)
        padding = _padding(self.padding, n)
        pre = None
        eff = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil, strict=True)]
        if padding == "CIRCULAR":
            pre = ("wrap", [((k - 1) // 2, k // 2) for k in eff])
            padding = "VALID"
        elif padding == "CAUSAL":
            if n != 1:
                raise ValueError("Conv: CAUSAL padding is only defined for 1-D convolutions")
            pre = ("constant", [(eff[0] - 1, 0)])
            padding = "VALID"
        return pre, strides, padding, lhs_dil, rhs_dil

    def apply(self, params, x, *, key=None, train: bool = False):
        kernel = params["kernel"]
        n = kernel.ndim - 2
        x, batch = _flatten_batch(x, n)
        x, kernel = _same_dtype(x, kernel)
        ks = tuple(kernel.shape[:n])
        pre, strides, padding, lhs_dil, rhs_dil = self._lax_args(x.shape, ks)
        if pre is not None:
            x = fnp.pad(x, [(0, 0), *pre[1], (0, 0)], mode=pre[0])
        sp = "HWDXYZ"[:n]
        y = conv_general_dilated(
            x,
            kernel,
            strides,
            padding,
            lhs_dilation=lhs_dil,
            rhs_dilation=rhs_dil,
            dimension_numbers=("N" + sp + "C", sp + "IO", "N" + sp + "C"),
            feature_group_count=int(self.feature_group_count),
        )
        if self.use_bias:
            y = y + fnp.asarray(params["bias"], y.dtype)
        return _unflatten_batch(y, batch)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(int(d) for d in input_shape)
        ks = self._kernel_shape(shape)[:-2]
        n = len(ks)
        pre, strides, padding, lhs_dil, rhs_dil = self._lax_args(shape, ks)
        spatial = list(shape[len(shape) - n - 1 : -1])
        if pre is not None:
            spatial = [d + lo + hi for d, (lo, hi) in zip(spatial, pre[1], strict=True)]
        eff = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil, strict=True)]
        if isinstance(padding, str):
            padding = padtype_to_pads(spatial, eff, strides, padding)
        out = tuple(
            ((d - 1) * ld + 1 + lo + hi - e) // s + 1
            for d, ld, (lo, hi), e, s in zip(spatial, lhs_dil, padding, eff, strides, strict=True)
        )
        return shape[: len(shape) - n - 1] + out + (int(self.features),)


@dataclass(frozen=True)
class ConvTranspose:
    """Transposed convolution (``flax.linen.ConvTranspose``), e.g. a GAN's upsampling.

    ``strides=2, padding="SAME"`` doubles every spatial size; ``"VALID"`` gives
    ``(in - 1) * stride + dilated kernel``. The kernel is ``(*kernel_size, in_features,
    features)``; with ``transpose_kernel=True`` it is ``(*kernel_size, features,
    in_features)`` and the layer is exactly the gradient of a ``Conv`` with that kernel.

    Example:
        >>> import fnn.random, fnn.numpy as fnp
        >>> up = ConvTranspose(64, (4, 4), strides=2)
        >>> params = up.init(fnn.random.key(0), (1, 7, 7, 128))
        >>> up.apply(params, fnp.ones((2, 7, 7, 128))).shape
        (2, 14, 14, 64)
    """

    features: int
    kernel_size: int | Sequence[int]
    strides: int | Sequence[int] = 1
    padding: PaddingLike = "SAME"
    kernel_dilation: int | Sequence[int] = 1
    use_bias: bool = True
    kernel_init: Callable | None = None
    bias_init: Callable | None = None
    transpose_kernel: bool = False

    def __post_init__(self):
        _freeze(self, ("kernel_size", "strides", "padding", "kernel_dilation"))

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        ks = _kernel_size(self.kernel_size, len(input_shape))
        cin, f = int(input_shape[-1]), int(self.features)
        return ks + ((f, cin) if self.transpose_kernel else (cin, f))

    def init(self, key, input_shape: Sequence[int]) -> dict:
        kernel_init, bias_init = _default_inits(self.kernel_init, self.bias_init)
        k_key, b_key = _split_key(key)
        params = {"kernel": kernel_init(k_key, self._kernel_shape(input_shape))}
        if self.use_bias:
            params["bias"] = bias_init(b_key, (int(self.features),))
        return params

    def _padding(self, n):
        padding = _padding(self.padding, n)
        if padding == "CIRCULAR":
            raise NotImplementedError("ConvTranspose: CIRCULAR padding")
        return padding

    def apply(self, params, x, *, key=None, train: bool = False):
        kernel = params["kernel"]
        n = kernel.ndim - 2
        x, batch = _flatten_batch(x, n)
        x, kernel = _same_dtype(x, kernel)
        sp = "HWDXYZ"[:n]
        y = conv_transpose(
            x,
            kernel,
            _ints("ConvTranspose: strides", self.strides, n),
            self._padding(n),
            rhs_dilation=_ints("ConvTranspose: kernel_dilation", self.kernel_dilation, n),
            dimension_numbers=("N" + sp + "C", sp + "IO", "N" + sp + "C"),
            transpose_kernel=self.transpose_kernel,
        )
        if self.use_bias:
            y = y + fnp.asarray(params["bias"], y.dtype)
        return _unflatten_batch(y, batch)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(int(d) for d in input_shape)
        ks = self._kernel_shape(shape)[:-2]
        n = len(ks)
        strides = _ints("ConvTranspose: strides", self.strides, n)
        dil = _ints("ConvTranspose: kernel_dilation", self.kernel_dilation, n)
        eff = [(k - 1) * d + 1 for k, d in zip(ks, dil, strict=True)]
        padding = self._padding(n)
        if isinstance(padding, str):
            padding = [
                _conv_transpose_padding(e, s, padding) for e, s in zip(eff, strides, strict=True)
            ]
        spatial = shape[len(shape) - n - 1 : -1]
        out = tuple(
            (d - 1) * s + 1 + lo + hi - e + 1
            for d, s, (lo, hi), e in zip(spatial, strides, padding, eff, strict=True)
        )
        return shape[: len(shape) - n - 1] + out + (int(self.features),)
