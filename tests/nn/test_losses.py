"""Losses against their formulas, label smoothing, integer/one-hot agreement, gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import fnn.numpy as fnp
from fnn import nn
from tests.nn.gradcheck import check_grads


def _np_log_softmax(z):
    return z - special.logsumexp(z, axis=-1, keepdims=True)


def test_softmax_cross_entropy(rng):
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    labels = special.softmax(rng.standard_normal((4, 6)), axis=-1).astype(np.float32)
    got = nn.softmax_cross_entropy(fnp.asarray(logits), fnp.asarray(labels))
    assert got.shape == (4,)
    np.testing.assert_allclose(
        np.asarray(got), -np.sum(labels * _np_log_softmax(logits), -1), rtol=1e-5
    )


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5])
def test_label_smoothing_formula(alpha, rng):
    logits = rng.standard_normal((5, 7)) * 3
    labels = rng.integers(0, 7, size=5)
    smoothed = np.eye(7)[labels] * (1 - alpha) + alpha / 7
    expected = -np.sum(smoothed * _np_log_softmax(logits), -1)
    onehot = nn.softmax_cross_entropy(
        fnp.asarray(logits), nn.one_hot(fnp.asarray(labels), 7), label_smoothing=alpha
    )
    integer = nn.softmax_cross_entropy_with_integer_labels(
        fnp.asarray(logits), fnp.asarray(labels), label_smoothing=alpha
    )
    np.testing.assert_allclose(np.asarray(onehot), expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(integer), expected, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 4),
    classes=st.integers(2, 6),
    alpha=st.floats(0.0, 1.0),
    scale=st.floats(0.1, 100.0),
    seed=st.integers(0, 2**16),
)
def test_integer_and_one_hot_agree(batch, classes, alpha, scale, seed):
    r = np.random.default_rng(seed)
    logits = fnp.asarray((r.standard_normal((batch, classes)) * scale).astype(np.float32))
    labels = fnp.asarray(r.integers(0, classes, size=batch).astype(np.int32))
    a = nn.softmax_cross_entropy_with_integer_labels(logits, labels, label_smoothing=alpha)
    b = nn.softmax_cross_entropy(logits, nn.one_hot(labels, classes), label_smoothing=alpha)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-4)


def test_integer_labels_with_extra_axes(rng):
    logits = rng.standard_normal((2, 3, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=(2, 3))
    got = nn.softmax_cross_entropy_with_integer_labels(fnp.asarray(logits), fnp.asarray(labels))
    expected = -np.take_along_axis(_np_log_softmax(logits), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)


def test_integer_labels_must_be_integers():
    with pytest.raises(TypeError, match="integers"):
        nn.softmax_cross_entropy_with_integer_labels(fnp.zeros((2, 3)), fnp.zeros(2))


def test_bad_label_smoothing():
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.softmax_cross_entropy(fnp.zeros((1, 2)), fnp.ones((1, 2)), label_smoothing=1.5)


def test_sigmoid_binary_cross_entropy_stable():
    logits = np.array([-1000.0, -20.0, -1.0, 0.0, 2.0, 50.0, 1000.0])
    labels = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0])
    expected = labels * np.logaddexp(0, -logits) + (1 - labels) * np.logaddexp(0, logits)
    got = nn.sigmoid_binary_cross_entropy(fnp.asarray(logits), fnp.asarray(labels))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)


def test_regression_losses():
    p, t = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    np.testing.assert_allclose(
        np.asarray(nn.squared_error(fnp.asarray(p), fnp.asarray(t))), (p - t) ** 2
    )
    np.testing.assert_allclose(
        np.asarray(nn.l2_loss(fnp.asarray(p), fnp.asarray(t))), 0.5 * (p - t) ** 2
    )
    np.testing.assert_allclose(np.asarray(nn.l2_loss(fnp.asarray(p))), 0.5 * p**2)
    assert float(nn.mean_squared_error(fnp.asarray(p), fnp.asarray(t))) == pytest.approx(
        np.mean((p - t) ** 2)
    )


def test_gradients(x64, rng):
    logits = fnp.asarray(rng.standard_normal((3, 4)))
    labels = fnp.asarray(rng.integers(0, 4, size=3))
    probs = fnp.asarray(special.softmax(rng.standard_normal((3, 4)), -1))
    check_grads(
        lambda z: fnp.sum(nn.softmax_cross_entropy(z, probs, label_smoothing=0.1)), (logits,)
    )
    check_grads(
        lambda z: fnp.sum(
            nn.softmax_cross_entropy_with_integer_labels(z, labels, label_smoothing=0.2)
        ),
        (logits,),
    )
    targets = fnp.asarray(rng.uniform(size=(3, 4)))
    check_grads(lambda z: fnp.sum(nn.sigmoid_binary_cross_entropy(z, targets)), (logits,))
    check_grads(lambda p, t: nn.mean_squared_error(p, t), (logits, targets), argnums=(0, 1))
