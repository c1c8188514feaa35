"""examples/pinn_poisson_highdim.py: the exact solution solves the 10-D Poisson problem
(fnn's forward Laplacian, float64), the residual by the forward Laplacian equals nested
jvp and the Hessian's trace, and the --quick run writes its outputs with a falling loss."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import pde
from tests.examples.test_pinn import ROOT, assert_pngs, run_example

sys.path.insert(0, str(ROOT / "examples"))
import pinn_poisson_highdim as poisson  # noqa: E402

D = poisson.D


@pytest.fixture(autouse=True)
def x64():
    before = fnn.config.x64_enabled
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", before)


def points(n=200, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, D))


def exact_fnp(params, X):
    return poisson.exact(X, xp=fnp)


@pytest.mark.parametrize("method", ["auto", "nested"])
def test_exact_solution_solves_poisson_to_round_off(method):
    X = points()
    f = poisson.source(X)  # the analytic source term, numpy float64
    lap = pde.derivatives(exact_fnp, None, fnp.asarray(X), ["laplacian"], coords=poisson.COORDS,
                          method=method)["laplacian"]  # fmt: skip
    np.testing.assert_allclose(-np.asarray(lap), f, rtol=1e-13)
    np.testing.assert_allclose(poisson.exact(X), np.sin(np.pi / 2 * X).sum(1), rtol=1e-15)
    # the example's own residual function, on the exact solution
    residual = poisson.poisson_residual(exact_fnp, None, fnp.asarray(X), f, method)
    assert np.abs(np.asarray(residual)).max() < 1e-12 * np.abs(f).max()


def test_boundary_points_lie_on_every_face_evenly():
    X = poisson.boundary_points(1000, np.random.default_rng(0))
    on_face = (X == 0) | (X == 1)
    assert np.all(on_face.sum(axis=1) == 1)  # exactly one coordinate on a face
    counts = [(X[:, i] == s).sum() for i in range(D) for s in (0, 1)]
    assert counts == [50] * 2 * D
    assert np.all((X >= 0) & (X <= 1))


def small_network(seed=0):
    model = poisson.make_mlp(2, 16)
    params = model.init(fnn.random.key(seed), (1, D))
    params = fnn.tree_util.tree_map(lambda a: fnp.asarray(a, dtype=fnp.float64), params)
    return poisson.make_u(model, poisson.LOWER, poisson.UPPER), params


def test_forward_laplacian_equals_nested_jvp_and_hessian_trace():
    u, params = small_network()
    X = fnp.asarray(points(30))
    forward = np.asarray(poisson.laplacian(u, params, X))
    nested = np.asarray(poisson.laplacian(u, params, X, method="nested"))
    basis = np.broadcast_to(np.eye(D)[:, None, :], (D, *X.shape))  # E_k: ones in column k
    direct = fnn.directional_laplacian(lambda X_: u(params, X_), basis)(X)
    scale = np.abs(nested).max()
    assert scale > 1e-2  # a network's Laplacian is not zero
    np.testing.assert_allclose(forward, nested, rtol=1e-11, atol=1e-13 * scale)
    np.testing.assert_allclose(forward, direct, rtol=1e-12, atol=1e-14 * scale)
    hessians = fnn.vmap(fnn.hessian(lambda x: u(params, x[None, :])[0]))(X)
    np.testing.assert_allclose(forward, np.trace(hessians, axis1=1, axis2=2), rtol=1e-10)
    jitted = fnn.jit(lambda p, X_: poisson.laplacian(u, p, X_))(params, X)
    np.testing.assert_allclose(jitted, forward, rtol=1e-12, atol=1e-14 * scale)


def test_loss_gradient_by_forward_laplacian_equals_nested_jvp():
    u, params = small_network(seed=1)
    X_b, X_f = poisson.boundary_points(40, np.random.default_rng(1)), points(40, seed=2)
    data = [fnp.asarray(a) for a in (X_b, poisson.exact(X_b), X_f, poisson.source(X_f))]

    def total(method):
        terms = poisson.make_loss_terms(u, method)
        return fnn.jit(fnn.value_and_grad(lambda p, *d: sum(terms(p, *d).values())))

    (v1, g1), (v2, g2) = total("auto")(params, *data), total("nested")(params, *data)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    for a, b in zip(fnn.tree_util.tree_leaves(g1), fnn.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_pde_derivatives_laplacian_under_jit():
    u, params = small_network()
    X = fnp.asarray(points(10))

    def lap(p, X_):
        return pde.derivatives(u, p, X_, ["laplacian"], coords=poisson.COORDS)["laplacian"]

    np.testing.assert_allclose(fnn.jit(lap)(params, X), lap(params, X), rtol=1e-12)


def test_quick_run_writes_outputs_and_the_loss_falls(tmp_path):
    metrics = run_example("pinn_poisson_highdim.py", tmp_path, "--quiet", "--adam-steps", "100",
                          "--lbfgs-iters", "50")  # fmt: skip
    assert metrics["quick"] and metrics["dtype"] == "float32" and metrics["dimensions"] == D
    assert metrics["adam_steps"] == 100 and 0 < metrics["lbfgs_iterations"] <= 50
    for key in ("relative_l2_error", "loss", "data_loss", "residual_loss", "max_abs_error"):
        assert np.isfinite(metrics[key]), key
    assert 0 < metrics["relative_l2_error"] < 1.5
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"iteration", "loss", "data_loss", "residual_loss", "relative_l2_error"} <= set(history)
    assert np.all(np.isfinite(history["loss"])) and np.all(
        np.isfinite(history["relative_l2_error"])
    )
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert history["relative_l2_error"][-1] < 0.5 * history["relative_l2_error"][0]
    assert_pngs(tmp_path, ["loss.png", "solution.png"])
