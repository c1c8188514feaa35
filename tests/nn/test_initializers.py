"""Initializers: shapes, dtypes, and the statistics each promises."""

import numpy as np
import pytest

import fnn
import fnn.random
from fnn.nn import initializers as init

KEY = fnn.random.key(0)
TRUNC_STD = 0.87962566103423978


def test_compute_fans():
    assert init.compute_fans((30, 20)) == (30.0, 20.0)
    assert init.compute_fans((3, 3, 16, 32)) == (144.0, 288.0)  # HWIO conv kernel
    assert init.compute_fans((8, 5, 7), in_axis=0, out_axis=1) == (56.0, 35.0)
    with pytest.raises(ValueError, match="at least 2-d"):
        init.compute_fans((5,))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_variance_scaling_variance(mode, distribution):
    shape = (3, 3, 40, 100)  # fan_in = 360, fan_out = 900
    fan_in, fan_out = 360, 900
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = np.asarray(init.variance_scaling(2.0, mode, distribution)(KEY, shape))
    assert w.shape == shape and w.dtype == np.float32
    assert abs(w.mean()) < 0.05 * np.sqrt(2.0 / n)
    np.testing.assert_allclose(w.var(), 2.0 / n, rtol=0.03)
    bound = {"uniform": np.sqrt(3 * 2.0 / n), "truncated_normal": 2 * np.sqrt(2.0 / n) / TRUNC_STD}
    if distribution in bound:
        assert np.abs(w).max() <= bound[distribution] * (1 + 1e-6)


@pytest.mark.parametrize(
    "name, scale, mode",
    [
        ("glorot_uniform", 1.0, "fan_avg"),
        ("glorot_normal", 1.0, "fan_avg"),
        ("xavier_uniform", 1.0, "fan_avg"),
        ("xavier_normal", 1.0, "fan_avg"),
        ("he_uniform", 2.0, "fan_in"),
        ("he_normal", 2.0, "fan_in"),
        ("kaiming_uniform", 2.0, "fan_in"),
        ("kaiming_normal", 2.0, "fan_in"),
        ("lecun_uniform", 1.0, "fan_in"),
        ("lecun_normal", 1.0, "fan_in"),
    ],
)
def test_named_variance_scalings(name, scale, mode):
    fan_in, fan_out = 300, 500
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = np.asarray(getattr(init, name)()(KEY, (fan_in, fan_out)))
    np.testing.assert_allclose(w.var(), scale / n, rtol=0.03)


def test_truncated_normal_bounds_and_std():
    w = np.asarray(init.truncated_normal(0.5)(KEY, (100_000,)))
    assert np.abs(w).max() <= 1.0
    np.testing.assert_allclose(w.std(), 0.5 * TRUNC_STD, rtol=0.02)
    w = np.asarray(init.truncated_normal(1.0, lower=-1.0, upper=0.5)(KEY, (10_000,)))
    assert w.min() >= -1.0 and w.max() <= 0.5


def test_simple_initializers():
    np.testing.assert_array_equal(np.asarray(init.zeros(KEY, (2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(np.asarray(init.ones(KEY, (4,))), np.ones(4))
    np.testing.assert_array_equal(np.asarray(init.constant(-2.5)(KEY, (2,))), [-2.5, -2.5])
    w = np.asarray(init.normal(0.1)(KEY, (50_000,)))
    np.testing.assert_allclose(w.std(), 0.1, rtol=0.02)
    u = np.asarray(init.uniform(0.3)(KEY, (50_000,)))
    assert u.min() >= 0 and u.max() < 0.3
    np.testing.assert_allclose(u.mean(), 0.15, rtol=0.02)


def test_dtypes_and_determinism(x64):
    w = init.glorot_uniform()(KEY, (3, 4))
    assert w.dtype == np.float64  # default float follows enable_x64 at call time
    assert init.he_normal()(KEY, (3, 4), np.float32).dtype == np.float32
    assert init.zeros(KEY, (2,), np.int32).dtype == np.int32
    np.testing.assert_array_equal(np.asarray(w), np.asarray(init.glorot_uniform()(KEY, (3, 4))))


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        init.variance_scaling(1.0, "fan_median", "normal")
    with pytest.raises(ValueError, match="distribution"):
        init.variance_scaling(1.0, "fan_in", "cauchy")
