"""Dropout: identity in eval, inverted scaling and the drop rate in training, keys."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn


def test_eval_is_identity():
    x = fnp.arange(6.0)
    assert nn.Dropout(0.5).apply({}, x) is x
    assert nn.Dropout(0.5).init(fnn.random.key(0), (1, 6)) == {}


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_train_rate_and_scaling(rate):
    x = fnp.ones((200, 100))
    y = np.asarray(nn.Dropout(rate).apply({}, x, key=fnn.random.key(1), train=True))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - rate), rtol=1e-6)
    assert abs(kept.mean() - (1 - rate)) < 0.02
    assert abs(y.mean() - 1.0) < 0.05  # the expectation is unchanged


def test_needs_key_when_training():
    with pytest.raises(ValueError, match="key"):
        nn.Dropout(0.3).apply({}, fnp.ones(3), train=True)


def test_rates_zero_and_one_and_bad():
    x = fnp.ones(5)
    key = fnn.random.key(0)
    np.testing.assert_array_equal(np.asarray(nn.Dropout(0.0).apply({}, x, key=key, train=True)), 1)
    np.testing.assert_array_equal(np.asarray(nn.Dropout(1.0).apply({}, x, key=key, train=True)), 0)
    with pytest.raises(ValueError, match="rate"):
        nn.dropout(x, 1.5, key)


def test_keys_give_different_masks_and_same_key_same_mask():
    x = fnp.ones(1000)
    k1, k2 = fnn.random.split(fnn.random.key(0))
    a = np.asarray(nn.dropout(x, 0.5, k1))
    b = np.asarray(nn.dropout(x, 0.5, k2))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, np.asarray(nn.dropout(x, 0.5, k1)))


def test_broadcast_dims():
    y = np.asarray(
        nn.Dropout(0.5, broadcast_dims=(0,)).apply(
            {}, fnp.ones((4, 50)), key=fnn.random.key(3), train=True
        )
    )
    assert np.all(y == y[0])  # one mask shared along axis 0


def test_gradient_masks_and_scales():
    key = fnn.random.key(2)
    x = fnp.ones(20)
    g = np.asarray(fnn.grad(lambda x: fnp.sum(nn.dropout(x, 0.25, key)))(x))
    y = np.asarray(nn.dropout(x, 0.25, key))
    np.testing.assert_allclose(g, y)  # d/dx (mask * x / 0.75) = mask / 0.75


def test_under_jit():
    f = fnn.jit(lambda x, key: nn.Dropout(0.5).apply({}, x, key=key, train=True))
    key = fnn.random.key(4)
    np.testing.assert_array_equal(
        np.asarray(f(fnp.ones(30), key)), np.asarray(nn.dropout(fnp.ones(30), 0.5, key))
    )
