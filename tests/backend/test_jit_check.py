"""jit's buffer plan never overwrites a value that is still live, and the checking mode
(``jit_check``) catches a compiled program that disagrees with the eager impls."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import lowering
from fnn.backend import codegen, passes
from fnn.backend.jit_check import JitCheckError, values_agree
from fnn.core import ShapedArray
from fnn.jaxpr import trace_to_jaxpr
from fnn.lax import elementwise, slicing
from fnn.lowering import FRESH, Lowering


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


@pytest.fixture
def checking():
    before = fnn.config.jit_check
    fnn.config.update("jit_check", True)
    yield
    fnn.config.update("jit_check", before)


def view_then_overwrite(x0, x1):
    """Issue #19's program: jit(grad) wrote into the operand of a live basic-index view."""
    v2 = x0.at[..., -1].add(x0[..., 0])
    v3 = fnp.minimum(x1, v2 - 0.05)
    v4 = fnp.split(fnp.concatenate([x1, x0], axis=-1), 2, axis=-1)[1] * x1
    v5 = fnp.einsum("...ij,...kj->...ik", v3, v4) @ v3 / 4.0
    out = (v5 * v5 + 1.0) ** 1.5
    return fnp.sum(out * fnp.cos(out)) + 0.1 * fnp.sum(v2**2)


def _inputs(dtype):
    r = np.random.default_rng(285)
    return [fnp.asarray((r.standard_normal((4, 4)) * 0.8).astype(dtype)) for _ in range(2)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_jit_grad_equals_eager_grad_when_a_view_outlives_its_operand(dtype, request):
    if dtype == "float64":
        request.getfixturevalue("x64")
    x0, x1 = _inputs(dtype)
    before = [np.array(x0), np.array(x1)]
    want = np.asarray(fnn.grad(view_then_overwrite)(x0, x1))
    jitted = fnn.jit(fnn.grad(view_then_overwrite))
    for _ in range(2):  # the second call reuses the buffer arena
        got = np.asarray(jitted(x0, x1))
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)
    np.testing.assert_array_equal(np.asarray(x0), before[0])
    np.testing.assert_array_equal(np.asarray(x1), before[1])


def test_an_impl_without_a_declared_lowering_may_alias_every_input():
    """gather's impl returns a view for basic indices; nothing declares it: the output
    of such an equation keeps its inputs' buffers from being donated while it lives."""
    x0, x1 = _inputs("float32")
    jaxpr, consts, _ = trace_to_jaxpr(
        lambda a, b: [fnn.grad(view_then_overwrite)(a, b)], [ShapedArray((4, 4), np.float32)] * 2
    )
    jaxpr, consts = passes.optimize(jaxpr, consts)
    fn = codegen.compile_jaxpr(jaxpr, consts)
    eqns = jaxpr.eqns
    gathers = [i for i, e in enumerate(eqns) if e.primitive is slicing.gather_p]
    assert gathers
    for i in gathers:
        operand, view = eqns[i].inputs[0], eqns[i].out_binders[0]
        last_read = max(j for j, e in enumerate(eqns) if view in e.inputs)
        donated = [j for j, x in fn.plan.donors.items() if x is operand]
        assert all(j >= last_read for j in donated), (i, last_read, donated)
    np.testing.assert_allclose(
        np.asarray(fn(np.asarray(x0), np.asarray(x1))[0]),
        np.asarray(fnn.grad(view_then_overwrite)(x0, x1)),
        rtol=1e-5,
    )


def test_check_mode_names_a_wrong_lowering_declaration(checking, monkeypatch):
    """Declaring gather allocating (it returns views) is caught when the program runs."""
    monkeypatch.setitem(lowering.lowerings, slicing.gather_p, Lowering(memory=FRESH))
    x0, x1 = _inputs("float32")
    with pytest.raises(
        JitCheckError, match=r"gather.*shares memory with t\d+, which is still live"
    ):
        fnn.jit(fnn.grad(view_then_overwrite))(x0, x1)


def test_check_mode_names_an_equation_that_differs_from_its_impl(checking, monkeypatch):
    cos = dataclasses.replace(lowering.lowering_of(elementwise.sin_p), ufunc="cos")
    monkeypatch.setitem(lowering.lowerings, elementwise.sin_p, cos)
    with pytest.raises(
        JitCheckError, match=r"equation 0 `t\d+ = sin\(a1\)`.*differs from the eager"
    ):
        fnn.jit(lambda x: fnp.sin(x) * 2.0)(fnp.arange(4.0))


def test_check_mode_reports_a_modified_argument(checking, monkeypatch):
    # A lowering that (wrongly) writes its result into its operand.
    # Declared "unknown" (may alias its input), so only the write itself is wrong.
    in_place = Lowering(emit=lambda a, eqn, out=None: f"np.exp({a[0]}, out={a[0]})")
    monkeypatch.setitem(lowering.lowerings, elementwise.exp_p, in_place)
    x = np.arange(4.0, dtype=np.float32)  # a writeable numpy argument
    with pytest.raises(
        JitCheckError, match="modified its argument 0|changed after it was computed"
    ):
        fnn.jit(lambda x: fnp.exp(x) + x)(x)


def test_check_mode_passes_correct_programs_and_keeps_values(checking):
    x = fnp.linspace(-2.0, 2.0, 64).reshape(8, 8)

    def f(x):
        y = fnp.tanh(x @ x.T)[:, :4]
        return fnp.sum(fnp.concatenate([y, y * 2.0], axis=1) ** 2)

    np.testing.assert_allclose(
        np.asarray(fnn.jit(fnn.grad(f))(x)), np.asarray(fnn.grad(f)(x)), rtol=1e-5
    )


def test_values_agree_keeps_nan_and_infinities_apart():
    assert values_agree(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None
    assert "NaN" in values_agree(np.array([0.0, 1.0]), np.array([np.nan, 1.0]))
    assert values_agree(np.array([np.inf]), np.array([-np.inf])) == "infinities differ"
    assert "differ" in values_agree(np.array([1, 2]), np.array([1, 3]))
    assert values_agree(np.float32([1.0, 2.0]), np.float32([1.0, 2.0001])) is None
    assert "max abs difference" in values_agree(np.float32([1.0, 2.0]), np.float32([1.0, 2.1]))


def test_jit_check_is_read_from_the_environment_and_validated():
    code = "import fnn; print(fnn.config.jit_check)"
    env = dict(os.environ, FNN_JIT_CHECK="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "True", out.stderr
    env["FNN_JIT_CHECK"] = "0"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


def test_jit_check_calls_checks_the_first_calls_only(checking, monkeypatch):
    """A wrong lowering is caught on the first calls; later calls run unchecked."""
    cos = dataclasses.replace(lowering.lowering_of(elementwise.sin_p), ufunc="cos")
    monkeypatch.setitem(lowering.lowerings, elementwise.sin_p, cos)
    fnn.config.update("jit_check_calls", 2)
    try:
        f = fnn.jit(lambda x: fnp.sin(x) * 2.0)
        x = fnp.arange(4.0)
        for _ in range(2):
            with pytest.raises(JitCheckError, match="differs from the eager"):
                f(x)
        np.testing.assert_allclose(np.asarray(f(x)), np.cos(np.arange(4.0)) * 2.0, rtol=1e-6)
        assert "_k." not in f.lower(x).source  # the source shown is the plain program
    finally:
        fnn.config.update("jit_check_calls", 0)
    with pytest.raises(ValueError, match="jit_check_calls must be an integer >= 0"):
        fnn.config.update("jit_check_calls", -1)
