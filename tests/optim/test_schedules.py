"""Schedules against their closed forms, eagerly and on a traced count under jit."""

import math

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import optim


def values(schedule, steps):
    return [float(schedule(s)) for s in steps]


def check(schedule, expected: dict):
    steps = list(expected)
    np.testing.assert_allclose(
        values(schedule, steps), list(expected.values()), rtol=1e-6, atol=1e-9
    )
    # the same values from an int32 count traced under jit
    jitted = fnn.jit(lambda c: fnp.asarray(schedule(c), dtype=fnp.float32))
    traced = [float(jitted(fnp.asarray(s, dtype=fnp.int32))) for s in steps]
    np.testing.assert_allclose(traced, list(expected.values()), rtol=1e-6, atol=1e-9)


def test_constant():
    check(optim.constant_schedule(0.3), {0: 0.3, 1000: 0.3})


def test_linear():
    s = optim.linear_schedule(1.0, 0.1, transition_steps=10, transition_begin=5)
    check(s, {0: 1.0, 5: 1.0, 6: 1.0 - 0.09, 10: 0.55, 15: 0.1, 100: 0.1})


def test_polynomial():
    s = optim.polynomial_schedule(2.0, 0.0, power=2, transition_steps=4)
    check(s, {k: 2.0 * (1 - k / 4) ** 2 for k in range(4)} | {10: 0.0})


def test_linear_zero_steps_is_constant():
    with pytest.warns(UserWarning, match="constant"):
        s = optim.linear_schedule(1.0, 0.0, transition_steps=0)
    assert s(10) == 1.0


def test_exponential_decay():
    s = optim.exponential_decay(2.0, transition_steps=10, decay_rate=0.5)
    check(s, {k: 2.0 * 0.5 ** (k / 10) for k in (0, 1, 7, 10, 25)})


def test_exponential_decay_staircase_begin_end():
    s = optim.exponential_decay(
        1.0, transition_steps=10, decay_rate=0.5, transition_begin=5, staircase=True, end_value=0.2
    )
    check(s, {0: 1.0, 5: 1.0, 14: 1.0, 15: 0.5, 24: 0.5, 25: 0.25, 35: 0.2, 100: 0.2})


def test_exponential_growth_is_capped():
    s = optim.exponential_decay(1.0, transition_steps=1, decay_rate=2.0, end_value=5.0)
    check(s, {0: 1.0, 2: 4.0, 3: 5.0})


def test_cosine_decay():
    s = optim.cosine_decay_schedule(1.0, decay_steps=100, alpha=0.1)
    expected = {
        k: 0.9 * 0.5 * (1 + math.cos(math.pi * min(k, 100) / 100)) + 0.1
        for k in (0, 25, 50, 99, 100, 150)
    }
    check(s, expected)


def test_cosine_decay_needs_positive_steps():
    with pytest.raises(ValueError, match="positive"):
        optim.cosine_decay_schedule(1.0, decay_steps=0)


def test_warmup_cosine_decay():
    s = optim.warmup_cosine_decay_schedule(
        0.0, 1.0, warmup_steps=10, decay_steps=110, end_value=0.1
    )

    def closed(k):
        if k < 10:
            return k / 10
        t = min(k - 10, 100)
        return (1 - 0.1) * 0.5 * (1 + math.cos(math.pi * t / 100)) + 0.1

    check(s, {k: closed(k) for k in (0, 3, 10, 35, 60, 109, 110, 500)})


def test_piecewise_constant():
    s = optim.piecewise_constant_schedule(1.0, {20: 0.1, 10: 0.5})
    check(s, {0: 1.0, 9: 1.0, 10: 0.5, 19: 0.5, 20: 0.05, 1000: 0.05})


def test_piecewise_constant_rejects_negative_scales():
    with pytest.raises(ValueError, match="non-negative"):
        optim.piecewise_constant_schedule(1.0, {10: -1.0})


def test_join_schedules_restarts_the_count():
    s = optim.join_schedules([optim.constant_schedule(1.0), lambda c: 10.0 + c], [5])
    check(s, {0: 1.0, 4: 1.0, 5: 10.0, 8: 13.0})
