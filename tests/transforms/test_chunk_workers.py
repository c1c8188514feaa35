"""Forked chunk workers: the split program run partly in worker processes equals threads."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.transforms import batch_split, chunk_workers


@pytest.fixture(autouse=True)
def _fork_allowed(monkeypatch):
    """Linux only; and allowed even if another test has imported JAX into this process
    (fnn itself then keeps to threads: see test_no_workers_beside_jax)."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        pytest.skip("forked workers need os.fork on Linux")
    monkeypatch.setattr(chunk_workers, "available", lambda: True)


def _double(x):
    return 2 * x


def _fail(x):
    raise ValueError(f"bad chunk {x}")


def _gone(pid: int) -> bool:
    """Exited and reaped: a zombie (exited, not waited for) still answers the signal."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_workers_answer_and_end_on_close():
    workers = chunk_workers.Workers(_double, 2)
    pids = list(workers._pids)
    for i in range(2):
        workers.send(i, (np.arange(3) + i,))
    assert [workers.receive(i).tolist() for i in range(2)] == [[0, 2, 4], [2, 4, 6]]
    workers.close()
    assert all(_gone(pid) for pid in pids)


def test_a_failing_worker_raises_in_the_caller_and_keeps_serving():
    workers = chunk_workers.Workers(_fail, 1)
    try:
        workers.send(0, (7,))
        with pytest.raises(chunk_workers.WorkerError, match="ValueError: bad chunk 7"):
            workers.receive(0)
        workers.send(0, (8,))  # the worker is still there for the next call
        with pytest.raises(chunk_workers.WorkerError, match="bad chunk 8"):
            workers.receive(0)
    finally:
        workers.close()


def _narrow_loss(w1, w2, x):
    """A narrow network over many points: one chunk round, only reductions out."""
    h = fnp.tanh(x @ w1)
    u = fnp.tanh(h @ w2)
    return fnp.mean(u**2) + 0.1 * fnp.mean(h)


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(batch_split, "MIN_MAPPED_ELEMENTS", 0)
    fnn.config.update("jit_threads", 2)
    fnn.config.update("jit_split", "always")  # every call runs the split, untimed
    yield
    fnn.config.update("jit_threads", fnn.config.default_jit_threads())
    fnn.config.update("jit_fork_workers", "auto")
    fnn.config.update("jit_split", "measure")


def _executor_state(compiled) -> dict:
    return {"forkable": compiled.fn.forkable, "workers": compiled.fn.workers}


def test_workers_compute_what_threads_compute(two_threads):
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((3, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 16)).astype(np.float32) / 4
    step = fnn.value_and_grad(_narrow_loss, argnums=(0, 1))
    results = {}
    for mode in ("never", "auto"):
        fnn.config.update("jit_fork_workers", mode)
        jf = fnn.jit(step)
        state = _executor_state(jf.lower(w1, w2, np.zeros((6000, 3), np.float32)))
        assert state["forkable"] == (mode == "auto")
        results[mode] = []
        for seed in range(3):  # later calls reuse the same workers with new inputs
            x = np.random.default_rng(seed).standard_normal((6000, 3)).astype(np.float32)
            value, grads = jf(w1, w2, x)
            results[mode].append([np.asarray(value), *map(np.asarray, grads)])
        assert bool(state["workers"]) == (mode == "auto")
    for threads, workers in zip(results["never"], results["auto"], strict=True):
        for a, b in zip(threads, workers, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_worker_programs_may_split_into_more_chunks(monkeypatch, two_threads):
    # Wide rows, so the cache-sized chunk count exceeds both caps: a program that will
    # run in forked workers takes MAX_CHUNKS_PER_WORKER chunks per thread, one kept to
    # threads MAX_CHUNKS_PER_THREAD (more Python calls there cost GIL hand-offs).
    monkeypatch.setattr(batch_split, "TARGET_CHUNK_BYTES", 1024)
    rng = np.random.default_rng(2)
    w1 = rng.standard_normal((4, 32)).astype(np.float32) / 2
    w2 = rng.standard_normal((32, 32)).astype(np.float32) / 6
    x = rng.standard_normal((8192, 4)).astype(np.float32)
    step = fnn.value_and_grad(_narrow_loss, argnums=(0, 1))
    counts = {}
    for mode in ("never", "auto"):
        fnn.config.update("jit_fork_workers", mode)
        jf = fnn.jit(step)
        compiled = jf.lower(w1, w2, x)
        assert _executor_state(compiled)["forkable"] == (mode == "auto")
        counts[mode] = len(batch_split.describe(compiled.fn.split)["chunks"])
        value, _ = jf(w1, w2, x)
        np.testing.assert_allclose(np.asarray(value), np.asarray(step(w1, w2, x)[0]), rtol=1e-5)
    assert counts == {
        "never": 2 * batch_split.MAX_CHUNKS_PER_THREAD,
        "auto": 2 * batch_split.MAX_CHUNKS_PER_WORKER,
    }


def test_programs_with_per_example_outputs_stay_on_threads(two_threads):
    fnn.config.update("jit_fork_workers", "auto")
    x = np.random.default_rng(1).standard_normal((4000, 8)).astype(np.float32)
    jf = fnn.jit(lambda x: fnp.tanh(x) * 2.0 + fnp.sum(x))
    compiled = jf.lower(x)
    if getattr(compiled.fn, "split", None) is None:
        pytest.skip("not split here")
    assert not _executor_state(compiled)["forkable"]
    np.testing.assert_allclose(np.asarray(jf(x)), np.tanh(x) * 2.0 + x.sum(), rtol=1e-5)


def test_config_rejects_an_unknown_worker_mode():
    with pytest.raises(ValueError, match="jit_fork_workers must be one of"):
        fnn.config.update("jit_fork_workers", "sometimes")


def test_closing_older_workers_does_not_wait_for_younger_ones():
    # A worker forked later inherits the caller's end of the older workers' pipes; it
    # must close it, or the older workers would never see their pipe close.
    import time

    old, young = chunk_workers.Workers(_double, 1), chunk_workers.Workers(_double, 1)
    try:
        t0 = time.monotonic()
        old.close()
        assert time.monotonic() - t0 < 1.0  # no 2 s wait ending in SIGKILL
        young.send(0, (np.ones(2),))
        assert young.receive(0).tolist() == [2.0, 2.0]
    finally:
        young.close()


def _call_in_child(jf, args, queue):
    value, grads = jf(*args)
    queue.put([np.asarray(value), *map(np.asarray, grads)])


def test_a_forked_child_gets_its_own_workers(two_threads):
    import multiprocessing

    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((3, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 16)).astype(np.float32) / 4
    x = rng.standard_normal((6000, 3)).astype(np.float32)
    fnn.config.update("jit_fork_workers", "auto")
    jf = fnn.jit(fnn.value_and_grad(_narrow_loss, argnums=(0, 1)))
    value, grads = jf(w1, w2, x)  # the parent's workers exist now
    expected = [np.asarray(value), *map(np.asarray, grads)]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_call_in_child, args=(jf, (w1, w2, x), queue))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(jf(w1, w2, x)[0]), expected[0], rtol=1e-6)


def _narrow_program(seed=3):
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((3, 16)).astype(np.float32)
    w2 = rng.standard_normal((16, 16)).astype(np.float32) / 4
    x = rng.standard_normal((6000, 3)).astype(np.float32)
    return fnn.value_and_grad(_narrow_loss, argnums=(0, 1)), (w1, w2, x)


def test_a_dead_worker_fails_one_call_and_the_next_forks_anew(two_threads):
    import signal

    step, args = _narrow_program()
    expected = np.asarray(step(*map(fnp.asarray, args))[0])
    fnn.config.update("jit_fork_workers", "auto")
    jf = fnn.jit(step)
    jf(*args)
    state = _executor_state(jf.lower(*args))
    (workers,) = state["workers"]
    os.kill(workers._pids[0], signal.SIGKILL)
    os.waitpid(workers._pids[0], 0)
    with pytest.raises((EOFError, OSError)):
        jf(*args)
    assert not state["workers"]  # dropped, not reused
    np.testing.assert_allclose(np.asarray(jf(*args)[0]), expected, rtol=1e-5)
    assert state["workers"] and state["workers"][0] is not workers


def test_concurrent_calls_share_the_workers_safely(two_threads):
    from concurrent.futures import ThreadPoolExecutor

    step, (w1, w2, _) = _narrow_program()
    fnn.config.update("jit_fork_workers", "auto")
    jf = fnn.jit(step)
    xs = [np.random.default_rng(s).standard_normal((6000, 3)).astype(np.float32) for s in range(6)]
    expected = [np.asarray(step(w1, w2, fnp.asarray(x))[0]) for x in xs]
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(lambda x: np.asarray(jf(w1, w2, x)[0]), xs))
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5)


def test_no_workers_beside_jax(monkeypatch, two_threads):
    monkeypatch.undo()  # the real availability check
    fnn.config.update("jit_threads", 2)
    monkeypatch.setattr(batch_split, "MIN_MAPPED_ELEMENTS", 0)
    monkeypatch.setitem(sys.modules, "jax", sys.modules.get("jax") or object())
    assert not chunk_workers.available()
    fnn.config.update("jit_fork_workers", "auto")
    step, args = _narrow_program()
    assert not _executor_state(fnn.jit(step).lower(*args))["forkable"]


def test_programs_beyond_the_cap_run_on_threads(monkeypatch, two_threads):
    import weakref

    monkeypatch.setattr(chunk_workers, "_LIVE", weakref.WeakSet())  # other tests' aside
    monkeypatch.setattr(chunk_workers, "MAX_LIVE", 1)
    fnn.config.update("jit_fork_workers", "auto")
    step, args = _narrow_program()
    first, second = fnn.jit(step), fnn.jit(lambda *a: step(*a))
    first(*args)
    second_value = second(*args)[0]
    assert _executor_state(first.lower(*args))["workers"]
    assert not _executor_state(second.lower(*args))["workers"]  # the cap: threads
    np.testing.assert_allclose(np.asarray(second_value), np.asarray(first(*args)[0]), rtol=1e-5)


def test_programs_that_would_ship_more_than_they_compute_stay_on_threads(two_threads):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((1000, 1000)).astype(np.float32) / 30  # 4 MB out, 4 MB back
    x = rng.standard_normal((64, 1000)).astype(np.float32)
    jf = fnn.jit(fnn.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w))))
    compiled = jf.lower(w, x)
    if getattr(compiled.fn, "split", None) is None:
        pytest.skip("not split here")
    assert not _executor_state(compiled)["forkable"]
    step, args = _narrow_program()  # the narrow network's step ships little: forkable
    assert _executor_state(fnn.jit(step).lower(*args))["forkable"]


def test_a_failed_fork_warns_and_runs_on_threads(monkeypatch, two_threads):
    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    step, args = _narrow_program()
    expected = np.asarray(step(*map(fnp.asarray, args))[0])
    jf = fnn.jit(step)
    with pytest.warns(RuntimeWarning, match="could not fork chunk worker processes"):
        value = jf(*args)[0]
    np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(jf(*args)[0]), expected, rtol=1e-5)  # no retry
    assert not _executor_state(jf.lower(*args))["workers"]
