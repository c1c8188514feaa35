"""Error messages: each names the operation or argument, what was given (shapes, dtypes)
and what was expected, eagerly and under transforms alike."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _message(fn, exc=Exception) -> str:
    with pytest.raises(exc) as e:
        fn()
    return str(e.value)


# ----------------------------------------------------------------------------------------
# grad's contract


def test_grad_of_non_scalar_output():
    def predict(x):
        return x * 2.0

    msg = _message(lambda: fnn.grad(predict)(fnp.ones(3)), TypeError)
    assert "scalar" in msg and "`predict`" in msg and "(3,)" in msg
    assert "jacrev" in msg or "vjp" in msg


def test_grad_of_pytree_output():
    msg = _message(lambda: fnn.grad(lambda x: (fnp.sum(x), fnp.sum(x)))(fnp.ones(3)), TypeError)
    assert "scalar" in msg and "(*, *)" in msg


def test_grad_of_non_float_output():
    def count(x):
        return fnp.argmax(x)

    msg = _message(lambda: fnn.grad(count)(fnp.ones(3)), TypeError)
    assert "float" in msg and "int32" in msg and "`count`" in msg


def test_grad_wrt_integer_input():
    msg = _message(lambda: fnn.grad(lambda x: fnp.sum(x * 1.0))(fnp.arange(3)), TypeError)
    assert "argument 0" in msg and "int32" in msg and "(3,)" in msg and "float" in msg


def test_grad_wrt_integer_leaf_of_a_pytree_names_the_leaf():
    params = {"w": fnp.ones(2), "steps": fnp.asarray(3)}
    msg = _message(lambda: fnn.grad(lambda p: fnp.sum(p["w"]))(params), TypeError)
    assert "argument 0['steps']" in msg and "int32" in msg


def test_grad_wrt_integer_second_argument():
    msg = _message(lambda: fnn.grad(lambda x, n: x * n, argnums=(0, 1))(1.0, 2), TypeError)
    assert "argument 1" in msg and "int32" in msg


def test_grad_argnums_out_of_range():
    msg = _message(lambda: fnn.grad(lambda x: x, argnums=2)(1.0), ValueError)
    assert "argnums=2" in msg and "1 positional" in msg


def test_jacobians_reject_integer_inputs():
    for jac in (fnn.jacfwd, fnn.jacrev):
        msg = _message(lambda jac=jac: jac(lambda x: x * 1.0)(fnp.arange(3)), TypeError)
        assert "int32" in msg and "argument 0" in msg


# ----------------------------------------------------------------------------------------
# Shape mismatches: eagerly, under jit, under grad


def _in_every_mode(f, *args):
    """The error raised by f eagerly, under jit and under vmap-free grad (all must raise)."""
    messages = []
    for mode in ("eager", "jit", "grad"):
        if mode == "eager":
            run = lambda: f(*args)  # noqa: E731
        elif mode == "jit":
            run = lambda: fnn.jit(f)(*args)  # noqa: E731
        else:
            run = lambda: fnn.grad(lambda a, *r: fnp.sum(f(a, *r)))(*args)  # noqa: E731
        messages.append(_message(run, TypeError))
    return messages


def test_binary_op_shape_mismatch():
    for msg in _in_every_mode(lambda a, b: a + b, fnp.ones((2, 3)), fnp.ones(4)):
        assert "add" in msg and "(2, 3)" in msg and "(4,)" in msg and "broadcast" in msg


def test_matmul_shape_mismatch():
    for msg in _in_every_mode(lambda a, b: a @ b, fnp.ones((2, 3)), fnp.ones((4, 5))):
        assert "matmul" in msg and "(2, 3)" in msg and "(4, 5)" in msg and "3 != 4" in msg


def test_dot_general_contracting_mismatch():
    def f(a, b):
        return fnn.lax.dot_general(a, b, (((1,), (0,)), ((), ())))

    for msg in _in_every_mode(f, fnp.ones((2, 3)), fnp.ones((4, 5))):
        assert "dot_general" in msg and "(3,)" in msg and "(4,)" in msg
        assert "(2, 3)" in msg and "(4, 5)" in msg


def test_dot_not_aligned():
    msg = _message(lambda: fnp.dot(fnp.ones((2, 3)), fnp.ones((2, 3))), TypeError)
    assert "dot" in msg and "(2, 3)" in msg and "3 != 2" in msg


def test_concatenate_mismatch():
    for msg in _in_every_mode(
        lambda a, b: fnp.concatenate([a, b]), fnp.ones((2, 3)), fnp.ones((2, 4))
    ):
        assert "concatenate" in msg and "(2, 3)" in msg and "(2, 4)" in msg and "axis 0" in msg
    msg = _message(lambda: fnp.concatenate([fnp.ones((2, 3)), fnp.ones(3)]), TypeError)
    assert "rank" in msg and "(2, 3)" in msg and "(3,)" in msg


def test_stack_mismatch():
    msg = _message(lambda: fnp.stack([fnp.ones(2), fnp.ones(3)]), TypeError)
    assert "stack" in msg and "(2,)" in msg and "(3,)" in msg


def test_reshape_size_mismatch():
    for msg in _in_every_mode(lambda a: fnp.reshape(a, (4, 2)), fnp.ones(6)):
        assert "reshape" in msg and "6" in msg and "(4, 2)" in msg
    msg = _message(lambda: fnp.ones(6).reshape(5, -1), TypeError)
    assert "size 6" in msg and "(5, -1)" in msg


def test_broadcast_to_mismatch():
    for msg in _in_every_mode(lambda a: fnp.broadcast_to(a, (2, 4)), fnp.ones(3)):
        assert "broadcast_to" in msg and "(3,)" in msg and "(2, 4)" in msg


def test_einsum_mismatches():
    msg = _message(lambda: fnp.einsum("ij,jk->ik", fnp.ones((2, 3)), fnp.ones((4, 5))), TypeError)
    assert "einsum" in msg and "'j'" in msg and "3" in msg and "4" in msg
    msg = _message(lambda: fnp.einsum("ij,jk->ik", fnp.ones((2, 3))), TypeError)
    assert "2 terms" in msg and "1 operand" in msg
    msg = _message(lambda: fnp.einsum("ij,jk->ik", fnp.ones((2, 3)), fnp.ones(3)), TypeError)
    assert "'jk'" in msg and "(3,)" in msg


def test_where_mismatch():
    msg = _message(lambda: fnp.where(fnp.ones(2) > 0, fnp.ones(3), 0.0), TypeError)
    assert "(2,)" in msg and "(3,)" in msg and "broadcast" in msg


def test_transpose_bad_permutation():
    msg = _message(lambda: fnp.transpose(fnp.ones((2, 3)), (0, 0)), TypeError)
    assert "(0, 0)" in msg and "permutation" in msg and "(2, 3)" in msg


# ----------------------------------------------------------------------------------------
# Bad axes


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda x: fnp.sum(x, axis=5), "sum"),
        (lambda x: fnp.mean(x, axis=-3), "mean"),
        (lambda x: fnp.max(x, axis=2), "max"),
    ],
    ids=["sum", "mean", "max"],
)
def test_reduction_axis_out_of_bounds(fn, name):
    msg = _message(lambda: fn(fnp.ones((2, 3))), TypeError)
    assert name in msg and "out of bounds" in msg and "rank 2" in msg and "-2 to 1" in msg
    msg = _message(lambda: fnn.jit(fn)(fnp.ones((2, 3))), TypeError)
    assert "out of bounds" in msg


def test_squeeze_non_unit_axis():
    msg = _message(lambda: fnp.squeeze(fnp.ones((2, 3)), axis=0), TypeError)
    assert "squeeze" in msg and "(2, 3)" in msg and "size is not 1" in msg


# ----------------------------------------------------------------------------------------
# Leaked tracers


def _leaky(store):
    def f(x):
        store["t"] = x * 2.0
        return fnp.sum(x**2)

    return f


@pytest.mark.parametrize(
    "transform",
    [fnn.grad, fnn.jit, fnn.vmap, lambda f: lambda x: fnn.jvp(f, (x,), (x,))],
    ids=["grad", "jit", "vmap", "jvp"],
)
@pytest.mark.parametrize(
    "use",
    [
        lambda t: t + 1.0,
        lambda t: fnp.sin(t),
        lambda t: t[0],
        lambda t: fnn.jit(lambda a: a * t)(fnp.ones(3)),
        lambda t: fnn.grad(lambda a: fnp.sum(a * t))(fnp.ones(3)),
        lambda t: fnn.vmap(lambda a: a * t)(fnp.ones(3)),
    ],
    ids=["add", "sin", "index", "in_jit", "in_grad", "in_vmap"],
)
def test_leaked_tracer_is_detected(transform, use):
    store = {}
    arg = fnp.ones((2, 3)) if transform is fnn.vmap else fnp.ones(3)
    transform(_leaky(store))(arg)
    msg = _message(lambda: use(store["t"]), fnn.UnexpectedTracerError)
    assert "leaked" in msg and "float32" in msg and "Return the value" in msg


def test_leaked_tracer_names_the_jitted_function():
    store = {}

    def model(x):
        store["h"] = fnp.tanh(x)
        return x

    fnn.jit(model)(fnp.ones(4))
    msg = _message(lambda: store["h"] * 2.0, fnn.UnexpectedTracerError)
    assert "`model`" in msg and "(4,)" in msg


# ----------------------------------------------------------------------------------------
# Mismatched pytrees and tangents/cotangents


def test_tree_map_mismatch_prints_both_structures():
    msg = _message(lambda: fnn.tree_util.tree_map(lambda a, b: a, {"a": 1}, {"b": 1}), ValueError)
    assert "{'a': *}" in msg and "{'b': *}" in msg


def test_vjp_cotangent_structure_mismatch():
    _, f_vjp = fnn.vjp(lambda x: (x, x), fnp.ones(2))
    msg = _message(lambda: f_vjp([fnp.ones(2), fnp.ones(2)]), ValueError)
    assert "[*, *]" in msg and "(*, *)" in msg and "cotangent" in msg


def test_vjp_cotangent_shape_and_dtype_mismatch():
    _, f_vjp = fnn.vjp(lambda x: {"u": x, "v": [x * 2.0]}, fnp.ones(2))
    msg = _message(lambda: f_vjp({"u": fnp.ones(2), "v": [fnp.ones(5)]}), ValueError)
    assert "output['v'][0]" in msg and "(5,)" in msg and "(2,)" in msg
    # used to be accepted silently
    msg = _message(
        lambda: f_vjp({"u": fnp.ones(2, dtype=fnp.int32), "v": [fnp.ones(2)]}), TypeError
    )
    assert "output['u']" in msg and "int32" in msg and "float32" in msg


def test_vjp_accepts_python_scalar_cotangent():
    _, f_vjp = fnn.vjp(lambda x: x * 3.0, fnp.asarray(2.0))
    assert float(f_vjp(1.0)[0]) == 3.0


def test_jvp_tangent_mismatches():
    msg = _message(lambda: fnn.jvp(fnp.sin, (fnp.ones(3),), (fnp.ones(4),)), ValueError)
    assert "tangents[0]" in msg and "(4,)" in msg and "(3,)" in msg
    msg = _message(
        lambda: fnn.jvp(lambda d: d["a"], ({"a": fnp.ones(2)},), ({"a": fnp.ones(3)},)), ValueError
    )
    assert "tangents[0]['a']" in msg
    msg = _message(
        lambda: fnn.jvp(fnp.sin, (fnp.ones(3),), (fnp.ones(3, dtype=fnp.int32),)), TypeError
    )
    assert "int32" in msg and "float32" in msg
    msg = _message(
        lambda: fnn.jvp(lambda a, b: a, (fnp.ones(3), fnp.ones(3)), (fnp.ones(3),)), ValueError
    )
    assert "(*, *)" in msg and "(*,)" in msg
    msg = _message(lambda: fnn.jvp(fnp.sin, fnp.ones(3), fnp.ones(3)), TypeError)
    assert "tuples or lists" in msg


def test_linearize_tangent_shape_mismatch():
    _, f_jvp = fnn.linearize(fnp.sin, fnp.ones(3))
    msg = _message(lambda: f_jvp(fnp.ones(4)), ValueError)
    assert "(4,)" in msg and "(3,)" in msg and "linearize" in msg


def test_vmap_size_mismatch_names_arguments():
    msg = _message(lambda: fnn.vmap(lambda a, b: a + b)(fnp.ones(3), fnp.ones((4, 2))), ValueError)
    assert "argument 0 of shape (3,) has size 3" in msg
    assert "argument 1 of shape (4, 2) has size 4" in msg


# ----------------------------------------------------------------------------------------
# Other input errors


def test_non_numeric_inputs():
    msg = _message(lambda: fnp.ones(2) + "abc", TypeError)
    assert "str" in msg
    msg = _message(lambda: fnn.jit(lambda x: x)(np.array(["a"])), TypeError)
    assert "static_argnums" in msg


def test_boolean_mask_under_jit():
    msg = _message(lambda: fnn.jit(lambda x: x[x > 0])(fnp.ones(3)), TypeError)
    assert "boolean mask" in msg and "(3,)" in msg and "where" in msg


def test_has_aux_needs_a_pair():
    msg = _message(lambda: fnn.grad(lambda x: x, has_aux=True)(1.0), TypeError)
    assert "pair" in msg


def test_errors_do_not_chain_numpy_internals():
    # eager failures are re-explained by the primitive's shape rule, without the
    # numpy traceback attached as the "during handling" context
    with pytest.raises(TypeError) as e:
        fnp.ones((2, 3)) + fnp.ones(4)
    assert e.value.__suppress_context__ or e.value.__context__ is None


_LEAKED = None


def test_tracer_stored_in_a_global_inside_jit_and_grad():
    def f(x):
        global _LEAKED
        _LEAKED = fnp.sin(x)
        return fnp.sum(x)

    for transform in (fnn.jit, fnn.grad):
        transform(f)(fnp.ones(2))
        with pytest.raises(
            fnn.UnexpectedTracerError, match=r"leaked.*shape \(2,\)|shape \(2,\).*leaked"
        ):
            _LEAKED + 1.0
        with pytest.raises(fnn.UnexpectedTracerError):
            fnn.jit(lambda y: y * _LEAKED)(fnp.ones(2))


@pytest.mark.parametrize(
    "value, words",
    [
        ("abc", "got str 'abc'"),
        (b"x", "got bytes"),
        (["a", "b"], "numpy dtype <U1"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
    ],
)
def test_asarray_refuses_strings_and_dates(value, words):
    with pytest.raises(fnn.FnnTypeError, match="asarray: expected") as info:
        fnp.asarray(value)
    assert words in str(info.value)
