"""Programs the MPI tests launch: ``mpiexec -n P python -m tests.distributed.programs
SCENARIO OUT_DIR [ARGS]``. Each process writes what it computed to
``OUT_DIR/rank<r>.npz`` (or prints it); ``test_mpi.py`` checks it against one process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn import distributed as dist
from fnn import optim
from fnn.train import load, save
from fnn.tree_util import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten
from tests.distributed import model


def _flat(prefix: str, tree) -> dict:
    leaves, _ = tree_flatten(tree)
    return {f"{prefix}/{i}": np.asarray(v) for i, v in enumerate(leaves)}


def train(out: Path) -> None:
    """20 SGD steps (eager and jit, both gradient patterns), gradients through the
    collectives, their jvp, vmap and all_gather's transpose, broadcast."""
    r, n = dist.process_index(), dist.process_count()
    got = {}
    got |= _flat("eager", model.train(model.horovod_step))
    got |= _flat("jit", model.train(fnn.jit(model.horovod_step)))
    got |= _flat("pvary_jit", model.train(fnn.jit(model.pvary_step)))

    x, y = model.data()
    share = slice(r * model.N // n, (r + 1) * model.N // n)
    xl, yl = x[share], y[share]
    p0 = model.init()

    def global_mean(p):
        return dist.pmean(model.loss(dist.pvary(p), xl, yl))

    def global_sum(p):
        return dist.psum(fnp.sum(model.losses(dist.pvary(p), xl, yl)))

    def local_part(p):
        return dist.pmean(model.loss(p, xl, yl))

    got |= _flat("grad_pmean", fnn.grad(global_mean)(p0))
    got |= _flat("grad_pmean_jit", fnn.jit(fnn.grad(global_mean))(p0))
    got |= _flat("grad_psum", fnn.grad(global_sum)(p0))
    got |= _flat("grad_part_summed", dist.psum(fnn.grad(local_part)(p0)))
    v = tree_map(lambda a: np.cos(np.arange(a.size, dtype=np.float32)).reshape(a.shape), p0)
    got["jvp_pmean"] = np.asarray(fnn.jvp(local_part, (p0,), (v,))[1])
    got["value_pmean_jit"] = np.asarray(fnn.jit(global_mean)(p0))

    mine = np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * r
    got["vmap_psum"] = np.asarray(fnn.vmap(dist.psum)(mine))
    got["vmap_all_gather"] = np.asarray(fnn.vmap(dist.all_gather, in_axes=1)(mine))
    got["all_gather"] = np.asarray(dist.all_gather(mine))
    got["all_gather_tiled"] = np.asarray(dist.all_gather(mine, tiled=True))
    weights = np.arange(2 * n * 3, dtype=np.float32).reshape(n, 2, 3)

    def gathered(t):
        return fnp.sum(dist.all_gather(t) ** 2 * weights)

    got["grad_all_gather"] = np.asarray(fnn.grad(gathered)(mine))
    got["grad_all_gather_jit"] = np.asarray(fnn.jit(fnn.grad(gathered))(mine))
    got |= _flat("broadcast", dist.broadcast({"a": np.full(3, 1.0 + r), "b": fnp.ones(2) * r}))
    got["psum_int"] = np.asarray(dist.psum(fnp.array(r + 1)))
    np.savez(out / f"rank{r}.npz", **got)


def fail(out: Path, mode: str) -> None:
    """Process 1 raises in step 3 of a jitted loop; with mode "busy" process 0 is then
    in a long computation, not in a collective."""
    dist.initialize(error_timeout=2.0)
    r = dist.process_index()
    step = fnn.jit(model.horovod_step)
    params = model.init()
    x, y = model.data()
    for s in range(6):
        if s == 3 and r == 1:
            print(f"process 1 fails at {time.time()}", flush=True)
            raise ValueError("a bad batch in step 3")
        if s == 3 and r == 0 and mode == "busy":
            time.sleep(300)
        params, loss = step(params, x[:8], y[:8])
        print(f"process {r} step {s} loss {float(loss):.4f}", flush=True)


def mismatch(out: Path) -> None:
    """Shapes, then structures, then dtypes that differ between the processes; every
    process must raise the same clear error (and stay usable)."""
    r = dist.process_index()
    cases = {
        "shape": lambda: dist.psum(fnp.ones(3 + r, dtype=fnp.float32)),
        "structure": lambda: dist.psum(
            {"a": fnp.ones(2), "b": fnp.ones(2)} if r else (fnp.ones(2), fnp.ones(2))
        ),
        "dtype": lambda: fnn.jit(dist.pmean)(fnp.ones(2, dtype=fnp.float32 if r else fnp.float64)),
        "kind": lambda: dist.all_gather(fnp.ones(2)) if r else dist.psum(fnp.ones(2)),
    }
    fnn.config.update("enable_x64", True)
    errors = {}
    for name, call in cases.items():
        try:
            call()
            errors[name] = None
        except dist.CollectiveMismatchError as e:
            errors[name] = str(e)
    errors["after"] = float(dist.psum(fnp.array(1.0)))  # still in step after the errors
    (out / f"rank{r}.json").write_text(json.dumps(errors))


def resume(out: Path, steps: int, every: int, die_after: int) -> None:
    """Adam steps on sharded batches with a checkpoint every ``every`` steps, resumed
    from ``out/ckpt.npz`` if it exists; process 0 kills itself (SIGKILL) right after
    step ``die_after`` (0: never)."""
    opt = optim.adam(0.05)
    treedef = tree_structure(opt.init(model.init()))

    @fnn.jit
    def step(params, state, x, y):
        value, grads = fnn.value_and_grad(model.loss)(params, x, y)
        value, grads = dist.pmean((value, grads))
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    ckpt = out / "ckpt.npz"
    params, state, start = model.init(), opt.init(model.init()), 0
    if ckpt.exists():
        saved = load(ckpt)
        params, start = saved["params"], int(saved["step"])
        state = tree_unflatten(treedef, saved["opt_state"])
        print(f"process {dist.process_index()} resumes at step {start}", flush=True)
    state_box = [state]

    def train_step(p, x, y):
        p, state_box[0] = step(p, state_box[0], x, y)
        return p, None

    def on_step(s, p):
        if s % every == 0:
            save(ckpt, {"params": p, "opt_state": tree_leaves(state_box[0]), "step": s})
        if s == die_after and dist.is_main_process():
            os.kill(os.getpid(), signal.SIGKILL)

    final = model.train(train_step, steps, params, start, on_step)
    save(out / "final.npz", final)


if __name__ == "__main__":
    scenario, out = sys.argv[1], Path(sys.argv[2])
    if scenario != "fail":
        dist.initialize()
    if scenario == "train":
        train(out)
    elif scenario == "fail":
        fail(out, sys.argv[3])
    elif scenario == "mismatch":
        mismatch(out)
    elif scenario == "resume":
        resume(out, *map(int, sys.argv[3:6]))
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
