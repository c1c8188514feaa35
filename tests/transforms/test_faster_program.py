"""jit runs a batch split only where its first calls measure it faster than the whole."""

import time

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.transforms import batch_split, chunk_workers, faster_program
from fnn.transforms.faster_program import FasterProgram

TRIAL_CALLS = 2 * faster_program.BLOCKS * faster_program.BLOCK_CALLS


def _program(name: str, seconds: float, log: list):
    def run(x):
        log.append(name)
        time.sleep(seconds)
        return [x + 1]

    return run


@pytest.mark.parametrize(
    ("split_seconds", "whole_seconds", "winner"),
    [(0.0, 0.004, "split"), (0.004, 0.0, "whole"), (0.002, 0.002, "whole")],
)
def test_keeps_the_faster_after_timing_both_in_blocks(split_seconds, whole_seconds, winner):
    log: list = []
    fast = FasterProgram(
        _program("split", split_seconds, log), _program("whole", whole_seconds, log)
    )
    for k in range(TRIAL_CALLS):
        assert fast.chosen is None
        assert fast(k) == [k + 1]
    # Blocks of BLOCK_CALLS calls, split first; a tie goes to the whole program.
    n = faster_program.BLOCK_CALLS
    assert log == (["split"] * n + ["whole"] * n) * faster_program.BLOCKS
    assert fast.chosen == winner
    assert {k: len(v) for k, v in fast.times.items()} == {
        "split": faster_program.BLOCKS * (n - 1),
        "whole": faster_program.BLOCKS * (n - 1),
    }
    log.clear()
    assert [fast(k)[0] for k in range(5)] == [1, 2, 3, 4, 5]
    assert log == [winner] * 5


def test_the_split_must_win_by_the_margin():
    fast = FasterProgram(lambda: [0], lambda: [0])
    fast.times = {"split": [0.99], "whole": [1.0]}
    fast._choose()
    assert fast.chosen == "whole"
    fast.times = {"split": [0.95, 2.0], "whole": [1.0, 1.1]}  # the least time of each
    fast._choose()
    assert fast.chosen == "split"


def _batch_loss(w, x):
    return fnp.mean(fnp.tanh(x @ w) ** 2)


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(batch_split, "MIN_MAPPED_ELEMENTS", 0)
    fnn.config.update("jit_threads", 2)
    yield
    fnn.config.update("jit_threads", fnn.config.default_jit_threads())
    fnn.config.update("jit_split", "measure")


def test_jit_measures_a_split_program_and_every_call_is_right(two_threads):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 16)).astype(np.float32)
    x = rng.standard_normal((512, 8)).astype(np.float32)
    grad = fnn.grad(_batch_loss)
    expected = np.asarray(grad(w, x))
    jitted = fnn.jit(grad)
    fn = jitted.lower(w, x).fn
    assert isinstance(fn, FasterProgram) and fn.split is not None
    assert "# whole:" in fn.source
    for _ in range(TRIAL_CALLS + 3):  # both programs, then the chosen one
        np.testing.assert_allclose(np.asarray(jitted(w, x)), expected, rtol=1e-5, atol=1e-7)
    assert fn.chosen in ("split", "whole")


def test_always_runs_the_split_untimed(two_threads):
    fnn.config.update("jit_split", "always")
    w = np.ones((8, 16), np.float32)
    x = np.ones((512, 8), np.float32)
    fn = fnn.jit(fnn.grad(_batch_loss)).lower(w, x).fn
    assert not isinstance(fn, FasterProgram) and fn.split is not None


def test_jit_split_option_is_validated():
    with pytest.raises(ValueError, match=r"jit_split must be one of \('measure', 'always'\)"):
        fnn.config.update("jit_split", "sometimes")


def test_a_losing_split_closes_its_workers():
    closed = []

    class FakeWorkers:
        def close(self):
            closed.append(True)

    def split_run():
        return [0]

    split_run.workers = [FakeWorkers()]
    fast = FasterProgram(split_run, lambda: [0])
    fast.times = {"split": [2.0], "whole": [1.0]}
    fast._choose()
    assert fast.chosen == "whole" and split_run.workers == [] and closed == [True]


def test_a_losing_split_closes_its_worker_processes(two_threads, monkeypatch):
    if not chunk_workers.available():  # checked here: a test may have imported JAX since
        pytest.skip("forked workers need Linux and no JAX in the process")
    monkeypatch.setattr(faster_program, "SPLIT_MARGIN", 0.0)  # the whole always wins
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 16)).astype(np.float32)
    x = rng.standard_normal((6000, 3)).astype(np.float32)
    jitted = fnn.jit(fnn.grad(_batch_loss))
    fn = jitted.lower(w, x).fn
    assert fn.split_run.forkable
    for _ in range(faster_program.BLOCK_CALLS):
        jitted(w, x)
    assert len(fn.split_run.workers) == 1  # forked at the split's first call
    for _ in range(TRIAL_CALLS):
        jitted(w, x)
    assert fn.chosen == "whole" and fn.split_run.workers == []
