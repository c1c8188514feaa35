"""Positional encodings added to token embeddings: fixed sinusoids or a learned table.

Both layers take ``x`` of shape (batch, length, features) and return
``x + encoding[offset : offset + length]``. ``offset`` (an int, or a traced int32
scalar under jit) places the sequence at later positions, which incremental decoding
needs: step t of a generated sequence sits at position t.

Example:
    >>> import fnn.numpy as fnp
    >>> pe = SinusoidalPositionalEncoding()
    >>> pe.apply({}, fnp.zeros((2, 5, 8))).shape
    (2, 5, 8)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import fnn.numpy as fnp
from fnn import config
from fnn.core import Array
from fnn.nn import initializers
from fnn.nn.base import Module, Params

__all__ = ["sinusoidal_positions", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"]


def _positions(length: int, offset: Any):
    return offset + fnp.arange(length, dtype=fnp.int32)


def sinusoidal_positions(
    length: int, features: int, offset: Any = 0, max_timescale: float = 10000.0, dtype: Any = None
) -> Array:
    """The (length, features) table of Vaswani et al. (2017) for positions ``offset`` on.

    ``PE[p, 2i] = sin(p / max_timescale^(2i/features))`` and ``PE[p, 2i+1] = cos(...)``.

    Example:
        >>> sinusoidal_positions(2, 4).round(3)
        Array([[0.   , 1.   , 0.   , 1.   ],
               [0.841, 0.54 , 0.01 , 1.   ]], dtype=float32)
    """
    dtype = config.default_float() if dtype is None else dtype
    half = (features + 1) // 2
    inv_freq = fnp.exp(fnp.arange(half, dtype=dtype) * (-2.0 * math.log(max_timescale) / features))
    angles = _positions(length, offset).astype(dtype)[:, None] * inv_freq[None, :]
    table = fnp.stack([fnp.sin(angles), fnp.cos(angles)], axis=-1).reshape(length, 2 * half)
    return table[:, :features]


@dataclass(frozen=True)
class SinusoidalPositionalEncoding(Module):
    """Adds fixed sinusoidal encodings (no params): ``x + sinusoidal_positions(L, d, offset)``.

    ``apply(params, x, *, offset=0, key=None, train=False)``.

    Example:
        >>> SinusoidalPositionalEncoding().apply({}, fnp.zeros((1, 3, 4)), offset=2).shape
        (1, 3, 4)
    """

    max_timescale: float = 10000.0

    def apply(
        self, params: Params, x: Any, *, offset: Any = 0, key: Any = None, train: bool = False
    ) -> Any:
        length, features = x.shape[-2], x.shape[-1]
        return x + sinusoidal_positions(length, features, offset, self.max_timescale, x.dtype)


@dataclass(frozen=True)
class LearnedPositionalEmbedding(Module):
    """Adds a learned (max_length, features) table: ``x + embedding[offset : offset + L]``.

    Params: ``{"embedding": (max_length, features)}``, normal(0.02) by default (BERT/GPT).

    Example:
        >>> import fnn.random
        >>> pe = LearnedPositionalEmbedding(max_length=16)
        >>> params = pe.init(fnn.random.key(0), (1, 10, 8))
        >>> params["embedding"].shape
        (16, 8)
    """

    max_length: int
    embedding_init: Any = initializers.normal(stddev=0.02)
    param_dtype: Any = None

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        if input_shape[-2] > self.max_length:
            raise ValueError(
                f"LearnedPositionalEmbedding: sequences of length {input_shape[-2]} exceed "
                f"max_length={self.max_length}; raise max_length."
            )
        return {
            "embedding": self.embedding_init(
                key, (self.max_length, input_shape[-1]), self.param_dtype
            )
        }

    def apply(
        self, params: Params, x: Any, *, offset: Any = 0, key: Any = None, train: bool = False
    ) -> Any:
        length, table = x.shape[-2], params["embedding"]
        if isinstance(offset, int):
            if offset + length > table.shape[0]:
                raise ValueError(
                    f"LearnedPositionalEmbedding: positions {offset}..{offset + length - 1} exceed "
                    f"max_length={table.shape[0]}."
                )
            return x + table[offset : offset + length]
        return x + fnp.take(table, _positions(length, offset), axis=0)
