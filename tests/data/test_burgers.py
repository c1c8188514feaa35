import numpy as np
import pytest
from scipy.io import savemat

import fnn.data.burgers
from fnn.data import DatasetError, DatasetNotFoundError, burgers_solution, load_burgers_reference


@pytest.fixture
def reference(real_data_dir):
    if not (real_data_dir / "burgers" / "burgers_shock.mat").is_file():
        pytest.skip(f"no burgers/burgers_shock.mat in {real_data_dir}")
    return real_data_dir


def test_matches_reference_solution(reference, monkeypatch):
    monkeypatch.setenv("FNN_DATA_DIR", str(reference))
    x, t, usol = load_burgers_reference()
    assert x.shape == (256,) and t.shape == (100,) and usol.shape == (256, 100)
    assert x.dtype == t.dtype == usol.dtype == np.float64
    assert (x[0], x[-1], t[0], t[-1]) == (-1.0, 1.0, 0.0, pytest.approx(0.99))
    u = burgers_solution(x, t)
    assert np.linalg.norm(u - usol) / np.linalg.norm(usol) < 1e-8


def test_initial_condition_exact_and_boundaries_zero():
    x = np.linspace(-1, 1, 41)
    t = np.array([0.0, 0.1, 0.5, 1.0])
    u = burgers_solution(x, t)
    assert u.shape == (41, 4)
    np.testing.assert_array_equal(u[:, 0], -np.sin(np.pi * x))
    np.testing.assert_allclose(u[[0, -1], 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(u, -u[::-1], atol=1e-12)  # odd in x, as the initial data


def test_satisfies_the_pde():
    # Central differences of the solution on a fine grid away from the shock at x = 0.
    nu, dx, dt = 0.01 / np.pi, 1e-3, 1e-4
    x0 = np.array([-0.6, -0.3, 0.4, 0.7])
    t0 = 0.3
    xs = (x0[:, None] + dx * np.array([-1, 0, 1])).reshape(-1)
    u = burgers_solution(xs, np.array([t0 - dt, t0, t0 + dt])).reshape(4, 3, 3)
    u_t = (u[:, 1, 2] - u[:, 1, 0]) / (2 * dt)
    u_x = (u[:, 2, 1] - u[:, 0, 1]) / (2 * dx)
    u_xx = (u[:, 2, 1] - 2 * u[:, 1, 1] + u[:, 0, 1]) / dx**2
    residual = u_t + u[:, 1, 1] * u_x - nu * u_xx
    assert np.abs(residual).max() < 1e-4 * np.abs(u_t).max() + 1e-5


def test_blocks_over_x_give_the_same_values(monkeypatch):
    x, t = np.linspace(-1, 1, 37), np.array([0.0, 0.05, 0.5, 1.0])
    whole = burgers_solution(x, t, n_quad=100)
    monkeypatch.setattr(fnn.data.burgers, "_BLOCK", 5 * 3 * 100)  # 5 rows of x per block
    np.testing.assert_array_equal(burgers_solution(x, t, n_quad=100), whole)


def test_rejects_negative_time():
    with pytest.raises(ValueError, match="times must be >= 0"):
        burgers_solution(np.zeros(2), np.array([-0.1]))


def test_reference_loader_from_file_or_folder(tmp_path):
    x, t = np.linspace(-1, 1, 4)[:, None], np.linspace(0, 1, 3)[:, None]
    usol = np.arange(12.0).reshape(4, 3)
    (tmp_path / "burgers").mkdir()
    path = tmp_path / "burgers" / "burgers_shock.mat"
    savemat(path, {"x": x, "t": t, "usol": usol})
    for where in (path, tmp_path):
        rx, rt, ru = load_burgers_reference(where)
        np.testing.assert_array_equal(rx, x[:, 0])
        np.testing.assert_array_equal(rt, t[:, 0])
        np.testing.assert_array_equal(ru, usol)


def test_reference_loader_checks_shapes(tmp_path):
    savemat(
        tmp_path / "burgers_shock.mat",
        {"x": np.zeros((4, 1)), "t": np.zeros((3, 1)), "usol": np.zeros((3, 4))},
    )
    with pytest.raises(DatasetError, match=r"burgers_shock.mat: usol has shape \(3, 4\), expected"):
        load_burgers_reference(tmp_path)
    savemat(tmp_path / "burgers_shock.mat", {"x": np.zeros((4, 1))})
    with pytest.raises(DatasetError, match=r"missing variables \['t', 'usol'\]"):
        load_burgers_reference(tmp_path)


def test_reference_missing(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        load_burgers_reference(tmp_path)
    msg = str(e.value)
    assert "burgers_shock.mat" in msg and str(tmp_path) in msg and "FNN_DATA_DIR" in msg
    assert "maziarraissi/PINNs" in msg
