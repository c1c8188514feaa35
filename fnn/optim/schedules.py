"""Learning-rate schedules: functions of the step count returning a scalar.

They are written with fnn.numpy ops on the count (``where``, ``minimum``, ``clip``),
never Python ``if`` on it, so they trace under ``fnn.jit``. Formulas follow optax.

Example:
    >>> from fnn import optim
    >>> sched = optim.linear_schedule(1.0, 0.0, transition_steps=10)
    >>> float(sched(5))
    0.5
    >>> opt = optim.sgd(sched)          # any learning_rate may be a schedule
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import fnn.numpy as fnp
from fnn.optim.base import Schedule

__all__ = [
    "constant_schedule",
    "polynomial_schedule",
    "linear_schedule",
    "exponential_decay",
    "cosine_decay_schedule",
    "warmup_cosine_decay_schedule",
    "piecewise_constant_schedule",
    "join_schedules",
]


def constant_schedule(value: float) -> Schedule:
    """Always ``value``.

    Example:
        >>> constant_schedule(0.1)(1000)
        0.1
    """
    return lambda count: value


def polynomial_schedule(
    init_value: float,
    end_value: float,
    power: float,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
    """``(init - end) * (1 - t / transition_steps) ** power + end`` with
    ``t = clip(count - transition_begin, 0, transition_steps)``.

    Example:
        >>> float(polynomial_schedule(1.0, 0.0, power=2, transition_steps=4)(2))
        0.25
    """
    if transition_steps <= 0:
        warnings.warn(
            f"polynomial_schedule: transition_steps={transition_steps} <= 0, so the schedule "
            f"is constant at init_value={init_value}",
            stacklevel=2,
        )
        return constant_schedule(init_value)
    if transition_begin < 0:
        warnings.warn(
            f"polynomial_schedule: transition_begin={transition_begin} < 0, using 0",
            stacklevel=2,
        )
        transition_begin = 0

    def schedule(count):
        t = fnp.clip(fnp.asarray(count) - transition_begin, 0, transition_steps)
        frac = 1 - t / transition_steps
        return (init_value - end_value) * frac**power + end_value

    return schedule


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear interpolation from ``init_value`` to ``end_value`` over ``transition_steps``
    steps, starting at ``transition_begin`` (constant before and after).

    Example:
        >>> float(linear_schedule(0.0, 1.0, transition_steps=4, transition_begin=2)(3))
        0.25
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    """``init_value * decay_rate ** ((count - transition_begin) / transition_steps)``.

    ``init_value`` until ``transition_begin``; ``staircase=True`` floors the exponent;
    ``end_value`` bounds the result (a floor when decaying, a ceiling when growing).

    Example:
        >>> float(exponential_decay(1.0, transition_steps=10, decay_rate=0.5)(20))
        0.25
    """
    if transition_steps <= 0:
        warnings.warn(
            f"exponential_decay: transition_steps={transition_steps} <= 0, so the schedule "
            f"is constant at init_value={init_value}",
            stacklevel=2,
        )
        return constant_schedule(init_value)
    if decay_rate == 0:
        warnings.warn("exponential_decay: decay_rate=0, so the schedule is constant", stacklevel=2)
        return constant_schedule(init_value)
    if transition_begin < 0:
        warnings.warn(
            f"exponential_decay: transition_begin={transition_begin} < 0, using 0", stacklevel=2
        )
        transition_begin = 0
    bound = fnp.maximum if decay_rate < 1 else fnp.minimum

    def schedule(count):
        steps = fnp.asarray(count) - transition_begin
        p = steps / transition_steps
        if staircase:
            p = fnp.floor(p)
        value = fnp.where(steps <= 0, init_value, init_value * fnp.power(decay_rate, p))
        if end_value is not None:
            value = bound(value, end_value)
        return value

    return schedule


def cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Schedule:
    """Cosine decay (Loshchilov & Hutter, 2016) from ``init_value`` to ``alpha * init_value``:
    ``init * ((1 - alpha) * (0.5 (1 + cos(pi t / decay_steps))) ** exponent + alpha)``,
    ``t = min(count, decay_steps)``.

    Example:
        >>> round(float(cosine_decay_schedule(1.0, decay_steps=10)(5)), 6)
        0.5
    """
    if not decay_steps > 0:
        raise ValueError(f"cosine_decay_schedule: decay_steps must be positive, got {decay_steps}")

    def schedule(count):
        t = fnp.minimum(fnp.asarray(count), decay_steps)
        cosine = 0.5 * (1 + fnp.cos(math.pi * t / decay_steps))
        return init_value * ((1 - alpha) * cosine**exponent + alpha)

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Use ``schedules[i]`` from ``boundaries[i-1]`` on, each restarted at count 0.

    Example:
        >>> s = join_schedules([constant_schedule(1.0), lambda c: 2.0 * c], [3])
        >>> float(s(2)), float(s(5))
        (1.0, 4.0)
    """
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(
            f"join_schedules: {len(schedules)} schedules need {len(schedules) - 1} boundaries, "
            f"got {len(boundaries)}"
        )

    def schedule(count):
        count = fnp.asarray(count)
        out = schedules[0](count)
        for boundary, s in zip(boundaries, schedules[1:], strict=True):
            out = fnp.where(count < boundary, out, s(count - boundary))
        return out

    return schedule


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps``, then cosine
    decay to ``end_value``; ``decay_steps`` counts the warmup too.

    Example:
        >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
        >>> float(s(5)), float(s(10)), round(float(s(60)), 6), float(s(200))
        (0.5, 1.0, 0.5, 0.0)
    """
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent),
        ],
        [warmup_steps],
    )


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> Schedule:
    """``init_value``, multiplied by ``scale`` from each ``boundary`` step on.

    Example:
        >>> s = piecewise_constant_schedule(1.0, {10: 0.5, 20: 0.1})
        >>> float(s(9)), float(s(10)), round(float(s(25)), 6)
        (1.0, 0.5, 0.05)
    """
    if boundaries_and_scales is not None and any(s < 0 for s in boundaries_and_scales.values()):
        raise ValueError(
            f"piecewise_constant_schedule: scales must be non-negative, got {boundaries_and_scales}"
        )
    items = sorted((boundaries_and_scales or {}).items())

    def schedule(count):
        count = fnp.asarray(count)
        value = fnp.asarray(init_value, dtype=float)
        for boundary, s in items:
            # before the boundary: 1; from the boundary on: the scale.
            value = value * fnp.where(count < boundary, 1.0, s)
        return value

    return schedule
