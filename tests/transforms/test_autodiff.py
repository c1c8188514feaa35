"""The public autodiff API: grad, value_and_grad, jvp, vjp, linearize, jacfwd, jacrev,
hessian, against finite differences and closed forms, on arrays and pytrees."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.tree_util import register_pytree_node, tree_leaves, tree_map


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


def num_grad(f, x, h=1e-6):
    """Central finite differences of a scalar function of one float64 array."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(fnp.asarray(x + e))) - float(f(fnp.asarray(x - e)))) / (2 * h)
    return g


def num_jac(f, x, h=1e-6):
    """Central finite differences of an array function: shape out.shape + x.shape."""
    x = np.asarray(x, np.float64)
    out_shape = np.shape(f(fnp.asarray(x)))
    j = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        d = (_np(f(fnp.asarray(x + e))) - _np(f(fnp.asarray(x - e)))) / (2 * h)
        j[(Ellipsis,) + i] = d
    return j


Pair = namedtuple("Pair", ["a", "b"])


class Params:
    """A user class registered as a pytree node."""

    def __init__(self, w, b):
        self.w, self.b = w, b


register_pytree_node(Params, lambda p: ((p.w, p.b), None), lambda _, ch: Params(*ch))


# ----------------------------------------------------------------------------------------
# grad and value_and_grad


_SCALAR_FUNS = [
    ("sum_sq", lambda x: fnp.sum(x**2), lambda x: 2 * x),
    ("sum_tanh", lambda x: fnp.sum(fnp.tanh(x)), lambda x: 1 - np.tanh(x) ** 2),
    ("exp_sin", lambda x: fnp.sum(fnp.exp(fnp.sin(x))), lambda x: np.exp(np.sin(x)) * np.cos(x)),
    ("logsumexp", lambda x: fnp.log(fnp.sum(fnp.exp(x))), lambda x: np.exp(x) / np.exp(x).sum()),
    (
        "mean_sqrt",
        lambda x: fnp.mean(fnp.sqrt(x**2 + 1.0)),
        lambda x: x / np.sqrt(x**2 + 1) / x.size,
    ),
    ("prod", lambda x: fnp.prod(x), lambda x: np.prod(x) / x),
    ("max", lambda x: fnp.max(x), lambda x: (x == x.max()).astype(float)),
    ("norm", lambda x: fnp.sqrt(fnp.dot(x, x)), lambda x: x / np.linalg.norm(x)),
]


@pytest.mark.parametrize("name, f, df", _SCALAR_FUNS, ids=[n for n, *_ in _SCALAR_FUNS])
def test_grad_closed_forms_and_finite_differences(name, f, df, x64):
    x = np.array([0.3, -1.2, 0.8, 2.1])
    g = fnn.grad(f)(fnp.asarray(x))
    assert g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(_np(g), df(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(g), num_grad(f, x), rtol=1e-6, atol=1e-8)


def test_grad_of_python_scalar_and_float32_default():
    g = fnn.grad(lambda x: x**3)(2.0)
    assert g.dtype == np.float32 and float(g) == 12.0
    assert fnn.grad(fnp.sin)(0.0).dtype == np.float32


def test_grad_argnums_int_and_tuple(x64):
    def f(x, y, z):
        return fnp.sum(x * fnp.sin(y)) + z**2

    x, y, z = fnp.asarray([1.0, 2.0]), fnp.asarray([0.5, -0.5]), fnp.asarray(3.0)
    np.testing.assert_allclose(_np(fnn.grad(f)(x, y, z)), np.sin([0.5, -0.5]))
    np.testing.assert_allclose(
        _np(fnn.grad(f, argnums=1)(x, y, z)), np.array([1.0, 2.0]) * np.cos([0.5, -0.5])
    )
    gs = fnn.grad(f, argnums=(0, 2))(x, y, z)
    assert isinstance(gs, tuple) and len(gs) == 2
    np.testing.assert_allclose(_np(gs[0]), np.sin([0.5, -0.5]))
    assert float(gs[1]) == 6.0
    g_neg = fnn.grad(f, argnums=-1)(x, y, z)
    assert float(g_neg) == 6.0
    (g1,) = fnn.grad(f, argnums=(1,))(x, y, z)
    assert g1.shape == (2,)


def test_value_and_grad(x64):
    def f(w, x):
        return fnp.sum(fnp.tanh(w * x))

    w, x = fnp.asarray([0.1, 0.2]), fnp.asarray([1.0, -2.0])
    v, g = fnn.value_and_grad(f)(w, x)
    np.testing.assert_allclose(float(v), np.tanh([0.1, -0.4]).sum())
    np.testing.assert_allclose(_np(g), (1 - np.tanh([0.1, -0.4]) ** 2) * [1.0, -2.0])
    v, (gw, gx) = fnn.value_and_grad(f, argnums=(0, 1))(w, x)
    np.testing.assert_allclose(_np(gx), (1 - np.tanh([0.1, -0.4]) ** 2) * [0.1, 0.2])


def test_has_aux():
    def loss(w):
        pred = w * 2.0
        return fnp.sum(pred**2), {"pred": pred, "note": "aux may hold anything"}

    w = fnp.asarray([1.0, 3.0])
    g, aux = fnn.grad(loss, has_aux=True)(w)
    np.testing.assert_allclose(_np(g), [8.0, 24.0])
    np.testing.assert_allclose(_np(aux["pred"]), [2.0, 6.0])
    assert aux["note"] == "aux may hold anything"
    assert isinstance(aux["pred"], fnn.Array)  # concrete, not a tracer
    (v, aux2), g2 = fnn.value_and_grad(loss, has_aux=True)(w)
    assert float(v) == 40.0
    np.testing.assert_allclose(_np(g2), _np(g))
    with pytest.raises(TypeError, match="pair"):
        fnn.grad(lambda w: fnp.sum(w), has_aux=True)(w)


def test_aux_is_concrete_in_every_transform():
    # aux used to come back as a leaked JVP tracer
    f = lambda x: (x**2, {"y": x + 1.0, "tag": "t"})  # noqa: E731
    x = fnp.asarray([1.0, 2.0])
    _, _, aux = fnn.jvp(f, (x,), (x,), has_aux=True)
    _, _, aux2 = fnn.vjp(f, x, has_aux=True)
    _, aux3 = fnn.jacfwd(f, has_aux=True)(x)
    _, aux4 = fnn.jacrev(f, has_aux=True)(x)
    for a in (aux, aux2, aux3, aux4):
        assert type(a["y"]) is fnn.Array and a["tag"] == "t"
        np.testing.assert_array_equal(_np(a["y"]), [2.0, 3.0])
    g, aux5 = fnn.grad(lambda x: (fnp.sum(x**2), fnp.argmax(x)), has_aux=True)(x)
    assert type(aux5) is fnn.Array and int(aux5) == 1
    # nested: the outer transform sees the inner aux as its own aux
    g2, aux6 = fnn.grad(fnn.grad(lambda x: (x**3, x**2), has_aux=True), has_aux=True)(2.0)
    assert float(g2) == 12.0 and float(aux6) == 4.0
    g3, aux7 = fnn.jit(fnn.grad(lambda x: (x**3, x**2), has_aux=True))(2.0)
    assert float(g3) == 12.0 and float(aux7) == 4.0


def test_grad_with_keyword_arguments():
    def f(x, scale=1.0):
        return fnp.sum(x**2) * scale

    np.testing.assert_allclose(_np(fnn.grad(f)(fnp.ones(2), scale=3.0)), [6.0, 6.0])


def test_grad_of_constant_function_is_zero():
    g = fnn.grad(lambda x: fnp.asarray(1.0))(fnp.ones(3))
    np.testing.assert_array_equal(_np(g), np.zeros(3))
    g = fnn.grad(lambda x, y: fnp.sum(y), argnums=0)(fnp.ones(2), fnp.ones(2))
    np.testing.assert_array_equal(_np(g), np.zeros(2))


def test_grad_wrt_integer_argument_is_rejected_but_other_ints_are_fine():
    f = lambda x, n: fnp.sum(x**n)  # noqa: E731
    np.testing.assert_allclose(_np(fnn.grad(f)(fnp.asarray([1.0, 2.0]), 3)), [3.0, 12.0])
    with pytest.raises(TypeError, match="int32"):
        fnn.grad(f, argnums=1)(fnp.asarray([1.0, 2.0]), 3)


# ----------------------------------------------------------------------------------------
# Pytree inputs and outputs


def test_grad_of_dict_params(x64):
    params = {"w": fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), "b": fnp.asarray([0.5, -0.5])}
    x = fnp.asarray([1.0, -1.0])

    def loss(p):
        return fnp.sum(fnp.tanh(p["w"] @ x + p["b"]) ** 2)

    g = fnn.grad(loss)(params)
    assert set(g) == {"w", "b"}
    for k in ("w", "b"):
        fk = lambda v, k=k: loss({**params, k: v})  # noqa: E731
        np.testing.assert_allclose(_np(g[k]), num_grad(fk, params[k]), rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: [a, b],
        lambda a, b: (a, b),
        lambda a, b: Pair(a, b),
        lambda a, b: Params(a, b),
        lambda a, b: {"a": a, "nothing": None, "b": [b]},
    ],
    ids=["list", "tuple", "namedtuple", "user_class", "dict_with_none"],
)
def test_grad_of_pytree_containers(make):
    a, b = fnp.asarray([1.0, 2.0]), fnp.asarray(3.0)
    tree = make(a, b)

    def f(t):
        la, lb = tree_leaves(t)
        return fnp.sum(la**2) * lb

    g = fnn.grad(f)(tree)
    assert type(g) is type(tree)
    ga, gb = tree_leaves(g)
    np.testing.assert_allclose(_np(ga), [6.0, 12.0])
    assert float(gb) == 5.0


def test_grad_scalar_leaves_of_mixed_python_numbers():
    g = fnn.grad(lambda p: p["a"] * p["b"] ** 2)({"a": 2.0, "b": 3.0})
    assert float(g["a"]) == 9.0 and float(g["b"]) == 12.0


def test_jvp_and_vjp_with_pytree_outputs(x64):
    def f(p):
        return {"s": fnp.sin(p.a) * p.b, "t": (p.a**2, None)}

    p = Pair(fnp.asarray([0.1, 0.2]), fnp.asarray(2.0))
    tp = Pair(fnp.asarray([1.0, -1.0]), fnp.asarray(0.5))
    out, t_out = fnn.jvp(f, (p,), (tp,))
    assert set(out) == {"s", "t"} and out["t"][1] is None
    np.testing.assert_allclose(
        _np(t_out["s"]), np.cos([0.1, 0.2]) * [1.0, -1.0] * 2.0 + np.sin([0.1, 0.2]) * 0.5
    )
    np.testing.assert_allclose(_np(t_out["t"][0]), 2 * np.array([0.1, 0.2]) * [1.0, -1.0])
    out2, f_vjp = fnn.vjp(f, p)
    ct = {"s": fnp.asarray([1.0, 2.0]), "t": (fnp.asarray([0.0, 1.0]), None)}
    (ct_p,) = f_vjp(ct)
    assert type(ct_p) is Pair
    # <ct, J tp> == <J^T ct, tp>
    lhs = sum(
        float(fnp.sum(a * b)) for a, b in zip(tree_leaves(ct), tree_leaves(t_out), strict=True)
    )
    rhs = sum(
        float(fnp.sum(a * b)) for a, b in zip(tree_leaves(ct_p), tree_leaves(tp), strict=True)
    )
    np.testing.assert_allclose(lhs, rhs)


# ----------------------------------------------------------------------------------------
# jvp, vjp, linearize


def _vec_fun(x):
    return fnp.stack(
        [fnp.sin(x[0]) * x[1], fnp.exp(x[1] - x[2]), x[0] * x[1] * x[2], fnp.sum(x**2)]
    )


def test_jvp_against_jacobian(x64):
    x = np.array([0.4, -0.3, 1.1])
    v = np.array([1.0, 2.0, -0.5])
    out, t = fnn.jvp(_vec_fun, (fnp.asarray(x),), (fnp.asarray(v),))
    np.testing.assert_allclose(_np(out), _np(_vec_fun(fnp.asarray(x))))
    np.testing.assert_allclose(_np(t), num_jac(_vec_fun, x) @ v, rtol=1e-6)


def test_jvp_with_several_arguments_and_python_scalars():
    out, t = fnn.jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))
    assert float(out) == 6.0 and float(t) == 3.0
    out, t = fnn.jvp(fnp.sin, (0.0,), (1.0,))
    assert float(t) == 1.0


def test_jvp_has_aux():
    out, t, aux = fnn.jvp(lambda x: (x**2, x + 1.0), (3.0,), (1.0,), has_aux=True)
    assert float(out) == 9.0 and float(t) == 6.0 and float(aux) == 4.0


def test_vjp_against_jacobian(x64):
    x = np.array([0.4, -0.3, 1.1])
    u = np.array([1.0, -2.0, 0.5, 3.0])
    out, f_vjp = fnn.vjp(_vec_fun, fnp.asarray(x))
    (ct,) = f_vjp(fnp.asarray(u))
    np.testing.assert_allclose(_np(ct), u @ num_jac(_vec_fun, x), rtol=1e-6)


def test_vjp_several_primals_and_has_aux():
    out, f_vjp, aux = fnn.vjp(
        lambda x, y: (x * y, "aux"), fnp.asarray(2.0), fnp.asarray(5.0), has_aux=True
    )
    assert aux == "aux"
    cx, cy = f_vjp(fnp.asarray(1.0))
    assert float(cx) == 5.0 and float(cy) == 2.0


def test_vjp_function_is_reusable():
    _, f_vjp = fnn.vjp(lambda x: x**2, fnp.asarray([1.0, 2.0]))
    a = f_vjp(fnp.ones(2))[0]
    b = f_vjp(fnp.asarray([2.0, 0.0]))[0]
    np.testing.assert_allclose(_np(a), [2.0, 4.0])
    np.testing.assert_allclose(_np(b), [4.0, 0.0])


def test_linearize_matches_jvp(x64):
    x = fnp.asarray([0.4, -0.3, 1.1])
    out, f_jvp = fnn.linearize(_vec_fun, x)
    np.testing.assert_allclose(_np(out), _np(_vec_fun(x)))
    for v in (np.array([1.0, 0.0, 0.0]), np.array([0.3, -2.0, 1.5])):
        _, t = fnn.jvp(_vec_fun, (x,), (fnp.asarray(v),))
        np.testing.assert_allclose(_np(f_jvp(fnp.asarray(v))), _np(t), rtol=1e-12)


def test_linearize_with_pytrees():
    p = {"a": fnp.asarray(2.0), "b": fnp.asarray([1.0, 3.0])}
    out, f_jvp = fnn.linearize(lambda p: p["a"] * p["b"], p)
    t = f_jvp({"a": fnp.asarray(1.0), "b": fnp.asarray([0.0, 1.0])})
    np.testing.assert_allclose(_np(t), [1.0, 5.0])


@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_forward_reverse_agreement(shape, seed):
    # <u, J v> == <J^T u, v> for a composite function on random shapes
    fnn.config.update("enable_x64", True)
    try:
        rng = np.random.default_rng(seed)
        x, v = rng.normal(size=shape), rng.normal(size=shape)

        def f(x):
            y = fnp.tanh(x) * fnp.exp(-(x**2)) + fnp.sin(x) ** 2
            return fnp.concatenate(
                [fnp.ravel(y), fnp.cumsum(fnp.ravel(x)), fnp.sum(x, keepdims=True).ravel()]
            )

        out, t = fnn.jvp(f, (fnp.asarray(x),), (fnp.asarray(v),))
        u = rng.normal(size=out.shape)
        _, f_vjp = fnn.vjp(f, fnp.asarray(x))
        (ct,) = f_vjp(fnp.asarray(u))
        np.testing.assert_allclose(np.sum(u * _np(t)), np.sum(_np(ct) * v), rtol=1e-9, atol=1e-12)
    finally:
        fnn.config.update("enable_x64", False)


# ----------------------------------------------------------------------------------------
# Jacobians and Hessians


@pytest.mark.parametrize("jac", [fnn.jacfwd, fnn.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_against_finite_differences(jac, x64):
    x = np.array([0.4, -0.3, 1.1])
    J = jac(_vec_fun)(fnp.asarray(x))
    assert J.shape == (4, 3)
    np.testing.assert_allclose(_np(J), num_jac(_vec_fun, x), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("jac", [fnn.jacfwd, fnn.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_shapes_for_matrix_inputs_and_outputs(jac, x64):
    A = np.arange(6.0).reshape(2, 3) / 5.0

    def f(X):  # (3, 2) -> (2, 2)
        return fnp.tanh(fnp.asarray(A) @ X)

    X = np.linspace(-1, 1, 6).reshape(3, 2)
    J = jac(f)(fnp.asarray(X))
    assert J.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(_np(J), num_jac(f, X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("jac", [fnn.jacfwd, fnn.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_pytrees_and_argnums(jac):
    def f(x, y):
        return {"p": x * y[0], "q": fnp.sum(x) + y[1]}

    x, y = fnp.asarray([1.0, 2.0]), (fnp.asarray(3.0), fnp.asarray(4.0))
    J = jac(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(_np(J["p"][0]), 3.0 * np.eye(2))
    np.testing.assert_allclose(_np(J["p"][1][0]), [1.0, 2.0])
    np.testing.assert_allclose(_np(J["p"][1][1]), [0.0, 0.0])
    np.testing.assert_allclose(_np(J["q"][0]), [1.0, 1.0])
    assert float(J["q"][1][1]) == 1.0
    J0 = jac(f)(x, y)
    np.testing.assert_allclose(_np(J0["p"]), 3.0 * np.eye(2))


@pytest.mark.parametrize("jac", [fnn.jacfwd, fnn.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_has_aux(jac):
    J, aux = jac(lambda x: (x**2, x.shape), has_aux=True)(fnp.asarray([1.0, 2.0]))
    np.testing.assert_allclose(_np(J), np.diag([2.0, 4.0]))
    assert aux == (2,)


def test_jacfwd_equals_jacrev_on_scalar_in_and_out():
    f = lambda x: fnp.sin(x) * x  # noqa: E731
    assert fnn.jacfwd(f)(0.5).shape == ()
    np.testing.assert_allclose(float(fnn.jacfwd(f)(0.5)), float(fnn.jacrev(f)(0.5)), rtol=1e-6)


def test_hessian_closed_form(x64):
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])

    def f(x):
        return 0.5 * x @ fnp.asarray(A) @ x + fnp.sum(x**3)

    x = np.array([0.1, -0.2, 0.3])
    H = fnn.hessian(f)(fnp.asarray(x))
    np.testing.assert_allclose(_np(H), A + np.diag(6 * x), rtol=1e-12)


def test_hessian_pytree_argnums():
    def f(a, b):
        return a**2 * b

    H = fnn.hessian(f, argnums=(0, 1))(fnp.asarray(2.0), fnp.asarray(3.0))
    np.testing.assert_allclose(
        [[float(H[0][0]), float(H[0][1])], [float(H[1][0]), float(H[1][1])]],
        [[6.0, 4.0], [4.0, 0.0]],
    )


# ----------------------------------------------------------------------------------------
# stop_gradient and Python control flow


def test_stop_gradient():
    f = lambda x: x * fnn.stop_gradient(x)  # noqa: E731
    assert float(fnn.grad(f)(3.0)) == 3.0
    assert float(fnn.grad(fnn.grad(f))(3.0)) == 0.0
    # on a pytree
    t = fnn.stop_gradient({"a": fnp.ones(2), "b": (fnp.zeros(1),)})
    assert set(t) == {"a", "b"}
    g = fnn.grad(lambda p: fnp.sum(fnn.stop_gradient(p["a"]) * p["b"]))(
        {"a": fnp.ones(2), "b": fnp.full(2, 2.0)}
    )
    np.testing.assert_array_equal(_np(g["a"]), [0.0, 0.0])
    np.testing.assert_array_equal(_np(g["b"]), [1.0, 1.0])
    _, t = fnn.jvp(lambda x: fnn.stop_gradient(x) ** 2, (2.0,), (1.0,))
    assert float(t) == 0.0


def test_stop_gradient_target_pattern():
    # a TD-style target: gradient only through the prediction
    def loss(w, x):
        pred = w * x
        target = fnn.stop_gradient(pred + 1.0)
        return (pred - target) ** 2 + pred

    assert float(fnn.grad(loss)(2.0, 3.0)) == pytest.approx(2 * (-1.0) * 3.0 + 3.0)


def test_python_control_flow_on_concrete_values_outside_jit(x64):
    def f(x):
        if x > 0:  # concrete under grad, as in JAX
            y = x**2
        else:
            y = -(x**3)
        i = 0
        while float(y) > 1.0 and i < 10:  # float() on a JVP/grad value is allowed
            y = y / 2.0
            i += 1
        return y * int(i + 1)

    np.testing.assert_allclose(float(fnn.grad(f)(3.0)), num_grad(f, np.asarray(3.0)), rtol=1e-6)
    np.testing.assert_allclose(float(fnn.grad(f)(-0.5)), num_grad(f, np.asarray(-0.5)), rtol=1e-6)
    assert float(fnn.grad(fnn.grad(f))(0.5)) == pytest.approx(2.0)
    _, t = fnn.jvp(f, (3.0,), (1.0,))
    assert float(t) == pytest.approx(float(fnn.grad(f)(3.0)))


def test_python_control_flow_on_array_elements_outside_jit():
    def f(x):
        total = 0.0
        for xi in x:  # iteration over an array under grad
            total = total + (xi**2 if xi > 0 else 3.0 * xi)
        return total

    np.testing.assert_allclose(_np(fnn.grad(f)(fnp.asarray([2.0, -1.0, 0.5]))), [4.0, 3.0, 1.0])
    np.testing.assert_allclose(
        _np(fnn.jacrev(lambda x: fnp.stack([f(x), x[0]]))(fnp.asarray([2.0, -1.0]))),
        [[4.0, 3.0], [1.0, 0.0]],
    )


def test_grad_of_jit_with_python_branch_on_static_arg():
    @fnn.jit(static_argnums=1)
    def f(x, mode):
        return fnp.sum(x**2) if mode == "sq" else fnp.sum(x)

    np.testing.assert_allclose(_np(fnn.grad(f)(fnp.ones(2), "sq")), [2.0, 2.0])
    np.testing.assert_allclose(_np(fnn.grad(f)(fnp.ones(2), "lin")), [1.0, 1.0])


def test_grad_results_are_concrete_arrays():
    g = fnn.grad(lambda x: fnp.sum(x**2))(fnp.ones(2))
    assert type(g) is fnn.Array
    v, g = fnn.value_and_grad(lambda x: fnp.sum(x**2))(fnp.ones(2))
    assert type(v) is fnn.Array
    out, f_vjp = fnn.vjp(fnp.sin, fnp.ones(2))
    assert type(out) is fnn.Array and type(f_vjp(fnp.ones(2))[0]) is fnn.Array


def test_grad_does_not_modify_inputs():
    x = np.array([1.0, 2.0], np.float32)
    before = x.copy()
    fnn.grad(lambda x: fnp.sum(fnp.exp(x) * x))(x)
    fnn.hessian(lambda x: fnp.sum(fnp.exp(x) * x))(x)
    np.testing.assert_array_equal(x, before)
    assert x.flags.writeable


def test_tree_map_grad_update_round_trip():
    params = {"w": fnp.ones((2, 2)), "b": fnp.zeros(2)}
    g = fnn.grad(lambda p: fnp.sum(p["w"] @ fnp.ones(2) + p["b"]))(params)
    new = tree_map(lambda p, gi: p - 0.1 * gi, params, g)
    np.testing.assert_allclose(_np(new["b"]), [-0.1, -0.1])
    assert new["w"].dtype == np.float32


def test_every_transform_returns_arrays_even_for_constants_and_zeros():
    # symbolic zeros, literals and constant outputs used to come back as numpy arrays
    # or Python floats
    results = [
        fnn.grad(lambda x, y: y * 1.0, argnums=0)(1.0, 2.0),
        fnn.jvp(lambda x: fnp.asarray(1.0), (1.0,), (1.0,))[1],
        fnn.jvp(lambda x: 3.0, (1.0,), (1.0,))[0],
        fnn.value_and_grad(lambda x: 3.0)(1.0)[0],
        fnn.linearize(lambda x: (x * 2.0, fnp.argmax(x)), fnp.ones(2))[1](fnp.ones(2))[1],
        fnn.jvp(lambda x: (x * 2.0, fnp.argmax(x)), (fnp.ones(2),), (fnp.ones(2),))[1][1],
        fnn.make_jaxpr(lambda x: (2.0, x))(1.0)(1.0)[0],
    ]
    for r in results:
        assert type(r) is fnn.Array, type(r)


def test_abs_derivative_at_zero_is_one_as_in_jax():
    # JAX takes the right-hand subgradient: d|x|/dx at 0 is 1 (sign(0) = 0 would be 0).
    assert float(fnn.grad(fnp.abs)(0.0)) == 1.0
    got = fnn.jit(fnn.grad(lambda x: fnp.sum(fnp.abs(x))))(fnp.asarray([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(np.asarray(got), [-1.0, 1.0, 1.0])
