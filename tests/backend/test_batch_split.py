"""jit's batch split: the program run on chunks of the batch in threads equals the whole."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.backend import batch_split

RNG = np.random.default_rng(0)


@pytest.fixture
def split_everything(monkeypatch):
    """Two threads, and split even small programs (the size threshold is for speed)."""
    monkeypatch.setattr(batch_split, "MIN_MAPPED_ELEMENTS", 0)
    monkeypatch.setattr(batch_split, "TARGET_CHUNK_BYTES", 1024)  # several chunks per thread
    fnn.config.update("jit_threads", 2)
    yield
    fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def run_both(f, *args):
    """(outputs unsplit, outputs split, the split's description or None)."""
    fnn.config.update("jit_threads", 1)
    whole = fnn.jit(f)
    expected = [np.asarray(x) for x in fnn.tree_util.tree_leaves(whole(*args))]
    fnn.config.update("jit_threads", 2)
    split = fnn.jit(f)
    compiled = split.lower(*args)
    info = getattr(compiled.fn, "split", None)
    for _ in range(2):  # the second call reuses thread-local buffers
        got = [np.asarray(x) for x in fnn.tree_util.tree_leaves(split(*args))]
    return expected, got, batch_split.describe(info) if info else None


def assert_close(expected, got, rtol=1e-5, atol=1e-6):
    assert len(expected) == len(got)
    for e, g in zip(expected, got, strict=True):
        assert e.shape == g.shape and e.dtype == g.dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def mlp_params(sizes):
    keys = fnn.random.split(fnn.random.key(0), len(sizes))
    model = nn.Sequential([nn.Dense(s) for s in sizes[1:-1]] + [nn.Dense(sizes[-1])])
    return model, model.init(keys[0], (1, sizes[0]))


def test_training_step_splits_and_matches(split_everything):
    model, params = mlp_params([12, 32, 32, 5])
    x = RNG.standard_normal((203, 12)).astype(np.float32)  # 203: unequal chunks
    y = np.eye(5, dtype=np.float32)[RNG.integers(0, 5, 203)]

    def loss(p, x, y):
        logits = model.apply(p, x)
        return fnp.mean(nn.losses.softmax_cross_entropy(logits, y))

    def step(p, x, y):
        value, grads = fnn.value_and_grad(loss)(p, x, y)
        return value, fnn.tree_util.tree_map(lambda w, g: w - 0.1 * g, p, grads), grads

    expected, got, info = run_both(step, params, x, y)
    assert info is not None and info["batch"] == 203 and len(info["chunks"]) > 2
    assert sum(info["chunks"]) == 203 and info["post"] > 0
    assert_close(expected, got)


def test_per_example_outputs_are_concatenated_in_order(split_everything):
    model, params = mlp_params([6, 16, 3])
    x = RNG.standard_normal((64, 6)).astype(np.float32)

    def predict(p, x):
        z = model.apply(p, x)
        return nn.softmax(z), fnp.argmax(z, axis=1), z.T, fnp.max(z), fnp.min(z, axis=0)

    expected, got, info = run_both(predict, params, x)
    assert info is not None and info["chunk"] > 0
    assert_close(expected, got)


def test_a_parameter_the_size_of_the_batch_is_not_split(split_everything):
    # A 32-unit layer on a batch of 32: its bias (32,) must not be cut into chunks.
    model, params = mlp_params([8, 32, 4])
    x = RNG.standard_normal((32, 8)).astype(np.float32)

    def loss(p, x):
        return fnp.mean(model.apply(p, x) ** 2)

    expected, got, info = run_both(fnn.value_and_grad(loss), params, x)
    assert info is not None and info["batch"] == 32
    assert_close(expected, got)


def test_batch_statistics_split_into_rounds(split_everything):
    x = RNG.standard_normal((64, 8)).astype(np.float32)

    def normalise(x):  # per-example work that needs a reduction over the batch
        mu = fnp.mean(x, axis=0)
        return fnp.sum((x - mu) ** 2, axis=1), mu

    expected, got, info = run_both(normalise, x)
    # Round 1 sums x over the batch, the middle segment divides, round 2 centres.
    assert info is not None and info["rounds"] == 2 and info["middle"] > 0
    assert_close(expected, got)


def test_batch_norm_training_step_splits_and_matches(split_everything):
    model = nn.Sequential(
        [nn.Conv(4, (3, 3)), nn.BatchNorm(), nn.relu, nn.Flatten(), nn.Dense(10), nn.BatchNorm()]
    )
    params = model.init(fnn.random.key(2), (1, 6, 6, 1))
    state = model.init_state((1, 6, 6, 1))
    x = RNG.standard_normal((50, 6, 6, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 50)]

    def loss(p, s, x, y):
        logits, s = model.apply(p, x, state=s, train=True)
        return fnp.mean(nn.losses.softmax_cross_entropy(logits, y)), s

    def step(p, s, x, y):
        (value, s), grads = fnn.value_and_grad(loss, has_aux=True)(p, s, x, y)
        return value, s, fnn.tree_util.tree_map(lambda w, g: w - 0.1 * g, p, grads)

    expected, got, info = run_both(step, params, state, x, y)
    # Forward: mean and variance of each batch norm; backward: their two sums.
    assert info is not None and info["batch"] == 50 and info["rounds"] >= 4
    assert_close(expected, got, rtol=1e-4, atol=1e-5)


def test_two_updates_in_one_step_like_a_gan(split_everything):
    # The second loss uses the params after the first update: a round after the update.
    model, params = mlp_params([6, 16, 1])
    x = RNG.standard_normal((40, 6)).astype(np.float32)

    def loss(p, x):
        return fnp.mean(model.apply(p, x) ** 2)

    def step(p, x):
        p = fnn.tree_util.tree_map(lambda w, g: w - 0.1 * g, p, fnn.grad(loss)(p, x))
        value, g_x = fnn.value_and_grad(loss, argnums=1)(p, x)
        return value, p, g_x

    expected, got, info = run_both(step, params, x)
    assert info is not None and info["rounds"] == 2
    assert_close(expected, got)


def test_large_optimizer_update_split_along_its_rows(split_everything):
    # After the batch rounds, the update of a 300 x 256 weight runs on blocks of rows.
    w = RNG.standard_normal((300, 256)).astype(np.float32) * 0.1
    x = RNG.standard_normal((40, 300)).astype(np.float32)
    m = np.zeros_like(w)

    def step(w, m, x):
        g = fnn.grad(lambda w: fnp.mean(fnp.tanh(x @ w) ** 2))(w)
        m = 0.9 * m + 0.1 * g
        return w - 0.01 * m / (fnp.sqrt(m * m) + 1e-8), m

    expected, got, info = run_both(step, w, m, x)
    assert info is not None and info["batch"] == 40
    # (the test's threshold of 0 may split the small pre segment too)
    assert any(s["batch"] == 300 and s["chunk"] > 0 for s in info["split_segments"])
    assert_close(expected, got, rtol=1e-4, atol=1e-5)  # m / |m| amplifies summation order


def test_chunks_that_return_large_reductions_are_few(split_everything):
    # Each chunk returns its own 256 x 512 weight gradient: more chunks than threads
    # would cost more in sums than they save.
    w = RNG.standard_normal((256, 512)).astype(np.float32) * 0.1
    x = RNG.standard_normal((64, 256)).astype(np.float32)

    def loss(w, x):
        return fnp.mean(fnp.tanh(x @ w) ** 2)

    expected, got, info = run_both(fnn.grad(loss), w, x)
    assert info is not None and info["chunks"] == [32, 32]
    assert_close(expected, got)


def test_input_search_is_bounded_with_many_batch_sized_parameters(split_everything, monkeypatch):
    # 24 weights of 32 x 32 on a batch of 32: the search must not try subsets of all of
    # them (a ViT step has hundreds of parameters; each analysis walks the program).
    per_search = []
    analyse, best_analysis = batch_split._analyse, batch_split._best_analysis

    def counting_analyse(*a):
        per_search[-1] += 1
        return analyse(*a)

    def counting_search(*a):
        per_search.append(0)
        return best_analysis(*a)

    monkeypatch.setattr(batch_split, "_analyse", counting_analyse)
    monkeypatch.setattr(batch_split, "_best_analysis", counting_search)
    ws = [RNG.standard_normal((32, 32)).astype(np.float32) * 0.2 for _ in range(24)]
    x = RNG.standard_normal((32, 32)).astype(np.float32)

    def loss(ws, x):
        for w in ws:
            x = fnp.tanh(x @ w)
        return fnp.mean(x**2)

    expected, got, info = run_both(fnn.grad(loss), ws, x)
    assert info is not None and info["batch"] == 32
    # Growing subsets one input at a time over all 25 candidates would take ~300.
    assert per_search and max(per_search) <= batch_split.MAX_ANALYSES
    assert_close(expected, got, rtol=1e-4, atol=1e-6)


def test_too_many_rounds_run_whole(split_everything, monkeypatch):
    monkeypatch.setattr(batch_split, "MAX_ROUNDS", 2)
    x = RNG.standard_normal((64, 8)).astype(np.float32)

    def repeatedly_centred(x):
        for _ in range(3):
            x = x - fnp.mean(x, axis=0)
        return x

    expected, got, info = run_both(repeatedly_centred, x)
    assert info is None
    assert_close(expected, got)


def test_sequences_merged_into_rows_and_back(split_everything):
    x = RNG.standard_normal((24, 10, 16)).astype(np.float32)
    w = RNG.standard_normal((16, 16)).astype(np.float32)

    def f(w, x):
        b, s, d = x.shape
        h = fnp.reshape(fnp.reshape(x, (b * s, d)) @ w, (b, s, d))  # rows of all tokens
        att = nn.softmax(fnp.einsum("bqd,bkd->bqk", h, h) / 4.0)
        return fnp.mean(fnp.einsum("bqk,bkd->bqd", att, h) ** 2)

    expected, got, info = run_both(fnn.value_and_grad(f), w, x)
    assert info is not None and info["batch"] == 24
    assert_close(expected, got, rtol=1e-4, atol=1e-5)


def test_convolution_and_pooling_per_image(split_everything):
    conv = nn.Conv(4, (3, 3), padding="SAME")
    params = conv.init(fnn.random.key(1), (1, 8, 8, 1))
    x = RNG.standard_normal((40, 8, 8, 1)).astype(np.float32)

    def loss(p, x):
        h = nn.relu(conv.apply(p, x))
        h = nn.max_pool(h, (2, 2), strides=(2, 2))
        return fnp.mean(h**2)

    expected, got, info = run_both(fnn.value_and_grad(loss), params, x)
    assert info is not None and info["batch"] == 40
    assert_close(expected, got, rtol=1e-4, atol=1e-6)


def test_forward_mode_derivatives_over_points(split_everything):
    # The PINN pattern: derivatives of u w.r.t. its inputs at every collocation point.
    model, params = mlp_params([2, 16, 16, 1])
    pts = RNG.uniform(-1, 1, (300, 2)).astype(np.float32)

    def residual_loss(p, pts):
        def u(z):
            return fnp.tanh(model.apply(p, z))[:, 0]

        e = fnp.broadcast_to(fnp.asarray([1.0, 0.0], np.float32), pts.shape)
        u_val, u_t = fnn.jvp(u, (pts,), (e,))
        return fnp.mean((u_t + u_val * u_t) ** 2)

    expected, got, info = run_both(fnn.value_and_grad(residual_loss), params, pts)
    assert info is not None and info["batch"] == 300
    assert_close(expected, got, rtol=1e-4, atol=1e-6)


def test_small_programs_and_one_thread_stay_whole():
    fnn.config.update("jit_threads", 2)
    try:
        f = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2))
        assert f.lower(np.ones((64, 8), np.float32)).fn.split is None
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())
    fnn.config.update("jit_threads", 1)
    try:
        g = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2))
        assert g.lower(np.ones((4096, 1024), np.float32)).fn.split is None
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_jit_threads_option_is_validated():
    for bad in (0, 1.5, -2):
        with pytest.raises(ValueError, match="jit_threads must be an integer >= 1"):
            fnn.config.update("jit_threads", bad)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# The user forks here on purpose, with fnn's pool threads alive: Python 3.12+ warns.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_can_run_split_programs(split_everything):
    model, params = mlp_params([12, 32, 5])
    x = RNG.standard_normal((64, 12)).astype(np.float32)

    def loss(p, x):
        return fnp.mean(model.apply(p, x) ** 2)

    step = fnn.jit(fnn.value_and_grad(loss))
    expected = float(step(params, x)[0])  # the parent's pool now has threads
    assert getattr(step.lower(params, x).fn, "split", None) is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(float(step(params, x)[0])))
    child.start()
    got = queue.get(timeout=60)  # a pool inherited from the parent would hang here
    child.join(timeout=10)
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("env", "threads"),
    [
        ({}, "1"),
        ({"OPENBLAS_NUM_THREADS": "1"}, "cores"),
        ({"OMP_NUM_THREADS": "1"}, "cores"),
        (
            {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"},
            "1",
        ),  # OpenBLAS reads its own first
        ({"FNN_JIT_THREADS": "3"}, "3"),
        ({"FNN_JIT_THREADS": "3", "OPENBLAS_NUM_THREADS": "1"}, "3"),
    ],
)
def test_programs_split_by_default_only_where_blas_has_one_thread(env, threads):
    """Chunks that each call a multi-threaded BLAS oversubscribe the cores, and fnn never
    sets BLAS threads itself: by default it splits only when the environment did."""
    import subprocess
    import sys

    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("FNN_JIT_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    }
    code = "import fnn; print(fnn.config.jit_threads, fnn.config._cores())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    got, cores = out.stdout.split()
    assert got == (cores if threads == "cores" else threads), out.stderr
