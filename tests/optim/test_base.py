"""GradientTransformation plumbing: chain, apply_updates, identity, set_to_zero, masked."""

import numpy as np
import pytest

import fnn.numpy as fnp
from fnn import optim


def test_chain_applies_in_order():
    g = fnp.array([4.0, -0.5])
    clip_then_scale = optim.chain(optim.clip(1.0), optim.scale(2.0))
    scale_then_clip = optim.chain(optim.scale(2.0), optim.clip(1.0))
    np.testing.assert_allclose(clip_then_scale.update(g, clip_then_scale.init(g))[0], [2.0, -1.0])
    np.testing.assert_allclose(scale_then_clip.update(g, scale_then_clip.init(g))[0], [1.0, -1.0])


def test_chain_state_is_a_tuple_of_states():
    p = fnp.ones(2)
    opt = optim.chain(optim.scale_by_adam(), optim.trace(0.9), optim.scale(-1.0))
    state = opt.init(p)
    assert isinstance(state, tuple) and len(state) == 3
    assert isinstance(state[0], optim.ScaleByAdamState)
    assert isinstance(state[1], optim.TraceState)
    _, new_state = opt.update(p, state, p)
    assert int(new_state[0].count) == 1


def test_chain_rejects_a_foreign_state():
    opt = optim.chain(optim.scale(1.0), optim.scale(1.0))
    with pytest.raises(ValueError, match="tuple of 2 states"):
        opt.update(fnp.ones(1), (optim.EmptyState(),))


def test_chain_rejects_non_transformations():
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.chain(optim.scale(1.0), 0.1)


def test_chain_forwards_extra_args_only_to_those_that_take_them():
    seen = {}

    def update(updates, state, params=None, **extra):
        seen.update(extra)
        return updates, state

    recorder = optim.GradientTransformation(lambda p: optim.EmptyState(), update)
    opt = optim.chain(optim.scale(2.0), recorder)  # scale's update takes no **kwargs
    u, _ = opt.update(fnp.ones(1), opt.init(None), None, value=3.0)
    assert seen == {"value": 3.0}
    np.testing.assert_allclose(u, [2.0])


def test_apply_updates_keeps_structure_and_dtype():
    params = {"a": fnp.ones(2), "b": (fnp.zeros((1, 2)), fnp.asarray(1.0))}
    updates = {"a": fnp.full(2, 0.5), "b": (fnp.ones((1, 2)), fnp.asarray(-1.0))}
    new = optim.apply_updates(params, updates)
    np.testing.assert_allclose(new["a"], [1.5, 1.5])
    np.testing.assert_allclose(new["b"][0], [[1.0, 1.0]])
    assert float(new["b"][1]) == 0.0
    assert all(x.dtype == np.float32 for x in [new["a"], *new["b"]])


def test_identity_and_set_to_zero():
    g = {"w": fnp.array([1.0, -2.0])}
    assert optim.identity().update(g, optim.EmptyState())[0] is g
    np.testing.assert_array_equal(optim.set_to_zero().update(g, optim.EmptyState())[0]["w"], [0, 0])


def test_masked_prefix_mask_and_untouched_leaves():
    params = {"enc": {"w": fnp.ones(2), "b": fnp.ones(2)}, "head": fnp.ones(3)}
    grads = {"enc": {"w": fnp.full(2, 2.0), "b": fnp.full(2, 2.0)}, "head": fnp.full(3, 2.0)}
    opt = optim.masked(optim.scale(10.0), {"enc": True, "head": False})
    u, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(u["enc"]["w"], [20.0, 20.0])
    np.testing.assert_allclose(u["enc"]["b"], [20.0, 20.0])
    np.testing.assert_allclose(u["head"], [2.0, 2.0, 2.0])


def test_masked_inner_sees_only_selected_leaves():
    # the global norm of the selected leaf alone is 5: a full-tree norm would differ
    grads = {"a": fnp.array([3.0, 4.0]), "b": fnp.array([100.0])}
    opt = optim.masked(optim.clip_by_global_norm(1.0), {"a": True, "b": False})
    u, _ = opt.update(grads, opt.init(grads), grads)
    np.testing.assert_allclose(u["a"], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(u["b"], [100.0])


def test_masked_stateful_inner_state_covers_selected_leaves():
    params = {"a": fnp.ones(2), "b": fnp.ones(3)}
    opt = optim.masked(optim.scale_by_adam(), lambda p: {"a": False, "b": True})
    state = opt.init(params)
    (mu_leaves) = [x.shape for x in _leaves(state.inner_state.mu)]
    assert mu_leaves == [(3,)]
    u, state = opt.update(params, state, params)
    np.testing.assert_allclose(u["a"], [1.0, 1.0])


def test_masked_bad_mask():
    opt = optim.masked(optim.scale(1.0), {"a": True})
    with pytest.raises(ValueError, match="keys"):
        opt.init({"a": fnp.ones(1), "b": fnp.ones(1)})


def _leaves(tree):
    from fnn.tree_util import tree_leaves

    return tree_leaves(tree)
