"""A seeded training step gives the same bits in every fresh process, however loaded
the machine is: jit chooses its plan from shapes alone and sums chunks in a fixed order."""

from __future__ import annotations

import subprocess
import sys

import pytest

TIMEOUT = 180

# An MLP applied per example (vmap), Adam, 40 steps; prints a hash of the parameters' bits.
TRAIN = """
import hashlib, sys
import numpy as np
import fnn, fnn.numpy as fnp
from fnn import nn, optim
from fnn.backend import batch_split

if sys.argv[1] == "split":
    batch_split.MIN_MAPPED_ELEMENTS = 0  # split even this small program
    fnn.config.update("jit_threads", 2)
model = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(64), nn.tanh, nn.Dense(1)])
params = model.init(fnn.random.key(0), (1, 16))
opt = optim.adam(1e-3)
opt_state = opt.init(params)
rng = np.random.default_rng(0)
x = rng.standard_normal((512, 16)).astype(np.float32)
y = np.tanh(x[:, :1] * x[:, 1:2])

def loss(p, x, y):
    pred = fnn.vmap(lambda row: model.apply(p, row[None])[0])(x)
    return fnp.mean((pred - y) ** 2)

@fnn.jit
def step(p, s, x, y):
    value, grads = fnn.value_and_grad(loss)(p, x, y)
    updates, s = opt.update(grads, s, p)
    return optim.apply_updates(p, updates), s, value

for _ in range(40):
    params, opt_state, value = step(params, opt_state, x, y)
split = getattr(step.lower(params, opt_state, x, y).fn, "split", None) is not None
leaves = fnn.tree_util.tree_leaves(params)
digest = hashlib.sha256(b"".join(np.asarray(v).tobytes() for v in leaves)).hexdigest()
print(split, digest[:16])
"""

LOAD = """
import numpy as np, time
a = np.random.default_rng(1).standard_normal((600, 600))
end = time.time() + 120
while time.time() < end:
    a = np.tanh(a @ a)
"""


def train(mode: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", TRAIN, mode], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("mode", ["default", "split"])
def test_same_bits_in_fresh_processes_with_and_without_load(mode):
    quiet = [train(mode)]
    loads = [subprocess.Popen([sys.executable, "-c", LOAD]) for _ in range(2)]
    try:
        loaded = [train(mode), train(mode)]
    finally:
        for p in loads:
            p.kill()
            p.wait()
    assert len(set(quiet + loaded)) == 1, quiet + loaded
    was_split = quiet[0].split()[0]
    assert was_split == ("True" if mode == "split" else was_split)
