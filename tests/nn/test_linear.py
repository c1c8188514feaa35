"""Dense and Embedding: params, values against numpy, gradients."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from tests.nn.gradcheck import check_grads, project

KEY = fnn.random.key(0)


def test_dense_params_and_values(rng):
    layer = nn.Dense(5)
    params = layer.init(KEY, (1, 3))
    assert set(params) == {"kernel", "bias"}
    assert params["kernel"].shape == (3, 5) and params["bias"].shape == (5,)
    assert params["kernel"].dtype == np.float32
    np.testing.assert_array_equal(np.asarray(params["bias"]), 0)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    y = layer.apply(params, fnp.asarray(x))
    assert y.shape == (2, 4, 5) == layer.output_shape((2, 4, 3))
    np.testing.assert_allclose(
        np.asarray(y), x @ np.asarray(params["kernel"]), rtol=1e-5, atol=1e-6
    )


def test_dense_options():
    layer = nn.Dense(4, use_bias=False, kernel_init=nn.initializers.ones)
    params = layer.init(KEY, (1, 2))
    assert set(params) == {"kernel"}
    np.testing.assert_array_equal(
        np.asarray(layer.apply(params, fnp.ones((1, 2)))), [[2, 2, 2, 4 / 2]]
    )


def test_dense_default_init_is_lecun_normal():
    w = np.asarray(nn.Dense(400).init(KEY, (1, 500))["kernel"])
    np.testing.assert_allclose(w.var(), 1 / 500, rtol=0.05)


def test_dense_gradients(x64, rng):
    layer = nn.Dense(4)
    params = layer.init(KEY, (1, 3))
    params = {**params, "bias": fnp.asarray(rng.standard_normal(4))}
    x = fnp.asarray(rng.standard_normal((5, 3)))
    f = project(layer.apply, (5, 4))
    check_grads(f, (params, x), argnums=(0, 1))


def test_embedding_default_init_matches_flax():
    # variance_scaling(1, "fan_in", "normal", out_axis=0): variance 1 / features.
    table = np.asarray(nn.Embedding(1000, 64).init(KEY, (1, 1))["embedding"])
    np.testing.assert_allclose(table.var(), 1 / 64, rtol=0.03)


def test_embedding(rng):
    emb = nn.Embedding(10, 4)
    params = emb.init(KEY, (1, 3))
    table = np.asarray(params["embedding"])
    assert table.shape == (10, 4)
    idx = np.array([[1, 9, 1], [0, 3, 3]])
    y = emb.apply(params, fnp.asarray(idx))
    assert y.shape == (2, 3, 4) == emb.output_shape((2, 3))
    np.testing.assert_array_equal(np.asarray(y), table[idx])
    q = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(emb.attend(params, fnp.asarray(q))), q @ table.T, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(TypeError, match="integer"):
        emb.apply(params, fnp.ones((2, 3)))


def test_embedding_gradients(x64, rng):
    emb = nn.Embedding(6, 3)
    params = emb.init(KEY, (1, 4))
    idx = fnp.asarray([[0, 5, 5, 2]])
    check_grads(project(lambda p: emb.apply(p, idx), (1, 4, 3)), (params,))
    g = fnn.grad(lambda p: fnp.sum(emb.apply(p, idx)))(params)["embedding"]
    np.testing.assert_array_equal(np.asarray(g)[:, 0], [1, 0, 1, 0, 0, 2])  # repeated rows add up
