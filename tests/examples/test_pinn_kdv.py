"""examples/pinn_kdv.py: the exact two-soliton solution solves KdV (fnn's Taylor-mode
derivatives, float64), the residual by Taylor mode equals nested jvp, and the --quick run
writes its outputs with a falling loss."""

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
import pinn_kdv as kdv  # noqa: E402


@pytest.fixture(autouse=True)
def x64():
    before = fnn.config.x64_enabled
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", before)


def points(n=400, seed=0):
    """(t, x) uniform in the example's domain, float64."""
    rng = np.random.default_rng(seed)
    return fnp.asarray(rng.uniform(kdv.LOWER, kdv.UPPER, size=(n, 2)))


def kdv_residual_of(u, tx, method):
    d = pde.derivatives(
        lambda p, X: u(X), None, tx, {"t": 1, "x": 3}, coords=("t", "x"), method=method
    )
    return d, d["u_t"] + 6 * d["u"] * d["u_x"] + d["u_xxx"]


def test_two_soliton_is_twice_the_second_derivative_of_log_tau():
    # The closed form in the example against its definition u = 2 (log tau)_xx, with
    # (log tau)_xx from Taylor mode.
    k1, k2 = kdv.K
    a12 = ((k1 - k2) / (k1 + k2)) ** 2

    def log_tau(p, tx):
        e1 = fnp.exp(k1 * (tx[:, 1] - kdv.X_START[0]) - k1**3 * tx[:, 0])
        e2 = fnp.exp(k2 * (tx[:, 1] - kdv.X_START[1]) - k2**3 * tx[:, 0])
        return fnp.log(1 + e1 + e2 + a12 * e1 * e2)

    tx = points()
    d = pde.derivatives(log_tau, None, tx, {"x": 2}, coords=("t", "x"))
    np.testing.assert_allclose(kdv.two_soliton(tx), 2 * d["u_xx"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(kdv.exact(np.asarray(tx)), 2 * d["u_xx"], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", ["auto", "nested"])
def test_two_soliton_solves_kdv_to_round_off(method):
    d, residual = kdv_residual_of(kdv.two_soliton, points(), method)
    scale = max(np.abs(np.asarray(d[k])).max() for k in ("u_t", "u_xxx"))
    assert scale > 1.0  # the terms are of order one: the check below is not vacuous
    assert np.abs(np.asarray(residual)).max() < 1e-12 * scale


def one_soliton(tx, k, x0):
    """KdV's one-soliton solution: height k^2 / 2, speed k^2, at x0 when t = 0."""
    return k**2 / 2 / fnp.cosh(k / 2 * (tx[:, 1] - x0 - k**2 * tx[:, 0])) ** 2


def test_two_separate_solitons_do_not_solve_kdv():
    # The control: each one-soliton solution solves KdV, their sum does not (KdV is
    # nonlinear), so the residual test above can fail.
    for k, x0 in zip(kdv.K, kdv.X_START):
        _, residual = kdv_residual_of(lambda tx: one_soliton(tx, k, x0), points(), "auto")  # noqa: B023
        assert np.abs(np.asarray(residual)).max() < 1e-11

    def superposition(tx):
        return sum(one_soliton(tx, k, x0) for k, x0 in zip(kdv.K, kdv.X_START))

    _, residual = kdv_residual_of(superposition, points(), "auto")
    assert np.abs(np.asarray(residual)).max() > 0.1


def test_solitons_collide_inside_the_domain():
    # At t = 0 the tall soliton (height k1^2 / 2 = 2) sits at x = -4; at t = 2 it is ahead
    # of the short one, shifted forward by log(1 / A12) / k1.
    x = np.linspace(-8, 8, 16001)
    u0 = kdv.exact(np.stack([np.zeros_like(x), x], axis=1))
    u2 = kdv.exact(np.stack([np.full_like(x, 2.0), x], axis=1))
    assert abs(x[np.argmax(u0)] - -4.0) < 1e-2 and abs(u0.max() - 2.0) < 0.05
    k1, k2 = kdv.K
    shift = np.log(((k1 + k2) / (k1 - k2)) ** 2) / k1
    assert abs(x[np.argmax(u2)] - (-4.0 + 4 * 2 + shift)) < 2e-2
    assert max(u0[[0, -1]].max(), u2[[0, -1]].max()) < 0.1  # small at the edges x = -8, 8


def small_network(seed=0):
    model = kdv.make_mlp(2, 12)
    params = model.init(fnn.random.key(seed), (1, 2))
    params = fnn.tree_util.tree_map(lambda a: fnp.asarray(a, dtype=fnp.float64), params)
    return kdv.make_u(model, kdv.LOWER, kdv.UPPER), params


def test_residual_by_taylor_mode_equals_nested_jvp():
    u, params = small_network()
    tx = points(50)
    taylor = np.asarray(kdv.kdv_residual(u, params, tx))
    nested = np.asarray(kdv.kdv_residual(u, params, tx, method="nested"))
    assert np.abs(nested).max() > 1e-3  # a network's residual is not zero
    np.testing.assert_allclose(taylor, nested, rtol=1e-11, atol=1e-12 * np.abs(nested).max())
    jitted = fnn.jit(lambda p, X: kdv.kdv_residual(u, p, X))(params, tx)
    np.testing.assert_allclose(jitted, taylor, rtol=1e-12, atol=1e-13)


def test_loss_gradient_by_taylor_mode_equals_nested_jvp():
    u, params = small_network(seed=1)
    tx_u = np.asarray(kdv.data_points(8, 4), np.float64)
    data = (fnp.asarray(tx_u), fnp.asarray(kdv.exact(tx_u)), points(40))

    def total(method):
        terms = kdv.make_loss_terms(u, method)
        return fnn.jit(fnn.value_and_grad(lambda p, *d: sum(terms(p, *d).values())))

    (v1, g1), (v2, g2) = total("auto")(params, *data), total("nested")(params, *data)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    for a, b in zip(fnn.tree_util.tree_leaves(g1), fnn.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_quick_run_writes_outputs_and_the_loss_falls(tmp_path):
    metrics = run_example("pinn_kdv.py", tmp_path, "--quiet", "--adam-steps", "100",
                          "--lbfgs-iters", "50")  # fmt: skip
    assert metrics["quick"] and metrics["dtype"] == "float32"
    assert metrics["adam_steps"] == 100 and 0 < metrics["lbfgs_iterations"] <= 50
    for key in ("relative_l2_error", "loss", "data_loss", "residual_loss", "max_abs_error"):
        assert np.isfinite(metrics[key]), key
    assert 0 < metrics["relative_l2_error"] < 1.5
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"iteration", "loss", "data_loss", "residual_loss", "relative_l2_error"} <= set(history)
    assert np.all(np.isfinite(history["loss"])) and np.all(
        np.isfinite(history["relative_l2_error"])
    )
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert_pngs(tmp_path, ["loss.png", "solution.png"])
