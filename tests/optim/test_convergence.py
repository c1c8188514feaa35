"""Every optimizer reaches the optimum of an ill-conditioned convex quadratic, with a
params dict of two arrays, inside a jitted training step."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import optim

CURV_W = np.array([[1.0, 4.0, 20.0], [0.5, 2.0, 10.0]])  # condition number 40
CURV_B = np.array([8.0, 0.5])
W_STAR = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
B_STAR = np.array([-0.5, 2.0])


def loss(p):
    return 0.5 * (
        fnp.sum(fnp.asarray(CURV_W, dtype=fnp.float32) * (p["w"] - W_STAR) ** 2)
        + fnp.sum(fnp.asarray(CURV_B, dtype=fnp.float32) * (p["b"] - B_STAR) ** 2)
    )


CASES = {
    "sgd": (optim.sgd(0.09), 300, 1e-4),
    "momentum": (optim.sgd(0.02, momentum=0.9), 300, 1e-4),
    "nesterov": (optim.sgd(0.02, momentum=0.9, nesterov=True), 300, 1e-4),
    "adam": (optim.adam(optim.warmup_cosine_decay_schedule(0.0, 0.1, 20, 400)), 400, 1e-3),
    "adamw": (optim.adamw(optim.cosine_decay_schedule(0.1, 400), weight_decay=0.0), 400, 1e-3),
    "rmsprop": (optim.rmsprop(optim.linear_schedule(0.03, 1e-4, 300)), 400, 1e-3),
    "rmsprop_centered": (
        optim.rmsprop(optim.linear_schedule(0.03, 1e-4, 300), centered=True, momentum=0.5),
        400,
        1e-3,
    ),
    "adagrad": (optim.adagrad(0.5), 400, 1e-3),
    "lion": (optim.lion(optim.cosine_decay_schedule(0.05, 400), weight_decay=0.0), 400, 1e-3),
    "clipped_adam": (
        optim.chain(
            optim.clip_by_global_norm(1.0), optim.adam(optim.exponential_decay(0.1, 100, 0.3))
        ),
        500,
        1e-3,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reaches_the_optimum(name):
    opt, steps, tol = CASES[name]
    params = {"w": fnp.zeros((2, 3)), "b": fnp.zeros(2)}
    state = opt.init(params)

    @fnn.jit
    def step(params, state):
        updates, state = opt.update(fnn.grad(loss)(params), state, params)
        return optim.apply_updates(params, updates), state

    for _ in range(steps):
        params, state = step(params, state)
    np.testing.assert_allclose(params["w"], W_STAR, atol=tol)
    np.testing.assert_allclose(params["b"], B_STAR, atol=tol)
