"""jit: agreement with eager code, the compile cache, static arguments, composition
with other transforms, concretization errors, trace-time side effects, buffer reuse."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)).astype(np.float32)
Y = rng.normal(size=(4, 3)).astype(np.float32)
W = rng.normal(size=(3, 5)).astype(np.float32)


_FUNS = {
    "elementwise": lambda x, y: fnp.sin(x) * fnp.exp(-(y**2)) + fnp.tanh(x - y) / (1.0 + x**2),
    "matmul_chain": lambda x, y: fnp.tanh(x @ fnp.asarray(W)) @ fnp.asarray(W).T + y,
    "reductions": lambda x, y: fnp.stack([fnp.sum(x), fnp.mean(y), fnp.max(x * y), fnp.min(x)]),
    "axis_reductions": lambda x, y: (
        fnp.sum(x, axis=0) + fnp.max(y, axis=0) - fnp.mean(x * y, axis=0)
    ),
    "softmax": lambda x, y: (
        fnp.exp(x - fnp.max(x, axis=1, keepdims=True))
        / fnp.sum(fnp.exp(x - fnp.max(x, axis=1, keepdims=True)), axis=1, keepdims=True)
    ),
    "shapes": lambda x, y: fnp.concatenate([x.T, y.T], axis=1).reshape(-1)[::2],
    "indexing": lambda x, y: x[1:, ::-1] * y[:-1, 0:1] + x[np.array([0, 0, 3])][:3],
    "where": lambda x, y: fnp.where(x > y, x, y * 2.0),
    "at": lambda x, y: x.at[0].set(y[1]).at[np.array([1, 1]), 2].add(1.0),
    "broadcasting": lambda x, y: x[:, None, :] * y[None, :, :],
    "integer": lambda x, y: (fnp.argmax(x, axis=1) * 2 + 1) % 3,
    "comparisons": lambda x, y: (x > 0) & (y < 0),
    "einsum": lambda x, y: fnp.einsum("ij,kj->ik", x, y),
    "cumsum": lambda x, y: fnp.cumsum(x, axis=0) * y,
    "python_scalars": lambda x, y: x * 2 + 1.5 - y / 3,
    "pytree_out": lambda x, y: {"a": x + y, "b": [x * y, (fnp.sum(x),)]},
    "constant_only": lambda x, y: fnp.arange(5.0) * 2.0,
    "identity": lambda x, y: x,
    "returns_input_twice": lambda x, y: (x, x, y),
    "same_op_twice": lambda x, y: fnp.sin(x) + fnp.sin(x),
}


@pytest.mark.parametrize("name", list(_FUNS))
def test_jit_equals_eager(name):
    f = _FUNS[name]
    eager = f(fnp.asarray(X), fnp.asarray(Y))
    jf = fnn.jit(f)
    for _ in range(2):  # the second call runs the cached program
        out = jf(X, Y)
        e_leaves, o_leaves = fnn.tree_util.tree_leaves(eager), fnn.tree_util.tree_leaves(out)
        assert fnn.tree_util.tree_structure(out) == fnn.tree_util.tree_structure(eager)
        for e, o in zip(e_leaves, o_leaves, strict=True):
            assert type(o) is fnn.Array
            assert o.dtype == e.dtype and o.shape == e.shape
            np.testing.assert_allclose(_np(o), _np(e), rtol=1e-5, atol=1e-6)
    assert jf.trace_count == 1


@pytest.mark.parametrize("name", list(_FUNS))
def test_jit_without_optimization_equals_eager(name):
    f = _FUNS[name]
    eager = fnn.tree_util.tree_leaves(f(fnp.asarray(X), fnp.asarray(Y)))
    out = fnn.tree_util.tree_leaves(fnn.jit(f, optimize=False)(X, Y))
    for e, o in zip(eager, out, strict=True):
        np.testing.assert_allclose(_np(o), _np(e), rtol=1e-5, atol=1e-6)


def test_jit_float64():
    fnn.config.update("enable_x64", True)
    f = fnn.jit(lambda x: fnp.sin(x) * 2.0)
    out = f(np.arange(3.0))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(_np(out), np.sin(np.arange(3.0)) * 2.0)


# ----------------------------------------------------------------------------------------
# The cache


def test_second_call_with_same_shapes_does_not_retrace():
    jf = fnn.jit(lambda x: fnp.sum(x**2))
    jf(fnp.ones(3))
    jf(fnp.arange(3.0))
    jf(np.zeros(3, np.float32))
    assert jf.trace_count == 1


def test_new_shape_dtype_or_structure_retraces():
    jf = fnn.jit(lambda x: fnn.tree_util.tree_map(lambda v: v * 2, x))
    jf(fnp.ones(3))
    jf(fnp.ones(4))
    assert jf.trace_count == 2
    jf(fnp.ones(4, dtype=fnp.int32))
    assert jf.trace_count == 3
    jf([fnp.ones(4)])
    assert jf.trace_count == 4
    jf((fnp.ones(4),))
    assert jf.trace_count == 5
    jf(fnp.ones(3))
    assert jf.trace_count == 5


def test_python_scalars_are_traced_not_static():
    jf = fnn.jit(lambda x, s: x * s)
    np.testing.assert_allclose(_np(jf(fnp.ones(2), 2.0)), [2.0, 2.0])
    np.testing.assert_allclose(_np(jf(fnp.ones(2), 3.0)), [3.0, 3.0])
    assert jf.trace_count == 1


def test_static_argnums_and_new_static_value_retraces():
    calls = []

    def f(x, n):
        calls.append(n)
        return x**n

    jf = fnn.jit(f, static_argnums=1)
    np.testing.assert_allclose(_np(jf(fnp.asarray(2.0), 3)), 8.0)
    np.testing.assert_allclose(_np(jf(fnp.asarray(3.0), 3)), 27.0)
    assert jf.trace_count == 1
    np.testing.assert_allclose(_np(jf(fnp.asarray(2.0), 2)), 4.0)
    assert jf.trace_count == 2 and calls == [3, 2]


def test_static_argnums_negative_and_tuple():
    jf = fnn.jit(lambda x, mode, k: x * k if mode == "scale" else x + k, static_argnums=(1, -1))
    assert float(jf(fnp.asarray(2.0), "scale", 3)) == 6.0
    assert float(jf(fnp.asarray(2.0), "shift", 3)) == 5.0
    assert jf.trace_count == 2


def test_static_argnames():
    def f(x, *, activation="tanh", scale=1.0):
        act = {"tanh": fnp.tanh, "relu": lambda v: fnp.maximum(v, 0.0)}[activation]
        return act(x) * scale

    jf = fnn.jit(f, static_argnames="activation")
    x = fnp.asarray([-1.0, 1.0])
    np.testing.assert_allclose(_np(jf(x, activation="relu")), [0.0, 1.0])
    np.testing.assert_allclose(
        _np(jf(x, activation="tanh", scale=2.0)), 2 * np.tanh([-1.0, 1.0]), rtol=1e-6
    )
    np.testing.assert_allclose(
        _np(jf(x, activation="tanh", scale=3.0)), 3 * np.tanh([-1.0, 1.0]), rtol=1e-6
    )
    assert jf.trace_count == 2  # relu, then tanh (scale is a traced keyword argument)
    jf2 = fnn.jit(f, static_argnames=("activation",))
    jf2(x, activation="relu")
    jf2(x, activation="relu")
    assert jf2.trace_count == 1


def test_unhashable_static_arg_is_a_clear_error():
    jf = fnn.jit(lambda x, sizes: x * len(sizes), static_argnums=1)
    with pytest.raises(TypeError) as e:
        jf(fnp.ones(2), [1, 2])
    msg = str(e.value)
    assert "static argument 1" in msg and "hashable" in msg and "list" in msg and "tuple" in msg
    assert float(jf(fnp.ones(2), (1, 2))[0]) == 2.0
    jk = fnn.jit(lambda x, opts=None: x, static_argnames="opts")
    with pytest.raises(TypeError, match="static argument 'opts'.*dict"):
        jk(fnp.ones(2), opts={"a": 1})


def test_non_array_argument_suggests_static():
    # a string used to become a unicode array and be traced
    with pytest.raises(TypeError, match="str.*static_argnums"):
        fnn.jit(lambda x, s: x)(fnp.ones(2), "hello")
    with pytest.raises(TypeError, match="static_argnums"):
        fnn.jit(lambda x, s: x)(fnp.ones(2), object())


def test_decorator_forms():
    @fnn.jit
    def f(x):
        return x * 2.0

    @fnn.jit(static_argnums=1)
    def g(x, n):
        return x**n

    @fnn.jit(static_argnames=("n",))
    def h(x, n=2):
        return x**n

    assert float(f(3.0)) == 6.0
    assert float(g(2.0, 3)) == 8.0
    assert float(h(2.0, n=3)) == 8.0
    assert f.__name__ == "f" and g.__name__ == "g"


def test_jit_of_method():
    class Model:
        scale = 3.0

        @fnn.jit
        def apply(self, x):
            return x * 2.0

        @fnn.jit(static_argnums=0)
        def apply_static(self, x):
            return x * self.scale

    # as in JAX, `self` is an argument like any other: static, or an error naming it
    assert float(Model().apply_static(fnp.asarray(2.0))) == 6.0
    with pytest.raises(TypeError, match="Model.*static_argnums"):
        Model().apply(fnp.asarray(2.0))


def test_nested_jit():
    inner = fnn.jit(lambda x: fnp.sin(x) * 2.0)

    @fnn.jit
    def outer(x):
        return inner(x) + inner(x * 2.0)

    x = fnp.asarray([0.1, 0.2])
    np.testing.assert_allclose(
        _np(outer(x)), 2 * np.sin([0.1, 0.2]) + 2 * np.sin([0.2, 0.4]), rtol=1e-6
    )
    assert outer.trace_count == 1
    np.testing.assert_allclose(_np(inner(x)), 2 * np.sin([0.1, 0.2]), rtol=1e-6)


def test_closure_constants_are_captured():
    c = fnp.asarray([1.0, 2.0, 3.0])
    jf = fnn.jit(lambda x: x * c + fnp.sum(c))
    np.testing.assert_allclose(_np(jf(fnp.ones(3))), [7.0, 8.0, 9.0])


def test_kwargs_are_traced_by_default():
    jf = fnn.jit(lambda x, *, b: x + b)
    assert float(jf(1.0, b=2.0)) == 3.0
    assert float(jf(1.0, b=5.0)) == 6.0
    assert jf.trace_count == 1


# ----------------------------------------------------------------------------------------
# Composition with other transforms


def _loss(w, x):
    return fnp.sum(fnp.tanh(x @ w) ** 2)


def test_jit_of_grad_and_grad_of_jit():
    w, x = fnp.asarray(W), fnp.asarray(X)
    expected = fnn.grad(_loss)(w, x)
    np.testing.assert_allclose(_np(fnn.jit(fnn.grad(_loss))(w, x)), _np(expected), rtol=1e-5)
    np.testing.assert_allclose(_np(fnn.grad(fnn.jit(_loss))(w, x)), _np(expected), rtol=1e-5)
    np.testing.assert_allclose(
        _np(fnn.jit(fnn.grad(fnn.jit(_loss)))(w, x)), _np(expected), rtol=1e-5
    )
    g2 = fnn.grad(lambda x: fnp.sum(fnn.jit(fnn.grad(fnp.sin))(x)))
    assert float(g2(0.3)) == pytest.approx(-np.sin(0.3), rel=1e-6)


def test_jit_of_vmap_and_vmap_of_jit():
    f = lambda w, x: fnp.tanh(x @ w)  # noqa: E731
    expected = np.tanh(X @ W)
    np.testing.assert_allclose(
        _np(fnn.jit(fnn.vmap(f, in_axes=(None, 0)))(W, X)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        _np(fnn.vmap(fnn.jit(f), in_axes=(None, 0))(W, X)), expected, rtol=1e-5
    )


def test_jit_of_value_and_grad_training_step():
    def step(w, x):
        v, g = fnn.value_and_grad(_loss)(w, x)
        return w - 0.1 * g, v

    w = fnp.asarray(W)
    jstep = fnn.jit(step)
    for _ in range(3):
        w_e, v_e = step(w, X)
        w_j, v_j = jstep(w, X)
        np.testing.assert_allclose(_np(w_j), _np(w_e), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(float(v_j), float(v_e), rtol=1e-5)
        w = w_j
    assert jstep.trace_count == 1


def test_jit_of_hessian():
    f = lambda x: fnp.sum(fnp.sin(x) * x**2)  # noqa: E731
    x = fnp.asarray([0.3, -0.4])
    np.testing.assert_allclose(_np(fnn.jit(fnn.hessian(f))(x)), _np(fnn.hessian(f)(x)), rtol=1e-5)


# ----------------------------------------------------------------------------------------
# Concretization errors and side effects


def _branchy(x):
    if x > 0:
        return x
    return -x


def _loopy(x):
    while x < 10.0:
        x = x * 2.0
    return x


@pytest.mark.parametrize(
    "fun, what, arg",
    [
        (_branchy, "bool()", fnp.ones((2, 3))),
        (_loopy, "bool()", fnp.asarray(1.0)),
        (lambda x: x * int(x), "int()", fnp.ones(4)),
        (lambda x: x * float(x), "float()", fnp.ones(4)),
        (lambda x: [1, 2, 3][x], "index", fnp.asarray(1)),
        (lambda x: np.asarray(x), "numpy.asarray()", fnp.ones(2)),
    ],
    ids=["if", "while", "int", "float", "index", "np.asarray"],
)
def test_concretization_error_message(fun, what, arg):
    with pytest.raises(fnn.ConcretizationTypeError) as e:
        fnn.jit(fun)(arg)
    msg = str(e.value)
    assert what in msg
    assert str(tuple(arg.shape)) in msg
    assert "fnn.lax.cond" in msg and "fnn.lax.while_loop" in msg and "static_argnums" in msg
    name = getattr(fun, "__name__", "")
    assert f"`{name}`" in msg


def test_concretization_error_names_the_function_through_grad_and_vmap():
    # grad/jvp levels carry no name: the message names the enclosing jit's or vmap's function
    cases = [
        (fnn.jit(fnn.grad(_branchy)), 1.0),
        (fnn.jit(fnn.hessian(_branchy)), 1.0),
        (fnn.vmap(_branchy), fnp.ones(2)),
        (fnn.jit(fnn.vmap(fnn.grad(_branchy))), fnp.ones(2)),
    ]
    for t, arg in cases:
        with pytest.raises(fnn.ConcretizationTypeError, match="`_branchy`"):
            t(arg)


def test_concretization_error_is_a_type_error():
    assert issubclass(fnn.ConcretizationTypeError, TypeError)


def test_static_argument_fixes_the_branch():
    f = fnn.jit(lambda x, flag: x if flag else -x, static_argnums=1)
    assert float(f(2.0, True)) == 2.0 and float(f(2.0, False)) == -2.0


def test_shape_is_static_under_jit():
    # shapes are known while tracing, so Python may branch on them
    f = fnn.jit(lambda x: x.sum() if x.shape[0] > 2 else x.prod())
    assert float(f(fnp.full(3, 2.0))) == 6.0
    assert float(f(fnp.full(2, 2.0))) == 4.0


def test_print_happens_at_trace_time_only(capsys):
    @fnn.jit
    def f(x):
        print("tracing f with", x)
        return x + 1.0

    f(fnp.ones(3))
    f(fnp.ones(3) * 2.0)
    out = capsys.readouterr().out
    assert out.count("tracing f") == 1
    assert "Traced<f32[3]>" in out
    f(fnp.ones(4))
    assert capsys.readouterr().out.count("tracing f") == 1


# ----------------------------------------------------------------------------------------
# Buffer reuse and inputs


def test_buffer_reuse_does_not_corrupt_results():
    # Intermediates die and their buffers get reused by later ufuncs: every value that is
    # still needed afterwards must survive.
    def f(x, y):
        a = fnp.exp(x)  # owned temp
        b = a * 2.0  # may reuse a? no: a is used again below
        c = fnp.sin(b)  # may reuse b
        d = c + a  # last use of a and c
        e = d * d  # same buffer twice
        t = e.T  # a view of e
        g = fnp.tanh(e)  # e's last direct use, but its view t is still alive
        return g + t.T, b, fnp.sum(y * y)

    x, y = fnp.asarray(X), fnp.asarray(Y)
    eager = f(x, y)
    jf = fnn.jit(f)
    src = jf.lower(x, y).fn.source
    assert "out=" in src  # buffer reuse does happen in this program
    for _ in range(3):
        out = jf(x, y)
        for e, o in zip(eager, out, strict=True):
            np.testing.assert_allclose(_np(o), _np(e), rtol=1e-6)


def test_user_inputs_are_never_modified():
    x = X.copy()
    y = Y.copy()

    def f(x, y):
        return fnp.exp(x) + y, x * 2.0 + 1.0, -y

    jf = fnn.jit(f)
    src = jf.lower(x, y).fn.source
    # temporaries are reused, the arguments (a1, a2) never receive an output
    assert "out=t" in src and "out=a" not in src
    for _ in range(2):
        jf(x, y)
        jf(fnp.asarray(x), y)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)
    assert x.flags.writeable and y.flags.writeable


def test_outputs_are_independent_and_immutable():
    jf = fnn.jit(lambda x: (x * 2.0, x * 2.0 + 0.0))
    a, b = jf(fnp.ones(3))
    assert not np.asarray(a).flags.writeable
    c, _ = jf(fnp.ones(3))
    # a later call must not write into the buffers of earlier results
    jf(fnp.full(3, 5.0))
    np.testing.assert_array_equal(_np(a), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(_np(c), [2.0, 2.0, 2.0])


def test_jit_output_never_aliases_a_numpy_input():
    a = np.ones(3, np.float32)
    for f in (lambda x: x, lambda x: x.reshape(3, 1), lambda x: (x, x * 1.0)):
        out = fnn.jit(f)(a)
        for o in fnn.tree_util.tree_leaves(out):
            assert not np.shares_memory(_np(o), a)
    assert a.flags.writeable


def test_lower_exposes_the_program():
    jf = fnn.jit(lambda x: fnp.sin(x) * 1.0 + 0.0)
    compiled = jf.lower(fnp.ones(3))
    assert "np.sin" in compiled.fn.source
    assert len(compiled.jaxpr.eqns) == 1  # x*1 and x+0 removed
    assert len(compiled.raw_jaxpr.eqns) == 3
