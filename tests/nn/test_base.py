"""Sequential, Flatten, Lambda: naming, shapes, keys, state threading; a jitted training step."""

from dataclasses import dataclass

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from fnn.nn.base import Module, layer_name, split_key
from fnn.tree_util import tree_map
from tests.nn.gradcheck import check_grads, project

KEY = fnn.random.key(0)


def test_sequential_names_and_shapes():
    model = nn.Sequential([nn.Flatten(), nn.Dense(16), nn.relu, nn.Dropout(0.5), nn.Dense(3)])
    params = model.init(KEY, (1, 4, 5))
    assert list(params) == ["dense_1", "dense_4"]  # parameter-free layers are left out
    assert model.names == ["flatten_0", "dense_1", "relu_2", "dropout_3", "dense_4"]
    assert params["dense_1"]["kernel"].shape == (20, 16)
    assert params["dense_4"]["kernel"].shape == (16, 3)
    assert model.output_shape((7, 4, 5)) == (7, 3)
    assert model.apply(params, fnp.ones((7, 4, 5))).shape == (7, 3)
    assert not model.stateful and model.init_state((1, 4, 5)) == {}


def test_sequential_matches_manual_composition(rng):
    dense1, dense2 = nn.Dense(8), nn.Dense(2)
    model = nn.Sequential([dense1, nn.tanh, dense2])
    params = model.init(KEY, (1, 3))
    x = fnp.asarray(rng.standard_normal((4, 3)).astype(np.float32))
    manual = dense2.apply(params["dense_2"], fnp.tanh(dense1.apply(params["dense_0"], x)))
    np.testing.assert_allclose(np.asarray(model.apply(params, x)), np.asarray(manual), rtol=1e-6)


def test_sequential_layers_get_different_keys():
    model = nn.Sequential([nn.Dense(50), nn.Dense(50)])
    params = model.init(KEY, (1, 50))
    assert not np.allclose(
        np.asarray(params["dense_0"]["kernel"]), np.asarray(params["dense_1"]["kernel"])
    )
    drop = nn.Sequential([nn.Dropout(0.5), nn.Dropout(0.5)])
    x = fnp.ones((1, 400))
    # Two dropouts with one shared key would drop the same entries: then exactly half the
    # entries would survive both; with independent keys about a quarter do.
    y = np.asarray(drop.apply({}, x, key=fnn.random.key(1), train=True))
    assert 0.18 < (y != 0).mean() < 0.32
    np.testing.assert_array_equal(np.asarray(drop.apply({}, x)), 1)  # eval: identity
    with pytest.raises(ValueError, match="key"):
        drop.apply({}, x, train=True)


def test_sequential_with_batch_norm_state(rng):
    model = nn.Sequential([nn.Dense(4), nn.BatchNorm(momentum=0.5), nn.relu, nn.Dense(1)])
    params = model.init(KEY, (1, 3))
    state = model.init_state((1, 3))
    assert model.stateful and list(state) == ["batchnorm_1"]
    assert state["batchnorm_1"]["mean"].shape == (4,)
    x = fnp.asarray(rng.standard_normal((16, 3)).astype(np.float32))
    y, new_state = model.apply(params, x, state=state, train=True)
    assert y.shape == (16, 1)
    h = np.asarray(nn.Dense(4).apply(params["dense_0"], x))
    np.testing.assert_allclose(
        np.asarray(new_state["batchnorm_1"]["mean"]), 0.5 * h.mean(0), rtol=1e-5, atol=1e-6
    )
    y_eval, same = model.apply(params, x, state=new_state, train=False)
    assert same["batchnorm_1"] is new_state["batchnorm_1"]
    with pytest.raises(ValueError, match="init_state"):
        model.apply(params, x)


def test_nested_sequential_and_lambda():
    inner = nn.Sequential([nn.Dense(4), nn.relu])
    model = nn.Sequential([inner, nn.Lambda(lambda x: x * 2.0, name="double"), nn.Dense(2)])
    params = model.init(KEY, (1, 3))
    assert list(params) == ["sequential_0", "dense_2"]
    assert list(params["sequential_0"]) == ["dense_0"]
    assert model.names[1] == "double_1"
    assert model.apply(params, fnp.ones((5, 3))).shape == (5, 2)
    assert nn.Lambda(lambda x: x.reshape(x.shape[0], -1, 2)).output_shape((3, 8)) == (3, 4, 2)
    assert layer_name(nn.Lambda(lambda x: x)) == "lambda"
    assert layer_name(nn.Lambda(nn.gelu)) == "gelu"


def test_layers_are_hashable_and_comparable():
    a = nn.Sequential([nn.Dense(3), nn.relu])
    b = nn.Sequential([nn.Dense(3), nn.relu])
    assert a == b and hash(a) == hash(b)
    with pytest.raises(Exception):  # noqa: B017 - frozen dataclass
        a.layers = ()


def test_module_defaults_and_protocol():
    @dataclass(frozen=True)
    class Scale(Module):
        factor: float

        def apply(self, params, x, *, key=None, train=False):
            return x * self.factor

    layer = Scale(3.0)
    assert isinstance(layer, nn.Layer)
    assert layer.init(KEY, (2, 2)) == {} and layer.output_shape((2, 2)) == (2, 2)
    assert nn.Sequential([layer, nn.Dense(1)]).init(KEY, (1, 2)).keys() == {"dense_1"}


def test_flatten():
    x = fnp.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(
        np.asarray(nn.Flatten().apply({}, x)), np.arange(24.0).reshape(2, 12)
    )
    assert nn.Flatten().output_shape((2, 3, 4)) == (2, 12)


def test_split_key():
    assert split_key(None, 3) == [None, None, None]
    keys = split_key(KEY, 3)
    assert len(keys) == 3 and not np.array_equal(np.asarray(keys[0]), np.asarray(keys[1]))


def test_sequential_gradients(x64, rng):
    model = nn.Sequential([nn.Dense(5), nn.tanh, nn.LayerNorm(), nn.Dense(2)])
    params = model.init(KEY, (1, 3))
    x = fnp.asarray(rng.standard_normal((4, 3)))
    check_grads(project(model.apply, (4, 2)), (params, x), argnums=(0, 1))


def test_jit_training_step_on_mlp(rng):
    model = nn.Sequential([nn.Dense(32), nn.relu, nn.Dropout(0.1), nn.Dense(3)])
    x = fnp.asarray(rng.standard_normal((64, 4)).astype(np.float32))
    labels = fnp.asarray((np.asarray(x)[:, 0] > 0).astype(np.int32) + (np.asarray(x)[:, 1] > 0))
    params = model.init(KEY, (1, 4))

    def loss_fn(params, key):
        logits = model.apply(params, x, key=key, train=True)
        return fnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, labels))

    def step(params, key):
        loss, grads = fnn.value_and_grad(loss_fn)(params, key)
        return tree_map(lambda p, g: p - 0.5 * g, params, grads), loss

    jitted = fnn.jit(step)
    key = fnn.random.key(1)
    eager_params, eager_loss = step(params, key)
    jit_params, jit_loss = jitted(params, key)
    np.testing.assert_allclose(float(jit_loss), float(eager_loss), rtol=1e-5)
    for a, b in zip(fnn.tree_util.tree_leaves(jit_params), fnn.tree_util.tree_leaves(eager_params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)

    losses = []
    for i in range(100):
        params, loss = jitted(params, fnn.random.fold_in(key, i))
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    accuracy = np.mean(np.argmax(np.asarray(model.apply(params, x)), -1) == np.asarray(labels))
    assert accuracy > 0.9
