"""The jaxpr -> jaxpr passes, each shown before and after on a small program, and the
optimized programs still computing what the originals compute."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.backend import passes
from fnn.jaxpr import Literal, eval_jaxpr


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _prims(jaxpr):
    return [e.primitive.name for e in jaxpr.eqns]


def _run(closed, *args):
    return [np.asarray(o) for o in eval_jaxpr(closed.jaxpr, closed.consts, *args)]


def _run_pass(p, closed):
    jaxpr, consts = p(closed.jaxpr, closed.consts)
    return fnn.ClosedJaxpr(jaxpr, consts)


def _same_results(a, b, *args):
    for x, y in zip(_run(a, *args), _run(b, *args), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------------
# Dead code elimination


def test_dce_drops_unused_results():
    def f(x):
        unused = fnp.cos(x) * 3.0  # noqa: F841 - dead on purpose
        return fnp.sin(x) * 2.0

    before = fnn.make_jaxpr(f)(fnp.ones(3))
    after = _run_pass(passes.dce, before)
    assert _prims(before.jaxpr) == ["cos", "mul", "sin", "mul"]
    assert _prims(after.jaxpr) == ["sin", "mul"]
    assert "cos" in str(before) and "cos" not in str(after)
    _same_results(before, after, fnp.arange(3.0))


def test_dce_drops_unused_outputs_of_a_vjp():
    # the forward value is computed by grad's program but not returned
    before = fnn.make_jaxpr(fnn.grad(lambda x: fnp.sum(fnp.exp(x) * x)))(fnp.ones(3))
    after = _run_pass(passes.dce, before)
    assert "reduce_sum" in _prims(before.jaxpr)
    assert "reduce_sum" not in _prims(after.jaxpr)
    assert len(after.jaxpr.eqns) < len(before.jaxpr.eqns)
    _same_results(before, after, fnp.arange(3.0))


def test_dce_drops_unused_constants():
    c = fnp.arange(4.0)
    before = fnn.make_jaxpr(lambda x: (x, (x * c)[0])[0])(fnp.ones(4))
    assert len(before.consts) == 1
    after = _run_pass(passes.dce, before)
    assert after.consts == [] and after.jaxpr.eqns == []


# ----------------------------------------------------------------------------------------
# Common subexpressions


def _second_derivative_program():
    f = lambda x: fnp.sum(fnp.sin(x) * fnp.exp(x))  # noqa: E731
    return fnn.make_jaxpr(fnn.grad(lambda x: fnp.sum(fnn.grad(f)(x))))(fnp.ones(3))


def test_cse_merges_repeated_subexpressions_in_a_second_derivative():
    before = _second_derivative_program()
    after = _run_pass(passes.cse, before)
    n_before, n_after = len(before.jaxpr.eqns), len(after.jaxpr.eqns)
    # sin(x), cos(x) and the broadcast cotangent seed are each computed twice before
    assert _prims(before.jaxpr).count("sin") == 2 and _prims(before.jaxpr).count("cos") == 2
    assert _prims(after.jaxpr).count("sin") == 1 and _prims(after.jaxpr).count("cos") == 1
    assert _prims(after.jaxpr).count("broadcast_in_dim") == 1
    assert n_after <= n_before - 3
    _same_results(before, after, fnp.asarray([0.1, 0.5, -1.0]))


def test_cse_respects_parameters_and_literals():
    def f(x):
        return fnp.sum(x, axis=0), fnp.sum(x, axis=1), x * 2.0, x * 3.0, x * 2.0

    before = fnn.make_jaxpr(f)(fnp.ones((2, 2)))
    after = _run_pass(passes.cse, before)
    assert _prims(after.jaxpr).count("reduce_sum") == 2  # different axes: kept
    assert _prims(after.jaxpr).count("mul") == 2  # x*2 merged, x*3 kept
    assert after.jaxpr.outvars[2] is after.jaxpr.outvars[4]
    _same_results(before, after, fnp.asarray([[1.0, 2.0], [3.0, 4.0]]))


def test_cse_merges_equal_constants():
    a, b = fnp.ones(3), fnp.ones(3)  # equal values, distinct arrays
    before = fnn.make_jaxpr(lambda x: x * a + x * b)(fnp.ones(3))
    assert len(before.consts) == 2
    after = fnn.ClosedJaxpr(*passes.dce(*passes.cse(before.jaxpr, before.consts)))
    assert len(after.consts) == 1 and _prims(after.jaxpr) == ["mul", "add"]
    _same_results(before, after, fnp.arange(3.0))


# ----------------------------------------------------------------------------------------
# Constant folding


def test_constant_folding():
    c = fnp.asarray([1.0, 2.0])

    def f(x):
        k = fnp.sum(c * 3.0) + fnp.exp(fnp.asarray(0.0))  # no dependence on x: 10.0
        return x * k + fnp.sin(c)[0]

    before = fnn.make_jaxpr(f)(fnp.ones(2))
    after = _run_pass(passes.fold_constants, before)
    assert {"reduce_sum", "exp", "sin"} <= set(_prims(before.jaxpr))
    assert _prims(after.jaxpr) == ["mul", "add"]
    literals = [x for e in after.jaxpr.eqns for x in e.inputs if type(x) is Literal]
    assert sorted(float(v.val) for v in literals) == pytest.approx(sorted([10.0, np.sin(1.0)]))
    _same_results(before, after, fnp.asarray([1.0, -2.0]))


def test_constant_folding_of_an_array_becomes_a_constant():
    c = fnp.arange(3.0)
    before = fnn.make_jaxpr(lambda x: x + fnp.cos(c))(fnp.ones(3))
    after = _run_pass(passes.fold_constants, before)
    assert _prims(after.jaxpr) == ["add"]
    np.testing.assert_allclose(np.asarray(after.consts[0]), np.cos(np.arange(3.0)), rtol=1e-6)


def test_constant_folding_does_not_touch_inputs():
    before = fnn.make_jaxpr(lambda x: fnp.sin(x) + 1.0)(fnp.ones(2))
    after = _run_pass(passes.fold_constants, before)
    assert _prims(after.jaxpr) == ["sin", "add"]


# ----------------------------------------------------------------------------------------
# Algebraic simplification


@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda x: x * 1.0, (3,)),
        (lambda x: 1.0 * x, (3,)),
        (lambda x: x + 0.0, (3,)),
        (lambda x: 0.0 + x, (3,)),
        (lambda x: x - 0.0, (3,)),
        (lambda x: x / 1.0, (3,)),
        (lambda x: x * fnp.ones(3), (3,)),  # a folded array of ones
        (lambda x: fnn.lax.reshape(x, (2, 3)), (2, 3)),
        (lambda x: fnn.lax.reshape(fnn.lax.reshape(x, (3, 2)), (2, 3)), (2, 3)),
        (lambda x: fnn.lax.transpose(x, (0, 1)), (2, 3)),
        (lambda x: fnn.lax.transpose(fnn.lax.transpose(x, (1, 0)), (1, 0)), (2, 3)),
        (lambda x: fnn.lax.convert_element_type(x, np.float32), (3,)),
        (lambda x: fnn.lax.broadcast_in_dim(x, (3,), (0,)), (3,)),
        (lambda x: fnn.lax.neg(fnn.lax.neg(x)), (3,)),
        (lambda x: fnn.lax.integer_pow(x, 1), (3,)),
    ],
    ids=[
        "x*1",
        "1*x",
        "x+0",
        "0+x",
        "x-0",
        "x/1",
        "x*ones",
        "identity_reshape",
        "reshape_reshape_back",
        "identity_transpose",
        "transpose_transpose",
        "identity_convert",
        "identity_broadcast",
        "neg_neg",
        "x**1",
    ],
)
def test_simplify_removes_no_ops(f, shape):
    x = fnp.asarray(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    before = fnn.ClosedJaxpr(*passes.fold_constants(*_jaxpr_and_consts(f, x)))
    after = _run_pass(passes.simplify, before)
    assert after.jaxpr.eqns == [], str(after)
    assert after.jaxpr.outvars[0] is after.jaxpr.invars[0]
    _same_results(before, after, x)


def _jaxpr_and_consts(f, x):
    closed = fnn.make_jaxpr(f)(x)
    return closed.jaxpr, closed.consts


def test_simplify_keeps_broadcasting_and_non_neutral_ops():
    before = fnn.make_jaxpr(lambda x, s: (x * 1.0 + s, s * 1.0 + x, x * 2.0))(fnp.ones(3), 1.0)
    after = _run_pass(passes.simplify, before)
    # s*1.0 has the shape of s, not of the output: still the add broadcasts it, and x*2 stays
    assert _prims(after.jaxpr) == ["add", "add", "mul"]
    _same_results(before, after, fnp.arange(3.0), fnp.asarray(5.0))


def test_simplify_fuses_transposes():
    before = fnn.make_jaxpr(
        lambda x: fnn.lax.transpose(fnn.lax.transpose(x, (1, 2, 0)), (2, 0, 1)) * 2.0
    )(fnp.ones((2, 3, 4)))
    after = _run_pass(passes.simplify, before)
    assert _prims(after.jaxpr) == ["mul"]
    before = fnn.make_jaxpr(
        lambda x: fnn.lax.transpose(fnn.lax.transpose(x, (1, 2, 0)), (1, 2, 0))
    )(fnp.ones((2, 3, 4)))
    after = _run_pass(passes.simplify, before)
    assert _prims(after.jaxpr) == ["transpose"]
    _same_results(before, after, fnp.asarray(np.arange(24.0).reshape(2, 3, 4)))


# ----------------------------------------------------------------------------------------
# The whole pipeline


def test_make_jaxpr_optimize_shows_the_optimized_program():
    f = lambda x: fnp.sum(fnp.tanh(x) ** 2)  # noqa: E731
    raw = fnn.make_jaxpr(fnn.grad(f))(fnp.ones(3))
    opt = fnn.make_jaxpr(fnn.grad(f), optimize=True)(fnp.ones(3))
    assert len(opt.jaxpr.eqns) < len(raw.jaxpr.eqns)
    text = str(opt)
    assert "broadcast_in_dim" not in text and "reduce_sum" not in text  # seed and dead forward sum
    assert text.count("tanh") == 1
    _same_results(raw, opt, fnp.asarray([0.1, -0.3, 2.0]))
    # and jit runs exactly that program
    jf = fnn.jit(fnn.grad(f))
    assert str(jf.lower(fnp.ones(3)).jaxpr) == str(opt.jaxpr)


def test_optimized_second_derivative_is_small():
    raw = _second_derivative_program()
    opt = fnn.ClosedJaxpr(*passes.optimize(raw.jaxpr, raw.consts))
    assert len(opt.jaxpr.eqns) <= len(raw.jaxpr.eqns) // 2
    assert opt.consts == []
    _same_results(raw, opt, fnp.asarray([0.1, 0.5, -1.0]))


def test_passes_do_not_mutate_their_input():
    raw = _second_derivative_program()
    text = str(raw)
    n = len(raw.jaxpr.eqns)
    for p in (passes.dce, passes.cse, passes.fold_constants, passes.simplify, passes.optimize):
        p(raw.jaxpr, raw.consts)
    assert str(raw) == text and len(raw.jaxpr.eqns) == n


@pytest.mark.parametrize(
    "f",
    [
        lambda x: fnp.sum(fnp.sin(x) * fnp.sin(x) + x * 1.0 - 0.0),
        lambda x: fnp.sum(fnn.hessian(lambda y: fnp.sum(fnp.exp(y) * y**3))(x)),
        lambda x: fnp.max(fnp.transpose(fnp.transpose(x.reshape(1, 3)).reshape(3, 1)) * 2.0),
        lambda x: fnp.sum(fnn.vmap(fnn.grad(lambda y: fnp.tanh(y) ** 3))(x)),
    ],
)
def test_optimize_preserves_meaning_under_grad(f):
    fnn.config.update("enable_x64", True)
    x = fnp.asarray([0.3, -0.7, 1.1])
    raw = fnn.make_jaxpr(fnn.grad(f))(x)
    opt = fnn.make_jaxpr(fnn.grad(f), optimize=True)(x)
    assert len(opt.jaxpr.eqns) <= len(raw.jaxpr.eqns)
    _same_results(raw, opt, x)
    np.testing.assert_allclose(
        np.asarray(fnn.jit(fnn.grad(f))(x)), np.asarray(fnn.grad(f)(x)), rtol=1e-12
    )


@pytest.mark.parametrize(
    "strides,padding,dilation",
    [((1, 1), "SAME", (1, 1)), ((2, 2), "SAME", (1, 1)), ((2, 1), "VALID", (2, 2))],
)
def test_convolution_input_gradient_is_fused_and_exact(strides, padding, dilation):
    from fnn import lax

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 9, 8, 4))
    w = rng.standard_normal((3, 2, 4, 5))

    def f(x, w):
        y = lax.conv_general_dilated(x, w, strides, padding, rhs_dilation=dilation)
        return fnp.sum(fnp.tanh(y) ** 2)

    fnn.config.update("enable_x64", True)
    try:
        g = fnn.jit(fnn.grad(f, argnums=(0, 1)))
        eqns = g.lower(x, w).jaxpr.eqns
        names = [e.primitive.name for e in eqns]
        assert "col2im_dot" in names and "col2im" not in names
        # A stride-1 SAME gradient computes only the unpadded region: no slice after it.
        fused = next(e for e in eqns if e.primitive.name == "col2im_dot")
        cropped = strides == (1, 1) and dilation == (1, 1)
        assert (fused.params.get("crop") is not None) == cropped
        assert fused.out_binders[0].aval.shape == x.shape or not cropped
        got = g(x, w)
        expected = fnn.grad(f, argnums=(0, 1))(fnp.asarray(x), fnp.asarray(w))
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    finally:
        fnn.config.update("enable_x64", False)


def test_uniform_constant_operands_become_scalars():
    x = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)

    def relu_sq(x):
        return fnp.where(x > 0, x, fnp.zeros_like(x)) * fnp.full_like(x, 3.0)

    jaxpr = fnn.jit(relu_sq).lower(x).jaxpr
    sel = next(e for e in jaxpr.eqns if e.primitive.name == "select")
    mul = next(e for e in jaxpr.eqns if e.primitive.name == "mul")
    assert type(sel.inputs[2]) is Literal and sel.inputs[2].val == 0
    assert any(type(v) is Literal and v.val == 3 for v in mul.inputs)
    np.testing.assert_array_equal(np.asarray(fnn.jit(relu_sq)(x)), np.where(x > 0, x, 0) * 3)


def test_signed_zeros_are_not_merged_into_one_scalar():
    mixed = np.array([0.0, -0.0] * 512, np.float32)
    x = np.linspace(-1, 1, 1024).astype(np.float32)

    def f(x):
        return fnp.where(x > 0, x, fnp.asarray(mixed))

    got = np.asarray(fnn.jit(f)(x))
    assert got.tobytes() == np.where(x > 0, x, mixed).tobytes()


def test_scalings_fold_exactly():
    x = np.random.default_rng(2).standard_normal((50, 7)).astype(np.float32)

    def f(x):
        y = x * fnp.sin(x)
        return -(y + y), (x * 3.0) * 0.5, -(x * 0.1)

    jaxpr = fnn.jit(f).lower(x).jaxpr
    names = [e.primitive.name for e in jaxpr.eqns]
    assert "neg" not in names and "add" not in names  # -(y + y) is y * -2
    got = fnn.jit(f)(x)
    expected = f(fnp.asarray(x))
    for g, e in zip(got, expected, strict=True):
        assert np.asarray(g).tobytes() == np.asarray(e).tobytes()  # bit for bit


@pytest.mark.parametrize("strides,padding", [((2, 2), "SAME"), ((3, 2), "VALID")])
def test_transposed_convolution_col2im_is_fused_and_exact(strides, padding):
    from fnn import nn

    layer = nn.ConvTranspose(5, (4, 3), strides=strides, padding=padding)
    x = np.random.default_rng(4).standard_normal((3, 6, 7, 2))

    def f(p, x):
        return fnp.sum(fnp.tanh(layer.apply(p, x)) ** 2)

    fnn.config.update("enable_x64", True)
    try:
        params = layer.init(fnn.random.key(0), (1, 6, 7, 2))
        g = fnn.jit(fnn.value_and_grad(f, argnums=(0, 1)))
        names = [e.primitive.name for e in g.lower(params, x).jaxpr.eqns]
        assert "col2im_dot" in names and "col2im" not in names
        got = fnn.tree_util.tree_leaves(g(params, x))
        want = fnn.tree_util.tree_leaves(
            fnn.value_and_grad(f, argnums=(0, 1))(params, fnp.asarray(x))
        )
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    finally:
        fnn.config.update("enable_x64", False)


# ----------------------------------------------------------------------------------------
# Negations carried to where they are absorbed


def _sunk(f, *args):
    closed = fnn.make_jaxpr(f)(*args)
    return closed, fnn.ClosedJaxpr(passes.sink_negations(closed.jaxpr), closed.consts)


def test_negations_are_absorbed_by_adds_scalings_and_each_other():
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal((6, 5)).astype(np.float32) for _ in range(3))
    w = rng.standard_normal((5, 5)).astype(np.float32)

    def f(x, y, z, w):
        a = z + y * (-x)  # -> z - y * x
        b = 3.0 * (-(x @ w))  # -> (-3) * (x @ w)
        c = fnp.negative(-y) * z  # -> y * z
        d = fnp.sum(-x, axis=0) - (-z)  # -> z - sum(x)
        return a, b, c, d, -y  # a negation the program returns stays

    closed, sunk = _sunk(f, x, y, z, w)
    assert _prims(closed.jaxpr).count("neg") == 7
    assert _prims(sunk.jaxpr).count("neg") == 1
    for before, after in zip(_run(closed, x, y, z, w), _run(sunk, x, y, z, w), strict=True):
        np.testing.assert_array_equal(before, after)  # exact, not approximately equal


def test_a_negated_weight_is_not_carried_into_a_larger_product():
    x = np.ones((100, 4), np.float32)
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    closed, sunk = _sunk(lambda x, w: fnp.tanh(x @ (-w)), x, w)
    (neg,) = [e for e in sunk.jaxpr.eqns if e.primitive.name == "neg"]
    assert neg.out_binders[0].aval.shape == (4, 3)  # negates the 12 weights, not 300 outputs
    np.testing.assert_array_equal(_run(closed, x, w)[0], _run(sunk, x, w)[0])


def test_second_derivatives_of_tanh_keep_no_negation():
    # The PINN pattern: the reverse pass of tanh'' leaves a negation per layer.
    def u_xx(x):
        return fnn.grad(lambda x: fnp.sum(fnn.grad(lambda x: fnp.sum(fnp.tanh(x)))(x)))(x)

    x = np.linspace(-2, 2, 64, dtype=np.float32)
    closed = fnn.make_jaxpr(u_xx)(x)
    jaxpr, consts = passes.optimize(closed.jaxpr, closed.consts)
    assert "neg" not in _prims(jaxpr)
    expected = -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    got = _run(fnn.ClosedJaxpr(jaxpr, consts), x)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def _select_counts(f, *args):
    prims = _prims(fnn.make_jaxpr(f, optimize=True)(*args).jaxpr)
    return prims.count("select"), prims.count("and")


def test_nested_selects_of_one_literal_merge_into_one_over_and_ed_masks():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    x[0, :3] = [np.nan, -0.0, np.inf]  # copied, never computed on
    p, q = rng.random((6, 8)) < 0.5, rng.random((6, 8)) < 0.5

    def plain(p, q, x):
        return fnp.where(p, fnp.where(q, x, 1.5), 1.5)

    def through_reshape(p, q, x):
        return fnp.where(p, fnp.reshape(fnp.where(q, x, 0.0), (8, 6)), 0.0)

    def signed_zeros(p, q, x):  # -0.0 and +0.0 are different fills: no merge
        return fnp.where(p, fnp.where(q, x, -0.0), 0.0)

    def inner_used_twice(p, q, x):
        inner = fnp.where(q, x, 0.0)
        return fnp.where(p, inner, 0.0), inner

    p2 = np.ascontiguousarray(rng.random((8, 6)) < 0.5)
    cases = [
        (plain, (p, q, x), (1, 1), np.where(p & q, x, np.float32(1.5))),
        (through_reshape, (p2, q, x), (1, 1), np.where(p2, np.where(q, x, 0).reshape(8, 6), 0)),
        (signed_zeros, (p, q, x), (2, 0), np.where(p, np.where(q, x, -0.0), 0.0)),
        (inner_used_twice, (p, q, x), (2, 0), np.where(p & q, x, 0.0)),
    ]
    for f, args, counts, expected in cases:
        assert _select_counts(f, *args) == counts, f.__name__
        got = fnn.jit(f)(*args)
        got = got[0] if isinstance(got, tuple) else got
        assert np.asarray(got).astype(np.float32).tobytes() == expected.astype(np.float32).tobytes()


def _relu_pool_loss(x):
    r = fnp.where(x > 0, x, 0.0)
    n, h, w, c = x.shape
    y = fnp.max(fnp.reshape(r, (n, h // 2, 2, w // 2, 2, c)), axis=(2, 4))
    return fnp.sum(y * y)


def test_relu_then_max_pool_gradient_is_exact():
    # The max-pool's gradient is JAX's product by a float mask (a select would drop NaN,
    # see tests/nn/test_nan_propagation.py), so the ReLU's select has none to merge with.
    # Ties split the gradient, windows of ReLU zeros get none. Bit for bit what the
    # eager gradient gives.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 8, 8, 3)).astype(np.float32)
    x[0, :2, :2, 0] = -1.0  # four tied zeros after the ReLU: no gradient
    x[1, 0, 0, 1] = x[1, 0, 1, 1] = 2.0  # two tied positive maxima share 2 * 2.0
    x[1, 1, :2, 1] = -3.0
    grad = fnn.grad(_relu_pool_loss)
    prims = _prims(fnn.make_jaxpr(grad, optimize=True)(x).jaxpr)
    assert prims.count("select") == 2 and prims.count("and") == 0  # forward and backward ReLU
    eager, jitted = np.asarray(grad(fnp.asarray(x))), np.asarray(fnn.jit(grad)(x))
    assert eager.tobytes() == jitted.tobytes()
    assert np.all(eager[0, :2, :2, 0] == 0.0)
    assert eager[1, 0, 0, 1] == eager[1, 0, 1, 1] == 2.0
    windows = np.maximum(x, 0).reshape(4, 4, 2, 4, 2, 3)
    pooled = windows.max(axis=(2, 4), keepdims=True)
    at_max = (windows == pooled) & (windows > 0)
    ties = np.maximum(at_max.sum(axis=(2, 4), keepdims=True), 1)  # 1 where unused: no 0/0
    expected = np.where(at_max, 2 * pooled / ties, 0)
    np.testing.assert_allclose(eager, expected.reshape(x.shape), rtol=1e-6)
