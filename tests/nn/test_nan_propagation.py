"""NaN and inf propagate as in JAX: activations, losses, reductions, maximum/minimum/clip.

Every expectation below is JAX's result written out by hand (JAX is not a dependency),
derived from its source (jax/_src/nn/functions.py, jax/_src/lax/lax.py,
jax/_src/ops/special.py, optax/losses/_classification.py):

- ``jax.nn.relu`` is ``jnp.maximum(x, 0)`` with the custom derivative
  ``select(x > 0, g, 0)``: NaN in, NaN out, derivative 0 at NaN and at 0. ``relu6`` is
  ``minimum(maximum(x, 0), 6)`` with derivative ``select((x > 0) & (x < 6), g, 0)``.
- ``lax.max``/``lax.min`` differentiate by ``g * (x == z) / (1 + (y == z))``: 0 at a NaN,
  halves at a tie.
- ``reduce_max``/``reduce_min`` differentiate by ``sum(g * mask) / count`` with the float
  mask ``x == max``: a NaN max matches no entry, so every cotangent is ``(ct/0) * 0 =
  NaN``; a non-finite cotangent reaches every entry of its window (``inf * 0 = NaN``).
- ``argmax``/``argmin`` return the first NaN's index (as numpy).

Each value and gradient is checked eager, under ``jit``, ``jit(grad)``, ``grad(jit)``
and ``vmap``.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import lax, nn
from fnn.nn import losses
from fnn.scipy.special import logsumexp

nan, inf = np.nan, np.inf
F32 = np.float32

# JAX's constants for selu.
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _same(actual, expected, rtol=1e-6, atol=1e-7):
    """Equal values, with NaN exactly where ``expected`` has NaN and infs of one sign."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def _values(f, x):
    """``f(x)`` eager, under jit, and vmapped over the leading axis (f is elementwise or
    acts on the last axis)."""
    return {
        "eager": f(x),
        "jit": fnn.jit(f)(x),
        "vmap": fnn.vmap(f)(x),
    }


def _grads(f, x):
    """The gradient of ``sum(f(x))`` in every composition of grad, jit and vmap."""

    def total(x):
        return fnp.sum(f(x))

    def total_vmapped(x):
        return fnp.sum(fnn.vmap(f)(x))

    g = fnn.grad(total)
    return {
        "grad": g(x),
        "jit(grad)": fnn.jit(g)(x),
        "grad(jit)": fnn.grad(fnn.jit(total))(x),
        "grad(vmap)": fnn.grad(total_vmapped)(x),
        "vmap(grad)": fnn.vmap(fnn.grad(lambda r: fnp.sum(f(r))))(x),
    }


def _check_all(results, expected):
    for mode, got in results.items():
        try:
            _same(got, expected)
        except AssertionError as e:
            raise AssertionError(f"{mode}: {e}") from None


# ---- activations ---------------------------------------------------------------------------

POINTS = [nan, inf, -inf, 0.0]

# name: (function, JAX's values at POINTS, JAX's derivatives at POINTS)
ACTIVATIONS = {
    # maximum(x, 0) and select(x > 0, g, 0).
    "relu": (nn.relu, [nan, inf, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]),
    # minimum(maximum(x, 0), 6) and select((x > 0) & (x < 6), g, 0).
    "relu6": (nn.relu6, [nan, 6.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]),
    # where(x >= 0, x, 0.01 x): NaN takes the second branch, slope 0.01.
    "leaky_relu": (nn.leaky_relu, [nan, inf, -inf, 0.0], [0.01, 1.0, 0.01, 1.0]),
    # where(x > 0, x, expm1(where(x > 0, 0, x))): at NaN expm1'(NaN) = exp(NaN) = NaN;
    # at -inf expm1' = exp(-inf) = 0.
    "elu": (nn.elu, [nan, inf, -1.0, 0.0], [nan, 1.0, 0.0, 1.0]),
    "selu": (
        nn.selu,
        [nan, inf, -SELU_SCALE * SELU_ALPHA, 0.0],
        [nan, SELU_SCALE, 0.0, SELU_SCALE * SELU_ALPHA],
    ),
    # x * 0.5 (1 + tanh(...)): -inf * 0 = NaN; at +-inf the cotangent reaching tanh is
    # +-inf and tanh' = 0 there, so the derivative is inf * 0 = NaN.
    "gelu": (nn.gelu, [nan, inf, nan, 0.0], [nan, nan, nan, 0.5]),
    "gelu_exact": (
        lambda x: nn.gelu(x, approximate=False),
        [nan, inf, nan, 0.0],
        [nan, nan, nan, 0.5],
    ),
    # logaddexp(x, 0), derivative exp(x - out) with +inf replaced by 0 in both.
    "softplus": (nn.softplus, [nan, inf, 0.0, math.log(2.0)], [nan, 1.0, 0.0, 0.5]),
    "log_sigmoid": (nn.log_sigmoid, [nan, 0.0, -inf, -math.log(2.0)], [nan, 0.0, 1.0, 0.5]),
    # x * sigmoid(x): -inf * 0 = NaN; the derivative's x * sigmoid'(x) is inf * 0.
    "silu": (nn.silu, [nan, inf, nan, 0.0], [nan, nan, nan, 0.5]),
    "sigmoid": (nn.sigmoid, [nan, 1.0, 0.0, 0.5], [nan, 0.0, 0.0, 0.25]),
    "tanh": (nn.tanh, [nan, 1.0, -1.0, 0.0], [nan, 0.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_and_derivatives_at_nan_and_inf(name):
    f, values, derivatives = ACTIVATIONS[name]
    x = fnp.asarray(POINTS, dtype=F32)
    _check_all(_values(f, x), values)
    _check_all(_grads(f, x), derivatives)


def test_relu_was_zero_at_nan_and_is_not():
    # The bug this file guards: where(x > 0, x, 0) gave relu(nan) == 0.
    x = fnp.asarray([nan, -1.0, 2.0])
    for f in (nn.relu, fnn.jit(nn.relu)):
        _same(f(x), [nan, 0.0, 2.0])
    _same(nn.relu6(x), [nan, 0.0, 2.0])


def test_relu_keeps_jax_derivative_at_zero_and_keeps_integers():
    zero = fnp.asarray([0.0, -0.0])
    for g in (
        fnn.grad(lambda x: fnp.sum(nn.relu(x))),
        fnn.jit(fnn.grad(lambda x: fnp.sum(nn.relu(x)))),
    ):
        _same(g(zero), [0.0, 0.0])
    y = nn.relu(fnp.asarray([-2, 0, 3]))
    assert y.dtype == np.int32  # jnp.maximum(x, 0) keeps the integer dtype
    np.testing.assert_array_equal(np.asarray(y), [0, 0, 3])


def test_jit_relu_is_one_max():
    # The select that carries relu's derivative is dropped by jit when only the value
    # is wanted: the program is max(x, 0), and the gradient program is the select alone.
    x = fnp.ones((4, 3))
    prims = [e.primitive.name for e in fnn.make_jaxpr(nn.relu, optimize=True)(x).jaxpr.eqns]
    assert "max" in prims and "select" not in prims
    g = fnn.grad(lambda x: fnp.sum(nn.relu(x)))
    prims = [e.primitive.name for e in fnn.make_jaxpr(g, optimize=True)(x).jaxpr.eqns]
    assert "max" not in prims and prims.count("select") == 1


@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_rows_with_nan_or_plus_inf_are_all_nan(fn):
    # jax.nn.softmax/log_softmax: x - max(x); a NaN or +inf makes every entry of the row
    # NaN (inf - inf), and so every derivative of that row. -inf is an ordinary 0 weight,
    # and a row of only -inf is NaN (-inf - -inf).
    x = fnp.asarray(
        [[nan, 1.0, 2.0], [inf, 1.0, 2.0], [-inf, -inf, -inf], [-inf, 1.0, 2.0]], dtype=F32
    )
    w = fnp.asarray([1.0, 2.0, 3.0])
    p1 = 1 / (1 + math.e)  # softmax([1, 2])
    if fn is nn.softmax:
        last, last_grad = [0.0, p1, 1 - p1], [0.0, p1 * (2 - (2 * p1 + 3 * (1 - p1)))]
        last_grad.append((1 - p1) * (3 - (2 * p1 + 3 * (1 - p1))))
    else:
        lse = 2 + math.log1p(math.exp(-1))
        last, last_grad = [-inf, 1 - lse, 2 - lse], [1.0, 2 - 6 * p1, 3 - 6 * (1 - p1)]
    row_nan = [nan, nan, nan]
    _check_all(_values(fn, x), [row_nan, row_nan, row_nan, last])
    _check_all(_grads(lambda x: fn(x) * w, x), [row_nan, row_nan, row_nan, last_grad])


# ---- losses ---------------------------------------------------------------------------------


def test_integer_label_cross_entropy_follows_optax_at_nan_and_inf():
    # optax: logsumexp(logits) - logits[label], logsumexp with the max replaced by 0
    # where it is not finite. A +inf logit: logsumexp = inf, so the loss is inf when the
    # label's logit is finite (it was NaN here before, from a log_softmax's inf - inf),
    # and its derivative (1 / inf) * exp(inf) = 0 * inf = NaN at the inf, 0 elsewhere.
    logits = fnp.asarray(
        [[nan, 1.0, 2.0], [inf, 1.0, 2.0], [inf, 1.0, 2.0], [-inf, 1.0, 2.0], [-inf] * 3],
        dtype=F32,
    )
    labels = fnp.asarray([1, 1, 0, 0, 0])
    p1 = 1 / (1 + math.e)
    lse12 = 2 + math.log1p(math.exp(-1))

    def f(z):
        return losses.softmax_cross_entropy_with_integer_labels(z, labels)

    expected_loss = [nan, inf, nan, inf, nan]
    expected_grad = [
        [nan, nan, nan],
        [nan, -1.0, 0.0],
        [nan, 0.0, 0.0],
        [-1.0, p1, 1 - p1],
        [nan, nan, nan],  # logsumexp of -infs: (1 / 0) * exp(-inf) = inf * 0
    ]
    _same(f(logits), expected_loss)
    _same(fnn.jit(f)(logits), expected_loss)
    _check_all(_grads_of_loss(f, logits), expected_grad)
    # A -inf logit is an ordinary zero probability when it is not the label's.
    _same(
        losses.softmax_cross_entropy_with_integer_labels(logits[3:4], fnp.asarray([1])),
        [lse12 - 1.0],
    )


def _grads_of_loss(f, x):
    g = fnn.grad(lambda z: fnp.sum(f(z)))
    return {"grad": g(x), "jit(grad)": fnn.jit(g)(x)}


def test_probability_label_cross_entropy_is_nan_on_a_minus_inf_logit_with_zero_label():
    # optax: -sum(labels * log_softmax(logits)): 0 * -inf = NaN in the value, while the
    # derivative (softmax - labels) stays finite.
    logits = fnp.asarray([[-inf, 1.0, 2.0]], dtype=F32)
    labels = fnp.asarray([[0.0, 1.0, 0.0]])
    p1 = 1 / (1 + math.e)

    def f(z):
        return losses.softmax_cross_entropy(z, labels)

    _same(f(logits), [nan])
    _same(fnn.jit(f)(logits), [nan])
    _check_all(_grads_of_loss(f, logits), [[0.0, p1 - 1, 1 - p1]])
    nan_logits = fnp.asarray([[nan, 1.0, 2.0]], dtype=F32)
    _same(f(nan_logits), [nan])
    _check_all(_grads_of_loss(f, nan_logits), [[nan, nan, nan]])


def test_sigmoid_binary_cross_entropy_at_nan_and_inf():
    # optax: -y log_sigmoid(z) - (1 - y) log_sigmoid(-z). With y = 1: at z = inf the
    # second term is 0 * -inf = NaN (its derivative 0 * 1 stays 0); at z = -inf the loss
    # is inf with derivative -1. With y = 1/2 both infs give inf, derivatives +-1/2.
    z = fnp.asarray([nan, inf, -inf, inf, -inf], dtype=F32)
    y = fnp.asarray([1.0, 1.0, 1.0, 0.5, 0.5])

    def f(z):
        return losses.sigmoid_binary_cross_entropy(z, y)

    _same(f(z), [nan, nan, inf, inf, inf])
    _same(fnn.jit(f)(z), [nan, nan, inf, inf, inf])
    _check_all(_grads_of_loss(f, z), [nan, 0.0, -1.0, 0.5, -0.5])


@pytest.mark.parametrize(
    "loss, scale", [(losses.squared_error, 1.0), (losses.l2_loss, 0.5)], ids=["squared", "l2"]
)
def test_squared_losses_at_nan_and_inf(loss, scale):
    # errors ** 2 and its derivative 2 * errors: NaN stays NaN, +-inf gives inf and +-inf.
    x = fnp.asarray([nan, inf, -inf, 3.0], dtype=F32)
    t = fnp.asarray([1.0, 1.0, 1.0, 1.0])
    _same(loss(x, t), [nan, inf, inf, 4.0 * scale])
    _check_all(_grads_of_loss(lambda p: loss(p, t), x), [nan, 2 * scale * inf, -inf, 4.0 * scale])
    # The mean is NaN, but its cotangent 1/n is finite: the gradient stays elementwise.
    _same(losses.mean_squared_error(x, t), nan)
    _check_all(_grads_of_loss(lambda p: losses.mean_squared_error(p, t), x), [nan, inf, -inf, 1.0])


# ---- reductions ---------------------------------------------------------------------------

# (x, JAX's max, JAX's gradient of max, JAX's min, JAX's gradient of min)
EXTREMA = [
    ([nan, 1.0, -2.0], nan, [nan] * 3, nan, [nan] * 3),
    ([1.0, nan, nan], nan, [nan] * 3, nan, [nan] * 3),
    ([inf, 1.0, -2.0], inf, [1.0, 0.0, 0.0], -2.0, [0.0, 0.0, 1.0]),
    ([-inf, 1.0, -2.0], 1.0, [0.0, 1.0, 0.0], -inf, [1.0, 0.0, 0.0]),
    ([inf, inf, 1.0], inf, [0.5, 0.5, 0.0], 1.0, [0.0, 0.0, 1.0]),
    ([-inf, -inf, -inf], -inf, [1 / 3] * 3, -inf, [1 / 3] * 3),
    ([1.0, 1.0, -2.0], 1.0, [0.5, 0.5, 0.0], -2.0, [0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("case", EXTREMA, ids=[str(c[0]) for c in EXTREMA])
def test_max_and_min_with_nan_and_inf(case):
    x, mx, gmx, mn, gmn = case
    x = fnp.asarray([x, x], dtype=F32)  # two rows: the reduction runs along the last axis
    for fn, value, grad in ((fnp.max, mx, gmx), (fnp.min, mn, gmn)):

        def f(x, fn=fn):
            return fn(x, axis=-1)

        _check_all(_values(f, x), [value, value])
        _check_all(_grads(f, x), [grad, grad])


def test_grad_of_max_is_nan_where_jax_is():
    # The example of the issue: the max is NaN and so is every entry of its gradient.
    x = fnp.asarray([nan, 1.0, -2.0])
    _same(fnp.max(x), nan)
    _same(fnn.grad(fnp.max)(x), [nan, nan, nan])
    _same(fnn.jit(fnn.grad(fnp.max))(x), [nan, nan, nan])
    # Forward mode: sum(t * mask) / count = 0 / 0.
    out, tangent = fnn.jvp(fnp.max, (x,), (fnp.ones(3),))
    _same(out, nan)
    _same(tangent, nan)


def test_non_finite_cotangent_reaches_the_whole_window():
    # JAX: (ct / count) * mask; with ct = inf the entries off the max get inf * 0 = NaN.
    x = fnp.asarray([3.0, 1.0, -2.0])
    g = fnn.grad(lambda x: fnp.max(x) * np.float32(inf))
    _same(g(x), [inf, nan, nan])
    _same(fnn.jit(g)(x), [inf, nan, nan])


def test_reshape_max_pool_gradient_with_a_nan_window():
    # A 2x2 max-pool written as a max over reshaped windows (the benchmark cnn's, and a
    # reduce_max in JAX too): the NaN's window has NaN max and NaN gradients; ties split.
    x = np.array([[1.0, 2.0, 5.0, 5.0], [3.0, nan, 5.0, 5.0]], F32)

    def pool(x):
        return fnp.max(fnp.reshape(x, (1, 2, 2, 2)), axis=(1, 3))

    _same(pool(x), [[nan, 5.0]])
    expected = [[nan, nan, 0.25, 0.25], [nan, nan, 0.25, 0.25]]
    _check_all(_grads_of_loss(pool, fnp.asarray(x)), expected)


def test_argmax_and_argmin_return_the_first_nan():
    x = fnp.asarray([[1.0, nan, 3.0, nan], [1.0, inf, inf, -inf], [-inf, 2.0, -inf, 0.0]], F32)
    # numpy's and JAX's rule: a NaN wins, and the first one; among equal values (inf,
    # -inf) the first one.
    cases = ((fnp.argmax, np.argmax, [1, 1, 1]), (fnp.argmin, np.argmin, [1, 3, 0]))
    for fn, np_fn, expected in cases:

        def f(x, fn=fn):
            return fn(x, axis=-1)

        np.testing.assert_array_equal(np_fn(np.asarray(x), axis=-1), expected)
        for got in _values(f, x).values():
            np.testing.assert_array_equal(np.asarray(got), expected)
    assert int(fnp.argmax(fnp.asarray([0.0, nan, nan]))) == 1
    assert int(fnn.jit(fnp.argmin)(fnp.asarray([0.0, nan, nan]))) == 1


LSE_CASES = [
    # (x, JAX's logsumexp, JAX's gradient): the max is replaced by 0 where not finite.
    ([nan, 1.0, -2.0], nan, [nan] * 3),
    ([inf, 1.0, -2.0], inf, [nan, 0.0, 0.0]),  # (1 / inf) * exp(x): 0 * inf at the inf
    ([inf, inf, 1.0], inf, [nan, nan, 0.0]),
    ([-inf, -inf, -inf], -inf, [nan] * 3),  # (1 / 0) * exp(-inf) = inf * 0
    ([-inf, 0.0, 0.0], math.log(2.0), [0.0, 0.5, 0.5]),
]


@pytest.mark.parametrize("case", LSE_CASES, ids=[str(c[0]) for c in LSE_CASES])
def test_logsumexp_at_nan_and_inf(case):
    x, value, grad = case
    x = fnp.asarray([x, x], dtype=F32)

    def f(x):
        return logsumexp(x, axis=-1)

    _check_all(_values(f, x), [value, value])
    _check_all(_grads(f, x), [grad, grad])


# ---- maximum, minimum, clip, fmax, fmin ---------------------------------------------------

A = [nan, 1.0, inf, -inf, 2.0, nan]
B = [1.0, nan, 1.0, 1.0, 2.0, nan]


@pytest.mark.parametrize(
    "fn, value, ga, gb",
    [
        # lax.max: NaN wins the value; the derivative is (x == z) / (1 + (y == z)).
        (fnp.maximum, [nan, nan, inf, 1.0, 2.0, nan], [0, 0, 1, 0, 0.5, 0], [0, 0, 0, 1, 0.5, 0]),
        (fnp.minimum, [nan, nan, 1.0, -inf, 2.0, nan], [0, 0, 0, 1, 0.5, 0], [0, 0, 1, 0, 0.5, 0]),
        # jnp.fmax: where((a > b) | isnan(b), a, b); the picked operand takes all.
        (fnp.fmax, [1.0, 1.0, inf, 1.0, 2.0, nan], [0, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0]),
        (fnp.fmin, [1.0, 1.0, 1.0, -inf, 2.0, nan], [0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]),
    ],
    ids=["maximum", "minimum", "fmax", "fmin"],
)
def test_binary_extrema_at_nan_and_inf(fn, value, ga, gb):
    a, b = fnp.asarray(A, dtype=F32), fnp.asarray(B, dtype=F32)
    _same(fn(a, b), value)
    _same(fnn.jit(fn)(a, b), value)
    _same(fnn.vmap(fn)(a, b), value)

    def total(a, b):
        return fnp.sum(fn(a, b))

    for g in (fnn.grad(total, argnums=(0, 1)), fnn.jit(fnn.grad(total, argnums=(0, 1)))):
        got_a, got_b = g(a, b)
        _same(got_a, ga)
        _same(got_b, gb)


def test_clip_at_nan_and_inf():
    # jnp.clip = minimum(hi, maximum(lo, x)): NaN stays NaN with derivative 0; at the
    # bound itself the tie halves the derivative.
    x = fnp.asarray([nan, inf, -inf, 0.5, 1.0], dtype=F32)

    def f(x):
        return fnp.clip(x, -1.0, 1.0)

    _check_all(_values(f, x), [nan, 1.0, -1.0, 0.5, 1.0])
    _check_all(_grads(f, x), [0.0, 0.0, 0.0, 1.0, 0.5])


# ---- a network with one NaN weight ---------------------------------------------------------


def _mlp():
    model = nn.Sequential([nn.Dense(8), nn.relu, nn.Dense(1)])
    params = model.init(fnn.random.key(0), (1, 3))
    w = np.array(params["dense_0"]["kernel"])
    w[0, 2] = nan
    params["dense_0"]["kernel"] = fnp.asarray(w)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(F32)
    y = np.random.default_rng(2).standard_normal((5, 1)).astype(F32)
    return model, params, x, y


def test_mlp_with_one_nan_weight_has_nan_loss_and_gradients():
    model, params, x, y = _mlp()

    def loss(params, x, y):
        return losses.mean_squared_error(model.apply(params, x), y)

    # JAX's pattern: hidden unit 2 is NaN for every example, so are the outputs, the
    # loss and its cotangents. relu'(NaN) = 0 stops them at unit 2 itself: that column
    # of the first layer's gradient is 0, every other column is NaN where some example
    # activates it (the NaN cotangent passes relu' = 1 there).
    w1, b1 = (np.asarray(params["dense_0"][k]) for k in ("kernel", "bias"))
    active = ((x @ np.nan_to_num(w1) + b1) > 0).any(axis=0)
    active[2] = False
    expected_w1 = np.where(active, nan, 0.0)[None, :].repeat(3, axis=0)
    expected_b1 = np.where(active, nan, 0.0)
    assert active.sum() >= 4  # the expectation is not vacuous

    vg = fnn.value_and_grad(loss)
    for name, fn in (("eager", vg), ("jit", fnn.jit(vg))):
        value, grads = fn(params, x, y)
        assert np.isnan(float(value)), name
        _same(grads["dense_0"]["kernel"], expected_w1)
        _same(grads["dense_0"]["bias"], expected_b1)
        assert np.isnan(np.asarray(grads["dense_2"]["kernel"])).all(), name
        assert np.isnan(np.asarray(grads["dense_2"]["bias"])).all(), name

    # Per example, under vmap: every example's second-layer gradient is NaN; its first
    # layer's column of the NaN unit is 0, as above.
    per_example = fnn.vmap(fnn.grad(loss), in_axes=(None, 0, 0))(params, x[:, None], y[:, None])
    assert np.isnan(np.asarray(per_example["dense_2"]["kernel"])).all()
    assert not np.isnan(np.asarray(per_example["dense_0"]["kernel"])[:, :, 2]).any()


def test_mlp_without_nan_is_finite():
    # The same network with the NaN replaced: everything finite (the test above is about
    # the NaN, not about the network).
    model, params, x, y = _mlp()
    params["dense_0"]["kernel"] = fnp.asarray(
        np.nan_to_num(np.asarray(params["dense_0"]["kernel"]))
    )
    value, grads = fnn.jit(
        fnn.value_and_grad(lambda p: losses.mean_squared_error(model.apply(p, x), y))
    )(params)
    assert np.isfinite(float(value))
    assert all(np.isfinite(np.asarray(g)).all() for g in fnn.tree_util.tree_leaves(grads))


# ---- jit's passes keep NaN and inf ---------------------------------------------------------


def test_select_of_max_rewrite_only_for_the_same_threshold():
    # select(x > c, x, max(x, c)) is max(x, c) bit for bit (NaN included); with another
    # threshold it is not, and stays a select.
    x = fnp.asarray([nan, -inf, -1.0, -0.0, 0.0, 0.5, 2.0, inf], dtype=F32)

    def same(x):
        return fnp.where(x > 0.0, x, lax.stop_gradient(fnp.maximum(x, -0.0)))

    def other(x):
        return fnp.where(x > 1.0, x, fnp.maximum(x, 0.0))

    for f, n_select in ((same, 0), (other, 1)):
        prims = [e.primitive.name for e in fnn.make_jaxpr(f, optimize=True)(x).jaxpr.eqns]
        assert prims.count("select") == n_select, f.__name__
        eager, jitted = np.asarray(f(x)), np.asarray(fnn.jit(f)(x))
        _same(jitted, eager)
        np.testing.assert_array_equal(np.signbit(jitted), np.signbit(eager))


def test_scaling_fold_keeps_inf():
    # (x * 2**-100) * 2**-100 must not become x * 0 in float32: inf * 0 is NaN.
    c = np.float32(2.0**-100)

    def f(x):
        return (x * c) * c

    x = fnp.asarray([inf, -inf, nan, 1.0], dtype=F32)
    _same(fnn.jit(f)(x), f(x))
    _same(f(x), [inf, -inf, nan, 0.0])


def test_cse_keeps_signed_zero_literals_apart():
    # x * 0.0 and x * -0.0 are different values (1 / them is +inf and -inf).
    def f(x):
        return 1.0 / (x * 0.0), 1.0 / (x * -0.0)

    for pos, neg in (f(fnp.asarray(1.0)), fnn.jit(f)(fnp.asarray(1.0))):
        assert float(pos) == inf and float(neg) == -inf


# ---- properties --------------------------------------------------------------------------

_specials = st.sampled_from([nan, inf, -inf, 0.0, -0.0])
_floats = st.one_of(st.floats(-50, 50, width=32), _specials)
_arrays = hnp.arrays(F32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5), elements=_floats)


@pytest.mark.parametrize("name", ACTIVATIONS)
@settings(max_examples=25, deadline=None)
@given(x=_arrays)
def test_activations_propagate_nan_and_jit_vmap_agree(name, x):
    # Every activation is NaN wherever its input is (JAX's values above), and jit, vmap
    # and jit(grad) agree with the eager value and gradient.
    f = ACTIVATIONS[name][0]
    x[0, 0] = nan  # at least one
    xs = fnp.asarray(x)
    eager = np.asarray(f(xs))
    assert np.isnan(eager[np.isnan(x)]).all()
    _same(fnn.jit(f)(xs), eager)
    _same(fnn.vmap(f)(xs), eager)
    g = fnn.grad(lambda v: fnp.sum(f(v)))
    _same(fnn.jit(g)(xs), g(xs))


@settings(max_examples=40, deadline=None)
@given(_arrays)
def test_max_rows_with_nan_have_nan_max_and_gradient(x):
    x[0, -1] = nan  # at least one row with NaN
    xs = fnp.asarray(x)
    has_nan = np.isnan(x).any(axis=-1)
    value = np.asarray(fnp.max(xs, axis=-1))
    np.testing.assert_array_equal(np.isnan(value), has_nan)
    np.testing.assert_array_equal(value[~has_nan], np.max(x, axis=-1)[~has_nan])
    g = fnn.grad(lambda v: fnp.sum(fnp.max(v, axis=-1)))
    grads = np.asarray(g(xs))
    assert np.isnan(grads[has_nan]).all()
    assert np.isfinite(grads[~has_nan]).all()  # the cotangent 1 is finite
    _same(fnn.jit(g)(xs), grads)
    np.testing.assert_array_equal(np.asarray(fnp.argmax(xs, axis=-1)), np.argmax(x, axis=-1))
    np.testing.assert_array_equal(np.asarray(fnp.argmin(xs, axis=-1)), np.argmin(x, axis=-1))
