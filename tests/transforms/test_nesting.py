"""Transforms composed to depth: higher derivatives, forward-over-reverse and back,
Hessians of a network, and a PINN-style loss differentiated through derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.tree_util import tree_leaves, tree_map


@pytest.fixture(autouse=True)
def _x64():
    # Every check here is against closed forms or finite differences: use float64.
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


# ----------------------------------------------------------------------------------------
# Third derivatives of scalar functions


_THIRD = [
    ("tanh", fnp.tanh, lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)),
    ("sin", fnp.sin, lambda x: -np.cos(x)),
    ("exp_x2", lambda x: fnp.exp(x) * x**2, lambda x: np.exp(x) * (x**2 + 6 * x + 6)),
    ("log", fnp.log, lambda x: 2 / x**3),
    ("x5", lambda x: x**5, lambda x: 60 * x**2),
    ("sqrt", fnp.sqrt, lambda x: 3 / 8 * x**-2.5),
    ("sigmoid", lambda x: 1 / (1 + fnp.exp(-x)), None),
    ("recip", lambda x: 1.0 / x, lambda x: -6 / x**4),
    ("sin_cos", lambda x: fnp.sin(x) * fnp.cos(x), lambda x: -4 * np.cos(2 * x)),
]


def _sigmoid3(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s) * (1 - 6 * s + 6 * s**2)


@pytest.mark.parametrize("name, f, d3", _THIRD, ids=[t[0] for t in _THIRD])
@pytest.mark.parametrize("x", [0.3, 1.7])
def test_third_derivative_closed_form(name, f, d3, x):
    d3 = d3 or _sigmoid3
    g3 = fnn.grad(fnn.grad(fnn.grad(f)))(x)
    assert g3.dtype == np.float64
    np.testing.assert_allclose(float(g3), d3(x), rtol=1e-10)


@pytest.mark.parametrize("name, f, d3", _THIRD, ids=[t[0] for t in _THIRD])
def test_third_derivative_every_mode_mix(name, f, d3):
    d3 = d3 or _sigmoid3
    x = 0.7
    fwd = lambda g: lambda x: fnn.jvp(g, (x,), (1.0,))[1]  # noqa: E731
    combos = {
        "rrr": fnn.grad(fnn.grad(fnn.grad(f))),
        "fff": fwd(fwd(fwd(f))),
        "frr": fwd(fnn.grad(fnn.grad(f))),
        "rfr": fnn.grad(fwd(fnn.grad(f))),
        "rrf": fnn.grad(fnn.grad(fwd(f))),
        "jacs": fnn.jacfwd(fnn.jacrev(fnn.jacfwd(f))),
        "hess_of_grad": fnn.hessian(fnn.grad(f)),
    }
    for key, g in combos.items():
        np.testing.assert_allclose(float(g(x)), d3(x), rtol=1e-10, err_msg=key)


def test_fourth_derivative():
    f = lambda x: fnp.sin(x) * fnp.exp(x)  # noqa: E731
    g4 = fnn.grad(fnn.grad(fnn.grad(fnn.grad(f))))(0.4)
    np.testing.assert_allclose(float(g4), -4 * np.sin(0.4) * np.exp(0.4), rtol=1e-10)


def test_grad_grad_grad_of_a_vector_function():
    # grad(sum(f''(x))) per element, f = x^4 -> 24 x
    f = lambda x: fnp.sum(x**4)  # noqa: E731
    d1 = fnn.grad(f)
    d2 = lambda x: fnp.sum(fnn.grad(lambda y: fnp.sum(d1(y)))(x))  # noqa: E731
    x = fnp.asarray([0.5, -1.0, 2.0])
    np.testing.assert_allclose(_np(fnn.grad(d2)(x)), 24 * _np(x), rtol=1e-12)


# ----------------------------------------------------------------------------------------
# Jacobians of Jacobians


def _g(x):
    return fnp.stack([fnp.sin(x[0] * x[1]), fnp.tanh(x[1]) * x[2] ** 2, fnp.exp(-x[0]) * x[2]])


def test_jacfwd_jacrev_commute():
    x = fnp.asarray([0.3, -0.7, 1.2])
    a = fnn.jacfwd(fnn.jacrev(_g))(x)
    b = fnn.jacrev(fnn.jacfwd(_g))(x)
    c = fnn.jacfwd(fnn.jacfwd(_g))(x)
    d = fnn.jacrev(fnn.jacrev(_g))(x)
    assert a.shape == (3, 3, 3)
    for other in (b, c, d):
        np.testing.assert_allclose(_np(a), _np(other), rtol=1e-12, atol=1e-14)
    # second derivatives are symmetric in the two input indices
    np.testing.assert_allclose(_np(a), np.swapaxes(_np(a), 1, 2), rtol=1e-12, atol=1e-14)


def test_hessian_equals_every_nesting():
    f = lambda x: fnp.sum(fnp.tanh(x) * x[::-1]) + fnp.prod(x)  # noqa: E731
    x = fnp.asarray([0.3, -0.7, 1.2])
    H = fnn.hessian(f)(x)
    np.testing.assert_allclose(_np(H), _np(fnn.jacrev(fnn.jacrev(f))(x)), rtol=1e-12)
    np.testing.assert_allclose(_np(H), _np(fnn.jacfwd(fnn.grad(f))(x)), rtol=1e-12)
    np.testing.assert_allclose(_np(H), _np(fnn.jacrev(fnn.grad(f))(x)), rtol=1e-12)


# ----------------------------------------------------------------------------------------
# A 2-layer tanh MLP


def _mlp_params(rng, sizes):
    return [
        {
            "w": fnp.asarray(rng.normal(size=(m, n)) / np.sqrt(m)),
            "b": fnp.asarray(rng.normal(size=n) * 0.1),
        }
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def _mlp(params, x):
    for layer in params[:-1]:
        x = fnp.tanh(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def test_hessian_of_mlp_wrt_input_against_finite_differences():
    rng = np.random.default_rng(0)
    params = _mlp_params(rng, [3, 8, 8, 1])
    f = lambda x: _mlp(params, x)[0]  # noqa: E731
    x0 = rng.normal(size=3)
    H = _np(fnn.hessian(f)(fnp.asarray(x0)))
    assert H.shape == (3, 3)
    # central differences of the (exact) gradient
    h = 1e-5
    fd = np.zeros((3, 3))
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        fd[:, i] = (
            _np(fnn.grad(f)(fnp.asarray(x0 + e))) - _np(fnn.grad(f)(fnp.asarray(x0 - e)))
        ) / (2 * h)
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-9)
    # and second differences of f itself
    fd2 = np.zeros((3, 3))
    h = 1e-4
    for i in range(3):
        for j in range(3):
            ei, ej = np.eye(3)[i] * h, np.eye(3)[j] * h
            fd2[i, j] = (
                float(f(fnp.asarray(x0 + ei + ej)))
                - float(f(fnp.asarray(x0 + ei - ej)))
                - float(f(fnp.asarray(x0 - ei + ej)))
                + float(f(fnp.asarray(x0 - ei - ej)))
            ) / (4 * h * h)
    np.testing.assert_allclose(H, fd2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-14)


def test_batched_hessians_of_mlp():
    rng = np.random.default_rng(1)
    params = _mlp_params(rng, [2, 6, 1])
    f = lambda x: _mlp(params, x)[0]  # noqa: E731
    xs = fnp.asarray(rng.normal(size=(5, 2)))
    Hs = fnn.vmap(fnn.hessian(f))(xs)
    assert Hs.shape == (5, 2, 2)
    for i in range(5):
        np.testing.assert_allclose(_np(Hs[i]), _np(fnn.hessian(f)(xs[i])), rtol=1e-12)
    np.testing.assert_allclose(_np(fnn.jit(fnn.vmap(fnn.hessian(f)))(xs)), _np(Hs), rtol=1e-12)


# ----------------------------------------------------------------------------------------
# A PINN-style loss: Burgers' residual u_t + u u_x - nu u_xx on a batch of points


NU = 0.01 / np.pi


def _u(params, t, x):
    return _mlp(params, fnp.stack([t, x]))[0]


def _residual_grad_style(params, t, x):
    u = _u(params, t, x)
    u_t = fnn.grad(_u, argnums=1)(params, t, x)
    u_x = fnn.grad(_u, argnums=2)(params, t, x)
    u_xx = fnn.grad(fnn.grad(_u, argnums=2), argnums=2)(params, t, x)
    return u_t + u * u_x - NU * u_xx


def _residual_jvp_style(params, t, x):
    def u_of_x(x):
        return _u(params, t, x)

    def u_x_of_x(x):
        return fnn.jvp(u_of_x, (x,), (fnp.ones_like(x),))[1]

    u, u_x = fnn.jvp(u_of_x, (x,), (fnp.ones_like(x),))
    _, u_xx = fnn.jvp(u_x_of_x, (x,), (fnp.ones_like(x),))
    _, u_t = fnn.jvp(lambda t: _u(params, t, x), (t,), (fnp.ones_like(t),))
    return u_t + u * u_x - NU * u_xx


def _pinn_loss(residual, params, ts, xs):
    r = fnn.vmap(residual, in_axes=(None, 0, 0))(params, ts, xs)
    boundary = fnn.vmap(_u, in_axes=(None, 0, 0))(params, fnp.zeros_like(xs), xs) + fnp.sin(
        np.pi * xs
    )
    return fnp.mean(r**2) + fnp.mean(boundary**2)


@pytest.fixture
def pinn_setup():
    rng = np.random.default_rng(2)
    params = _mlp_params(rng, [2, 5, 5, 1])
    ts = fnp.asarray(rng.uniform(0, 1, 7))
    xs = fnp.asarray(rng.uniform(-1, 1, 7))
    return params, ts, xs


def test_pinn_residual_styles_agree(pinn_setup):
    params, ts, xs = pinn_setup
    a = fnn.vmap(_residual_grad_style, in_axes=(None, 0, 0))(params, ts, xs)
    b = fnn.vmap(_residual_jvp_style, in_axes=(None, 0, 0))(params, ts, xs)
    loop = [float(_residual_grad_style(params, t, x)) for t, x in zip(ts, xs, strict=True)]
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_np(a), loop, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(
    "residual", [_residual_grad_style, _residual_jvp_style], ids=["grad", "jvp"]
)
def test_pinn_parameter_gradient_against_finite_differences(pinn_setup, residual):
    params, ts, xs = pinn_setup
    loss = lambda p: _pinn_loss(residual, p, ts, xs)  # noqa: E731
    g = fnn.grad(loss)(params)
    leaves_p, leaves_g = tree_leaves(params), tree_leaves(g)
    h = 1e-6
    for k, (p, gp) in enumerate(zip(leaves_p, leaves_g, strict=True)):
        assert gp.shape == p.shape and gp.dtype == np.float64
        fd = np.zeros(p.shape)
        for i in np.ndindex(p.shape):

            def shifted(delta, i=i, k=k):
                ls = list(leaves_p)
                ls[k] = ls[k].at[i].add(delta)
                it = iter(ls)
                return float(loss(tree_map(lambda _: next(it), params)))

            fd[i] = (shifted(h) - shifted(-h)) / (2 * h)
        np.testing.assert_allclose(_np(gp), fd, rtol=1e-5, atol=1e-8, err_msg=f"leaf {k}")


def test_pinn_gradient_jit_equals_eager(pinn_setup):
    params, ts, xs = pinn_setup
    step = lambda p: fnn.value_and_grad(lambda p: _pinn_loss(_residual_grad_style, p, ts, xs))(p)  # noqa: E731
    v, g = step(params)
    jitted = fnn.jit(step)
    vj, gj = jitted(params)
    np.testing.assert_allclose(float(vj), float(v), rtol=1e-12)
    for a, b in zip(tree_leaves(gj), tree_leaves(g), strict=True):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-13)
    vj2, _ = jitted(params)
    assert jitted.trace_count == 1 and float(vj2) == float(vj)


# ----------------------------------------------------------------------------------------
# Perturbation confusion and closures over outer tracers


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (a confused implementation gives 2)
    f = lambda x: x * fnn.grad(lambda y: x + y)(1.0)  # noqa: E731
    assert float(fnn.grad(f)(3.0)) == 1.0
    g = lambda x: fnn.jvp(lambda y: x * y, (2.0,), (1.0,))[1]  # noqa: E731
    assert float(fnn.jvp(g, (3.0,), (1.0,))[1]) == 1.0


def test_inner_grad_closes_over_outer_variable():
    # f(a) = d/dx (a x^2) at x=3 = 6a, so df/da = 6
    f = lambda a: fnn.grad(lambda x: a * x**2)(3.0)  # noqa: E731
    assert float(fnn.grad(f)(2.0)) == 6.0
    assert float(fnn.jacfwd(f)(2.0)) == 6.0
    np.testing.assert_allclose(_np(fnn.vmap(fnn.grad(f))(fnp.arange(3.0))), [6.0, 6.0, 6.0])


def test_hessian_vector_products_agree():
    f = lambda x: fnp.sum(fnp.tanh(x) ** 3 * x[::-1])  # noqa: E731
    x = fnp.asarray([0.3, -0.2, 0.9])
    v = fnp.asarray([1.0, 2.0, -1.0])
    expected = _np(fnn.hessian(f)(x)) @ _np(v)
    hvps = {
        "fwd_over_rev": fnn.jvp(fnn.grad(f), (x,), (v,))[1],
        "linearize_grad": fnn.linearize(fnn.grad(f), x)[1](v),
        "rev_over_rev": fnn.grad(lambda x: fnp.vdot(fnn.grad(f)(x), v))(x),
        "rev_over_linearize": fnn.grad(lambda x: fnp.sum(fnn.linearize(f, x)[1](v)))(x),
        "jit": fnn.jit(lambda x, v: fnn.jvp(fnn.grad(f), (x,), (v,))[1])(x, v),
    }
    for name, h in hvps.items():
        np.testing.assert_allclose(_np(h), expected, rtol=1e-12, atol=1e-14, err_msg=name)
    H = fnn.vmap(lambda v: fnn.jvp(fnn.grad(f), (x,), (v,))[1])(fnp.eye(3))
    np.testing.assert_allclose(_np(H), _np(fnn.hessian(f)(x)), rtol=1e-12)
