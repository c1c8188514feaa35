"""Activation functions with jax.nn's names: elementwise nonlinearities, softmax, one_hot.

All are plain functions of arrays, differentiable and jit-able. In a ``Sequential``
pass them as they are (``Sequential([Dense(64), relu, Dense(10)])``): it wraps plain
functions in a parameter-free ``Lambda`` layer.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.nn import relu, softmax
    >>> relu(fnp.asarray([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
    >>> softmax(fnp.zeros(2))
    Array([0.5, 0.5], dtype=float32)
"""

from __future__ import annotations

import math
from typing import Any

import fnn.numpy as fnp
from fnn import config, lax
from fnn.core import Array
from fnn.lax import stop_gradient

ArrayLike = Any  # an fnn array, a numpy array or a Python number

__all__ = [
    "relu",
    "relu6",
    "gelu",
    "silu",
    "swish",
    "tanh",
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "leaky_relu",
    "elu",
    "selu",
    "softmax",
    "log_softmax",
    "one_hot",
]


def _float(x):
    x = fnp.asarray(x)
    return x if fnp.issubdtype(x.dtype, fnp.inexact) else x.astype(config.default_float())


def _max0(x):
    # max(x, 0) as a constant: 0 below zero, NaN at NaN (as np.maximum and JAX's relu).
    # It fills the branch of a select that `x > 0` rejects, so that NaN propagates while
    # the derivative stays the select's: 1 where x > 0, else 0 (at 0 and at NaN, as
    # JAX's custom derivative). jit's simplify pass turns select(x > 0, x, max(x, 0))
    # back into the single max.
    return fnp.maximum(stop_gradient(x), 0)


def relu(x: ArrayLike) -> Array:
    """``max(x, 0)``, with derivative 0 at 0 (as JAX); NaN stays NaN.

    Example:
        >>> relu(fnp.asarray([-1.0, 0.0, 3.0, float("nan")]))
        Array([ 0.,  0.,  3., nan], dtype=float32)
    """
    x = fnp.asarray(x)
    return fnp.where(x > 0, x, _max0(x))


def relu6(x: ArrayLike) -> Array:
    """``min(max(x, 0), 6)``, with derivative 0 at 0 and 6 (as JAX); NaN stays NaN.

    Example:
        >>> relu6(fnp.asarray([-1.0, 7.0, float("nan")]))
        Array([ 0.,  6., nan], dtype=float32)
    """
    x = fnp.asarray(x)
    return fnp.where(x > 0, fnp.where(x < 6, x, fnp.full_like(x, 6)), _max0(x))


def gelu(x: ArrayLike, approximate: bool = True) -> Array:
    """Gaussian error linear unit ``x * Phi(x)``.

    ``approximate=True`` (JAX's default) uses the tanh approximation
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; ``False`` the exact erf form.

    Example:
        >>> gelu(fnp.asarray([0.0, 1.0]), approximate=False)
        Array([0.       , 0.8413447], dtype=float32)
    """
    x = _float(x)
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + fnp.tanh(c * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + lax.erf(x * (1.0 / math.sqrt(2.0))))


def sigmoid(x: ArrayLike) -> Array:
    """The logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    Example:
        >>> sigmoid(fnp.asarray([0.0]))
        Array([0.5], dtype=float32)
    """
    return lax.logistic(_float(x))


def silu(x: ArrayLike) -> Array:
    """SiLU (swish): ``x * sigmoid(x)``.

    Example:
        >>> silu(fnp.asarray([0.0]))
        Array([0.], dtype=float32)
    """
    x = _float(x)
    return x * sigmoid(x)


swish = silu


def tanh(x: ArrayLike) -> Array:
    """Hyperbolic tangent.

    Example:
        >>> tanh(fnp.asarray([0.0]))
        Array([0.], dtype=float32)
    """
    return fnp.tanh(x)


def _split_by_sign(x):
    # Both branches of a `where` are evaluated and differentiated, so each branch gets an
    # input on which it is finite; otherwise an inf in the unused branch becomes a NaN
    # gradient (0 * inf).
    pos = x > 0
    zero = fnp.zeros_like(x)
    return pos, fnp.where(pos, x, zero), fnp.where(pos, zero, x)


def softplus(x: ArrayLike) -> Array:
    """``log(1 + exp(x))``, computed without overflow for any ``x``.

    Example:
        >>> softplus(fnp.asarray([0.0, 1000.0]))
        Array([6.931472e-01, 1.000000e+03], dtype=float32)
    """
    x = _float(x)
    pos, xp, xn = _split_by_sign(x)
    return fnp.where(pos, xp + fnp.log1p(fnp.exp(-xp)), fnp.log1p(fnp.exp(xn)))


def log_sigmoid(x: ArrayLike) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``, stable.

    Example:
        >>> log_sigmoid(fnp.asarray([-1000.0]))
        Array([-1000.], dtype=float32)
    """
    return -softplus(-_float(x))


def leaky_relu(x: ArrayLike, negative_slope: float = 1e-2) -> Array:
    """``x`` where ``x >= 0``, else ``negative_slope * x``.

    Example:
        >>> leaky_relu(fnp.asarray([-2.0, 3.0]))
        Array([-0.02,  3.  ], dtype=float32)
    """
    x = _float(x)
    return fnp.where(x >= 0, x, negative_slope * x)


def elu(x: ArrayLike, alpha: float = 1.0) -> Array:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Example:
        >>> elu(fnp.asarray([-1000.0, 2.0]))
        Array([-1.,  2.], dtype=float32)
    """
    x = _float(x)
    pos, xp, xn = _split_by_sign(x)
    return fnp.where(pos, xp, alpha * fnp.expm1(xn))


def selu(x: ArrayLike) -> Array:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017).

    Example:
        >>> selu(fnp.asarray([1.0]))
        Array([1.050701], dtype=float32)
    """
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def _shifted(x, axis):
    # Subtracting the max keeps exp() <= 1. The max is a constant of the function's
    # value (softmax is shift-invariant), so it needs no gradient.
    return x - stop_gradient(fnp.max(x, axis=axis, keepdims=True))


def softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1) -> Array:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable for large inputs.

    Example:
        >>> softmax(fnp.asarray([1000.0, 1000.0]))
        Array([0.5, 0.5], dtype=float32)
    """
    x = _float(x)
    e = fnp.exp(_shifted(x, axis))
    return e / fnp.sum(e, axis=axis, keepdims=True)


def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1) -> Array:
    """``x - logsumexp(x)`` along ``axis``, stable for large inputs.

    Example:
        >>> log_softmax(fnp.asarray([0.0, 0.0]))
        Array([-0.6931472, -0.6931472], dtype=float32)
    """
    s = _shifted(_float(x), axis)
    return s - fnp.log(fnp.sum(fnp.exp(s), axis=axis, keepdims=True))


def one_hot(x: ArrayLike, num_classes: int, *, dtype: Any = None, axis: int = -1) -> Array:
    """One-hot encoding of integer ``x`` along a new axis of size ``num_classes``.

    Out-of-range indices (e.g. -1) give all-zero rows, as in JAX.

    Example:
        >>> one_hot(fnp.asarray([0, 2]), 3)
        Array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    x = fnp.asarray(x)
    dtype = config.default_float() if dtype is None else dtype
    out = fnp.expand_dims(x, -1) == fnp.arange(num_classes, dtype=x.dtype)
    out = out.astype(dtype)
    return out if axis in (-1, out.ndim - 1) else fnp.moveaxis(out, -1, axis)
