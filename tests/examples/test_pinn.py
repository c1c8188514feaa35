"""The Burgers PINN examples end to end, in their seconds-long --quick mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_example(script: str, out: Path, *flags: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--quick", "--out", str(out), *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text())


def assert_pngs(out: Path, names: list[str]) -> None:
    for name in names:
        data = (out / name).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000, name


COMMON = {
    "loss", "data_loss", "residual_loss", "adam_steps", "lbfgs_iterations",
    "lbfgs_evaluations", "minutes", "cpu_minutes", "median_seconds_per_lbfgs_iteration",
    "seconds_per_lbfgs_evaluation", "dtype", "layers", "seed",
}  # fmt: skip


def test_inference_quick(tmp_path):
    metrics = run_example("pinn_burgers.py", tmp_path, "--adam-steps", "50", "--lbfgs-iters", "30")
    assert COMMON | {"relative_l2_error", "n_u", "n_f"} <= set(metrics)
    assert metrics["quick"] and metrics["precision"] == "mixed"
    assert metrics["adam_steps"] == 50 and 0 < metrics["lbfgs_iterations"] <= 30
    assert 0 < metrics["relative_l2_error"] < 1.5
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"iteration", "loss", "data_loss", "residual_loss", "relative_l2_error"} <= set(history)
    assert_pngs(tmp_path, ["loss.png", "solution.png"])


@pytest.mark.parametrize("noise", ["0", "0.01"])
def test_identification_quick(tmp_path, noise):
    metrics = run_example(
        "pinn_burgers_identify.py",
        tmp_path,
        "--noise",
        noise,
        "--epochs",
        "50",
        "--lbfgs-iters",
        "30",
    )
    keys = {"lambda_1", "lambda_2", "lambda_1_error_percent", "lambda_2_error_percent", "noise"}
    assert COMMON | keys <= set(metrics)
    assert metrics["noise"] == float(noise)
    assert metrics["lambda_2"] > 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"lambda_1", "lambda_2"} <= set(history)
    assert_pngs(tmp_path, ["loss.png", "lambdas.png"])


def test_train_restarts_lbfgs_when_it_stops_early():
    import sys

    import fnn.numpy as fnp

    sys.path.insert(0, str(ROOT / "examples"))
    from pinn_burgers import train

    # In float32, a loss offset by 100 stops L-BFGS-B on ftol = eps (the steps no
    # longer change the rounded loss) while the gradient is still above gtol.
    target = fnp.linspace(-1.0, 1.0, 7)
    terms = lambda p, c: {"fit": 100.0 + fnp.sum((p - c) ** 2) + 0.1 * fnp.sum(p**4)}  # noqa: E731
    params, history, stats = train(terms, fnp.zeros(7), [target], 3, 500, log_every=1)
    assert stats["adam_steps"] == 3 and stats["lbfgs_iterations"] < 500
    assert stats["lbfgs_restarts"] >= 1 and "restarted" in stats["lbfgs_message"]
    assert stats["lbfgs_message"].count("after") == stats["lbfgs_restarts"] + 1
    its = [r["iteration"] for r in history.records if r["phase"] == "lbfgs"]
    assert its == list(range(4, 4 + stats["lbfgs_iterations"]))  # numbered across restarts
