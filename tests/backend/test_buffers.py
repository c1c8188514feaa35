"""jit's buffer arena: temporaries reused across calls, never what the caller holds."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import lax, nn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((256, 64)).astype(np.float32)
W = RNG.standard_normal((64, 64)).astype(np.float32)


def _np(x):
    return np.asarray(x)


def mlp_like(x, w):
    """Temporaries of several kinds: matmul, select, reduction, cast, ufuncs, views."""
    h = x @ w
    r = fnp.where(h > 0, h, 0.0)  # select
    s = fnp.sum(r * r, axis=1, keepdims=True)
    m = fnp.max(r, axis=0)
    z = fnp.tanh(r @ w) * s + m
    return z.T, fnp.reshape(r, (-1,)), (z > 0).astype(np.float32)


def test_the_arena_is_used_and_results_match_eager():
    compiled = fnn.jit(mlp_like).lower(X, W)
    assert compiled.fn.plan.slots, "expected some temporaries in arena slots"
    assert "_S[" in compiled.fn.source
    eager = mlp_like(fnp.asarray(X), fnp.asarray(W))
    out = fnn.jit(mlp_like)(X, W)
    for e, o in zip(eager, out, strict=True):
        np.testing.assert_allclose(_np(o), _np(e), rtol=1e-5, atol=1e-5)


def test_results_of_one_call_survive_the_next_call():
    jf = fnn.jit(mlp_like)
    first = [np.array(o) for o in jf(X, W)]
    held = jf(X, W)  # arrays the caller keeps
    kept = [np.array(o) for o in held]
    for _ in range(3):
        jf(-X, W * 2.0)  # same shapes: the same arena buffers are reused
    for h, k, f in zip(held, kept, first, strict=True):
        np.testing.assert_array_equal(_np(h), k)
        np.testing.assert_array_equal(k, f)


def test_outputs_never_alias_arena_buffers():
    def f(x, w):
        h = fnp.tanh(x @ w)  # a temporary that is also (a view of) an output
        return fnp.reshape(h, (-1,)), fnp.exp(h) + 1.0

    compiled = fnn.jit(f).lower(X, W)
    outs = compiled.fn(X, W)
    arena = compiled.fn.arena.acquire() if compiled.fn.arena is not None else []
    for o in outs:
        for b in arena:
            assert not np.shares_memory(o, b)


def test_concurrent_calls_from_threads_get_their_own_buffers():
    jf = fnn.jit(mlp_like)
    inputs = [(X * (k + 1), W) for k in range(4)]
    expected = [[np.array(o) for o in mlp_like(fnp.asarray(a), fnp.asarray(b))] for a, b in inputs]
    jf(*inputs[0])  # compile once
    errors = []

    def worker(k):
        for _ in range(20):
            got = jf(*inputs[k])
            for g, e in zip(got, expected[k], strict=True):
                if not np.allclose(_np(g), e, rtol=1e-5, atol=1e-4):
                    errors.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_arena_can_be_switched_off():
    fnn.config.update("jit_arena_mb", 0)
    try:
        compiled = fnn.jit(mlp_like).lower(X, W)
        assert not compiled.fn.plan.slots and "_S[" not in compiled.fn.source
        np.testing.assert_allclose(
            _np(compiled.fn(X, W)[0]), _np(mlp_like(fnp.asarray(X), fnp.asarray(W))[0]), rtol=1e-5
        )
    finally:
        fnn.config.update("jit_arena_mb", 1024)


def test_config_rejects_bad_arena_size():
    with pytest.raises(ValueError, match="jit_arena_mb must be >= 0"):
        fnn.config.update("jit_arena_mb", -1)
    with pytest.raises(ValueError, match="unknown option 'jit_arena'"):
        fnn.config.update("jit_arena", 1)


def test_gradients_through_the_arena_match_finite_differences():
    def loss(w, x):
        h = fnp.maximum(x @ w, 0.0)
        return fnp.mean(fnp.tanh(h @ w) ** 3)

    x64 = X.astype(np.float64)[:8]
    w64 = W.astype(np.float64) * 0.3
    fnn.config.update("enable_x64", True)
    try:
        g = fnn.jit(fnn.grad(loss))
        for _ in range(2):  # the second call reuses the first call's buffers
            got = _np(g(w64, x64))
        d = RNG.standard_normal(w64.shape)
        eps = 1e-6
        fd = (_np(loss(w64 + eps * d, x64)) - _np(loss(w64 - eps * d, x64))) / (2 * eps)
        assert np.isclose(np.sum(got * d), fd, rtol=1e-6)
    finally:
        fnn.config.update("enable_x64", False)


def test_select_through_the_arena_keeps_nan_and_signed_zero_bits():
    x = np.array([np.nan, -0.0, np.inf, -1.0] * 256, np.float32)
    pred = np.arange(x.size) % 3 == 0

    def f(p, a):
        return lax.select(p, a, -a) * 1.0

    got = _np(fnn.jit(f)(pred, x))
    expected = np.where(pred, x, -x)
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_threads_can_trace_and_differentiate_at_the_same_time():
    # Each thread has its own transform stack (as in JAX): first calls that trace and
    # compile in parallel must not see each other's tracers.
    barrier = threading.Barrier(4)
    results, errors = {}, []

    def worker(k):
        def f(w, x):
            return fnp.sum(fnp.tanh(x @ w) ** 2) * (k + 1)

        x = X[: 8 * (k + 1)]  # a different shape per thread: a trace per thread
        try:
            barrier.wait()
            g = fnn.jit(fnn.grad(f))(W, x)
            results[k] = np.asarray(g)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(4):
        x = fnp.asarray(X[: 8 * (k + 1)])
        expected = fnn.grad(lambda w, x, k=k: fnp.sum(fnp.tanh(x @ w) ** 2) * (k + 1))(W, x)
        np.testing.assert_allclose(results[k], np.asarray(expected), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("window", [(3, 3), (1, 1)])
def test_conv_patches_use_the_arena_unless_they_may_be_a_view(window):
    # A k x k window's patch matrix is copied into an arena slot; a 1 x 1 window's
    # patches may be a view of the input, which must not be overwritten or reused.
    x = RNG.standard_normal((4, 9, 9, 3)).astype(np.float32)
    kernel = RNG.standard_normal((*window, 3, 5)).astype(np.float32)

    def f(x, k):
        y = lax.conv_general_dilated(x, k, (1, 1), "SAME")
        return fnp.sum(fnp.tanh(y) ** 2), y

    step = fnn.value_and_grad(f, argnums=(0, 1), has_aux=True)
    jf = fnn.jit(step)
    source = jf.lower(x, kernel).fn.source
    if window == (3, 3):
        assert "_patches_into(" in source and "out=_S[" in source.split("_patches_into(")[1]
    else:
        assert "_patches_into(" not in source
    for scale in (1.0, -2.0, 1.0):  # later calls reuse the arena: results stay right
        (jvalue, jy), jgrads = jf(x * scale, kernel)
        (evalue, ey), egrads = step(x * scale, kernel)
        np.testing.assert_allclose(_np(jvalue), _np(evalue), rtol=1e-5)
        np.testing.assert_allclose(_np(jy), _np(ey), rtol=1e-5, atol=1e-5)
        for j, e in zip(jgrads, egrads, strict=True):
            np.testing.assert_allclose(_np(j), _np(e), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        ((1, 2, 0), (3, 0, 0)),  # edges only: borders filled slab by slab
        ((1, 1, 1), (0, 2, 2)),  # interior padding
        ((-2, 1, 0), (1, -3, 0)),  # negative padding crops: the plain impl
    ],
)
def test_pad_into_an_arena_slot_matches_eager(config):
    def f(x, v):
        h = fnp.tanh(x) * 2.0  # a temporary, so the pad's result is one too
        p = lax.pad(h, v, config)
        return fnp.sum(fnp.exp(p), axis=0)

    x = RNG.standard_normal((96, 80)).astype(np.float32)
    jf = fnn.jit(f)
    for v in (0.5, -1.0):  # the second call rewrites the same slots
        np.testing.assert_allclose(_np(jf(x, np.float32(v))), _np(f(x, np.float32(v))), rtol=1e-5)
    source = jf.lower(x, np.float32(0.5)).fn.source
    assert ("_pad_into(" in source) == all(lo >= 0 and hi >= 0 for lo, hi, _ in config)


def _narrow_net(x, w1, w2):
    """A narrow tanh network over many points, its input derivative and a gradient: the
    tall-and-skinny temporaries of a PINN step."""

    def u(x):
        return fnp.sum(fnp.tanh(fnp.tanh(x @ w1) @ w2), axis=1)

    ones = fnp.ones_like(x)
    value, du = fnn.jvp(u, (x,), (ones,))
    return fnp.mean(value**2 + du**2)


def test_tall_skinny_slots_are_column_major_and_match_eager():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3000, 3)).astype(np.float32)
    w1 = (rng.standard_normal((3, 20)) / 2).astype(np.float32)
    w2 = (rng.standard_normal((20, 20)) / 4).astype(np.float32)
    step = fnn.value_and_grad(_narrow_net, argnums=(1, 2))
    fnn.config.update("jit_threads", 1)  # one whole program, so its plan is the one below
    try:
        jf = fnn.jit(step)
        compiled = jf.lower(x, w1, w2)
        plan = compiled.fn.plan
        tall = [k for k, (shape, _) in enumerate(plan.slot_specs) if shape == (3000, 20)]
        assert tall and set(tall) <= plan.column_major
        slots = compiled.fn.arena.acquire()
        assert all(slots[k].flags.f_contiguous for k in tall)
        assert not any(
            slots[k].flags.f_contiguous and not slots[k].flags.c_contiguous
            for k in range(len(slots))
            if k not in plan.column_major
        )
        compiled.fn.arena.release(slots)
        for scale in (1.0, -0.5):  # the second call reuses the column-major slots
            (jv, jg), (ev, eg) = jf(x * scale, w1, w2), step(fnp.asarray(x * scale), w1, w2)
            np.testing.assert_allclose(_np(jv), _np(ev), rtol=1e-5)
            for j, e in zip(jg, eg, strict=True):
                np.testing.assert_allclose(_np(j), _np(e), rtol=1e-4, atol=1e-6)
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_slots_written_through_a_reshape_stay_row_major():
    # The 3-D product writes into its slot through out.reshape((3000, 16)): that reshape
    # would copy a Fortran-ordered buffer, so this slot must stay C-ordered.
    from fnn.backend import buffers

    x = RNG.standard_normal((3, 1000, 8)).astype(np.float32)
    w = RNG.standard_normal((8, 16)).astype(np.float32)

    def f(x, w):
        h = fnp.tanh(x) @ w  # (3, 1000, 16)
        return fnp.sum(fnp.tanh(fnp.reshape(h, (3000, 16))) * 2.0, axis=0)

    fnn.config.update("jit_threads", 1)
    try:
        compiled = fnn.jit(f).lower(x, w)
        plan = compiled.fn.plan
        through_reshape = [k for k, (shape, _) in enumerate(plan.slot_specs) if len(shape) == 3]
        assert through_reshape and not set(through_reshape) & plan.column_major
        assert buffers.tall_skinny((3000, 16), np.float32)
        np.testing.assert_allclose(_np(fnn.jit(f)(x, w)), _np(f(x, w)), rtol=1e-5, atol=1e-5)
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def _dense_relu_step(x, w1, w2):
    """A dense ReLU network's loss gradient: (128, 512) products, masks and selects."""

    def loss(w1, w2):
        h = nn.relu(x @ w1)
        return fnp.sum(nn.relu(h @ w2) ** 2)

    return fnn.grad(loss, argnums=(0, 1))(w1, w2)


def _orders_by_shape(compiled):
    plan, slots = compiled.fn.plan, compiled.fn.arena.acquire()
    orders: dict = {}
    for k, (shape, _) in enumerate(plan.slot_specs):
        orders.setdefault(shape, set()).add("F" if k in plan.column_major else "C")
        assert slots[k].flags.f_contiguous == (k in plan.column_major) or slots[k].ndim < 2
    compiled.fn.arena.release(slots)
    return orders


def _assert_slot_orders(shape, cases, *args):
    """Each ``(f, order)``: f's compiled slots of ``shape`` all in ``order``, and jit(f)
    computing what f computes eagerly (one whole program: jit_threads 1)."""
    fnn.config.update("jit_threads", 1)
    try:
        for f, order in cases:
            compiled = fnn.jit(f).lower(*args)
            assert _orders_by_shape(compiled)[shape] == {order}, f.__name__
            np.testing.assert_allclose(_np(fnn.jit(f)(*args)), _np(f(*args)), rtol=1e-5, atol=1e-5)
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_short_and_wide_slots_are_column_major_masks_included():
    x = RNG.standard_normal((128, 96)).astype(np.float32)
    w1 = (RNG.standard_normal((96, 512)) / 10).astype(np.float32)
    w2 = (RNG.standard_normal((512, 512)) / 20).astype(np.float32)
    fnn.config.update("jit_threads", 1)
    try:
        jf = fnn.jit(_dense_relu_step)
        compiled = jf.lower(x, w1, w2)
        orders = _orders_by_shape(compiled)
        # Every (128, 512) slot, float and bool alike, is column-major: none is mixed.
        assert orders[(128, 512)] == {"F"}
        assert {dtype for shape, dtype in compiled.fn.plan.slot_specs if shape == (128, 512)} >= {
            np.dtype(np.float32),
            np.dtype(np.bool_),
        }
        for scale in (1.0, -2.0):  # the second call reuses the column-major slots
            got = jf(x * scale, w1, w2)
            want = _dense_relu_step(fnp.asarray(x * scale), fnp.asarray(w1), fnp.asarray(w2))
            for g, e in zip(got, want, strict=True):
                np.testing.assert_allclose(_np(g), _np(e), rtol=1e-5, atol=1e-5)
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_a_row_major_argument_of_the_shape_keeps_its_slots_row_major():
    # r (128, 512) is an argument, C-ordered: Fortran slots of its shape would make the
    # elementwise loops that meet it walk one operand strided (19x slower), so the
    # (128, 512) slots stay C-ordered.
    from fnn.backend import buffers

    x = RNG.standard_normal((128, 96)).astype(np.float32)
    w = (RNG.standard_normal((96, 512)) / 10).astype(np.float32)
    r = RNG.standard_normal((128, 512)).astype(np.float32)

    def f(x, w, r):
        h = nn.relu(x @ w) + r
        return fnp.tanh(h) * h

    fnn.config.update("jit_threads", 1)
    try:
        compiled = fnn.jit(f).lower(x, w, r)
        assert buffers.short_and_wide((128, 512), np.float32)
        assert _orders_by_shape(compiled).get((128, 512)) == {"C"}
        np.testing.assert_allclose(_np(fnn.jit(f)(x, w, r)), _np(f(x, w, r)), rtol=1e-5, atol=1e-5)
    finally:
        fnn.config.update("jit_threads", fnn.config.default_jit_threads())


def test_column_major_is_decided_per_component_of_elementwise_loops():
    # Two (16, 3136) values: h, a C-ordered view (reshape) of a 3-D value, and the
    # product g @ w.T. Apart, the product's slot is column-major (a reshape reading it
    # copies, which is cheaper than the row-major product); added together they would
    # mix orders in one loop, so the product's slot stays row-major too.
    a = RNG.standard_normal((16, 49, 64)).astype(np.float32)
    w = (RNG.standard_normal((3136, 128)) / 50).astype(np.float32)

    def apart(a, w):
        h = fnp.reshape(fnp.tanh(a), (16, 3136))
        back = (h @ w) @ w.T
        return fnp.sum(fnp.reshape(back, (16, 49, 64)) * 2.0, axis=1)

    def together(a, w):
        h = fnp.reshape(fnp.tanh(a), (16, 3136))
        return fnp.sum(fnp.tanh(h + (h @ w) @ w.T), axis=1)

    _assert_slot_orders((16, 3136), ((apart, "F"), (together, "C")), a, w)


def test_short_and_wide_values_reduced_along_rows_stay_row_major():
    # A sum along a row of a column-major (8, 4096) matrix walks it strided (about 8x
    # slower), so a product whose rows are reduced (a softmax over a wide vocabulary)
    # keeps C order; reduced over its rows (axis 0, a bias gradient) it goes Fortran.
    x = RNG.standard_normal((8, 64)).astype(np.float32)
    w = (RNG.standard_normal((64, 4096)) / 8).astype(np.float32)

    def along_rows(x, w):
        z = fnp.tanh(x @ w)
        return fnp.sum(fnp.exp(z - fnp.max(z, axis=1, keepdims=True)), axis=1)

    def over_rows(x, w):
        return fnp.sum(fnp.tanh(x @ w) * 2.0, axis=0)

    _assert_slot_orders((8, 4096), ((along_rows, "C"), (over_rows, "F")), x, w)


def test_a_cast_joins_its_input_in_one_memory_order():
    # (z > 0).astype(float32) keeps z's order: were it left out of z's component, a
    # column-major z would give a Fortran mask multiplied with the C-ordered view v.
    a = RNG.standard_normal((8, 64, 64)).astype(np.float32)
    x = RNG.standard_normal((8, 32)).astype(np.float32)
    w = (RNG.standard_normal((32, 4096)) / 4).astype(np.float32)

    def same_order(a, x, w):
        z = x @ w
        return fnp.sum((z > 0).astype(np.float32) * z, axis=0)

    def beside_a_view(a, x, w):
        v = fnp.reshape(fnp.tanh(a), (8, 4096))  # a C-ordered view
        z = x @ w
        return fnp.sum((z > 0).astype(np.float32) * v, axis=0) + fnp.sum(z, axis=0)

    _assert_slot_orders((8, 4096), ((same_order, "F"), (beside_a_view, "C")), a, x, w)
