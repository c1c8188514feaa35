"""Scaled dot-product attention, multi-head attention, and attention masks.

Layout follows Flax: queries, keys and values are ``(batch..., length, heads, head_dim)``;
attention weights and masks are ``(batch..., heads, q_len, kv_len)``. A mask is boolean
with True = "may attend" and broadcasts against the weights, e.g. ``(batch, 1, 1, kv_len)``
for padding or ``(1, 1, q_len, kv_len)`` for causality.

Masked logits are replaced (not offset) by the dtype's most negative finite value before
the softmax, so nothing overflows; a query row whose keys are all masked gets uniform
weights (as in Flax) rather than NaN.

Example:
    >>> import fnn.random, fnn.numpy as fnp
    >>> mha = MultiHeadAttention(num_heads=2)
    >>> params = mha.init(fnn.random.key(0), (1, 5, 8))
    >>> x = fnp.ones((3, 5, 8))
    >>> mha.apply(params, x, mask=make_causal_mask(fnp.ones((3, 5)))).shape
    (3, 5, 8)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import fnn.numpy as fnp
from fnn import config, core
from fnn.core import Array
from fnn.nn import initializers
from fnn.nn.activations import ArrayLike, softmax
from fnn.nn.base import Module, Params, split_key
from fnn.nn.dropout import dropout

__all__ = [
    "dot_product_attention_weights",
    "dot_product_attention",
    "make_attention_mask",
    "make_causal_mask",
    "make_padding_mask",
    "combine_masks",
    "MultiHeadAttention",
]


def dot_product_attention_weights(
    query: ArrayLike,
    key: ArrayLike,
    bias: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    *,
    dropout_rng: Any = None,
    dropout_rate: float = 0.0,
    deterministic: bool = True,
) -> Array:
    """``softmax(q k^T / sqrt(head_dim) + bias)`` with masked positions excluded.

    ``query``: (..., q_len, heads, head_dim); ``key``: (..., kv_len, heads, head_dim).
    Returns (..., heads, q_len, kv_len). With ``deterministic=False`` and a positive
    ``dropout_rate``, weights are dropped out (inverted scaling) using ``dropout_rng``.

    Example:
        >>> q = k = fnp.ones((1, 2, 1, 4))
        >>> dot_product_attention_weights(q, k)
        Array([[[[0.5, 0.5],
                 [0.5, 0.5]]]], dtype=float32)
    """
    query, key = fnp.asarray(query), fnp.asarray(key)
    if query.shape[-1] != key.shape[-1] or query.shape[-2] != key.shape[-2]:
        raise ValueError(
            "dot_product_attention: query and key must agree in (heads, head_dim), got "
            f"query {query.shape} and key {key.shape} (layout: (..., length, heads, head_dim))"
        )
    # Scaling q (length x dim) is cheaper than scaling the logits (length x length).
    query = query * (1.0 / math.sqrt(query.shape[-1]))
    # One contraction for all heads and batch entries.
    logits = fnp.einsum("...qhd,...khd->...hqk", query, key)
    if bias is not None:
        logits = logits + bias
    if mask is not None:
        big_neg = fnp.finfo(logits.dtype).min
        logits = fnp.where(mask, logits, fnp.full_like(logits, big_neg))
    weights = softmax(logits, axis=-1)
    if not deterministic and dropout_rate > 0.0:
        if dropout_rng is None:
            raise ValueError(
                "dot_product_attention: dropout with deterministic=False needs dropout_rng"
            )
        weights = dropout(weights, dropout_rate, dropout_rng)
    return weights


def dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    bias: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    *,
    dropout_rng: Any = None,
    dropout_rate: float = 0.0,
    deterministic: bool = True,
    return_weights: bool = False,
) -> Array | tuple[Array, Array]:
    """``softmax(q k^T / sqrt(head_dim) + bias, masked) v`` for all heads at once.

    ``query``: (..., q_len, heads, head_dim); ``key``, ``value``: (..., kv_len, heads, d).
    Returns (..., q_len, heads, d), and the weights (..., heads, q_len, kv_len) too if
    ``return_weights``.

    Example:
        >>> q = k = fnp.ones((1, 2, 1, 4))
        >>> v = fnp.arange(8.0).reshape(1, 2, 1, 4)
        >>> dot_product_attention(q, k, v)[0, :, 0]
        Array([[2., 3., 4., 5.],
               [2., 3., 4., 5.]], dtype=float32)
    """
    weights = dot_product_attention_weights(
        query,
        key,
        bias,
        mask,
        dropout_rng=dropout_rng,
        dropout_rate=dropout_rate,
        deterministic=deterministic,
    )
    out = fnp.einsum("...hqk,...khd->...qhd", weights, value)
    return (out, weights) if return_weights else out


def make_attention_mask(
    query_input: ArrayLike,
    key_input: ArrayLike,
    pairwise_fn: Callable[[Any, Any], Any] = fnp.logical_and,
) -> Array:
    """A (batch..., 1, q_len, kv_len) mask ``pairwise_fn(query_input[q], key_input[k])``.

    Example:
        >>> q_ok = fnp.asarray([[True, True]])
        >>> k_ok = fnp.asarray([[True, False, True]])
        >>> make_attention_mask(q_ok, k_ok).shape
        (1, 1, 2, 3)
    """
    mask = pairwise_fn(
        fnp.expand_dims(fnp.asarray(query_input), -1), fnp.expand_dims(fnp.asarray(key_input), -2)
    )
    return fnp.expand_dims(mask.astype(bool), -3)


def make_causal_mask(x: ArrayLike) -> Array:
    """A (batch..., 1, L, L) mask letting position q attend to positions k <= q.

    Only ``x.shape`` is used (e.g. pass the (batch, L) tokens).

    Example:
        >>> make_causal_mask(fnp.zeros((1, 3)))[0, 0]
        Array([[ True, False, False],
               [ True,  True, False],
               [ True,  True,  True]], dtype=bool)
    """
    shape = fnp.shape(x)
    idx = fnp.broadcast_to(fnp.arange(shape[-1]), shape)
    return make_attention_mask(idx, idx, fnp.greater_equal)


def make_padding_mask(tokens: ArrayLike, pad_id: int = 0) -> Array:
    """A (batch..., 1, 1, L) mask hiding key positions whose token equals ``pad_id``.

    Example:
        >>> make_padding_mask(fnp.asarray([[5, 7, 0]]))[0, 0, 0]
        Array([ True,  True, False], dtype=bool)
    """
    keep = fnp.asarray(tokens) != pad_id
    return fnp.expand_dims(fnp.expand_dims(keep, -2), -3)


def combine_masks(*masks: ArrayLike | None) -> Array | None:
    """Logical AND of the masks that are not None (None if all are).

    Example:
        >>> combine_masks(None, fnp.asarray([True, False]), fnp.asarray([True, True]))
        Array([ True, False], dtype=bool)
    """
    present = [fnp.asarray(m) for m in masks if m is not None]
    if not present:
        return None
    out = present[0].astype(bool)
    for m in present[1:]:
        out = fnp.logical_and(out, m)
    return out


def _concrete_int(x) -> int | None:
    """The value of a scalar index, or None while it is being traced (under jit)."""
    return None if isinstance(x, core.Tracer) else int(x)


@dataclass(frozen=True)
class MultiHeadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) with Flax's parameter layout.

    Params: ``query``, ``key``, ``value`` each ``{"kernel": (in, heads, head_dim),
    "bias": (heads, head_dim)}`` and ``out`` ``{"kernel": (heads, head_dim, out),
    "bias": (out,)}``, where ``head_dim = qkv_features // num_heads``; ``qkv_features``
    and ``out_features`` default to the query's feature size. Each projection is a single
    contraction over all heads.

    ``apply(params, inputs_q, inputs_kv=None, mask=None, *, key=None, train=False,
    return_weights=False, cache=None, decode=False)`` attends from ``inputs_q``
    (batch, q_len, features) to ``inputs_kv`` (default: ``inputs_q``, self-attention).
    It returns the output, then the weights (batch, heads, q_len, kv_len) if
    ``return_weights``, then the new cache if ``decode``.

    Incremental decoding (self-attention only): ``cache = mha.init_cache(input_shape,
    max_length)``; each ``apply(params, x_step, cache=cache, decode=True)`` writes the
    step's keys and values at ``cache["index"]`` and attends causally to everything
    written so far, so a step costs one attention over ``max_length`` slots instead of
    re-running the whole prefix.

    Example:
        >>> mha = MultiHeadAttention(num_heads=4, qkv_features=16)
        >>> params = mha.init(fnn.random.key(0), (1, 3, 8))
        >>> params["query"]["kernel"].shape
        (8, 4, 4)
    """

    num_heads: int
    qkv_features: int | None = None
    out_features: int | None = None
    dropout_rate: float = 0.0
    use_bias: bool = True
    kernel_init: Any = initializers.lecun_normal()
    bias_init: Any = initializers.zeros
    param_dtype: Any = None

    def _dims(self, features: int) -> tuple[int, int]:
        qkv = self.qkv_features or features
        if qkv % self.num_heads:
            raise ValueError(
                f"MultiHeadAttention: qkv_features={qkv} is not divisible by num_heads="
                f"{self.num_heads}; choose qkv_features as a multiple of num_heads."
            )
        return qkv // self.num_heads, self.out_features or features

    def _projection(self, key, kernel_shape, bias_shape, n_in: int) -> Params:
        # Initialised as a matrix (first n_in axes x the rest) so that fan-in/fan-out count
        # whole rows and columns, as Flax's DenseGeneral does, then reshaped to show heads.
        k_w, k_b = split_key(key, 2)
        rows = math.prod(kernel_shape[:n_in])
        kernel = self.kernel_init(k_w, (rows, math.prod(kernel_shape) // rows), self.param_dtype)
        params = {"kernel": fnp.reshape(kernel, kernel_shape)}
        if self.use_bias:
            bias = self.bias_init(k_b, (math.prod(bias_shape),), self.param_dtype)
            params["bias"] = fnp.reshape(bias, bias_shape)
        return params

    def init(
        self, key: Any, input_shape: Sequence[int], kv_shape: Sequence[int] | None = None
    ) -> Params:
        """Params for queries of ``input_shape`` and keys/values of ``kv_shape`` (default: same)."""
        features = input_shape[-1]
        kv_features = (kv_shape or input_shape)[-1]
        head_dim, out_features = self._dims(features)
        heads = (self.num_heads, head_dim)
        kq, kk, kv, ko = split_key(key, 4)
        return {
            "query": self._projection(kq, (features, *heads), heads, 1),
            "key": self._projection(kk, (kv_features, *heads), heads, 1),
            "value": self._projection(kv, (kv_features, *heads), heads, 1),
            "out": self._projection(ko, (*heads, out_features), (out_features,), 2),
        }

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (*input_shape[:-1], self._dims(input_shape[-1])[1])

    def init_cache(self, input_shape: Sequence[int], max_length: int, dtype: Any = None) -> Params:
        """An empty key/value cache for ``decode=True``.

        ``input_shape`` is (batch, length, features) of the inputs (only batch and
        features are used). Returns ``{"key", "value": zeros (batch, max_length, heads,
        head_dim), "index": 0}``.

        Example:
            >>> cache = MultiHeadAttention(2).init_cache((3, 1, 8), max_length=10)
            >>> cache["key"].shape
            (3, 10, 2, 4)
        """
        head_dim, _ = self._dims(input_shape[-1])
        dtype = config.default_float() if dtype is None else dtype
        shape = (input_shape[0], max_length, self.num_heads, head_dim)
        return {
            "key": fnp.zeros(shape, dtype),
            "value": fnp.zeros(shape, dtype),
            "index": fnp.asarray(0, dtype=fnp.int32),
        }

    @staticmethod
    def _project(p: Params, x):
        y = fnp.einsum("...d,dhk->...hk", x, p["kernel"])
        return y + p["bias"] if "bias" in p else y

    def _update_cache(self, cache: Params, k, v):
        """Writes the step's keys/values at ``cache["index"]``; returns the cache and a mask."""
        max_length, step = cache["key"].shape[1], k.shape[1]
        index = cache["index"]
        start = _concrete_int(index)
        if start is not None and start + step > max_length:
            raise ValueError(
                f"MultiHeadAttention decode: the cache holds {max_length} positions, but "
                f"{start} are used and this step adds {step}; init_cache with a larger max_length."
            )
        positions = index + fnp.arange(step, dtype=fnp.int32)
        new_cache = {
            "key": cache["key"].at[:, positions].set(k.astype(cache["key"].dtype)),
            "value": cache["value"].at[:, positions].set(v.astype(cache["value"].dtype)),
            "index": index + step,
        }
        # Query i of this step sits at position index + i and sees slots 0..index + i:
        # causal within the step, and blind to the not-yet-written slots.
        mask = fnp.arange(max_length, dtype=fnp.int32)[None, :] <= positions[:, None]
        return new_cache, mask[None, None]

    def apply(
        self,
        params: Params,
        inputs_q: Any,
        inputs_kv: Any = None,
        mask: Any = None,
        *,
        key: Any = None,
        train: bool = False,
        return_weights: bool = False,
        cache: Params | None = None,
        decode: bool = False,
    ) -> Any:
        if decode and cache is None:
            raise ValueError(
                "MultiHeadAttention: decode=True needs cache=mha.init_cache(input_shape, max_length)"
            )
        if cache is not None and not decode:
            raise ValueError("MultiHeadAttention: a cache is only used with decode=True")
        if decode and inputs_kv is not None:
            raise ValueError(
                "MultiHeadAttention: decode=True caches self-attention; pass inputs_kv=None"
            )
        inputs_kv = inputs_q if inputs_kv is None else inputs_kv
        q = self._project(params["query"], inputs_q)
        k = self._project(params["key"], inputs_kv)
        v = self._project(params["value"], inputs_kv)
        if decode:
            cache, cache_mask = self._update_cache(cache, k, v)
            k, v = cache["key"], cache["value"]
            mask = combine_masks(mask, cache_mask)
        use_dropout = train and self.dropout_rate > 0.0
        if use_dropout and key is None:
            raise ValueError(
                f"MultiHeadAttention(dropout_rate={self.dropout_rate}).apply(train=True) needs a "
                "random key: pass key=..., or train=False."
            )
        out, weights = dot_product_attention(
            q,
            k,
            v,
            mask=mask,
            dropout_rng=key,
            dropout_rate=self.dropout_rate,
            deterministic=not use_dropout,
            return_weights=True,
        )
        out = fnp.einsum("...hk,hko->...o", out, params["out"]["kernel"])
        if "bias" in params["out"]:
            out = out + params["out"]["bias"]
        result = (out, weights) if return_weights else (out,)
        if decode:
            result = (*result, cache)
        return result if len(result) > 1 else result[0]
