"""The whole stack learns: one epoch of the MLP example on 8,000 real MNIST images.

This is a correctness check (layers, losses, grad, jit, Adam, batching together), not a
timing test: a wrong gradient or update rule leaves the accuracy far below 85 %.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import fnn
from fnn import optim
from fnn.data import DatasetError, batches, mnist

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# 80 steps reach 87-89 % on the 10,000 test images (seeds 0-2), 0.37 +- 0.03 test loss.
N_TRAIN, N_TEST, BATCH, LR = 8000, 10000, 100, 2e-3


@pytest.fixture(scope="module")
def mlp_example():
    """The examples/mlp_mnist.py module, imported without leaving a trace on the process."""
    saved_path, saved_env = list(sys.path), os.environ.get("OPENBLAS_NUM_THREADS")
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("mlp_mnist")
    finally:
        sys.path[:] = saved_path
        # The example sets a default thread count for its own process only.
        if saved_env is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        for name in ("mlp_mnist", "_shared"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def mnist_slice():
    try:
        (x_train, y_train), (x_test, y_test) = mnist(download=False)
    except DatasetError as e:
        pytest.skip(f"MNIST not found locally (set FNN_DATA_DIR to a folder holding it): {e}")

    def prep(x, y, n):
        return (x[:n].reshape(n, -1) / np.float32(255)).astype(np.float32), y[:n].astype(np.int32)

    return prep(x_train, y_train, N_TRAIN), prep(x_test, y_test, N_TEST)


def test_one_epoch_of_mlp_reaches_85_percent(mlp_example, mnist_slice):
    (x_train, y_train), (x_test, y_test) = mnist_slice
    model = mlp_example.make_model(hidden=256)
    params = model.init(fnn.random.key(0), (1, 784))
    opt = optim.adam(LR)
    opt_state = opt.init(params)
    train_step, eval_step = mlp_example.make_steps(model, opt)

    losses = []
    data = batches((x_train, y_train), BATCH, key=fnn.random.key(1), drop_last=True)
    for xb, yb in data:
        params, opt_state, loss = train_step(params, opt_state, xb, yb, None)
        losses.append(float(loss))
    test_loss, accuracy, predicted = mlp_example.evaluate(eval_step, params, x_test, y_test)

    assert len(losses) == N_TRAIN // BATCH and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10]), "the training loss did not fall"
    assert predicted.shape == (N_TEST,)
    assert accuracy > 0.85, f"test accuracy {accuracy:.3f} after one epoch"
    assert test_loss < 0.5
