"""fnn.jet (Taylor mode): JAX's conventions, composition with grad/vmap/jit, the
primitives expanded by nested JVPs, and errors.

Each primitive's rule is checked against nested JVPs up to order 4 by the shared
harness (``test_taylor_mode`` in tests/lax/test_primitives.py and
tests/numpy/test_functions.py); here, whole programs.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn import core, rules
from fnn.core import FnnTypeError


@pytest.fixture(autouse=True)
def _x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def nested_derivatives(fun, xs, series):
    """[d^k/dt^k fun(x(t)) at 0 for k = 1..K] by K nested fnn.jvp, with
    x(t) = x0 + s1 t + s2 t^2/2! + ... (one curve per argument)."""
    order = len(series[0])

    def along(t):
        pts = [
            x + sum(s[k] * t ** (k + 1) / math.factorial(k + 1) for k in range(order))
            for x, s in zip(xs, series, strict=True)
        ]
        return fun(*pts)

    fs = [along]
    for _ in range(order):
        prev = fs[-1]
        fs.append(lambda t, prev=prev: fnn.jvp(prev, (t,), (np.float64(1.0),))[1])
    return [np.asarray(fs[k](np.float64(0.0))) for k in range(1, order + 1)]


def assert_series(actual, expected, rtol=1e-10):
    for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
        np.testing.assert_allclose(
            np.asarray(a), e, rtol=rtol, atol=rtol * (1 + np.max(np.abs(e))), err_msg=f"k={k + 1}"
        )


# ---- JAX's conventions ----------------------------------------------------------------------


def test_series_are_derivatives_along_the_curve():
    # jax.experimental.jet(jnp.sin, (0.5,), ((1., 0., 0.),)) gives cos, -sin, -cos.
    y, series = fnn.jet(fnp.sin, (0.5,), ([1.0, 0.0, 0.0],))
    np.testing.assert_allclose(float(y), np.sin(0.5))
    np.testing.assert_allclose(
        [float(s) for s in series], [np.cos(0.5), -np.sin(0.5), -np.cos(0.5)], rtol=1e-14
    )
    # x(t) = 2 + t + t^2/2: (x^3)' = 3 x^2 x' = 12, (x^3)'' = 6 x x'^2 + 3 x^2 x'' = 24,
    # (x^3)''' = 6 x'^3 + 18 x x' x'' + 3 x^2 x''' = 6 + 36 = 42 (JAX's values).
    _, series = fnn.jet(lambda x: x**3, (2.0,), ([1.0, 1.0, 0.0],))
    assert [float(s) for s in series] == [12.0, 24.0, 42.0]


def test_pytree_outputs_get_one_list_per_leaf():
    out, series = fnn.jet(
        lambda x, y: {"a": x * y, "b": (x, y)}, (2.0, 3.0), ([1.0, 0.0], [0.0, 1.0])
    )
    assert float(out["a"]) == 6.0
    assert [float(s) for s in series["a"]] == [3.0, 2.0]
    assert [float(s) for s in series["b"][0]] == [1.0, 0.0]
    assert [float(s) for s in series["b"][1]] == [0.0, 1.0]


def test_output_independent_of_the_curve_has_zero_series():
    w = fnp.arange(3.0)
    out, series = fnn.jet(lambda x: fnp.sin(w) + 0 * x[0], (fnp.ones(2),), ([fnp.ones(2)] * 2,))
    np.testing.assert_allclose(np.asarray(out), np.sin(np.arange(3.0)))
    for s in series:
        assert s.shape == (3,) and not np.any(np.asarray(s))


# ---- whole programs against nested JVPs -------------------------------------------------------


def mlp(params, x):
    for w, b in params[:-1]:
        x = fnp.tanh(x @ w + b)
    w, b = params[-1]
    return (x @ w + b)[..., 0]


def init(rng, sizes):
    return [
        (rng.normal(size=(m, n)) / np.sqrt(m), rng.normal(size=n) * 0.1)
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**31 - 1), order=st.integers(1, 5))
def test_network_taylor_coefficients_equal_nested_jvps(seed, order):
    rng = np.random.default_rng(seed)
    params = init(rng, [3, 8, 8, 1])
    x = rng.normal(size=(4, 3))
    series = [rng.normal(size=x.shape) for _ in range(order)]
    f = lambda x: mlp(params, x)  # noqa: E731
    out, derivs = fnn.jet(f, (x,), (series,))
    np.testing.assert_allclose(np.asarray(out), np.asarray(f(x)), rtol=1e-14)
    assert_series(derivs, nested_derivatives(f, [x], [series]))


def third_x_derivative(params, x):
    """u_xxx of a network u(x, t) at one point, by Taylor mode along the x axis."""
    e = fnp.array([1.0, 0.0])
    zero = fnp.zeros(2)
    _, (_, _, d3) = fnn.jet(lambda p: mlp(params, p), (x,), ([e, zero, zero],))
    return d3


def third_x_derivative_nested(params, x):
    e = fnp.array([1.0, 0.0])

    def d(f):
        return lambda p: fnn.jvp(f, (p,), (e,))[1]

    return d(d(d(lambda p: mlp(params, p))))(x)


def test_parameter_gradient_through_taylor_mode():
    rng = np.random.default_rng(1)
    params = init(rng, [2, 6, 6, 1])
    x = np.array([0.3, -0.4])
    loss = lambda p: third_x_derivative(p, x) ** 2  # noqa: E731
    loss_nested = lambda p: third_x_derivative_nested(p, x) ** 2  # noqa: E731
    g = fnn.grad(loss)(params)
    g_ref = fnn.grad(loss_nested)(params)
    for (gw, gb), (rw, rb) in zip(g, g_ref, strict=True):
        np.testing.assert_allclose(np.asarray(gw), np.asarray(rw), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(gb), np.asarray(rb), rtol=1e-10, atol=1e-12)
    # and against central finite differences of the loss along a random direction
    direction = [(rng.normal(size=w.shape), rng.normal(size=b.shape)) for w, b in params]
    eps = 1e-5

    def shifted(s):
        return [
            (w + s * dw, b + s * db) for (w, b), (dw, db) in zip(params, direction, strict=True)
        ]

    fd = (float(loss(shifted(eps))) - float(loss(shifted(-eps)))) / (2 * eps)
    dot = sum(
        float(np.sum(np.asarray(gw) * dw) + np.sum(np.asarray(gb) * db))
        for (gw, gb), (dw, db) in zip(g, direction, strict=True)
    )
    np.testing.assert_allclose(dot, fd, rtol=1e-6)


def test_jit_and_vmap_of_taylor_mode():
    rng = np.random.default_rng(2)
    params = init(rng, [2, 5, 1])
    xs = rng.normal(size=(6, 2))
    loop = np.array([float(third_x_derivative(params, x)) for x in xs])
    batched = fnn.vmap(third_x_derivative, (None, 0))(params, xs)
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-12)
    jitted = fnn.jit(fnn.vmap(third_x_derivative, (None, 0)))
    np.testing.assert_allclose(np.asarray(jitted(params, xs)), loop, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jitted(params, xs)), loop, rtol=1e-12)
    grad_jit = fnn.jit(fnn.grad(lambda p: fnn.vmap(third_x_derivative, (None, 0))(p, xs).sum()))
    grad_eager = fnn.grad(lambda p: sum(third_x_derivative_nested(p, x) for x in xs))
    for a, b in zip(
        fnn.tree_util.tree_leaves(grad_jit(params)),
        fnn.tree_util.tree_leaves(grad_eager(params)),
        strict=True,
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)


# ---- primitives expanded by nested JVPs ---------------------------------------------------------

PROGRAMS = {
    "scan": lambda x: fnn.lax.scan(lambda c, xi: (fnp.sin(c * xi) + c, c * xi), 1.0, x)[1],
    "cond": lambda x: fnn.lax.cond(x[0] > 0, lambda v: fnp.exp(v), lambda v: v * v, x),
    "while": lambda x: fnn.lax.while_loop(
        lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.sin(c[1]) * 1.5), (0, x)
    )[1],
    "fori": lambda x: fnn.lax.fori_loop(0, 3, lambda i, v: fnp.tanh(v) * v + 0.1, x),
    "solve": lambda x: fnp.linalg.solve(fnp.eye(3) * 3.0 + fnp.outer(x, x), x),
    "cholesky": lambda x: fnp.linalg.cholesky(fnp.eye(3) * 3.0 + fnp.outer(x, x)),
    "eigh": lambda x: fnp.linalg.eigh(fnp.diag(fnp.array([1.0, 2.0, 4.0])) + 0.1 * fnp.outer(x, x))[
        0
    ],
    "det": lambda x: fnp.linalg.det(fnp.eye(3) + fnp.outer(x, x)),
    "prod": lambda x: fnp.prod(x + 2.0),
    "cumprod": lambda x: fnp.cumprod(x + 2.0),
    "scatter_mul": lambda x: fnp.ones(4).at[fnp.array([0, 2, 3])].multiply(x + 2.0),
    "scatter_max": lambda x: fnp.zeros(4).at[fnp.array([0, 2, 3])].max(x * x),
    "custom_jvp": lambda x: fnn.scipy.special.logsumexp(x * x),
    "relu_mlp": lambda x: fnn.nn.relu(fnp.outer(x, x)).sum(axis=0) * fnp.sin(x),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_equal_nested_jvps(name):
    rng = np.random.default_rng(3)
    x = np.array([0.4, -0.3, 0.8])
    series = [rng.normal(size=3) for _ in range(3)]
    f = PROGRAMS[name]
    out, derivs = fnn.jet(f, (x,), (series,))
    np.testing.assert_allclose(np.asarray(out), np.asarray(f(x)), rtol=1e-13)
    assert_series(derivs, nested_derivatives(f, [x], [series]), rtol=1e-9)


# Primitives with no Taylor rule of their own: JetTrace expands each by nested JVPs of the
# primitive alone (exact, but 2**K applications of its JVP rule), or gives no series for
# integer and boolean results. A new primitive belongs either in fnn.rules.jet_rules or,
# deliberately, here.
EXPANDED_BY_NESTED_JVPS = {
    "cholesky",
    "cond",
    "cumprod",
    "custom_lin",  # reverse mode's stand-in: never seen by forward mode
    "col2im_dot",  # appears only in transposed (reverse-mode) programs
    "det",
    "eig",  # first order only (eigvals), as its JVP rule
    "eigh",
    "pinv",
    "qr",
    "reduce_prod",
    "scan",
    "slogdet",
    "solve",
    "svd",
    "triangular_solve",
    "while",
}


def _all_primitives():
    found = {}
    for name, module in list(sys.modules.items()):
        if name == "fnn" or name.startswith("fnn."):
            for value in vars(module).values():
                if isinstance(value, core.Primitive):
                    found[value.name] = value
    return found


# Integer results carry no series (JetTrace gives them none without a rule).
INTEGER_RESULTS = {"argmax", "argmin", "argsort", "random_argsort", "threefry2x32"}


def test_every_primitive_has_a_taylor_rule_or_is_listed():
    prims = _all_primitives()
    missing = sorted(
        name
        for name, prim in prims.items()
        if prim not in rules.jet_rules and name not in EXPANDED_BY_NESTED_JVPS | INTEGER_RESULTS
    )
    assert not missing, f"primitives with no Taylor rule and not listed: {missing}"
    stale = sorted(name for name in EXPANDED_BY_NESTED_JVPS if prims.get(name) in rules.jet_rules)
    assert not stale, f"these have a Taylor rule now: drop them from the list: {stale}"
    for name in EXPANDED_BY_NESTED_JVPS & set(prims):
        assert prims[name] in rules.jvp_rules or name in ("custom_lin", "col2im_dot"), name


# ---- errors -------------------------------------------------------------------------------------


def test_errors_name_what_was_expected():
    with pytest.raises(FnnTypeError, match=r"series\[0\]\[1\] has shape \(2,\) but primal 0"):
        fnn.jet(fnp.sin, (fnp.ones(3),), ([fnp.ones(3), fnp.ones(2)],))
    with pytest.raises(FnnTypeError, match="same length K"):
        fnn.jet(lambda x, y: x * y, (1.0, 2.0), ([1.0, 0.0], [1.0]))
    with pytest.raises(FnnTypeError, match="one list of coefficients per primal"):
        fnn.jet(fnp.sin, (1.0, 2.0), ([1.0],))
    with pytest.raises(FnnTypeError, match="floating dtype"):
        fnn.jet(lambda i: i * 2, (fnp.arange(3),), ([fnp.arange(3)],))
    with pytest.raises(FnnTypeError, match="tuple or list"):
        fnn.jet(fnp.sin, fnp.ones(2), ([fnp.ones(2)],))
