"""jaxprs: make_jaxpr's printed form (typed binders, one equation a line, parameters),
and eval_jaxpr reproducing the function, eagerly and under transforms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.core import ShapedArray
from fnn.jaxpr import Literal, Var, eval_jaxpr, pp_jaxpr, trace_to_jaxpr
from fnn.tree_util import tree_leaves


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


# ----------------------------------------------------------------------------------------
# Printing


def test_pretty_print_exact():
    def f(x, y):
        return fnp.sum(fnp.sin(x) * y, axis=0)

    text = str(fnn.make_jaxpr(f)(fnp.ones((2, 3)), fnp.ones(3)))
    assert text == (
        "{ lambda ; a:f32[2,3] b:f32[3]. let\n"
        "    c:f32[2,3] = sin a\n"
        "    d:f32[2,3] = mul c b\n"
        "    e:f32[3] = reduce_sum[axes=(0,)] d\n"
        "  in (e) }"
    )


def test_one_equation_per_line_with_typed_binders():
    def f(x):
        h = fnp.tanh(x @ fnp.ones((3, 4)))
        return fnp.max(h, axis=1), h.astype(fnp.int32), h > 0.0

    closed = fnn.make_jaxpr(f)(fnp.ones((2, 3)))
    lines = str(closed).splitlines()
    assert lines[0].startswith("{ lambda ") and lines[0].endswith(". let")
    assert lines[-1].startswith("  in (") and lines[-1].endswith(") }")
    body = lines[1:-1]
    assert len(body) == len(closed.jaxpr.eqns)
    for line, eqn in zip(body, closed.jaxpr.eqns, strict=True):
        assert f" = {eqn.primitive.name}" in line
    text = str(closed)
    # dtypes and shapes of every kind of value
    for piece in ("f32[2,3]", "f32[3,4]", "f32[2,4]", "f32[2]", "i32[2,4]", "bool[2,4]"):
        assert piece in text, piece


def test_parameters_are_shown():
    def f(x):
        y = fnn.lax.transpose(x, (1, 0))
        return fnp.sum(y.reshape(6), axis=0), x.astype(fnp.int32), x**3

    text = str(fnn.make_jaxpr(f)(fnp.ones((2, 3))))
    assert "transpose[permutation=(1, 0)]" in text
    assert "reshape[new_sizes=(6,)]" in text
    assert "reduce_sum[axes=(0,)]" in text
    assert "convert_element_type[new_dtype=int32]" in text
    assert "integer_pow[y=3]" in text


def test_constants_and_literals():
    c = fnp.arange(3.0)
    closed = fnn.make_jaxpr(lambda x: x * c + 2.5)(fnp.ones(3))
    text = str(closed)
    # captured arrays are constvars before the ';', scalars are written inline
    assert text.startswith("{ lambda a:f32[3]; b:f32[3]. let")
    assert "add c 2.5" in text or "add" in text and "2.5" in text
    assert len(closed.consts) == 1 and _np(closed.consts[0]).tolist() == [0.0, 1.0, 2.0]
    lits = [x for e in closed.jaxpr.eqns for x in e.inputs if type(x) is Literal]
    assert [float(x.val) for x in lits] == [2.5]


def test_outputs_that_are_inputs_or_literals():
    assert str(fnn.make_jaxpr(lambda x: x)(1.0)) == "{ lambda ; a:f32[]. let\n  in (a) }"
    assert str(fnn.make_jaxpr(lambda x: 2.0)(1.0)) == "{ lambda ; a:f32[]. let\n  in (2.0) }"


def test_pytree_arguments_are_flattened():
    closed = fnn.make_jaxpr(lambda d: d["a"] @ d["b"])(
        {"a": fnp.ones((2, 3)), "b": fnp.ones((3, 4))}
    )
    assert [str(a) for a in closed.in_avals] == ["f32[2,3]", "f32[3,4]"]
    assert [str(a) for a in closed.out_avals] == ["f32[2,4]"]
    assert "dot_general" in str(closed)


def test_static_argnums_in_make_jaxpr():
    closed = fnn.make_jaxpr(lambda x, n: x**n, static_argnums=1)(fnp.ones(3), 3)
    assert "integer_pow[y=3]" in str(closed)
    assert len(closed.in_avals) == 1


def test_x64_types_print_as_64_bit():
    fnn.config.update("enable_x64", True)
    text = str(fnn.make_jaxpr(lambda x, i: x * 2.0 + i)(fnp.ones(2), fnp.arange(2)))
    assert "f64[2]" in text and "i64[2]" in text


def test_names_go_past_z():
    def f(x):
        for _ in range(30):
            x = fnp.sin(x)
        return x

    text = str(fnn.make_jaxpr(f)(1.0))
    assert " aa:f32[] = sin z" in text and "in (ae) }" in text


def test_make_jaxpr_of_grad_shows_the_backward_program():
    text = str(fnn.make_jaxpr(fnn.grad(lambda x: fnp.sum(x**3)))(fnp.ones(2)))
    assert "integer_pow[y=2]" in text and "mul 3.0" in text


def test_repr_of_vars_and_literals():
    v = Var(ShapedArray((2,), np.float32))
    assert repr(v) == "Var(f32[2])"
    assert repr(Literal(np.float32(2.0))).startswith("Literal(array(2.")


# ----------------------------------------------------------------------------------------
# Evaluation


_FUNS = [
    lambda x: fnp.sin(x) * 2.0 + x**2,
    lambda x: fnp.sum(fnp.tanh(x) @ fnp.ones((3, 2)), axis=0),
    lambda x: (x.T, fnp.max(x), fnp.argmax(x, axis=1)),
    lambda x: fnp.concatenate([x, x[::-1] * 3.0], axis=0)[1:],
    lambda x: fnp.where(x > 0.5, x, -x).reshape(-1),
    lambda x: x.at[0, 1].add(5.0),
    lambda x: {"mean": fnp.mean(x, axis=1), "cum": fnp.cumsum(x, axis=0)},
    fnn.grad(lambda x: fnp.sum(fnp.exp(x) * x)),
    fnn.vmap(lambda r: fnp.dot(r, r)),
]


@pytest.mark.parametrize("f", _FUNS)
def test_eval_jaxpr_equals_f(f):
    x = fnp.asarray(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    closed = fnn.make_jaxpr(f)(x)
    expected = tree_leaves(f(x))
    got = eval_jaxpr(closed.jaxpr, closed.consts, x)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(_np(g), _np(e), rtol=1e-6, atol=1e-7)
    # ClosedJaxpr is callable too, and the optimized program agrees
    for g, e in zip(closed(x), expected, strict=True):
        np.testing.assert_allclose(_np(g), _np(e), rtol=1e-6, atol=1e-7)
    opt = fnn.make_jaxpr(f, optimize=True)(x)
    for g, e in zip(opt(x), expected, strict=True):
        np.testing.assert_allclose(_np(g), _np(e), rtol=1e-6, atol=1e-7)


def test_eval_jaxpr_runs_under_transforms():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)  # noqa: E731
    closed = fnn.make_jaxpr(f)(fnp.ones(3))
    run = lambda x: closed(x)[0]  # noqa: E731
    x = fnp.asarray([0.1, 0.2, 0.3])
    np.testing.assert_allclose(_np(fnn.grad(run)(x)), _np(fnn.grad(f)(x)), rtol=1e-6)
    xs = fnp.asarray(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(_np(fnn.vmap(run)(xs)), _np(fnn.vmap(f)(xs)), rtol=1e-6)
    np.testing.assert_allclose(float(fnn.jit(run)(x)), float(f(x)), rtol=1e-6)
    np.testing.assert_allclose(
        float(fnn.hessian(run)(x)[0, 0]), float(fnn.hessian(f)(x)[0, 0]), rtol=1e-5
    )


def test_eval_jaxpr_argument_count():
    closed = fnn.make_jaxpr(lambda x, y: x + y)(1.0, 2.0)
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        closed(1.0)


def test_trace_to_jaxpr_directly():
    jaxpr, consts, out_avals = trace_to_jaxpr(lambda x: [x * 2.0], [ShapedArray((3,), np.float32)])
    assert consts == [] and out_avals == [ShapedArray((3,), np.float32)]
    assert pp_jaxpr(jaxpr) == "{ lambda ; a:f32[3]. let\n    b:f32[3] = mul a 2.0\n  in (b) }"
    np.testing.assert_allclose(_np(eval_jaxpr(jaxpr, consts, fnp.arange(3.0))[0]), [0.0, 2.0, 4.0])


def test_staging_records_operations_on_constants_only():
    # a dynamic trace catches primitives even when no input is involved
    closed = fnn.make_jaxpr(lambda x: x + fnp.sum(fnp.sin(fnp.arange(3.0))))(1.0)
    assert "sin" in str(closed) and "reduce_sum" in str(closed)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    ops=st.lists(
        st.sampled_from(["sin", "exp", "square", "neg", "sum_last", "T", "cumsum"]),
        min_size=1,
        max_size=5,
    ),
)
def test_random_programs_round_trip(shape, ops):
    def f(x):
        for op in ops:
            if op == "sin":
                x = fnp.sin(x)
            elif op == "exp":
                x = fnp.exp(-fnp.abs(x))
            elif op == "square":
                x = x * x
            elif op == "neg":
                x = -x
            elif op == "sum_last" and x.ndim:
                x = fnp.sum(x, axis=-1)
            elif op == "T":
                x = x.T
            elif op == "cumsum" and x.ndim:
                x = fnp.cumsum(x, axis=0)
        return x

    x = fnp.asarray(np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape))
    closed = fnn.make_jaxpr(f)(x)
    assert len(str(closed).splitlines()) == len(closed.jaxpr.eqns) + 2
    (out,) = closed(x)
    np.testing.assert_allclose(_np(out), _np(f(x)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(fnn.jit(f)(x)), _np(f(x)), rtol=1e-6, atol=1e-7)
