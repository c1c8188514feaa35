"""Each optimizer against its published update rule, written out in numpy.

Runs in float64 (x64 on) so the comparison can be tight; test_dtypes checks float32.
"""

import numpy as np
import pytest

import fnn.numpy as fnp
from fnn import optim

G1 = np.array([0.5, -2.0, 3.0])
G2 = np.array([-1.0, 0.25, 2.0])
G3 = np.array([0.1, 1.5, -0.7])
P0 = np.array([1.0, -0.5, 2.0])


def run(opt, grads, params=P0):
    """The updates of ``opt`` for a sequence of gradients (params move with the updates)."""
    p = fnp.asarray(params)
    state = opt.init(p)
    out = []
    for g in grads:
        u, state = opt.update(fnp.asarray(g), state, p)
        out.append(np.asarray(u))
        p = optim.apply_updates(p, u)
    return out


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.usefixtures("x64")
class TestSGD:
    def test_plain(self):
        u1, u2 = run(optim.sgd(0.1), [G1, G2])
        close(u1, -0.1 * G1)
        close(u2, -0.1 * G2)

    def test_momentum(self):
        lr, m = 0.1, 0.9
        us = run(optim.sgd(lr, momentum=m), [G1, G2, G3])
        t = np.zeros(3)
        for g, u in zip([G1, G2, G3], us, strict=True):
            t = g + m * t
            close(u, -lr * t)

    def test_nesterov(self):
        lr, m = 0.1, 0.9
        us = run(optim.sgd(lr, momentum=m, nesterov=True), [G1, G2, G3])
        t = np.zeros(3)
        for g, u in zip([G1, G2, G3], us, strict=True):
            t = g + m * t
            close(u, -lr * (g + m * t))

    def test_schedule_sees_the_step_count(self):
        us = run(optim.sgd(lambda count: 0.1 * (count + 1)), [G1, G2, G3])
        for k, (g, u) in enumerate(zip([G1, G2, G3], us, strict=True)):
            close(u, -0.1 * (k + 1) * g)


def adam_reference(grads, lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    m, v, out = np.zeros(3), np.zeros(3), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        out.append(-lr * m_hat / (np.sqrt(v_hat + eps_root) + eps))
    return out


@pytest.mark.usefixtures("x64")
class TestAdam:
    def test_one_and_two_steps(self):
        u1, u2 = run(optim.adam(0.01), [G1, G2])
        # after one step Adam moves by lr against the sign of g (up to eps)
        close(u1, -0.01 * G1 / (np.abs(G1) + 1e-8))
        r1, r2 = adam_reference([G1, G2], 0.01)
        close(u1, r1)
        close(u2, r2)
        # the second step by hand: m = 0.09 g1 + 0.1 g2 (over 1 - 0.81), etc.
        m = (0.9 * 0.1 * G1 + 0.1 * G2) / (1 - 0.9**2)
        v = (0.999 * 0.001 * G1**2 + 0.001 * G2**2) / (1 - 0.999**2)
        close(u2, -0.01 * m / (np.sqrt(v) + 1e-8))

    def test_hyperparameters(self):
        kw = dict(b1=0.5, b2=0.75, eps=0.1, eps_root=0.01)
        us = run(optim.adam(0.3, **kw), [G1, G2, G3])
        for u, r in zip(us, adam_reference([G1, G2, G3], 0.3, **kw), strict=True):
            close(u, r)

    def test_adamw_decay_is_decoupled(self):
        lr, wd = 0.01, 0.1
        us = run(optim.adamw(lr, weight_decay=wd), [G1, G2])
        p = P0.copy()
        for u, r in zip(us, adam_reference([G1, G2], lr), strict=True):
            # the decay is added after Adam's rescaling: -lr * wd * p, not divided by sqrt(v)
            close(u, r - lr * wd * p)
            p = p + u

    def test_adamw_mask(self):
        lr, wd = 0.01, 0.1
        mask = lambda p: {"w": True, "b": False}  # noqa: E731
        opt = optim.adamw(lr, weight_decay=wd, mask=mask)
        params = {"w": fnp.asarray(P0), "b": fnp.asarray(P0)}
        grads = {"w": fnp.asarray(G1), "b": fnp.asarray(G1)}
        u, _ = opt.update(grads, opt.init(params), params)
        (ref,) = adam_reference([G1], lr)
        close(u["w"], ref - lr * wd * P0)
        close(u["b"], ref)

    def test_nadam(self):
        b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
        us = run(optim.adam(lr, nesterov=True), [G1, G2])
        m, v = np.zeros(3), np.zeros(3)
        for t, (g, u) in enumerate(zip([G1, G2], us, strict=True), start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
            close(u, -lr * m_hat / (np.sqrt(v / (1 - b2**t)) + eps))


@pytest.mark.usefixtures("x64")
class TestRMSProp:
    @pytest.mark.parametrize("initial_scale", [0.0, 1.0])
    def test_plain(self, initial_scale):
        lr, d, eps = 0.01, 0.9, 1e-8
        us = run(optim.rmsprop(lr, decay=d, eps=eps, initial_scale=initial_scale), [G1, G2, G3])
        nu = np.full(3, initial_scale)
        for g, u in zip([G1, G2, G3], us, strict=True):
            nu = d * nu + (1 - d) * g**2
            close(u, -lr * g / np.sqrt(nu + eps))

    def test_eps_outside_sqrt(self):
        lr, d, eps = 0.01, 0.9, 1e-3
        us = run(optim.rmsprop(lr, decay=d, eps=eps, eps_in_sqrt=False), [G1, G2])
        nu = np.zeros(3)
        for g, u in zip([G1, G2], us, strict=True):
            nu = d * nu + (1 - d) * g**2
            close(u, -lr * g / (np.sqrt(nu) + eps))

    def test_centered(self):
        lr, d, eps = 0.01, 0.9, 1e-8
        us = run(optim.rmsprop(lr, decay=d, eps=eps, centered=True), [G1, G2, G3])
        mu, nu = np.zeros(3), np.zeros(3)
        for g, u in zip([G1, G2, G3], us, strict=True):
            mu = d * mu + (1 - d) * g
            nu = d * nu + (1 - d) * g**2
            close(u, -lr * g / np.sqrt(nu - mu**2 + eps))

    @pytest.mark.parametrize("nesterov", [False, True])
    def test_momentum_acts_on_scaled_updates(self, nesterov):
        lr, d, eps, m = 0.01, 0.9, 1e-8, 0.5
        opt = optim.rmsprop(lr, decay=d, eps=eps, momentum=m, nesterov=nesterov)
        us = run(opt, [G1, G2, G3])
        nu, t = np.zeros(3), np.zeros(3)
        for g, u in zip([G1, G2, G3], us, strict=True):
            nu = d * nu + (1 - d) * g**2
            step = -lr * g / np.sqrt(nu + eps)
            t = step + m * t
            close(u, step + m * t if nesterov else t)

    def test_bias_correction(self):
        lr, d, eps = 0.01, 0.9, 1e-8
        us = run(optim.rmsprop(lr, decay=d, eps=eps, bias_correction=True), [G1, G2])
        nu = np.zeros(3)
        for k, (g, u) in enumerate(zip([G1, G2], us, strict=True), start=1):
            nu = d * nu + (1 - d) * g**2
            close(u, -lr * g / np.sqrt(nu / (1 - d**k) + eps))


@pytest.mark.usefixtures("x64")
def test_adagrad():
    lr, init, eps = 0.1, 0.1, 1e-7
    us = run(optim.adagrad(lr), [G1, G2, G3])
    acc = np.full(3, init)
    for g, u in zip([G1, G2, G3], us, strict=True):
        acc = acc + g**2
        close(u, -lr * g / np.sqrt(acc + eps))


@pytest.mark.usefixtures("x64")
def test_adagrad_zero_accumulator_gives_zero_update():
    (u,) = run(optim.adagrad(0.1, initial_accumulator_value=0.0), [np.array([0.0, 1.0, 0.0])])
    close(u, [0.0, -0.1 / np.sqrt(1 + 1e-7), 0.0])


@pytest.mark.usefixtures("x64")
def test_lion_sign_update_and_decay():
    lr, b1, b2, wd = 0.01, 0.9, 0.99, 0.1
    us = run(optim.lion(lr, b1=b1, b2=b2, weight_decay=wd), [G1, G2, G3])
    m, p = np.zeros(3), P0.copy()
    for g, u in zip([G1, G2, G3], us, strict=True):
        close(u, -lr * (np.sign((1 - b1) * g + b1 * m) + wd * p))
        m = b2 * m + (1 - b2) * g
        p = p + u


@pytest.mark.usefixtures("x64")
class TestClipping:
    def test_clip(self):
        (u,) = run(optim.clip(1.0), [G1])
        close(u, np.clip(G1, -1, 1))

    def test_global_norm(self):
        tree = {"a": fnp.asarray(G1), "b": (fnp.asarray(G2), fnp.asarray([[2.0]]))}
        expected = np.sqrt(np.sum(G1**2) + np.sum(G2**2) + 4.0)
        close(optim.global_norm(tree), expected)

    def test_clip_by_global_norm(self):
        g = {"a": fnp.asarray(G1), "b": fnp.asarray(G2)}
        norm = np.sqrt(np.sum(G1**2) + np.sum(G2**2))
        opt = optim.clip_by_global_norm(1.0)
        u, _ = opt.update(g, opt.init(g))
        close(u["a"], G1 / norm)
        close(u["b"], G2 / norm)
        close(optim.global_norm(u), 1.0)
        # below the threshold: unchanged
        opt = optim.clip_by_global_norm(2 * norm)
        u, _ = opt.update(g, opt.init(g))
        close(u["a"], G1)

    def test_zero_gradients_stay_zero(self):
        opt = optim.clip_by_global_norm(1.0)
        z = fnp.zeros(3)
        u, _ = opt.update(z, opt.init(z))
        close(u, np.zeros(3))


def test_add_decayed_weights_needs_params():
    opt = optim.add_decayed_weights(0.1)
    with pytest.raises(ValueError, match="needs the parameters"):
        opt.update(fnp.ones(2), opt.init(None))


@pytest.mark.parametrize(
    "opt",
    [
        optim.sgd(0.1, momentum=0.9),
        optim.adam(0.1),
        optim.adamw(0.1),
        optim.rmsprop(0.1, centered=True, momentum=0.9),
        optim.adagrad(0.1),
        optim.lion(0.1),
        optim.sgd(optim.cosine_decay_schedule(0.1, 10)),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "schedule"],
)
def test_float32_stays_float32(opt):
    p = {"w": fnp.ones(3), "b": fnp.zeros(())}
    state = opt.init(p)
    for _ in range(2):
        u, state = opt.update(p, state, p)
        p = optim.apply_updates(p, u)
    for leaf in [*fnp_leaves(u), *fnp_leaves(p)]:
        assert leaf.dtype == np.float32
    counts = [x for x in fnp_leaves(state) if np.issubdtype(x.dtype, np.integer)]
    assert all(c.dtype == np.int32 for c in counts)


@pytest.mark.usefixtures("x64")
def test_float32_params_with_x64_schedule():
    # a float64 schedule value must not promote float32 params
    opt = optim.sgd(optim.linear_schedule(0.1, 0.0, 10))
    p = fnp.ones(2, dtype=fnp.float32)
    u, _ = opt.update(p, opt.init(p), p)
    assert u.dtype == np.float32
    assert optim.apply_updates(p, u).dtype == np.float32


def fnp_leaves(tree):
    from fnn.tree_util import tree_leaves

    return [fnp.asarray(x) for x in tree_leaves(tree)]
