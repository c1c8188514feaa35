"""``opt.update`` inside fnn.jit equals the eager update, state and all."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import optim
from fnn.tree_util import tree_leaves, tree_structure

OPTIMIZERS = {
    "sgd": optim.sgd(0.1),
    "momentum": optim.sgd(0.1, momentum=0.9),
    "nesterov": optim.sgd(optim.piecewise_constant_schedule(0.1, {2: 0.5}), 0.9, True),
    "adam": optim.adam(optim.warmup_cosine_decay_schedule(0.0, 0.1, 2, 10)),
    "nadam": optim.adam(0.1, nesterov=True),
    "adamw_masked": optim.adamw(0.1, weight_decay=0.1, mask={"w": True, "b": False}),
    "rmsprop": optim.rmsprop(optim.exponential_decay(0.1, 2, 0.5), momentum=0.5),
    "rmsprop_centered": optim.rmsprop(0.1, centered=True, bias_correction=True),
    "adagrad": optim.adagrad(optim.linear_schedule(0.1, 0.01, 5)),
    "lion": optim.lion(0.1),
    "clip_chain": optim.chain(optim.clip(0.5), optim.clip_by_global_norm(1.0), optim.sgd(0.1)),
    "lbfgs_no_search": optim.lbfgs(0.5, linesearch=None),
}


def loss(p):
    return fnp.sum((p["w"] - 1.0) ** 4) + fnp.sum(fnp.sin(p["b"]) * p["w"][0])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_jit_equals_eager(name):
    opt = OPTIMIZERS[name]
    params = {"w": fnp.array([0.3, -1.2, 2.0]), "b": fnp.array([0.5, 1.5])}

    def step(params, state):
        updates, state = opt.update(fnn.grad(loss)(params), state, params)
        return optim.apply_updates(params, updates), state, updates

    jitted = fnn.jit(step)
    pe = pj = params
    se = sj = opt.init(params)
    for _ in range(4):
        pe, se, ue = step(pe, se)
        pj, sj, uj = jitted(pj, sj)
        assert tree_structure((pj, sj, uj)) == tree_structure((pe, se, ue))
        for a, b in zip(tree_leaves((pe, se, ue)), tree_leaves((pj, sj, uj)), strict=True):
            assert np.asarray(b).dtype == np.asarray(a).dtype
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-6, atol=1e-7)
    assert jitted.trace_count == 1  # the state keeps its structure, shapes and dtypes
