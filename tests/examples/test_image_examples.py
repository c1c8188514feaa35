"""The image-classification examples run end to end in --quick mode and write their outputs.

Each example runs as a real program (``python examples/NAME.py --quick --out DIR`` in a
subprocess), as a user or CI would run it. MNIST must be on disk (``$FNN_DATA_DIR`` or
the cache): these tests never download it. CIFAR-10 is faked with tiny files in the
exact binary format.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 300  # seconds per run: generous, the shared CI machine is often busy
CIFAR_RECORDS = 40  # records per fake CIFAR-10 file (the real files hold 10,000)


@pytest.fixture(scope="module")
def mnist_available() -> None:
    from fnn.data import DatasetError, mnist

    try:
        mnist(download=False)
    except DatasetError as e:
        pytest.skip(f"MNIST not found locally (set FNN_DATA_DIR to a folder holding it): {e}")


def _env() -> dict[str, str]:
    """The caller's environment (FNN_DATA_DIR included), with the repo importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited with {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
    return proc


def _check_outputs(out: Path, proc: subprocess.CompletedProcess, *, min_accuracy: float) -> dict:
    """metrics.json parses with per-epoch series of sane values; the PNGs are PNGs."""
    for name in ("loss.png", "predictions.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, f"{name} is not a real PNG"

    metrics = json.loads((out / "metrics.json").read_text())
    history = metrics["history"]
    epochs = metrics["args"]["epochs"]
    for key in ("epoch", "train_loss", "test_loss", "test_accuracy", "wall_seconds"):
        assert len(history[key]) == epochs, f"history[{key!r}] should hold one value per epoch"
    assert history["epoch"] == list(range(1, epochs + 1))
    for key in ("train_loss", "test_loss"):
        assert all(math.isfinite(v) and v >= 0 for v in history[key]), history[key]
    assert all(0 <= a <= 1 for a in history["test_accuracy"])
    assert history["wall_seconds"] == sorted(history["wall_seconds"])
    assert metrics["final_test_accuracy"] == history["test_accuracy"][-1] >= min_accuracy
    assert metrics["train_seconds"] > 0 and metrics["machine"]["before"]["cpus"] >= 1
    # The printed summary names the accuracy and where the outputs went.
    assert f"{100 * metrics['final_test_accuracy']:.2f} %" in proc.stdout
    assert str(out) in proc.stdout
    return metrics


# Accuracy floors for the --quick runs (2,000 training images, 2-3 epochs): far above
# chance (10 %) and below what the runs reach (about 80 %), so that a broken gradient
# or optimizer fails while random variation does not.
@pytest.mark.parametrize("script", ["mlp_mnist.py", "cnn_mnist.py"])
def test_mnist_example_quick(script, tmp_path, mnist_available):
    out = tmp_path / "out"
    proc = _run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)])
    metrics = _check_outputs(out, proc, min_accuracy=0.6)
    assert metrics["dataset"] == "mnist" and metrics["num_train"] == 2000


def test_cnn_classify_mnist_quick(tmp_path, mnist_available):
    out = tmp_path / "out"
    cmd = [sys.executable, str(EXAMPLES / "cnn_classify.py"), "--dataset", "mnist"]
    proc = _run([*cmd, "--quick", "--epochs", "1", "--out", str(out)])
    metrics = _check_outputs(out, proc, min_accuracy=0.5)
    assert metrics["arch"] == "small"


def write_fake_cifar10(folder: Path, records: int, seed: int = 0) -> None:
    """data_batch_1..5.bin and test_batch.bin in CIFAR-10's binary format.

    Each record is 1 label byte then 3072 pixel bytes (the red, green and blue 32x32
    planes, row-major). Each class gets its own mean colour, so the labels are learnable.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for name in names:
        labels = rng.integers(0, 10, records, dtype=np.uint8)
        colours = (labels[:, None] * 25 + np.array([0, 80, 160])) % 256  # (N, 3)
        noise = rng.integers(-30, 31, (records, 3, 32 * 32))
        planes = np.clip(colours[:, :, None] + noise, 0, 255).astype(np.uint8)
        rows = np.concatenate([labels[:, None], planes.reshape(records, 3072)], axis=1)
        (folder / name).write_bytes(rows.tobytes())


def test_cnn_classify_cifar10_format_quick(tmp_path):
    data_dir = tmp_path / "data"
    write_fake_cifar10(data_dir / "cifar10", CIFAR_RECORDS)
    out = tmp_path / "out"
    args = ["--dataset", "cifar10", "--quick", "--epochs", "1"]
    args += ["--data-dir", str(data_dir), "--out", str(out)]
    # fnn.data.cifar10 insists on 10,000 records per file and has no parameter or
    # environment variable to change that; the data tests lower the module constant
    # RECORDS_PER_FILE, so this does the same inside the example's own process.
    bootstrap = (
        "import runpy, sys; import fnn.data.cifar as cifar; "
        f"cifar.RECORDS_PER_FILE = {CIFAR_RECORDS}; "
        f"sys.argv = [{str(EXAMPLES / 'cnn_classify.py')!r}, *{args!r}]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    proc = _run([sys.executable, "-c", bootstrap])
    metrics = _check_outputs(out, proc, min_accuracy=0.0)
    assert metrics["dataset"] == "cifar10" and metrics["arch"] == "vgg"
    assert metrics["num_train"] == 5 * CIFAR_RECORDS and metrics["num_test"] == CIFAR_RECORDS
    assert "(32, 32, 3)" in proc.stdout
