"""LayerNorm and BatchNorm against numpy; BatchNorm's running statistics; gradients."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from tests.nn.gradcheck import check_grads, project

KEY = fnn.random.key(0)


def _np_norm(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _random_affine(params, rng):
    return {
        k: fnp.asarray(rng.standard_normal(v.shape).astype(np.asarray(v).dtype))
        for k, v in params.items()
    }


def test_layer_norm_values(rng):
    ln = nn.LayerNorm()
    assert ln.epsilon == 1e-6  # Flax's default
    params = _random_affine(ln.init(KEY, (1, 3, 6)), rng)
    x = rng.standard_normal((2, 3, 6)).astype(np.float32) * 4 + 1
    expected = _np_norm(x, -1, 1e-6) * np.asarray(params["scale"]) + np.asarray(params["bias"])
    np.testing.assert_allclose(
        np.asarray(ln.apply(params, fnp.asarray(x))), expected, rtol=1e-4, atol=1e-5
    )


def test_layer_norm_options():
    params = nn.LayerNorm(use_bias=False, use_scale=False).init(KEY, (1, 4))
    assert params == {}
    y = nn.LayerNorm(use_bias=False, use_scale=False).apply(
        params, fnp.asarray([[1.0, 2.0, 3.0, 4.0]])
    )
    np.testing.assert_allclose(
        np.asarray(y), _np_norm(np.array([[1.0, 2, 3, 4]]), -1, 1e-6), rtol=1e-5
    )


def test_layer_norm_gradients(x64, rng):
    ln = nn.LayerNorm()
    params = _random_affine(ln.init(KEY, (1, 5)), rng)
    x = fnp.asarray(rng.standard_normal((3, 5)))
    check_grads(project(ln.apply, (3, 5)), (params, x), argnums=(0, 1))


def test_batch_norm_train_eval_and_running_stats(rng):
    bn = nn.BatchNorm(momentum=0.9)
    assert nn.BatchNorm().momentum == 0.99 and nn.BatchNorm().epsilon == 1e-5  # Flax's defaults
    shape = (8, 4, 4, 3)  # NHWC: statistics over N, H, W per channel
    params = _random_affine(bn.init(KEY, shape), rng)
    state = bn.init_state(shape)
    np.testing.assert_array_equal(np.asarray(state["mean"]), 0)
    np.testing.assert_array_equal(np.asarray(state["var"]), 1)
    scale, bias = np.asarray(params["scale"]), np.asarray(params["bias"])

    ra_mean, ra_var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = rng.standard_normal(shape).astype(np.float32) * (step + 1) + step
        y, state = bn.apply(params, fnp.asarray(x), state=state, train=True)
        np.testing.assert_allclose(
            np.asarray(y), _np_norm(x, (0, 1, 2), 1e-5) * scale + bias, rtol=1e-4, atol=1e-4
        )
        ra_mean = 0.9 * ra_mean + 0.1 * x.mean(axis=(0, 1, 2))
        ra_var = 0.9 * ra_var + 0.1 * x.var(axis=(0, 1, 2))  # biased batch variance, as Flax
        np.testing.assert_allclose(np.asarray(state["mean"]), ra_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(state["var"]), ra_var, rtol=1e-5, atol=1e-6)

    x = rng.standard_normal(shape).astype(np.float32)
    y, same = bn.apply(params, fnp.asarray(x), state=state, train=False)
    assert same is state
    expected = (x - ra_mean) / np.sqrt(ra_var + 1e-5) * scale + bias
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_needs_state():
    bn = nn.BatchNorm()
    with pytest.raises(ValueError, match="init_state"):
        bn.apply(bn.init(KEY, (2, 3)), fnp.ones((2, 3)), train=True)


def test_batch_norm_gradients(x64, rng):
    bn = nn.BatchNorm()
    params = _random_affine(bn.init(KEY, (6, 3)), rng)
    state = bn.init_state((6, 3))
    x = fnp.asarray(rng.standard_normal((6, 3)))
    for train in (True, False):
        f = project(lambda p, x, train=train: bn.apply(p, x, state=state, train=train)[0], (6, 3))
        check_grads(f, (params, x), argnums=(0, 1))


def test_batch_norm_under_jit(rng):
    bn = nn.BatchNorm()
    params, state = bn.init(KEY, (4, 2)), bn.init_state((4, 2))
    x = fnp.asarray(rng.standard_normal((4, 2)).astype(np.float32))
    step = fnn.jit(lambda p, s, x: bn.apply(p, x, state=s, train=True))
    (y1, s1), (y2, s2) = step(params, state, x), bn.apply(params, x, state=state, train=True)
    np.testing.assert_allclose(np.asarray(y1), np.asarray(y2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(s1["var"]), np.asarray(s2["var"]), rtol=1e-6)
