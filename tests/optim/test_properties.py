"""Properties over random inputs (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fnn.numpy as fnp
from fnn import optim

floats = st.floats(-1e3, 1e3, allow_nan=False, width=32)
vectors = arrays(np.float32, st.integers(1, 5), elements=floats)


@settings(max_examples=40, deadline=None)
@given(a=vectors, b=vectors, max_norm=st.floats(1e-3, 1e3))
def test_clip_by_global_norm_bounds_the_norm_and_keeps_directions(a, b, max_norm):
    g = {"a": fnp.asarray(a), "b": fnp.asarray(b)}
    opt = optim.clip_by_global_norm(max_norm)
    u, _ = opt.update(g, opt.init(g))
    norm = float(np.sqrt(np.sum(a.astype(np.float64) ** 2) + np.sum(b.astype(np.float64) ** 2)))
    assert float(optim.global_norm(u)) <= max_norm * (1 + 1e-5)
    scale = 1.0 if norm < max_norm else max_norm / norm
    np.testing.assert_allclose(u["a"], a * scale, rtol=1e-5, atol=1e-6 * max(1.0, max_norm))


@settings(max_examples=40, deadline=None)
@given(g=vectors, lr=st.floats(1e-4, 1.0))
def test_adam_first_step_is_lr_times_sign(g, lr):
    opt = optim.adam(lr)
    u, _ = opt.update(fnp.asarray(g), opt.init(fnp.asarray(g)))
    expected = -lr * g.astype(np.float64) / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(u, expected, rtol=1e-4, atol=1e-6 * lr)


@settings(max_examples=40, deadline=None)
@given(g=vectors, lr=st.floats(1e-4, 1.0))
def test_lion_steps_have_size_lr(g, lr):
    opt = optim.lion(lr, weight_decay=0.0)
    p = fnp.zeros_like(fnp.asarray(g))
    u, _ = opt.update(fnp.asarray(g), opt.init(p), p)
    # the first step is -lr * sign((1 - b1) * g), in float32 (a subnormal g underflows to 0)
    nonzero = np.float32(1 - 0.9) * g != 0
    np.testing.assert_allclose(np.abs(np.asarray(u)), np.where(nonzero, lr, 0.0), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    init=st.floats(1e-3, 10.0),
    steps=st.integers(1, 1000),
    count=st.integers(0, 2000),
)
def test_decay_schedules_stay_between_their_ends(init, steps, count):
    for s, lo in [
        (optim.cosine_decay_schedule(init, steps, alpha=0.1), 0.1 * init),
        (optim.linear_schedule(init, 0.2 * init, steps), 0.2 * init),
        (optim.exponential_decay(init, steps, 0.5, end_value=0.3 * init), 0.3 * init),
    ]:
        v = float(s(count))
        assert lo * (1 - 1e-5) <= v <= init * (1 + 1e-5)
