"""Activations: values against numpy/scipy, stability at extremes, gradients."""

import numpy as np
import pytest
from scipy import special

import fnn
import fnn.numpy as fnp
from fnn import nn
from tests.nn.gradcheck import check_grads

X = np.array([-30.0, -3.0, -1.2, -0.4, 0.3, 0.9, 2.5, 30.0])


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


REFERENCE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (nn.relu6, lambda x: np.clip(x, 0, 6)),
    "gelu_tanh": (nn.gelu, _np_gelu_tanh),
    "gelu_exact": (
        lambda x: nn.gelu(x, approximate=False),
        lambda x: 0.5 * x * (1 + special.erf(x / np.sqrt(2))),
    ),
    "silu": (nn.silu, lambda x: x * special.expit(x)),
    "swish": (nn.swish, lambda x: x * special.expit(x)),
    "tanh": (nn.tanh, np.tanh),
    "sigmoid": (nn.sigmoid, special.expit),
    "log_sigmoid": (nn.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
    "softplus": (nn.softplus, lambda x: np.logaddexp(0, x)),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    "leaky_relu_0.2": (
        lambda x: nn.leaky_relu(x, negative_slope=0.2),
        lambda x: np.where(x >= 0, x, 0.2 * x),
    ),
    "elu": (nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (
        nn.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    ),
}


@pytest.mark.parametrize("name", REFERENCE)
def test_values_float32(name):
    fn, ref = REFERENCE[name]
    y = fn(fnp.asarray(X, dtype=fnp.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), ref(X), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", REFERENCE)
def test_gradients(name, x64):
    fn, _ = REFERENCE[name]
    # Points away from kinks (0 for relu-like, 6 for relu6), where derivatives exist.
    x = fnp.asarray(np.array([-2.3, -0.7, 0.4, 1.9, 3.1]))
    check_grads(lambda x: fnp.sum(fn(x) * fnp.arange(1.0, 6.0)), (x,))


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid", "softplus", "elu", "selu", "silu"])
def test_gradients_finite_at_extremes(name):
    fn, _ = REFERENCE[name]
    g = fnn.grad(lambda x: fnp.sum(fn(x)))(fnp.asarray([-1e4, -100.0, 100.0, 1e4]))
    assert np.all(np.isfinite(np.asarray(g)))


def test_derivatives_at_zero():
    zero = fnp.asarray(0.0)
    assert float(fnn.grad(nn.relu)(zero)) == 0.0  # as JAX
    assert float(fnn.grad(nn.softplus)(zero)) == pytest.approx(0.5)
    assert float(fnn.grad(nn.sigmoid)(zero)) == pytest.approx(0.25)


def test_softplus_is_stable():
    y = nn.softplus(fnp.asarray([-1000.0, 1000.0]))
    np.testing.assert_allclose(np.asarray(y), [0.0, 1000.0])


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis, rng):
    x = rng.standard_normal((3, 4, 5)) * 50  # large logits: exp() would overflow unshifted
    ref_log = x - special.logsumexp(x, axis=axis, keepdims=True)
    np.testing.assert_allclose(
        np.asarray(nn.log_softmax(fnp.asarray(x), axis=axis)), ref_log, rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(
        np.asarray(nn.softmax(fnp.asarray(x), axis=axis)), np.exp(ref_log), atol=1e-6
    )


def test_softmax_huge_inputs():
    y = nn.softmax(fnp.asarray([1e30, 1e30, -1e30]))
    np.testing.assert_allclose(np.asarray(y), [0.5, 0.5, 0.0])
    assert np.all(np.isfinite(np.asarray(nn.log_softmax(fnp.asarray([3e38, 0.0])))))


def test_softmax_gradients(x64, rng):
    x = fnp.asarray(rng.standard_normal((3, 5)))
    check_grads(lambda x: fnp.sum(nn.softmax(x) * fnp.arange(15.0).reshape(3, 5)), (x,))
    check_grads(lambda x: fnp.sum(nn.log_softmax(x, axis=0) * fnp.arange(15.0).reshape(3, 5)), (x,))


def test_one_hot():
    y = nn.one_hot(fnp.asarray([[0, 2], [1, -1]]), 3)
    assert y.shape == (2, 2, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(
        np.asarray(y), np.eye(3, dtype=np.float32)[[[0, 2], [1, 0]]] * [[[1], [1]], [[1], [0]]]
    )
    y0 = nn.one_hot(fnp.asarray([0, 2]), 3, axis=0, dtype=fnp.int32)
    assert y0.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(y0), [[1, 0], [0, 0], [0, 1]])


def test_jit_and_vmap_agree(rng):
    x = fnp.asarray(rng.standard_normal((4, 6)).astype(np.float32))
    for fn in (nn.gelu, nn.softplus, nn.log_softmax, nn.elu):
        np.testing.assert_allclose(
            np.asarray(fnn.jit(fn)(x)), np.asarray(fn(x)), rtol=1e-6, atol=1e-6
        )
        np.testing.assert_allclose(
            np.asarray(fnn.vmap(fn)(x)), np.asarray(fn(x)), rtol=1e-6, atol=1e-6
        )
