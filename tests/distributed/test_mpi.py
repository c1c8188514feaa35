"""Two processes under ``mpiexec`` against one process (the tests skip without mpi4py).

Each test launches ``programs.py`` (one scenario per launch) and compares what every
process computed with the same functions run here, in one process, where every
collective is the identity and ``batches`` gives the whole global batch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.train import load
from fnn.tree_util import tree_flatten, tree_map
from tests.distributed import model
from tests.distributed.conftest import launch, needs_mpi

pytestmark = needs_mpi
RTOL, ATOL = 2e-5, 2e-6  # float32: two half-batch means against one full-batch mean


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(v) for v in tree_flatten(tree)[0]]


def _close(got: np.ndarray, want, what: str) -> None:
    np.testing.assert_allclose(got, np.asarray(want), rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.fixture(scope="module")
def train_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    run = launch(2, "train", str(out))
    assert run.returncode == 0, run.stderr
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]


@pytest.mark.parametrize("name", ["eager", "jit", "pvary_jit"])
def test_two_processes_of_half_batches_train_as_one_process(train_run, name):
    # 20 SGD steps: 2 processes with 8 examples each == 1 process with 16.
    want = _leaves(model.train(model.horovod_step, 20))
    for r, got in enumerate(train_run):
        for i, w in enumerate(want):
            _close(got[f"{name}/{i}"], w, f"{name}: process {r}, leaf {i}")
    # The processes hold the same parameters, bit for bit (one Allreduce result).
    for key in train_run[0]:
        if key.startswith(name):
            np.testing.assert_array_equal(train_run[0][key], train_run[1][key])
    # And the trained parameters are not the initial ones: the test can fail.
    assert not np.allclose(want[0], model.init()["b1"])


def test_grad_through_pmean_and_psum_is_the_one_process_gradient(train_run):
    x, y = model.data()
    p0 = model.init()
    mean_grad = _leaves(fnn.grad(model.loss)(p0, x, y))
    sum_grad = _leaves(fnn.grad(lambda p: fnp.sum(model.losses(p, x, y)))(p0))
    for r, got in enumerate(train_run):
        for i in range(len(mean_grad)):
            _close(got[f"grad_pmean/{i}"], mean_grad[i], f"grad(pmean) leaf {i}, process {r}")
            _close(got[f"grad_pmean_jit/{i}"], mean_grad[i], f"jit(grad(pmean)) leaf {i}")
            _close(got[f"grad_part_summed/{i}"], mean_grad[i], f"psum(grad) leaf {i}")
            np.testing.assert_allclose(got[f"grad_psum/{i}"], sum_grad[i], rtol=RTOL, atol=1e-5)
        _close(got["value_pmean_jit"], model.loss(p0, x, y), "the global loss")


def test_jvp_through_pmean_is_the_directional_derivative(train_run):
    x, y = model.data()
    p0 = model.init()
    v = tree_map(lambda a: np.cos(np.arange(a.size, dtype=np.float32)).reshape(a.shape), p0)
    want = fnn.jvp(lambda p: model.loss(p, x, y), (p0,), (v,))[1]
    for got in train_run:
        _close(got["jvp_pmean"], want, "jvp through pmean")


def test_vmap_all_gather_and_its_transpose(train_run):
    mine = [np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * r for r in range(2)]
    weights = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    for r, got in enumerate(train_run):
        np.testing.assert_array_equal(got["vmap_psum"], mine[0] + mine[1])
        np.testing.assert_array_equal(got["all_gather"], np.stack(mine))
        np.testing.assert_array_equal(got["all_gather_tiled"], np.concatenate(mine))
        # vmap over axis 1: each of the 3 columns gathered, stacked on a new axis 0.
        np.testing.assert_array_equal(got["vmap_all_gather"], np.stack(mine).transpose(2, 0, 1))
        # d/dx_r of sum_q w_q * x_q**2 is 2 w_r x_r: all_gather transposes to a row.
        _close(got["grad_all_gather"], 2 * weights[r] * mine[r], f"process {r}")
        _close(got["grad_all_gather_jit"], 2 * weights[r] * mine[r], f"process {r}, jit")
        np.testing.assert_array_equal(got["psum_int"], 3)


def test_broadcast_gives_every_process_the_roots_tree(train_run):
    for got in train_run:
        np.testing.assert_array_equal(got["broadcast/0"], [1.0, 1.0, 1.0])
        np.testing.assert_array_equal(got["broadcast/1"], [0.0, 0.0])


@pytest.mark.parametrize("mode", ["in_collective", "busy"])
def test_a_failing_process_ends_every_process_naming_it(tmp_path, mode):
    run = launch(2, "fail", str(tmp_path), mode, timeout=60)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "ValueError: a bad batch in step 3" in run.stderr, (
        run.stderr
    )  # process 1's own traceback
    assert "process 1 of 2 failed" in run.stderr
    # Seconds from process 1's failure to the end of the whole job (startup excluded:
    # it varies with the machine's load).
    failed_at = float(run.stdout.split("process 1 fails at ")[1].split()[0])
    after = run.ended - failed_at
    if mode == "in_collective":
        # Process 0 was waiting in step 3's pmean: it raises, naming process 1.
        assert "ProcessFailedError: process 1 of 2 failed: ValueError: a bad batch" in run.stderr
        assert after < 10, (after, run.stderr)
    else:
        # Process 0 sleeps in step 3 for 300 s: process 1 waits 2 s, then aborts the job.
        assert "ending the whole job (MPI_Abort)" in run.stderr
        assert after < 15, (after, run.stderr)
    assert "process 0 step 2" in run.stdout and "step 4" not in run.stdout


def test_mismatched_shapes_structures_and_dtypes_raise_on_every_process(tmp_path):
    run = launch(2, "mismatch", str(tmp_path), timeout=60)
    assert run.returncode == 0, run.stderr
    errors = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert errors[0] == errors[1]  # the same message on every process
    e = errors[0]
    assert "process 0: collective #1: psum of PyTreeDef(*) with leaves float32[3]" in e["shape"]
    assert "process 1: collective #1: psum of PyTreeDef(*) with leaves float32[4]" in e["shape"]
    assert "PyTreeDef((*, *))" in e["structure"] and "PyTreeDef({'a': *, 'b': *})" in e["structure"]
    assert "float64[2]" in e["dtype"] and "float32[2]" in e["dtype"]
    assert "all_gather of" in e["kind"] and "psum of" in e["kind"]
    assert e["after"] == 2.0


def _resume_run(tmp_path, name, n, die_after, every=3, steps=14):
    out = tmp_path / name
    out.mkdir(exist_ok=True)
    return out, launch(n, "resume", str(out), str(steps), str(every), str(die_after))


def test_a_killed_run_resumes_from_its_checkpoint_on_any_process_count(tmp_path):
    whole, run = _resume_run(tmp_path, "whole", 2, 0)
    assert run.returncode == 0, run.stderr
    want = load(whole / "final.npz")

    # Killed after step 8 of 14 (mid-epoch: 4 steps an epoch); the last checkpoint
    # is step 6's. Resumed on 2 processes: the same bits as the whole run.
    out, run = _resume_run(tmp_path, "killed", 2, 8)
    assert run.returncode != 0 and not (out / "final.npz").exists(), run.stderr
    assert int(load(out / "ckpt.npz")["step"]) == 6, run.stdout + run.stderr
    for n in (2, 1):
        again = tmp_path / f"resumed{n}"
        again.mkdir()
        (again / "ckpt.npz").write_bytes((out / "ckpt.npz").read_bytes())
        _, run = _resume_run(tmp_path, f"resumed{n}", n, 0)
        assert run.returncode == 0, run.stderr
        assert "resumes at step 6" in run.stdout, run.stdout + run.stderr
        got = load(again / "final.npz")
        for g, w in zip(_leaves(got), _leaves(want), strict=True):
            if n == 2:
                np.testing.assert_array_equal(g, w)
            else:  # one process: the same global batches, other rounding
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
