"""Parameter initialisation shared by the workloads' ``make_data`` (plain numpy, float32)."""

from __future__ import annotations

import numpy as np


def dense(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float = 2.0):
    """``(w, b)``: w ~ N(0, gain / fan_in) of shape (fan_in, fan_out); small nonzero b."""
    w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(gain / fan_in)
    b = rng.standard_normal(fan_out) * 0.01
    return w.astype(np.float32), b.astype(np.float32)


def one_hot(rng: np.random.Generator, batch: int, classes: int):
    """Random labels (int64) and their one-hot rows (float32)."""
    labels = rng.integers(0, classes, batch)
    return labels, np.eye(classes, dtype=np.float32)[labels]
