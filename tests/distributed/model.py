"""A small classifier, its data and its training loop, shared by the MPI programs
(``programs.py``, run under ``mpiexec``) and the tests that check them against one
process (``test_mpi.py``).

The same functions run in both: without ``fnn.distributed.initialize()`` every
collective returns its input and ``batches`` gives the whole global batch, so calling
``train`` in the test process is the one-process run with batch ``GLOBAL_BATCH``.
"""

from __future__ import annotations

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn import distributed as dist
from fnn import nn
from fnn.data import batches
from fnn.tree_util import tree_map

N, D, H, C = 64, 8, 16, 3
GLOBAL_BATCH = 16
LR = 0.5


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32) + (x[:, 2] > 1).astype(np.int32)
    return x, y


def init() -> dict:
    rng = np.random.default_rng(1)
    return {
        "w1": (rng.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32),
        "b1": np.zeros(H, np.float32),
        "w2": (rng.normal(size=(H, C)) / np.sqrt(H)).astype(np.float32),
        "b2": np.zeros(C, np.float32),
    }


def losses(params, x, y):
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return nn.losses.softmax_cross_entropy_with_integer_labels(logits, y)


def loss(params, x, y):
    return fnp.mean(losses(params, x, y))


def horovod_step(params, x, y):
    """One SGD step: local gradient, then the mean over processes (Horovod's way)."""
    value, grads = fnn.value_and_grad(loss)(params, x, y)
    value, grads = dist.pmean((value, grads))
    return tree_map(lambda p, g: p - LR * g, params, grads), value


def pvary_step(params, x, y):
    """One SGD step on the global loss: pvary makes grad sum the processes' parts."""
    value, grads = fnn.value_and_grad(lambda p: dist.pmean(loss(dist.pvary(p), x, y)))(params)
    return tree_map(lambda p, g: p - LR * g, params, grads), value


def train(step, steps: int = 20, params=None, start: int = 0, on_step=None):
    """``steps`` SGD steps from step ``start`` over epochs of shuffled, sharded batches."""
    x, y = data()
    params = init() if params is None else params
    per_epoch = N // GLOBAL_BATCH
    for s in range(start, steps):
        epoch, i = divmod(s, per_epoch)
        xb, yb = batches((x, y), GLOBAL_BATCH, key=fnn.random.key(epoch), drop_last=True)[i]
        params, _ = step(params, xb, yb)
        if on_step is not None:
            on_step(s + 1, params)
    return tree_map(np.asarray, params)
