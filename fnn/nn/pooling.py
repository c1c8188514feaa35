"""Pooling layers (work in progress): MaxPool, AvgPool, global pools, Flax semantics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MaxPool", "AvgPool", "GlobalAvgPool", "GlobalMaxPool", "max_pool", "avg_pool"]


def max_pool(inputs, window_shape, strides=None, padding="VALID"):
    raise NotImplementedError


def avg_pool(inputs, window_shape, strides=None, padding="VALID", count_include_pad=True):
    raise NotImplementedError


@dataclass(frozen=True)
class MaxPool:
    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"


@dataclass(frozen=True)
class AvgPool:
    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"


@dataclass(frozen=True)
class GlobalAvgPool:
    pass


@dataclass(frozen=True)
class GlobalMaxPool:
    pass
