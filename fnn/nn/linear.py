"""Dense (affine) and Embedding (lookup table) layers, Flax's names and defaults.

Example:
    >>> import fnn.random, fnn.numpy as fnp
    >>> layer = Dense(3)
    >>> params = layer.init(fnn.random.key(0), (1, 4))
    >>> params["kernel"].shape, params["bias"].shape
    ((4, 3), (3,))
    >>> layer.apply(params, fnp.ones((2, 4))).shape
    (2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import fnn.numpy as fnp
from fnn.nn import initializers
from fnn.nn.base import Module, Params, split_key

__all__ = ["Dense", "Embedding"]


@dataclass(frozen=True)
class Dense(Module):
    """``y = x @ kernel + bias`` over the last axis of ``x``.

    Params: ``kernel`` of shape ``(in_features, features)`` (LeCun normal by default,
    as in Flax) and ``bias`` of shape ``(features,)`` (zeros) unless ``use_bias=False``.

    Example:
        >>> params = Dense(2).init(fnn.random.key(0), (1, 3))
        >>> Dense(2).apply(params, fnp.zeros((5, 3))).shape
        (5, 2)
    """

    features: int
    use_bias: bool = True
    kernel_init: Any = initializers.lecun_normal()
    bias_init: Any = initializers.zeros
    param_dtype: Any = None

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        k_kernel, k_bias = split_key(key, 2)
        params = {
            "kernel": self.kernel_init(k_kernel, (input_shape[-1], self.features), self.param_dtype)
        }
        if self.use_bias:
            params["bias"] = self.bias_init(k_bias, (self.features,), self.param_dtype)
        return params

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        y = fnp.matmul(x, params["kernel"])
        return y + params["bias"] if "bias" in params else y

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (*input_shape[:-1], self.features)


def _default_embed_init():
    # Flax's default: with in and out axis both 0, fan_in works out to `features`, so
    # entries have variance 1/features and embedding vectors have unit norm on average.
    return initializers.variance_scaling(1.0, "fan_in", "normal", out_axis=0)


@dataclass(frozen=True)
class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``features``, indexed by integers.

    Params: ``embedding`` of shape ``(num_embeddings, features)``. ``apply`` maps an
    integer array of shape ``s`` to ``s + (features,)``; ``attend`` computes logits
    against the table (``x @ embedding.T``) for weight tying.

    Example:
        >>> emb = Embedding(10, 4)
        >>> params = emb.init(fnn.random.key(0), (1, 7))
        >>> emb.apply(params, fnp.asarray([[1, 2, 3]])).shape
        (1, 3, 4)
    """

    num_embeddings: int
    features: int
    embedding_init: Any = _default_embed_init()
    param_dtype: Any = None

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        shape = (self.num_embeddings, self.features)
        return {"embedding": self.embedding_init(key, shape, self.param_dtype)}

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        x = fnp.asarray(x)
        if not fnp.issubdtype(x.dtype, fnp.integer):
            raise TypeError(f"Embedding.apply: inputs must be integer indices, got dtype {x.dtype}")
        return fnp.take(params["embedding"], x, axis=0)

    def attend(self, params: Params, query: Any) -> Any:
        """Similarity of ``query`` (..., features) with every embedding: (..., num_embeddings).

        Example:
            >>> params = Embedding(10, 4).init(fnn.random.key(0), (1, 1))
            >>> Embedding(10, 4).attend(params, fnp.ones((2, 4))).shape
            (2, 10)
        """
        return fnp.matmul(query, fnp.transpose(params["embedding"]))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (*input_shape, self.features)
