"""jit's batch split: the program run on chunks of the batch in threads equals the whole."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import nn
from fnn.transforms import batch_split

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


def test_batch_statistics_keep_the_program_whole(split_everything):
    x = RNG.standard_normal((64, 8)).astype(np.float32)

    def normalise(x):  # per-example work that needs a reduction over the batch
        mu = fnp.mean(x, axis=0)
        return fnp.sum((x - mu) ** 2, axis=1)

    expected, got, info = run_both(normalise, x)
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
        assert not hasattr(f.lower(np.ones((64, 8), np.float32)).fn, "split")
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())
    fnn.config.update("jit_threads", 1)
    try:
        g = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2))
        assert not hasattr(g.lower(np.ones((4096, 1024), np.float32)).fn, "split")
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_jit_threads_option_is_validated():
    for bad in (0, 1.5, -2):
        with pytest.raises(ValueError, match="jit_threads must be an integer >= 1"):
            fnn.config.update("jit_threads", bad)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
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
