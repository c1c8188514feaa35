"""cond, switch, scan, while_loop, fori_loop and map: values, derivatives vs finite
differences, vmap vs a Python loop, jit vs eager."""

import numpy as np
import pytest

import fnn
import fnn.lax as lax
import fnn.numpy as fnp


@pytest.fixture(autouse=True)
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def central_diff(f, x, eps=1e-6):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (float(f(x + d)) - float(f(x - d))) / (2 * eps)
    return g


def piecewise(x):
    return lax.cond(
        fnp.sum(x) > 0, lambda y: fnp.sum(fnp.sin(y) * y), lambda y: fnp.sum(fnp.cos(y)), x
    )


@pytest.mark.parametrize("x", [np.array([0.3, 0.9]), np.array([-0.7, -0.1])])
def test_cond_value_and_gradients_match_finite_differences(x):
    want = np.sum(np.sin(x) * x) if x.sum() > 0 else np.sum(np.cos(x))
    np.testing.assert_allclose(piecewise(x), want, rtol=1e-12)
    np.testing.assert_allclose(fnn.grad(piecewise)(x), central_diff(piecewise, x), rtol=1e-6)
    np.testing.assert_allclose(fnn.jit(fnn.grad(piecewise))(x), fnn.grad(piecewise)(x), rtol=1e-12)
    # second derivative through cond: Hessian vs finite differences of the gradient
    hess = fnn.hessian(piecewise)(x)
    fd = np.stack([central_diff(lambda z, i=i: fnn.grad(piecewise)(z)[i], x) for i in range(2)])
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-8)
    # forward mode
    _, t = fnn.jvp(piecewise, (x,), (np.ones(2),))
    np.testing.assert_allclose(t, central_diff(piecewise, x).sum(), rtol=1e-6)


def test_cond_under_vmap_with_batched_predicate_matches_loop():
    xs = np.array([[0.3, 0.9], [-0.7, -0.1], [1.0, -2.0]])
    np.testing.assert_allclose(fnn.vmap(piecewise)(xs), [piecewise(x) for x in xs], rtol=1e-12)
    np.testing.assert_allclose(
        fnn.vmap(fnn.grad(piecewise))(xs),
        np.stack([fnn.grad(piecewise)(x) for x in xs]),
        rtol=1e-12,
    )


def test_switch_clamps_index_and_differentiates():
    branches = [lambda y: y, lambda y: y**2, lambda y: y**3]
    for i, p in [(-5, 1), (0, 1), (1, 2), (2, 3), (9, 3)]:
        np.testing.assert_allclose(lax.switch(i, branches, 2.0), 2.0**p)
    np.testing.assert_allclose(fnn.grad(lambda y: lax.switch(2, branches, y))(2.0), 12.0)


def test_cond_branches_must_agree():
    with pytest.raises(TypeError, match="branch 1 returns"):
        lax.cond(True, lambda x: x, lambda x: (x, x), 1.0)


def rnn_loss(w, xs):
    def step(h, x):
        h = fnp.tanh(w[0] * h + w[1] * x)
        return h, h * h

    h, ys = lax.scan(step, fnp.zeros(3), xs)
    return fnp.sum(h) + fnp.sum(ys)


def test_scan_values_match_a_python_loop():
    w = np.array([0.5, -1.2])
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    h, total = np.zeros(3), 0.0
    for x in xs:
        h = np.tanh(w[0] * h + w[1] * x)
        total += np.sum(h * h)
    np.testing.assert_allclose(rnn_loss(w, xs), np.sum(h) + total, rtol=1e-12)
    np.testing.assert_allclose(fnn.jit(rnn_loss)(w, xs), rnn_loss(w, xs), rtol=1e-12)


def test_scan_reverse_mode_matches_finite_differences():
    w = np.array([0.5, -1.2])
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    np.testing.assert_allclose(
        fnn.grad(rnn_loss)(w, xs), central_diff(lambda v: rnn_loss(v, xs), w), rtol=1e-6
    )
    gx = fnn.grad(rnn_loss, argnums=1)(w, xs)
    np.testing.assert_allclose(gx, central_diff(lambda v: rnn_loss(w, v), xs), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        fnn.jit(fnn.grad(rnn_loss))(w, xs), fnn.grad(rnn_loss)(w, xs), rtol=1e-10
    )


def test_scan_forward_mode_and_second_order():
    w = np.array([0.5, -1.2])
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    v = np.array([0.3, 0.7])
    _, t = fnn.jvp(lambda a: rnn_loss(a, xs), (w,), (v,))
    np.testing.assert_allclose(t, central_diff(lambda a: rnn_loss(a, xs), w) @ v, rtol=1e-6)
    hess = fnn.hessian(lambda a: rnn_loss(a, xs))(w)
    fd = np.stack([central_diff(lambda a, i=i: fnn.grad(rnn_loss)(a, xs)[i], w) for i in range(2)])
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-8)


def test_scan_reverse_flag_and_vmap():
    def cumulative(xs):
        return lax.scan(lambda c, x: (c + x, c + x), 0.0, xs, reverse=True)[1]

    xs = np.arange(5.0)
    np.testing.assert_allclose(cumulative(xs), np.cumsum(xs[::-1])[::-1])
    batch = np.arange(15.0).reshape(3, 5)
    np.testing.assert_allclose(
        fnn.vmap(cumulative)(batch), np.stack([cumulative(b) for b in batch])
    )
    w = np.array([[0.5, -1.2], [0.1, 0.4]])
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    np.testing.assert_allclose(
        fnn.vmap(fnn.grad(rnn_loss), in_axes=(0, None))(w, xs),
        np.stack([fnn.grad(rnn_loss)(v, xs) for v in w]),
        rtol=1e-12,
    )


def test_while_loop_vmap_with_per_example_trip_counts():
    def collatz_steps(n):
        def body(c):
            k, steps = c
            return fnp.where(k % 2 == 0, k // 2, 3 * k + 1), steps + 1

        return lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]

    ns = np.array([1, 2, 3, 6, 7, 27])
    want = []
    for n in ns:
        k, s = int(n), 0
        while k != 1:
            k, s = (k // 2 if k % 2 == 0 else 3 * k + 1), s + 1
        want.append(s)
    np.testing.assert_array_equal(fnn.vmap(collatz_steps)(ns), want)
    np.testing.assert_array_equal(fnn.jit(fnn.vmap(collatz_steps))(ns), want)


def test_while_loop_forward_mode_and_reverse_mode_error():
    def power_until(x):
        return lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1]

    np.testing.assert_allclose(power_until(1.5), 1.5**4)
    np.testing.assert_allclose(fnn.jvp(power_until, (1.5,), (1.0,))[1], 4 * 1.5**3)
    with pytest.raises(TypeError, match="fori_loop with concrete"):
        fnn.grad(power_until)(1.5)


def test_fori_loop_with_static_bounds_is_reverse_differentiable():
    f = lambda x: lax.fori_loop(0, 4, lambda i, v: v * x + i, 1.0)  # noqa: E731

    def ref(x):
        v = 1.0
        for i in range(4):
            v = v * x + i
        return v

    np.testing.assert_allclose(f(0.7), ref(0.7))
    np.testing.assert_allclose(fnn.grad(f)(0.7), central_diff(ref, np.asarray(0.7)), rtol=1e-6)


def test_map_matches_a_loop():
    xs = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(lax.map(lambda x: fnp.sum(x**2), xs), (xs**2).sum(1))
