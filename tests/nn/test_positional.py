"""Sinusoidal and learned positional encodings, with static and traced offsets."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from tests.nn.gradcheck import check_grads, project

KEY = fnn.random.key(0)


def np_sinusoids(length, d):
    pos = np.arange(length)[:, None]
    i = np.arange(d)[None, :]
    angle = pos / 10000 ** (2 * (i // 2) / d)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_table(d):
    np.testing.assert_allclose(
        np.asarray(nn.sinusoidal_positions(50, d)), np_sinusoids(50, d), atol=2e-5
    )
    np.testing.assert_allclose(
        np.asarray(nn.sinusoidal_positions(5, d, offset=10)), np_sinusoids(15, d)[10:], atol=2e-5
    )


def test_sinusoidal_layer_and_traced_offset():
    pe = nn.SinusoidalPositionalEncoding()
    assert pe.init(KEY, (1, 4, 8)) == {}
    x = fnp.ones((2, 4, 8))
    y = pe.apply({}, x)
    np.testing.assert_allclose(
        np.asarray(y), np.broadcast_to(1 + np_sinusoids(4, 8), (2, 4, 8)), atol=2e-5
    )
    at = fnn.jit(lambda x, offset: pe.apply({}, x, offset=offset))
    np.testing.assert_allclose(
        np.asarray(at(x[:, :1], fnp.asarray(3, dtype=fnp.int32))), np.asarray(y[:, 3:4]), atol=2e-5
    )


def test_learned_positions(rng):
    pe = nn.LearnedPositionalEmbedding(max_length=10)
    params = pe.init(KEY, (1, 6, 4))
    table = np.asarray(params["embedding"])
    assert table.shape == (10, 4)
    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(pe.apply(params, fnp.asarray(x))), x + table[:6], rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(pe.apply(params, fnp.asarray(x[:, :2]), offset=7)), x[:, :2] + table[7:9]
    )
    traced = fnn.jit(lambda p, x, o: pe.apply(p, x, offset=o))
    np.testing.assert_allclose(
        np.asarray(traced(params, fnp.asarray(x[:, :2]), fnp.asarray(7, dtype=fnp.int32))),
        x[:, :2] + table[7:9],
    )
    with pytest.raises(ValueError, match="max_length"):
        pe.apply(params, fnp.asarray(x), offset=5)
    with pytest.raises(ValueError, match="max_length"):
        pe.init(KEY, (1, 11, 4))


def test_learned_position_gradients(x64, rng):
    pe = nn.LearnedPositionalEmbedding(max_length=5)
    params = pe.init(KEY, (1, 3, 2))
    x = fnp.asarray(rng.standard_normal((2, 3, 2)))
    check_grads(
        project(lambda p, x: pe.apply(p, x, offset=1), (2, 3, 2)), (params, x), argnums=(0, 1)
    )
