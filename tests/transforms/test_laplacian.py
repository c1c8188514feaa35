"""The forward Laplacian and its relatives against the Hessian they avoid building:
fnn.laplacian, fnn.forward_laplacian, fnn.hessian_diagonal, fnn.second_order_operator."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.core import FnnTypeError
from fnn.transforms import jet, laplacian
from fnn.tree_util import tree_leaves


@pytest.fixture(autouse=True)
def _x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


ACTIVATIONS = sorted(
    name
    for name in nn.activations.__all__
    if name not in ("softmax", "log_softmax", "standardize", "one_hot", "glu")
)


def init(rng, sizes):
    return [
        (rng.normal(size=(m, n)) / np.sqrt(m), rng.normal(size=n) * 0.3)
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def network(params, x, act=fnp.tanh):
    for w, b in params[:-1]:
        x = act(x @ w + b)
    w, b = params[-1]
    return (x @ w + b)[..., 0]


def hessian_of(f, x):
    return np.asarray(fnn.hessian(f)(x))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_laplacian_of_a_network_equals_the_hessian_trace(name):
    act = getattr(nn, name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    params = init(rng, [4, 12, 12, 1])
    x = rng.normal(size=4)
    f = lambda x: network(params, x, act)  # noqa: E731
    H = hessian_of(f, x)
    value, jac, lap = fnn.forward_laplacian(f)(x)
    np.testing.assert_allclose(float(value), float(f(x)), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(jac), np.asarray(fnn.grad(f)(x)), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(float(lap), np.trace(H), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(fnn.hessian_diagonal(f)(x)), np.diag(H), rtol=1e-9, atol=1e-12
    )


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 6), rank=st.integers(0, 6))
def test_second_order_operator_equals_sum_of_a_times_hessian(seed, d, rank):
    rng = np.random.default_rng(seed)
    params = init(rng, [d, 8, 1])
    x = rng.normal(size=d)
    f = lambda x: network(params, x, fnp.sin)  # noqa: E731
    # an indefinite A of any rank (0 to d), plus a skew part that the operator ignores
    v = rng.normal(size=(d, min(rank, d)))
    skew = rng.normal(size=(d, d))
    a = v @ np.diag(rng.choice([-1.0, 2.0], size=v.shape[1])) @ v.T + (skew - skew.T)
    expected = np.sum(((a + a.T) / 2) * hessian_of(f, x))
    got = float(fnn.second_order_operator(f, a)(x))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_outputs_and_inputs_of_any_shape():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(6, 3))
    x = rng.normal(size=(2, 3))

    def f(x):
        y = fnp.tanh(x.reshape(6) * w[:, 0]) @ w
        return {"vec": y, "scalar": fnp.sum(fnp.sin(x) * x)}

    value, jac, lap = fnn.forward_laplacian(f)(x)
    assert jac["vec"].shape == (3, 2, 3) and lap["vec"].shape == (3,)
    for key in ("vec", "scalar"):
        g = lambda x, key=key: f(x)[key]  # noqa: E731
        H = np.asarray(fnn.jacfwd(fnn.jacrev(g))(x))
        out_shape = np.shape(value[key])
        H = H.reshape((*out_shape, 6, 6))
        np.testing.assert_allclose(
            np.asarray(lap[key]), np.trace(H, axis1=-2, axis2=-1), rtol=1e-10
        )
        np.testing.assert_allclose(np.asarray(jac[key]), np.asarray(fnn.jacfwd(g)(x)), rtol=1e-10)
        diag = np.diagonal(H, axis1=-2, axis2=-1).reshape((*out_shape, 2, 3))
        np.testing.assert_allclose(np.asarray(fnn.hessian_diagonal(g)(x)), diag, rtol=1e-10)


def test_values_independent_of_x_carry_no_derivatives():
    rng = np.random.default_rng(6)
    w = rng.normal(size=3)
    value, jac, lap = fnn.forward_laplacian(lambda x: fnp.sin(w) * 2.0)(np.ones(4))
    np.testing.assert_allclose(np.asarray(value), np.sin(w) * 2)
    assert jac.shape == (3, 4) and not np.any(np.asarray(jac))
    assert lap.shape == (3,) and not np.any(np.asarray(lap))


def test_other_arguments_and_argnums():
    f = lambda a, x, b: a * fnp.sum(x**3) + b  # noqa: E731
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(float(fnn.laplacian(f, argnums=1)(2.0, x, 1.0)), 2.0 * 18.0)
    np.testing.assert_allclose(float(fnn.laplacian(f, argnums=0)(2.0, x, 1.0)), 0.0)


def loss_forward(params, xs):
    lap = fnn.vmap(fnn.laplacian(lambda x: network(params, x)))(xs)
    return fnp.mean(lap**2)


def loss_hessian(params, xs):
    def lap(x):
        return fnp.trace(fnn.hessian(lambda x: network(params, x))(x))

    return fnp.mean(fnn.vmap(lap)(xs) ** 2)


def test_parameter_gradient_through_the_forward_laplacian():
    rng = np.random.default_rng(7)
    params = init(rng, [3, 10, 10, 1])
    xs = rng.normal(size=(5, 3))
    g = fnn.grad(loss_forward)(params, xs)
    g_ref = fnn.grad(loss_hessian)(params, xs)
    for a, b in zip(tree_leaves(g), tree_leaves(g_ref), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
    direction = [(rng.normal(size=w.shape), rng.normal(size=b.shape)) for w, b in params]
    eps = 1e-5

    def at(s):
        shifted = [
            (w + s * dw, b + s * db) for (w, b), (dw, db) in zip(params, direction, strict=True)
        ]
        return float(loss_forward(shifted, xs))

    fd = (at(eps) - at(-eps)) / (2 * eps)
    dot = sum(
        float(np.sum(np.asarray(gw) * dw) + np.sum(np.asarray(gb) * db))
        for (gw, gb), (dw, db) in zip(g, direction, strict=True)
    )
    np.testing.assert_allclose(dot, fd, rtol=1e-6)


def test_jit_equals_eager_and_vmap_equals_a_loop():
    rng = np.random.default_rng(8)
    params = init(rng, [3, 8, 1])
    xs = rng.normal(size=(6, 3))
    lap = fnn.laplacian(lambda x: network(params, x))
    loop = np.array([float(lap(x)) for x in xs])
    np.testing.assert_allclose(np.asarray(fnn.vmap(lap)(xs)), loop, rtol=1e-12)
    jitted = fnn.jit(fnn.vmap(lap))
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(jitted(xs)), loop, rtol=1e-12)
    step = fnn.jit(fnn.value_and_grad(loss_forward))
    value, grads = step(params, xs)
    np.testing.assert_allclose(float(value), float(loss_forward(params, xs)), rtol=1e-12)
    for a, b in zip(
        tree_leaves(grads), tree_leaves(fnn.grad(loss_forward)(params, xs)), strict=True
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-13)


def test_float32_default():
    fnn.config.update("enable_x64", False)
    x = fnp.array([0.5, 1.0])
    lap = fnn.laplacian(lambda x: fnp.sum(fnp.sin(x)))(x)
    assert lap.dtype == np.float32
    np.testing.assert_allclose(float(lap), -(np.sin(0.5) + np.sin(1.0)), rtol=1e-6)


def test_errors_name_what_was_expected():
    f = lambda x: fnp.sum(x**2)  # noqa: E731
    with pytest.raises(FnnTypeError, match="floating dtype"):
        fnn.laplacian(f)(fnp.arange(3))
    with pytest.raises(FnnTypeError, match="argnums"):
        fnn.laplacian(f, argnums=2)(fnp.ones(3))
    with pytest.raises(FnnTypeError, match="square matrix"):
        fnn.second_order_operator(f, np.ones((2, 3)))
    with pytest.raises(FnnTypeError, match=r"coefficients are 2x2 but argument 0 has 3"):
        fnn.second_order_operator(f, np.eye(2))(fnp.ones(3))


def test_docstring_examples():
    fnn.config.update("enable_x64", False)
    for module in (jet, laplacian):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted >= 3 and result.failed == 0, module.__name__


# ---- sparsity: values that depend on some coordinates carry only their directions ----------


def coordinate_net(rng, hidden=24):
    w1, w2 = rng.normal(size=(1, hidden)), rng.normal(size=(hidden, 1)) / np.sqrt(hidden)
    return lambda s: (fnp.tanh(s @ w1) @ w2)[0]


def test_separable_functions_are_exact_and_carry_one_direction_per_term():
    rng = np.random.default_rng(9)
    d, hidden = 7, 24
    g = coordinate_net(rng, hidden)

    def u(x):  # sum_i g(x_i) * (1 + x_0 x_1): separable terms and one coupling
        separable = sum(g(x[i : i + 1]) for i in range(d))
        return separable * (1.0 + x[0] * x[1])

    x = rng.normal(size=d)
    H = hessian_of(u, x)
    value, jac, lap = fnn.forward_laplacian(u)(x)
    np.testing.assert_allclose(float(lap), np.trace(H), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(jac), np.asarray(fnn.grad(u)(x)), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(fnn.hessian_diagonal(u)(x)), np.diag(H), rtol=1e-10)
    a = np.diag(np.arange(d, dtype=float))
    np.testing.assert_allclose(float(fnn.second_order_operator(u, a)(x)), np.sum(a * H), rtol=1e-10)
    # Under tracing (as in jit), the hidden layer of g(x_i) carries its one direction: no
    # staged value has a (d, hidden) stack.
    jaxpr = fnn.make_jaxpr(fnn.laplacian(u))(x).jaxpr
    shapes = {tuple(v.aval.shape) for e in jaxpr.eqns for v in e.out_binders}
    assert (d, hidden) not in shapes and (d, 1, hidden) not in shapes
    assert (1, hidden) in shapes or (hidden,) in shapes
    np.testing.assert_allclose(float(fnn.jit(fnn.laplacian(u))(x)), np.trace(H), rtol=1e-10)


def test_dense_networks_keep_every_direction():
    rng = np.random.default_rng(10)
    params = init(rng, [5, 16, 1])
    x = rng.normal(size=5)
    jaxpr = fnn.make_jaxpr(fnn.laplacian(lambda x: network(params, x)))(x).jaxpr
    shapes = {tuple(v.aval.shape) for e in jaxpr.eqns for v in e.out_binders}
    assert (5, 16) in shapes
