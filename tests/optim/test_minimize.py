"""fnn.optim.minimize: scipy on a pytree of params."""

import numpy as np
import pytest
import scipy.optimize

import fnn.numpy as fnp
from fnn import optim
from fnn.tree_util import tree_leaves, tree_structure


def rosenbrock(p):
    x, y = p["xy"]
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


@pytest.mark.usefixtures("x64")
def test_rosenbrock_float64():
    params = {"xy": (fnp.asarray(-1.2), fnp.asarray(1.0))}
    res = optim.minimize(rosenbrock, params, tol=1e-14)
    assert res.success, res.message
    assert tree_structure(res.params) == tree_structure(params)
    assert all(x.dtype == np.float64 for x in tree_leaves(res.params))
    np.testing.assert_allclose([float(v) for v in res.params["xy"]], [1.0, 1.0], atol=1e-7)
    assert res.loss < 1e-14
    assert res.n_fev >= res.n_iter > 10


@pytest.mark.usefixtures("x64")
def test_same_iterates_as_scipy_on_the_flat_problem():
    """In float64 the wrapper is transparent: scipy on the hand-flattened problem
    (leaves in tree order: "b" then "w") takes the same iterations to the same point."""
    c = np.logspace(0, 2, 8)
    c_f = fnp.asarray(c)

    def loss(p):
        return 0.5 * fnp.sum(c_f * (p["w"] - 1.0) ** 2) + (p["b"] - 2.0) ** 2

    def flat(x):
        b, w = x[0], x[1:]
        return 0.5 * np.sum(c * (w - 1) ** 2) + (b - 2) ** 2, np.r_[2 * (b - 2), c * (w - 1)]

    res = optim.minimize(loss, {"w": fnp.zeros(8), "b": fnp.asarray(0.0)}, tol=1e-12)
    ref = scipy.optimize.minimize(flat, np.zeros(9), jac=True, method="L-BFGS-B", tol=1e-12)
    assert res.success and res.n_iter == ref.nit and res.n_fev == ref.nfev
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)
    np.testing.assert_allclose(res.params["w"], np.ones(8), rtol=1e-5)
    assert float(res.params["b"]) == pytest.approx(2.0, rel=1e-6)


def test_structure_dtypes_and_callback():
    target = {"w": np.arange(6.0).reshape(2, 3), "b": np.array([0.5])}

    def loss(p):
        return fnp.sum((p["layer"]["w"] - target["w"]) ** 2) + fnp.sum(
            (p["layer"]["b"] - target["b"]) ** 2
        )

    params = {"layer": {"w": fnp.zeros((2, 3)), "b": fnp.zeros(1)}}
    calls = []

    def callback(i, loss_value, p):
        assert tree_structure(p) == tree_structure(params)
        calls.append((i, loss_value))

    res = optim.minimize(loss, params, callback=callback)
    assert res.success
    assert res.n_iter <= 5  # a well-conditioned quadratic takes few iterations
    assert tree_structure(res.params) == tree_structure(params)
    assert res.params["layer"]["w"].shape == (2, 3)
    assert all(x.dtype == np.float32 for x in tree_leaves(res.params))
    np.testing.assert_allclose(res.params["layer"]["w"], target["w"], atol=1e-4)
    # one call per iteration, numbered from 1; history has the initial loss too
    assert [i for i, _ in calls] == list(range(1, res.n_iter + 1))
    assert len(res.history) == res.n_iter + 1
    assert res.history[0] == pytest.approx(float(loss(params)))
    assert [v for _, v in calls] == res.history[1:]
    assert res.history[-1] == pytest.approx(res.loss)
    assert all(b <= a for a, b in zip(res.history, res.history[1:], strict=False))


def test_callback_can_stop():
    res = optim.minimize(
        lambda p: fnp.sum((p - 3.0) ** 4), fnp.zeros(3), callback=lambda i, loss, p: i >= 2
    )
    assert res.n_iter == 2
    assert len(res.history) == 3


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("method", ["BFGS", "CG"])
def test_other_methods_without_jit(method):
    res = optim.minimize(
        rosenbrock, {"xy": (fnp.asarray(-1.2), fnp.asarray(1.0))}, method, jit=False
    )
    np.testing.assert_allclose([float(v) for v in res.params["xy"]], [1.0, 1.0], atol=1e-4)


def test_maxiter_and_options():
    res = optim.minimize(rosenbrock, {"xy": (fnp.asarray(-1.2), fnp.asarray(1.0))}, maxiter=3)
    assert res.n_iter == 3 and not res.success
    res = optim.minimize(
        rosenbrock, {"xy": (fnp.asarray(-1.2), fnp.asarray(1.0))}, maxiter=3, options={"maxiter": 5}
    )
    assert res.n_iter == 5


def test_integer_leaves_are_rejected():
    with pytest.raises(TypeError, match="float array"):
        optim.minimize(lambda p: fnp.sum(p["w"]), {"w": fnp.zeros(2), "n": fnp.asarray(3)})


@pytest.mark.usefixtures("x64")
def test_args_are_passed_and_not_baked_into_the_program():
    def loss(p, x, y):
        return fnp.mean((p["a"] * x + p["b"] - y) ** 2)

    x = np.linspace(-1.0, 1.0, 20)
    params = {"a": fnp.asarray(0.0), "b": fnp.asarray(0.0)}
    for a, b in [(2.0, -1.0), (-0.5, 3.0)]:  # same shapes: the compiled program is reused
        res = optim.minimize(loss, params, args=(fnp.asarray(x), fnp.asarray(a * x + b)), tol=1e-14)
        assert res.success, res.message
        assert float(res.params["a"]) == pytest.approx(a, abs=1e-6)
        assert float(res.params["b"]) == pytest.approx(b, abs=1e-6)


@pytest.mark.usefixtures("x64")
def test_has_aux_reaches_the_callback_and_the_result():
    def loss(p, target):
        terms = {"fit": fnp.sum((p - target) ** 2), "reg": 1e-3 * fnp.sum(p**2)}
        return terms["fit"] + terms["reg"], terms

    seen = []

    def callback(i, value, p, aux):
        assert value == pytest.approx(float(aux["fit"] + aux["reg"]), rel=1e-12)
        seen.append(i)

    target = fnp.asarray([1.0, -2.0, 3.0])
    res = optim.minimize(loss, fnp.zeros(3), args=(target,), has_aux=True, callback=callback)
    plain = optim.minimize(lambda p, t: loss(p, t)[0], fnp.zeros(3), args=(target,))
    assert res.success and seen == list(range(1, res.n_iter + 1))
    assert set(res.aux) == {"fit", "reg"}
    assert float(res.aux["fit"] + res.aux["reg"]) == pytest.approx(res.loss, rel=1e-12)
    assert res.n_fev == plain.n_fev  # the aux costs no extra evaluations
    np.testing.assert_allclose(res.params, plain.params, rtol=1e-12)
