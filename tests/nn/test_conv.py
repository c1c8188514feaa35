"""fnn.nn.conv: Conv and ConvTranspose follow the layer protocol and Flax's semantics
(param names and shapes, default initializers, padding modes, output shapes), and the
docstring examples of the convolution and pooling modules run."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn.lax.conv import conv_general_dilated, conv_transpose
from fnn.nn.conv import Conv, ConvTranspose


def _key(seed=0):
    return fnn.random.key(seed)


def _normal(seed, shape):
    return fnp.asarray(np.random.default_rng(seed).normal(size=shape), np.float32)


def test_conv_params_follow_flax():
    params = Conv(32, (5, 5)).init(_key(), (1, 28, 28, 1))
    assert set(params) == {"kernel", "bias"}
    assert params["kernel"].shape == (5, 5, 1, 32) and params["kernel"].dtype == np.float32
    np.testing.assert_array_equal(np.asarray(params["bias"]), np.zeros(32))
    assert Conv(8, 3).init(_key(), (1, 10, 10, 4))["kernel"].shape == (3, 3, 4, 8)  # int: per axis
    assert Conv(8, (3,)).init(_key(), (1, 10, 4))["kernel"].shape == (3, 4, 8)
    assert Conv(6, (3, 3), feature_group_count=2).init(_key(), (1, 5, 5, 4))["kernel"].shape == (
        3,
        3,
        2,
        6,
    )
    assert set(Conv(4, 3, use_bias=False).init(_key(), (1, 5, 5, 2))) == {"kernel"}
    with pytest.raises(ValueError, match="feature_group_count"):
        Conv(5, 3, feature_group_count=2).init(_key(), (1, 5, 5, 4))


def test_default_kernel_init_is_lecun_normal():
    kernel = np.asarray(Conv(256, (3, 3)).init(_key(1), (1, 8, 8, 64))["kernel"])
    fan_in = 3 * 3 * 64
    assert abs(kernel.std() * np.sqrt(fan_in) - 1.0) < 0.05
    assert np.abs(kernel).max() <= 2 / np.sqrt(fan_in) / 0.8796 + 1e-6  # truncated at 2 sigma


def test_custom_initializers_are_used():
    ones = lambda key, shape, dtype=None: fnp.ones(shape)  # noqa: E731
    params = Conv(3, 2, kernel_init=ones, bias_init=ones).init(_key(), (1, 4, 4, 2))
    np.testing.assert_array_equal(np.asarray(params["kernel"]), np.ones((2, 2, 2, 3)))
    np.testing.assert_array_equal(np.asarray(params["bias"]), np.ones(3))


def test_conv_apply_is_lax_conv_plus_bias():
    layer = Conv(4, (3, 3), strides=2, kernel_dilation=(1, 2), feature_group_count=2)
    params = layer.init(_key(), (1, 9, 9, 2))
    params = {"kernel": params["kernel"], "bias": _normal(0, (4,))}
    x = _normal(1, (2, 9, 9, 2))
    expected = (
        conv_general_dilated(
            x, params["kernel"], (2, 2), "SAME", rhs_dilation=(1, 2), feature_group_count=2
        )
        + params["bias"]
    )
    np.testing.assert_allclose(np.asarray(layer.apply(params, x)), np.asarray(expected), rtol=1e-6)


PADDINGS = ["SAME", "VALID", "CIRCULAR", 1, (2, 0), [(1, 2), (0, 1)]]


@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("strides", [1, 2])
def test_conv_output_shape_matches_apply(padding, strides):
    layer = Conv(5, (3, 2), strides=strides, padding=padding, kernel_dilation=(2, 1))
    hash(layer)
    shape = (2, 9, 8, 3)
    y = layer.apply(layer.init(_key(), shape), fnp.ones(shape), key=None, train=True)
    assert layer.output_shape(shape) == y.shape


def test_input_dilation_with_explicit_padding():
    layer = Conv(2, (3, 3), padding=[(2, 2), (1, 1)], input_dilation=2)
    shape = (1, 4, 5, 1)
    params = layer.init(_key(), shape)
    x = _normal(2, shape)
    y = layer.apply(params, x)
    assert y.shape == layer.output_shape(shape) == (1, 9, 9, 2)
    expected = conv_general_dilated(
        x, params["kernel"], (1, 1), [(2, 2), (1, 1)], lhs_dilation=(2, 2)
    )
    np.testing.assert_allclose(np.asarray(y), np.asarray(expected), rtol=1e-6)
    with pytest.raises(ValueError, match="lhs_dilation"):
        Conv(2, (3, 3), input_dilation=2).apply(params, x)


def test_circular_padding_wraps_around():
    layer = Conv(3, (3, 3), padding="CIRCULAR", use_bias=False)
    shape = (2, 5, 6, 2)
    params = layer.init(_key(), shape)
    x = _normal(3, shape)
    wrapped = np.pad(np.asarray(x), [(0, 0), (1, 1), (1, 1), (0, 0)], mode="wrap")
    expected = conv_general_dilated(fnp.asarray(wrapped), params["kernel"], (1, 1), "VALID")
    np.testing.assert_allclose(
        np.asarray(layer.apply(params, x)), np.asarray(expected), rtol=1e-5, atol=1e-6
    )


def test_causal_padding_never_looks_ahead():
    layer = Conv(2, (3,), padding="CAUSAL", kernel_dilation=2)
    shape = (1, 10, 3)
    params = layer.init(_key(), shape)
    x = _normal(4, shape)
    assert layer.apply(params, x).shape == layer.output_shape(shape) == (1, 10, 2)
    jac = np.asarray(fnn.jacrev(lambda x: layer.apply(params, x)[0, :, 0])(x))  # (10, 1, 10, 3)
    dependence = np.abs(jac).sum(axis=(1, 3))  # output t x input s
    assert np.all(np.triu(dependence, k=1) == 0) and np.all(np.diag(dependence) > 0)
    with pytest.raises(ValueError, match="CAUSAL"):
        Conv(2, (3, 3), padding="CAUSAL").apply(
            {"kernel": fnp.ones((3, 3, 1, 2))}, fnp.ones((1, 5, 5, 1))
        )


def test_batch_axes_like_flax():
    layer = Conv(4, (3, 3))
    params = layer.init(_key(), (1, 6, 6, 2))
    x = _normal(5, (2, 3, 6, 6, 2))
    y = layer.apply(params, x)
    assert y.shape == (2, 3, 6, 6, 4) == layer.output_shape(x.shape)
    np.testing.assert_allclose(
        np.asarray(y[1, 2]), np.asarray(layer.apply(params, x[1, 2:3]))[0], rtol=1e-5, atol=1e-6
    )
    assert layer.apply(params, x[0, 0]).shape == (6, 6, 4)  # no batch axis


def test_conv_transpose_gan_generator_shapes():
    # 7x7 -> 14x14 -> 28x28, as a DCGAN generator upsamples to MNIST size.
    up1, up2 = ConvTranspose(64, (4, 4), strides=2), ConvTranspose(1, (4, 4), strides=(2, 2))
    p1 = up1.init(_key(0), (1, 7, 7, 128))
    p2 = up2.init(_key(1), up1.output_shape((1, 7, 7, 128)))
    assert p1["kernel"].shape == (4, 4, 128, 64) and p1["bias"].shape == (64,)
    h = up1.apply(p1, _normal(6, (3, 7, 7, 128)))
    assert h.shape == (3, 14, 14, 64) == up1.output_shape((3, 7, 7, 128))
    assert up2.apply(p2, h).shape == (3, 28, 28, 1) == up2.output_shape(h.shape)


@pytest.mark.parametrize("padding", ["SAME", "VALID", [(1, 2), (2, 1)]], ids=str)
@pytest.mark.parametrize("kernel_size", [(3, 3), (4, 5)], ids=str)
def test_conv_transpose_semantics_and_shapes(padding, kernel_size):
    layer = ConvTranspose(3, kernel_size, strides=(2, 3), padding=padding, kernel_dilation=(1, 2))
    shape = (2, 4, 5, 2)
    params = layer.init(_key(), shape)
    x = _normal(7, shape)
    y = layer.apply(params, x)
    assert y.shape == layer.output_shape(shape)
    expected = (
        conv_transpose(x, params["kernel"], (2, 3), padding, rhs_dilation=(1, 2)) + params["bias"]
    )
    np.testing.assert_allclose(np.asarray(y), np.asarray(expected), rtol=1e-6)


def test_conv_transpose_with_transposed_kernel_is_the_conv_gradient():
    conv = Conv(4, (3, 3), strides=2, padding="VALID", use_bias=False)
    up = ConvTranspose(3, (3, 3), strides=2, padding="VALID", use_bias=False, transpose_kernel=True)
    shape = (1, 9, 9, 3)
    params = conv.init(_key(), shape)
    assert up.init(_key(), conv.output_shape(shape))["kernel"].shape == params["kernel"].shape
    x, ct = _normal(8, shape), _normal(9, conv.output_shape(shape))
    _, vjp = fnn.vjp(lambda x: conv.apply(params, x), x)
    (expected,) = vjp(ct)
    np.testing.assert_allclose(
        np.asarray(up.apply(params, ct)), np.asarray(expected), rtol=1e-5, atol=1e-5
    )


def test_layers_differentiate_and_jit():
    layer = Conv(3, (3, 3), strides=2)
    params = layer.init(_key(), (1, 8, 8, 2))
    x = _normal(10, (4, 8, 8, 2))

    def loss(params, x):
        return fnp.mean(fnp.tanh(layer.apply(params, x)) ** 2)

    grads = fnn.grad(loss)(params, x)
    assert {k: v.shape for k, v in grads.items()} == {"kernel": (3, 3, 2, 3), "bias": (3,)}
    jitted = fnn.jit(fnn.grad(loss))(params, x)
    for k in grads:
        np.testing.assert_allclose(
            np.asarray(jitted[k]), np.asarray(grads[k]), rtol=1e-5, atol=1e-7
        )
    np.testing.assert_allclose(
        np.asarray(fnn.jit(layer.apply)(params, x)), np.asarray(layer.apply(params, x)), rtol=1e-6
    )


@pytest.mark.parametrize("name", ["fnn.lax.conv", "fnn.nn.conv", "fnn.nn.pooling"])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, extraglobs={"fnn": fnn, "fnp": fnp}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
