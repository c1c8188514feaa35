"""Dropout: zero a random fraction ``rate`` of the inputs while training.

Example:
    >>> import fnn.random, fnn.numpy as fnp
    >>> drop = Dropout(0.5)
    >>> drop.apply({}, fnp.ones(4))                                    # eval: identity
    Array([1., 1., 1., 1.], dtype=float32)
    >>> y = drop.apply({}, fnp.ones(4), key=fnn.random.key(0), train=True)   # 0s and 2s
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import fnn.numpy as fnp
from fnn import random
from fnn.core import Array
from fnn.nn.activations import ArrayLike
from fnn.nn.base import Module, Params

__all__ = ["Dropout", "dropout"]


def dropout(x: ArrayLike, rate: float, key: Any, broadcast_dims: Sequence[int] = ()) -> Array:
    """Inverted dropout: keep each entry with probability ``1 - rate`` and scale it by
    ``1 / (1 - rate)``, so the expectation is unchanged and evaluation needs no rescaling.

    ``broadcast_dims`` share one mask along those axes (e.g. all time steps).

    Example:
        >>> y = dropout(fnp.ones((2, 3)), 0.5, fnn.random.key(0))
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1], got {rate}")
    x = fnp.asarray(x)
    if rate == 0.0:
        return x
    if rate == 1.0:
        return fnp.zeros_like(x)
    mask_shape = list(x.shape)
    for d in broadcast_dims:
        mask_shape[d] = 1
    keep = random.bernoulli(key, 1.0 - rate, tuple(mask_shape))
    return fnp.where(keep, x / (1.0 - rate), fnp.zeros_like(x))


@dataclass(frozen=True)
class Dropout(Module):
    """Layer form of :func:`dropout`: identity when ``train=False``; needs ``key`` when training.

    Example:
        >>> y = Dropout(0.1).apply({}, fnp.ones((2, 3)), key=fnn.random.key(0), train=True)
    """

    rate: float
    broadcast_dims: Sequence[int] = ()

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        if not train or self.rate == 0.0:
            return x
        if key is None:
            raise ValueError(
                f"Dropout(rate={self.rate}).apply(train=True) needs a random key: pass "
                "key=fnn.random.key(...) (split a fresh one every step), or train=False for eval."
            )
        return dropout(x, self.rate, key, self.broadcast_dims)
