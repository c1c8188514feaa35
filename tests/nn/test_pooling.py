"""fnn.nn.pooling: values against numpy, gradients against finite differences (float64,
no ties), jit and vmap, Flax's defaults (strides 1) and the layers' shapes."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.nn.pooling import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool, avg_pool, max_pool


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _distinct(rng, shape):
    # A permutation spaced by 0.1: no ties for the max, even after a finite-difference step.
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.1).reshape(shape)


def _explicit_pads(padding, spatial, window, strides):
    if padding == "VALID":
        return [(0, 0)] * len(window)
    if padding == "SAME":
        pads = []
        for n, k, s in zip(spatial, window, strides, strict=True):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return pads
    return list(padding)


def ref_pool(x, window, strides, padding, kind, count_include_pad=True):
    """numpy: pad, take every window with sliding_window_view, reduce."""
    n = len(window)
    strides = strides or (1,) * n
    spatial = x.shape[-n - 1 : -1]
    pads = _explicit_pads(padding, spatial, window, strides)
    width = [(0, 0)] * (x.ndim - n - 1) + pads + [(0, 0)]
    axes = tuple(range(x.ndim - n - 1, x.ndim - 1))
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, width, constant_values=fill)
    v = np.lib.stride_tricks.sliding_window_view(xp, window, axis=axes)
    v = v[(Ellipsis, *(slice(None, None, s) for s in strides), slice(None)) + (slice(None),) * n]
    win_axes = tuple(range(-n, 0))
    if kind == "max":
        return v.max(axis=win_axes)
    total = v.sum(axis=win_axes)
    if count_include_pad:
        return total / np.prod(window)
    ones = np.pad(np.ones(x.shape), width)
    c = np.lib.stride_tricks.sliding_window_view(ones, window, axis=axes)
    c = c[(Ellipsis, *(slice(None, None, s) for s in strides), slice(None)) + (slice(None),) * n]
    return total / c.sum(axis=win_axes)


CONFIGS = [
    # (input shape, window, strides, padding)
    ((2, 8, 8, 3), (2, 2), (2, 2), "VALID"),  # non-overlapping fast path
    ((2, 9, 7, 3), (2, 2), (2, 2), "VALID"),  # fast path dropping a remainder
    ((2, 9, 7, 3), (3, 2), (3, 2), "VALID"),
    ((2, 8, 8, 3), (2, 2), None, "VALID"),  # Flax's default stride 1
    ((2, 9, 9, 2), (3, 3), (2, 2), "SAME"),
    ((2, 7, 6, 2), (3, 2), (1, 2), [(1, 1), (0, 1)]),
    ((2, 7, 6, 2), (2, 2), (2, 2), "SAME"),
    ((3, 10, 2), (3,), (2,), "SAME"),  # 1-D
    ((9, 8, 2), (2, 2), (2, 2), "VALID"),  # no batch axis
    ((2, 3, 6, 6, 2), (3, 3), (2, 1), "VALID"),  # two batch axes
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_values_match_numpy(cfg):
    shape, window, strides, padding = cfg
    x = _distinct(np.random.default_rng(0), shape).astype(np.float32)
    got = max_pool(fnp.asarray(x), window, strides, padding)
    np.testing.assert_allclose(np.asarray(got), ref_pool(x, window, strides, padding, "max"))
    got = avg_pool(fnp.asarray(x), window, strides, padding)
    np.testing.assert_allclose(
        np.asarray(got), ref_pool(x, window, strides, padding, "avg"), rtol=1e-5, atol=1e-6
    )
    got = avg_pool(fnp.asarray(x), window, strides, padding, count_include_pad=False)
    expected = ref_pool(x, window, strides, padding, "avg", count_include_pad=False)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros(x.shape)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("cfg", CONFIGS[:8], ids=str)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_gradients_match_finite_differences(cfg, kind, x64):
    shape, window, strides, padding = cfg
    rng = np.random.default_rng(1)
    x = _distinct(rng, shape)
    pool = max_pool if kind == "max" else avg_pool
    w = rng.normal(size=ref_pool(x, window, strides, padding, kind).shape)

    def loss(x):
        return fnp.sum(pool(x, window, strides, padding) * w)

    g = np.asarray(fnn.grad(loss)(fnp.asarray(x)))
    fd = _fd_grad(lambda x: float(np.sum(ref_pool(x, window, strides, padding, kind) * w)), x)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    # Second order, through pool(x) ** 2: forward-over-reverse vs FD of the gradient.
    v = rng.normal(size=x.shape)
    _, hv = fnn.jvp(
        fnn.grad(lambda x: fnp.sum(pool(x, window, strides, padding) ** 2 * w)),
        (fnp.asarray(x),),
        (fnp.asarray(v),),
    )
    eps = 1e-5
    gp = np.asarray(
        fnn.grad(lambda x: fnp.sum(pool(x, window, strides, padding) ** 2 * w))(
            fnp.asarray(x + eps * v)
        )
    )
    gm = np.asarray(
        fnn.grad(lambda x: fnp.sum(pool(x, window, strides, padding) ** 2 * w))(
            fnp.asarray(x - eps * v)
        )
    )
    np.testing.assert_allclose(np.asarray(hv), (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_max_pool_ties_share_the_gradient():
    g = fnn.grad(lambda x: fnp.sum(max_pool(x, (2, 2), (2, 2))))(fnp.ones((1, 2, 2, 1)))
    np.testing.assert_allclose(np.asarray(g), np.full((1, 2, 2, 1), 0.25))


@pytest.mark.parametrize("cfg", [CONFIGS[0], CONFIGS[4]], ids=str)
def test_jit_and_vmap(cfg):
    shape, window, strides, padding = cfg
    rng = np.random.default_rng(2)
    xs = _distinct(rng, (3,) + shape).astype(np.float32)
    for pool in (max_pool, avg_pool):
        f = lambda x: pool(x, window, strides, padding)  # noqa: B023, E731
        loop = np.stack([np.asarray(f(fnp.asarray(x))) for x in xs])
        np.testing.assert_allclose(np.asarray(fnn.vmap(f)(fnp.asarray(xs))), loop, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(fnn.jit(f)(fnp.asarray(xs[0]))), loop[0], rtol=1e-6)
        g = fnn.grad(lambda x: fnp.sum(f(x) ** 2))  # noqa: B023
        gl = np.stack([np.asarray(g(fnp.asarray(x))) for x in xs])
        np.testing.assert_allclose(
            np.asarray(fnn.jit(fnn.vmap(g))(fnp.asarray(xs))), gl, rtol=1e-5, atol=1e-6
        )


def test_layers_follow_flax_defaults_and_protocol():
    x = fnp.asarray(_distinct(np.random.default_rng(3), (2, 8, 8, 3)), np.float32)
    pool = MaxPool((2, 2))
    assert pool.strides is None and pool.padding == "VALID"
    assert pool.init(None, (1, 8, 8, 3)) == {}
    assert pool.apply({}, x).shape == (2, 7, 7, 3)  # stride 1, as in flax.linen.max_pool
    for layer in (
        MaxPool((2, 2)),
        MaxPool((2, 2), strides=(2, 2)),
        MaxPool(3, strides=2, padding="SAME"),
        AvgPool([3, 3], strides=[2, 1], padding=[[1, 1], [0, 2]]),
        AvgPool((2, 2), (2, 2), count_include_pad=False),
        GlobalAvgPool(),
        GlobalMaxPool(),
    ):
        hash(layer)  # lists are frozen to tuples: usable as a jit static argument
        y = layer.apply(layer.init(None, (1, 8, 8, 3)), x, key=None, train=True)
        assert layer.output_shape((2, 8, 8, 3)) == y.shape, layer
    np.testing.assert_allclose(
        np.asarray(GlobalAvgPool().apply({}, x)), np.asarray(x).mean(axis=(1, 2)), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(GlobalMaxPool().apply({}, x)), np.asarray(x).max(axis=(1, 2))
    )
