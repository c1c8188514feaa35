"""Transformer blocks and the encoder-decoder Transformer (Vaswani et al., 2017).

Each block is attention and a position-wise feed-forward network, each wrapped in a
residual connection with dropout and layer normalisation, either

- post-norm (``pre_norm=False``, the paper): ``x = LayerNorm(x + Dropout(f(x)))``, or
- pre-norm (``pre_norm=True``, more stable for deep stacks): ``x = x + Dropout(f(LayerNorm(x)))``,
  with a final LayerNorm after the stack.

Incremental decoding with a key-value cache
-------------------------------------------
Generating token t with a plain decoder re-runs attention over the whole prefix, so n
tokens cost O(n^2) attention steps. With a cache, each decoder self-attention keeps the
keys and values of all previous positions; a step computes them only for the new
token, writes them at ``cache["index"]`` and attends over the cache, so generating n
tokens costs n attention steps (each over ``max_length`` cached slots, of which the
unwritten ones are masked)::

    cache = model.init_cache(batch_size, max_length)
    memory = model.encode(params, src)
    for t in range(n):
        logits, cache = model.decode(params, tokens[:, t:t + 1], memory, src,
                                     cache=cache, decode=True)

The cached logits equal those of one causal ``decode`` over the whole sequence.
``Transformer.greedy_decode`` runs this loop with a jitted step. (The encoder memory's
projections in cross-attention are recomputed each step; they are cheap next to
self-attention over a long output.)

Example:
    >>> import fnn.random, fnn.numpy as fnp
    >>> model = Transformer(src_vocab_size=11, tgt_vocab_size=13, d_model=16, num_heads=2,
    ...                     num_encoder_layers=1, num_decoder_layers=1, mlp_dim=32)
    >>> params = model.init(fnn.random.key(0), (2, 7), (2, 5))
    >>> src = fnp.ones((2, 7), dtype=fnp.int32)
    >>> tgt = fnp.ones((2, 5), dtype=fnp.int32)
    >>> model.apply(params, src, tgt).shape
    (2, 5, 13)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import fnn
import fnn.numpy as fnp
from fnn.nn import initializers
from fnn.nn.activations import relu
from fnn.nn.attention import MultiHeadAttention, combine_masks, make_causal_mask, make_padding_mask
from fnn.nn.base import Module, Params, split_key
from fnn.nn.dropout import Dropout
from fnn.nn.linear import Dense, Embedding
from fnn.nn.normalization import LayerNorm
from fnn.nn.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding

__all__ = ["FeedForward", "TransformerEncoderBlock", "TransformerDecoderBlock", "Transformer"]


@dataclass(frozen=True)
class FeedForward(Module):
    """Position-wise feed-forward network: ``Dense(mlp_dim)``, activation, ``Dense(out)``.

    Params: ``{"hidden": Dense(mlp_dim), "output": Dense(out_features)}``;
    ``out_features`` defaults to the input's feature size. ``dropout_rate`` drops
    the hidden activations while training.

    Example:
        >>> ff = FeedForward(mlp_dim=32)
        >>> params = ff.init(fnn.random.key(0), (1, 5, 8))
        >>> ff.apply(params, fnp.ones((2, 5, 8))).shape
        (2, 5, 8)
    """

    mlp_dim: int
    out_features: int | None = None
    activation: Callable[[Any], Any] = relu
    dropout_rate: float = 0.0

    def _layers(self, features: int) -> tuple[Dense, Dense]:
        return Dense(self.mlp_dim), Dense(self.out_features or features)

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        hidden, output = self._layers(input_shape[-1])
        k1, k2 = split_key(key, 2)
        return {
            "hidden": hidden.init(k1, input_shape),
            "output": output.init(k2, hidden.output_shape(input_shape)),
        }

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        hidden, output = self._layers(x.shape[-1])
        h = self.activation(hidden.apply(params["hidden"], x))
        h = Dropout(self.dropout_rate).apply({}, h, key=key, train=train)
        return output.apply(params["output"], h)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (*input_shape[:-1], self.out_features or input_shape[-1])


@dataclass(frozen=True)
class _Residual:
    """The residual wrapper shared by the blocks: pre- or post-norm, with dropout."""

    pre_norm: bool
    dropout_rate: float
    epsilon: float

    def enter(self, norm_params: Params, x: Any) -> Any:
        return LayerNorm(self.epsilon).apply(norm_params, x) if self.pre_norm else x

    def exit(self, norm_params: Params, x: Any, y: Any, key: Any, train: bool) -> Any:
        x = x + Dropout(self.dropout_rate).apply({}, y, key=key, train=train)
        return x if self.pre_norm else LayerNorm(self.epsilon).apply(norm_params, x)


@dataclass(frozen=True)
class TransformerEncoderBlock(Module):
    """Self-attention then feed-forward, each with residual, dropout and LayerNorm.

    ``apply(params, x, mask=None, *, key=None, train=False)``; ``x`` is (batch, length,
    d_model) and ``mask`` broadcasts to (batch, heads, length, length), e.g.
    ``make_padding_mask(tokens)``. Params: ``attention``, ``attention_norm``, ``mlp``,
    ``mlp_norm``. With a causal mask this is also a decoder-only (GPT-style) block.

    Example:
        >>> block = TransformerEncoderBlock(num_heads=2, mlp_dim=32)
        >>> params = block.init(fnn.random.key(0), (1, 5, 8))
        >>> block.apply(params, fnp.ones((3, 5, 8))).shape
        (3, 5, 8)
    """

    num_heads: int
    mlp_dim: int
    dropout_rate: float = 0.1
    attention_dropout_rate: float = 0.0
    pre_norm: bool = False
    activation: Callable[[Any], Any] = relu
    layer_norm_epsilon: float = 1e-6

    def _parts(self):
        return (
            MultiHeadAttention(self.num_heads, dropout_rate=self.attention_dropout_rate),
            FeedForward(self.mlp_dim, activation=self.activation),
            _Residual(self.pre_norm, self.dropout_rate, self.layer_norm_epsilon),
        )

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        attention, mlp, _ = self._parts()
        norm = LayerNorm(self.layer_norm_epsilon)
        k1, k2, k3, k4 = split_key(key, 4)
        return {
            "attention": attention.init(k1, input_shape),
            "attention_norm": norm.init(k2, input_shape),
            "mlp": mlp.init(k3, input_shape),
            "mlp_norm": norm.init(k4, input_shape),
        }

    def apply(
        self, params: Params, x: Any, mask: Any = None, *, key: Any = None, train: bool = False
    ) -> Any:
        attention, mlp, residual = self._parts()
        k_att, k_drop1, k_mlp, k_drop2 = split_key(key, 4)
        h = residual.enter(params["attention_norm"], x)
        h = attention.apply(params["attention"], h, mask=mask, key=k_att, train=train)
        x = residual.exit(params["attention_norm"], x, h, k_drop1, train)
        h = residual.enter(params["mlp_norm"], x)
        h = mlp.apply(params["mlp"], h, key=k_mlp, train=train)
        return residual.exit(params["mlp_norm"], x, h, k_drop2, train)


@dataclass(frozen=True)
class TransformerDecoderBlock(Module):
    """Causal self-attention, cross-attention to the encoder's output, then feed-forward.

    ``init(key, input_shape, memory_shape=None)``: without ``memory_shape`` the block has
    no cross-attention (a decoder-only block). Params: ``self_attention``,
    ``self_attention_norm``, [``cross_attention``, ``cross_attention_norm``], ``mlp``,
    ``mlp_norm``.

    ``apply(params, x, memory=None, self_mask=None, cross_mask=None, *, key=None,
    train=False, cache=None, decode=False)``. The caller builds ``self_mask`` (causal,
    e.g. ``make_causal_mask(tokens)``) for full sequences. With ``decode=True`` and
    ``cache=block.init_cache(input_shape, max_length)``, ``x`` holds the next token(s)
    only, causality comes from the cache, and ``(y, new_cache)`` is returned.

    Example:
        >>> block = TransformerDecoderBlock(num_heads=2, mlp_dim=32)
        >>> params = block.init(fnn.random.key(0), (1, 5, 8), memory_shape=(1, 7, 8))
        >>> y = block.apply(params, fnp.ones((3, 5, 8)), fnp.ones((3, 7, 8)),
        ...                 self_mask=make_causal_mask(fnp.ones((3, 5))))
        >>> y.shape
        (3, 5, 8)
    """

    num_heads: int
    mlp_dim: int
    dropout_rate: float = 0.1
    attention_dropout_rate: float = 0.0
    pre_norm: bool = False
    activation: Callable[[Any], Any] = relu
    layer_norm_epsilon: float = 1e-6

    def _parts(self):
        return (
            MultiHeadAttention(self.num_heads, dropout_rate=self.attention_dropout_rate),
            FeedForward(self.mlp_dim, activation=self.activation),
            _Residual(self.pre_norm, self.dropout_rate, self.layer_norm_epsilon),
        )

    def init(
        self, key: Any, input_shape: Sequence[int], memory_shape: Sequence[int] | None = None
    ) -> Params:
        attention, mlp, _ = self._parts()
        norm = LayerNorm(self.layer_norm_epsilon)
        keys = split_key(key, 6)
        params = {
            "self_attention": attention.init(keys[0], input_shape),
            "self_attention_norm": norm.init(keys[1], input_shape),
        }
        if memory_shape is not None:
            params["cross_attention"] = attention.init(keys[2], input_shape, memory_shape)
            params["cross_attention_norm"] = norm.init(keys[3], input_shape)
        params["mlp"] = mlp.init(keys[4], input_shape)
        params["mlp_norm"] = norm.init(keys[5], input_shape)
        return params

    def init_cache(self, input_shape: Sequence[int], max_length: int) -> Params:
        """An empty self-attention cache for ``decode=True`` (batch = ``input_shape[0]``).

        Example:
            >>> cache = TransformerDecoderBlock(2, 32).init_cache((3, 1, 8), 10)
            >>> cache["self_attention"]["key"].shape
            (3, 10, 2, 4)
        """
        attention, _, _ = self._parts()
        return {"self_attention": attention.init_cache(input_shape, max_length)}

    def apply(
        self,
        params: Params,
        x: Any,
        memory: Any = None,
        self_mask: Any = None,
        cross_mask: Any = None,
        *,
        key: Any = None,
        train: bool = False,
        cache: Params | None = None,
        decode: bool = False,
    ) -> Any:
        if ("cross_attention" in params) != (memory is not None):
            raise ValueError(
                "TransformerDecoderBlock: pass memory (the encoder output) exactly when the block "
                "was initialised with memory_shape (it has cross-attention params)."
            )
        attention, mlp, residual = self._parts()
        keys = split_key(key, 6)
        h = residual.enter(params["self_attention_norm"], x)
        if decode:
            if cache is None:
                raise ValueError(
                    "TransformerDecoderBlock: decode=True needs cache=block.init_cache(...)"
                )
            h, self_cache = attention.apply(
                params["self_attention"], h, mask=self_mask, key=keys[0], train=train,
                cache=cache["self_attention"], decode=True,
            )  # fmt: skip
            cache = {**cache, "self_attention": self_cache}
        else:
            h = attention.apply(
                params["self_attention"], h, mask=self_mask, key=keys[0], train=train
            )
        x = residual.exit(params["self_attention_norm"], x, h, keys[1], train)
        if memory is not None:
            h = residual.enter(params["cross_attention_norm"], x)
            h = attention.apply(
                params["cross_attention"], h, memory, mask=cross_mask, key=keys[2], train=train
            )
            x = residual.exit(params["cross_attention_norm"], x, h, keys[3], train)
        h = residual.enter(params["mlp_norm"], x)
        h = mlp.apply(params["mlp"], h, key=keys[4], train=train)
        x = residual.exit(params["mlp_norm"], x, h, keys[5], train)
        return (x, cache) if decode else x


@dataclass(frozen=True)
class Transformer(Module):
    """The encoder-decoder Transformer for sequence-to-sequence tasks (e.g. translation).

    Token embeddings (scaled by ``sqrt(d_model)``) plus positional encodings
    (``positional="sinusoidal"`` or ``"learned"``, up to ``max_length``), dropout, a stack
    of encoder blocks, a stack of decoder blocks, and a Dense layer to target logits.
    Tokens equal to ``pad_id`` are masked out as keys (``pad_id=None``: no padding).

    - ``init(key, src_shape, tgt_shape)`` with integer token shapes (batch, length).
    - ``apply(params, src, tgt, *, key=None, train=False)`` -> logits (batch, tgt_len,
      tgt_vocab_size), teacher-forced: position t sees ``tgt[:, :t+1]``.
    - ``encode(params, src, ...)`` -> memory; ``decode(params, tgt, memory, src, ...)``
      -> logits; ``decode(..., cache=..., decode=True)`` -> ``(logits, new_cache)`` for
      one step (see the module docstring); ``init_cache(batch_size, max_length)``.

    Example:
        >>> model = Transformer(11, 13, d_model=16, num_heads=2, num_encoder_layers=1,
        ...                     num_decoder_layers=1, mlp_dim=32)
        >>> params = model.init(fnn.random.key(0), (1, 7), (1, 5))
        >>> sorted(params)[:3]
        ['decoder', 'encoder', 'logits']
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 512
    num_heads: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    mlp_dim: int = 2048
    dropout_rate: float = 0.1
    attention_dropout_rate: float = 0.0
    pre_norm: bool = False
    activation: Callable[[Any], Any] = relu
    max_length: int = 512
    positional: str = "sinusoidal"
    pad_id: int | None = 0
    layer_norm_epsilon: float = 1e-6

    def __post_init__(self):
        if self.positional not in ("sinusoidal", "learned"):
            raise ValueError(
                f"Transformer: positional must be 'sinusoidal' or 'learned', got {self.positional!r}"
            )

    # -- building blocks ----------------------------------------------------------------

    def _block_kwargs(self) -> dict[str, Any]:
        return {
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "dropout_rate": self.dropout_rate,
            "attention_dropout_rate": self.attention_dropout_rate,
            "pre_norm": self.pre_norm,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    def _embedding(self, vocab_size: int) -> Embedding:
        # Scaled up by sqrt(d_model) in _embed, so the embedded tokens have unit variance.
        init = initializers.normal(stddev=self.d_model**-0.5)
        return Embedding(vocab_size, self.d_model, embedding_init=init)

    def _positions(self):
        if self.positional == "learned":
            return LearnedPositionalEmbedding(self.max_length)
        return SinusoidalPositionalEncoding()

    def _final_norm(self) -> LayerNorm:
        return LayerNorm(self.layer_norm_epsilon)

    def _padding_mask(self, tokens):
        return (
            None
            if self.pad_id is None or tokens is None
            else make_padding_mask(tokens, self.pad_id)
        )

    # -- protocol -----------------------------------------------------------------------

    def init(
        self, key: Any, src_shape: Sequence[int], tgt_shape: Sequence[int] | None = None
    ) -> Params:
        tgt_shape = tuple(src_shape if tgt_shape is None else tgt_shape)
        src_x = (*src_shape, self.d_model)
        tgt_x = (*tgt_shape, self.d_model)
        keys = iter(split_key(key, 8 + self.num_encoder_layers + self.num_decoder_layers))
        params: Params = {
            "src_embedding": self._embedding(self.src_vocab_size).init(next(keys), src_shape),
            "tgt_embedding": self._embedding(self.tgt_vocab_size).init(next(keys), tgt_shape),
        }
        if self.positional == "learned":
            params["src_positions"] = self._positions().init(next(keys), src_x)
            params["tgt_positions"] = self._positions().init(next(keys), tgt_x)
        encoder = TransformerEncoderBlock(**self._block_kwargs())
        decoder = TransformerDecoderBlock(**self._block_kwargs())
        params["encoder"] = {
            f"block_{i}": encoder.init(next(keys), src_x) for i in range(self.num_encoder_layers)
        }
        params["decoder"] = {
            f"block_{i}": decoder.init(next(keys), tgt_x, memory_shape=src_x)
            for i in range(self.num_decoder_layers)
        }
        if self.pre_norm:
            params["encoder_norm"] = self._final_norm().init(next(keys), src_x)
            params["decoder_norm"] = self._final_norm().init(next(keys), tgt_x)
        params["logits"] = Dense(self.tgt_vocab_size).init(next(keys), tgt_x)
        return params

    def output_shape(
        self, src_shape: Sequence[int], tgt_shape: Sequence[int] | None = None
    ) -> tuple[int, ...]:
        return (*(src_shape if tgt_shape is None else tgt_shape), self.tgt_vocab_size)

    def apply(
        self, params: Params, src: Any, tgt: Any, *, key: Any = None, train: bool = False
    ) -> Any:
        k_enc, k_dec = split_key(key, 2)
        memory = self.encode(params, src, key=k_enc, train=train)
        return self.decode(params, tgt, memory, src, key=k_dec, train=train)

    # -- encoder and decoder ------------------------------------------------------------

    def _embed(
        self, params: Params, side: str, tokens: Any, offset: Any, key: Any, train: bool
    ) -> Any:
        vocab = self.src_vocab_size if side == "src" else self.tgt_vocab_size
        x = self._embedding(vocab).apply(params[f"{side}_embedding"], tokens) * math.sqrt(
            self.d_model
        )
        x = self._positions().apply(params.get(f"{side}_positions", {}), x, offset=offset)
        return Dropout(self.dropout_rate).apply({}, x, key=key, train=train)

    def encode(self, params: Params, src: Any, *, key: Any = None, train: bool = False) -> Any:
        """The encoder's output (batch, src_len, d_model) for ``src`` tokens.

        Example:
            >>> model = Transformer(11, 13, d_model=16, num_heads=2, num_encoder_layers=1,
            ...                     num_decoder_layers=1, mlp_dim=32)
            >>> params = model.init(fnn.random.key(0), (1, 7), (1, 5))
            >>> model.encode(params, fnp.ones((2, 7), dtype=fnp.int32)).shape
            (2, 7, 16)
        """
        keys = split_key(key, 1 + self.num_encoder_layers)
        x = self._embed(params, "src", src, 0, keys[0], train)
        mask = self._padding_mask(src)
        block = TransformerEncoderBlock(**self._block_kwargs())
        for i in range(self.num_encoder_layers):
            x = block.apply(params["encoder"][f"block_{i}"], x, mask, key=keys[1 + i], train=train)
        if self.pre_norm:
            x = self._final_norm().apply(params["encoder_norm"], x)
        return x

    def init_cache(self, batch_size: int, max_length: int | None = None) -> Params:
        """An empty decoding cache for ``decode(..., decode=True)``; ``max_length``
        (default ``self.max_length``) bounds the number of generated positions.

        Example:
            >>> model = Transformer(11, 13, d_model=16, num_heads=2, num_encoder_layers=1,
            ...                     num_decoder_layers=1, mlp_dim=32)
            >>> cache = model.init_cache(batch_size=2, max_length=10)
            >>> int(cache["index"])
            0
        """
        max_length = self.max_length if max_length is None else max_length
        block = TransformerDecoderBlock(**self._block_kwargs())
        shape = (batch_size, 1, self.d_model)
        return {
            "index": fnp.asarray(0, dtype=fnp.int32),
            "blocks": {
                f"block_{i}": block.init_cache(shape, max_length)
                for i in range(self.num_decoder_layers)
            },
        }

    def decode(
        self,
        params: Params,
        tgt: Any,
        memory: Any,
        src: Any = None,
        *,
        key: Any = None,
        train: bool = False,
        cache: Params | None = None,
        decode: bool = False,
    ) -> Any:
        """Target logits given the encoder ``memory``; ``src`` (tokens) masks padded memory.

        Without ``decode`` ``tgt`` is a whole (batch, tgt_len) sequence, attended causally.
        With ``decode=True`` it is the next (batch, 1) token(s), placed at position
        ``cache["index"]``, and ``(logits, new_cache)`` is returned.

        Example:
            >>> model = Transformer(11, 13, d_model=16, num_heads=2, num_encoder_layers=1,
            ...                     num_decoder_layers=1, mlp_dim=32)
            >>> params = model.init(fnn.random.key(0), (1, 7), (1, 5))
            >>> src = fnp.ones((2, 7), dtype=fnp.int32)
            >>> memory = model.encode(params, src)
            >>> cache = model.init_cache(2, max_length=5)
            >>> bos = fnp.ones((2, 1), dtype=fnp.int32)
            >>> logits, cache = model.decode(params, bos, memory, src, cache=cache, decode=True)
            >>> logits.shape, int(cache["index"])
            ((2, 1, 13), 1)
        """
        if decode and cache is None:
            raise ValueError(
                "Transformer.decode: decode=True needs cache=model.init_cache(batch_size, max_length)"
            )
        if cache is not None and not decode:
            raise ValueError("Transformer.decode: a cache is only used with decode=True")
        keys = split_key(key, 1 + self.num_decoder_layers)
        offset = cache["index"] if decode else 0
        x = self._embed(params, "tgt", tgt, offset, keys[0], train)
        # In decode mode the cache supplies causality (and generated tokens are not padding).
        self_mask = (
            None if decode else combine_masks(make_causal_mask(tgt), self._padding_mask(tgt))
        )
        cross_mask = self._padding_mask(src)
        block = TransformerDecoderBlock(**self._block_kwargs())
        new_blocks = {}
        for i in range(self.num_decoder_layers):
            name = f"block_{i}"
            kwargs = {"key": keys[1 + i], "train": train}
            if decode:
                x, new_blocks[name] = block.apply(
                    params["decoder"][name],
                    x,
                    memory,
                    None,
                    cross_mask,
                    cache=cache["blocks"][name],
                    decode=True,
                    **kwargs,
                )
            else:
                x = block.apply(params["decoder"][name], x, memory, self_mask, cross_mask, **kwargs)
        if self.pre_norm:
            x = self._final_norm().apply(params["decoder_norm"], x)
        logits = Dense(self.tgt_vocab_size).apply(params["logits"], x)
        if not decode:
            return logits
        return logits, {"index": cache["index"] + tgt.shape[1], "blocks": new_blocks}

    def greedy_decode(self, params: Params, src: Any, *, bos_id: int, length: int) -> Any:
        """Greedy generation of ``length`` tokens after ``bos_id``, one cached step each.

        Returns (batch, length) int32 tokens (without the leading ``bos_id``). The step is
        jitted once per model configuration (and traced once per batch size and length);
        each step costs one attention over the cache.

        Example:
            >>> model = Transformer(11, 13, d_model=16, num_heads=2, num_encoder_layers=1,
            ...                     num_decoder_layers=1, mlp_dim=32)
            >>> params = model.init(fnn.random.key(0), (1, 7), (1, 5))
            >>> model.greedy_decode(params, fnp.ones((2, 7), dtype=fnp.int32), bos_id=1, length=4).shape
            (2, 4)
        """
        src = fnp.asarray(src)
        memory = self.encode(params, src)
        try:
            step = _greedy_step(self)
        except TypeError:  # a model with an unhashable field: a step for this call only
            step = _greedy_step.__wrapped__(self)
        cache = self.init_cache(src.shape[0], length)
        token = fnp.full((src.shape[0], 1), bos_id, dtype=fnp.int32)
        out = []
        for _ in range(length):
            token, cache = step(params, memory, src, cache, token)
            out.append(token)
        return fnp.concatenate(out, axis=1)


@functools.lru_cache(maxsize=32)
def _greedy_step(model: Transformer):
    """The jitted one-token decoding step of ``model`` (shared by equal configurations)."""

    def step(params, memory, src, cache, token):
        logits, cache = model.decode(params, token, memory, src, cache=cache, decode=True)
        return fnp.argmax(logits[:, -1], axis=-1).astype(fnp.int32)[:, None], cache

    return fnn.jit(step)
