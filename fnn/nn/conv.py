"""Convolution layers (work in progress): Conv and ConvTranspose, Flax semantics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Conv", "ConvTranspose"]


@dataclass(frozen=True)
class Conv:
    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    input_dilation: Any = 1
    kernel_dilation: Any = 1
    feature_group_count: int = 1
    use_bias: bool = True
    kernel_init: Any = None
    bias_init: Any = None


@dataclass(frozen=True)
class ConvTranspose:
    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    kernel_dilation: Any = 1
    use_bias: bool = True
    kernel_init: Any = None
    bias_init: Any = None
