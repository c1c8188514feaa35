"""Loss functions with optax's names; each returns per-example losses (no reduction).

Take the mean yourself (``fnp.mean(softmax_cross_entropy(logits, labels))``), so
masking and weighting stay in your hands, as in optax.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.nn import losses
    >>> logits = fnp.asarray([[0.0, 0.0], [0.0, 0.0]])
    >>> losses.softmax_cross_entropy_with_integer_labels(logits, fnp.asarray([0, 1]))
    Array([0.6931472, 0.6931472], dtype=float32)
"""

from __future__ import annotations

import fnn.numpy as fnp
from fnn import config
from fnn.core import Array
from fnn.nn.activations import ArrayLike, log_sigmoid, log_softmax
from fnn.scipy.special import logsumexp

__all__ = [
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "sigmoid_binary_cross_entropy",
    "squared_error",
    "l2_loss",
    "mean_squared_error",
]


def _check_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")


def smooth_labels(labels: ArrayLike, alpha: float) -> Array:
    """Mix one-hot ``labels`` with the uniform distribution: ``(1 - alpha) y + alpha / K``.

    Example:
        >>> smooth_labels(fnp.asarray([1.0, 0.0]), 0.5)
        Array([0.75, 0.25], dtype=float32)
    """
    _check_smoothing(alpha)
    labels = fnp.asarray(labels)
    return (1.0 - alpha) * labels + alpha / labels.shape[-1]


def softmax_cross_entropy(
    logits: ArrayLike, labels: ArrayLike, *, label_smoothing: float = 0.0
) -> Array:
    """``-sum(labels * log_softmax(logits), axis=-1)`` for probability (e.g. one-hot) labels.

    With ``label_smoothing = a`` the labels are first replaced by
    ``smooth_labels(labels, a)``. Returns an array of shape ``logits.shape[:-1]``.

    Example:
        >>> softmax_cross_entropy(fnp.zeros((1, 4)), fnp.asarray([[0.0, 1.0, 0.0, 0.0]]))
        Array([1.3862944], dtype=float32)
    """
    labels = fnp.asarray(labels)
    if label_smoothing:
        labels = smooth_labels(labels, label_smoothing)
    return -fnp.sum(labels * log_softmax(logits, axis=-1), axis=-1)


def softmax_cross_entropy_with_integer_labels(
    logits: ArrayLike, labels: ArrayLike, *, label_smoothing: float = 0.0
) -> Array:
    """Cross-entropy of ``logits`` (..., K) against integer class ``labels`` (...).

    Equal to ``softmax_cross_entropy(logits, one_hot(labels, K), label_smoothing=...)``
    but reads one logit per example instead of building the one-hot matrix.

    Example:
        >>> softmax_cross_entropy_with_integer_labels(fnp.zeros((1, 4)), fnp.asarray([1]))
        Array([1.3862944], dtype=float32)
    """
    _check_smoothing(label_smoothing)
    labels = fnp.asarray(labels)
    if not fnp.issubdtype(labels.dtype, fnp.integer):
        raise TypeError(
            "softmax_cross_entropy_with_integer_labels: labels must be integers, got "
            f"{labels.dtype}; for one-hot or probability labels use softmax_cross_entropy."
        )
    # optax's form: log p_label = logit_label - logsumexp(logits), without normalizing
    # the other logits. It also gives optax's result on +inf logits (inf, not the NaN of
    # inf - inf inside a log_softmax) when the label's own logit is finite.
    logits = fnp.asarray(logits)
    if not fnp.issubdtype(logits.dtype, fnp.inexact):
        logits = logits.astype(config.default_float())
    normalizer = logsumexp(logits, axis=-1)
    picked = fnp.take_along_axis(logits, fnp.expand_dims(labels, -1), axis=-1)[..., 0]
    loss = normalizer - picked
    if label_smoothing:
        # Smoothed labels put alpha/K on every class: the extra term is -mean(log p).
        mean_logp = fnp.mean(logits, axis=-1) - normalizer
        loss = (1.0 - label_smoothing) * loss - label_smoothing * mean_logp
    return loss


def sigmoid_binary_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> Array:
    """Elementwise ``-y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z))``, stable for large ``|z|``.

    Example:
        >>> sigmoid_binary_cross_entropy(fnp.asarray([0.0]), fnp.asarray([1.0]))
        Array([0.6931472], dtype=float32)
    """
    logits = fnp.asarray(logits)
    labels = fnp.asarray(labels).astype(logits.dtype)
    return -labels * log_sigmoid(logits) - (1.0 - labels) * log_sigmoid(-logits)


def squared_error(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """Elementwise ``(predictions - targets) ** 2`` (targets default to zero).

    Example:
        >>> squared_error(fnp.asarray([3.0]), fnp.asarray([1.0]))
        Array([4.], dtype=float32)
    """
    predictions = fnp.asarray(predictions)
    diff = predictions if targets is None else predictions - targets
    return diff**2


def l2_loss(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """Elementwise ``0.5 * (predictions - targets) ** 2``, as optax.

    Example:
        >>> l2_loss(fnp.asarray([3.0]), fnp.asarray([1.0]))
        Array([2.], dtype=float32)
    """
    return 0.5 * squared_error(predictions, targets)


def mean_squared_error(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """The mean over all elements of ``(predictions - targets) ** 2``: a scalar.

    Example:
        >>> mean_squared_error(fnp.asarray([1.0, 3.0]), fnp.asarray([1.0, 1.0]))
        Array(2., dtype=float32)
    """
    return fnp.mean(squared_error(predictions, targets))
