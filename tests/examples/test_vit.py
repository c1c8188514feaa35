"""examples/vit_mnist.py: the --quick run writes its outputs; patches and attention are right.

The quick run executes the script as a user or CI would (a subprocess, in --quick mode)
and needs MNIST on disk (``$FNN_DATA_DIR`` or the cache): it never downloads. The unit
checks import the example's functions and need no data.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fnn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 300  # seconds: the quick run takes ~20 s, but the shared machine is often busy
OUTPUTS = ("loss.png", "predictions.png", "attention.png")


@pytest.fixture(scope="module")
def vit():
    """The examples/vit_mnist.py module, imported without leaving a trace on the process."""
    saved_path, saved_env = list(sys.path), os.environ.get("OPENBLAS_NUM_THREADS")
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("vit_mnist")
    finally:
        sys.path[:] = saved_path
        # The example sets a default thread count for its own process only.
        if saved_env is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        for name in ("vit_mnist", "_shared", "_vit_utils"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def utils(vit):
    """examples/_vit_utils.py (patches and the attention picture), as vit_mnist imports it."""
    return sys.modules["_vit_utils"]


# -- unit checks -------------------------------------------------------------------------


@pytest.mark.parametrize("patch", [4, 7])
def test_patchify_cuts_row_major_patches_and_unpatchify_inverts_it(utils, patch):
    x = np.random.default_rng(0).random((3, 28, 28, 2), dtype=np.float32)
    tokens = utils.patchify(x, patch)
    grid = 28 // patch
    assert tokens.shape == (3, grid * grid, patch * patch * 2)
    # Token i * grid + j is the patch at grid row i, column j, flattened (row, col, channel).
    i, j = 1, grid - 1
    expected = x[:, i * patch : (i + 1) * patch, j * patch : (j + 1) * patch].reshape(3, -1)
    np.testing.assert_array_equal(tokens[:, i * grid + j], expected)
    np.testing.assert_array_equal(utils.unpatchify(tokens, patch, 28, 28), x)


def test_patchify_rejects_sizes_the_patch_does_not_divide(utils):
    with pytest.raises(ValueError, match="multiple of patch=5"):
        utils.patchify(np.zeros((1, 28, 28, 1)), 5)


def test_embedding_and_logits_shapes(vit):
    model = vit.ViT(patch=7, d_model=16, depth=2, num_heads=2, mlp_dim=32)
    params = model.init(fnn.random.key(0), (1, 28, 28, 1))
    x = np.zeros((5, 28, 28, 1), np.float32)
    assert model.embed(params, x).shape == (5, 17, 16)  # 16 patches + the class token
    assert model.apply(params, x).shape == (5, 10)


@pytest.mark.parametrize("block", [0, -1])
def test_attention_rows_sum_to_one_and_maps_cover_the_patches(vit, utils, block):
    model = vit.ViT(patch=7, d_model=16, depth=2, num_heads=2, mlp_dim=32)
    params = model.init(fnn.random.key(1), (1, 28, 28, 1))
    x = np.random.default_rng(1).random((4, 28, 28, 1), dtype=np.float32)
    weights = np.asarray(fnn.jit(model.attention_weights, static_argnums=2)(params, x, block))
    assert weights.shape == (4, 2, 17, 17)
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)

    maps = utils.cls_attention_maps(weights, (4, 4))
    assert maps.shape == (4, 2, 4, 4)
    # The class token's row: its weight on itself plus the patch map make up the whole row.
    np.testing.assert_allclose(maps.sum((-2, -1)) + weights[:, :, 0, 0], 1.0, rtol=1e-5)


def test_ink_following_head_finds_the_head_that_looks_at_the_digit(utils):
    images = np.random.default_rng(2).random((5, 28, 28, 1), dtype=np.float32)
    ink = utils.patchify(images, 7).mean(-1).reshape(5, 4, 4)
    noise = np.random.default_rng(3).random((5, 4, 4))
    maps = np.stack([noise, ink / ink.sum((1, 2), keepdims=True), noise[::-1]], axis=1)
    head, corr = utils.ink_following_head(maps, images, 7)
    assert head == 1 and corr == pytest.approx(1.0)


# -- the quick run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_available() -> None:
    from fnn.data import DatasetError, mnist

    try:
        mnist(download=False)
    except DatasetError as e:
        pytest.skip(f"MNIST not found locally (set FNN_DATA_DIR to a folder holding it): {e}")


def test_quick_run_writes_metrics_and_plots(tmp_path, mnist_available):
    out = tmp_path / "out"
    env = dict(os.environ)  # FNN_DATA_DIR included
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, str(EXAMPLES / "vit_mnist.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited with {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )

    assert (out / "params.npz").stat().st_size > 0
    for name in OUTPUTS:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, f"{name} is not a real PNG"

    metrics = json.loads((out / "metrics.json").read_text())
    history, epochs = metrics["history"], metrics["args"]["epochs"]
    assert metrics["example"] == "vit_mnist" and metrics["num_train"] == 2000
    for key in ("epoch", "train_loss", "test_loss", "test_accuracy", "wall_seconds"):
        assert len(history[key]) == epochs, f"history[{key!r}] should hold one value per epoch"
    assert history["epoch"] == list(range(1, epochs + 1))
    for key in ("train_loss", "test_loss"):
        assert all(math.isfinite(v) and v >= 0 for v in history[key]), history[key]
    assert history["wall_seconds"] == sorted(history["wall_seconds"])
    # The quick runs reach 50-62 % (45 steps on 2,000 images); chance is 10 %. A broken
    # gradient, optimizer or patch order stays near chance.
    assert metrics["final_test_accuracy"] == history["test_accuracy"][-1] >= 0.3
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert 0 <= metrics["attention_head_shown"] < metrics["args"]["heads"]
    assert metrics["train_seconds"] > 0 and metrics["machine"]["before"]["cpus"] >= 1
    # The printed summary names the accuracy and where the outputs went.
    assert f"{100 * metrics['final_test_accuracy']:.2f} %" in proc.stdout
    assert str(out) in proc.stdout
