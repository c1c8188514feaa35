"""vmap: in_axes/out_axes, axis_size, composition with grad/jit/vmap, per-example
gradients, and the error for inconsistent sizes."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.tree_util import tree_leaves


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


def _loop(f, *xs):
    rows = zip(*[fnp.asarray(x) for x in xs], strict=True)
    return np.stack([_np(f(*args)) for args in rows])


rng = np.random.default_rng(0)
A = rng.normal(size=(4, 3)).astype(np.float32)
B = rng.normal(size=(4, 3)).astype(np.float32)


# ----------------------------------------------------------------------------------------
# in_axes and out_axes


def test_vmap_matches_a_python_loop():
    f = lambda x, y: fnp.sum(fnp.sin(x) * y) + fnp.max(x)  # noqa: E731
    np.testing.assert_allclose(_np(fnn.vmap(f)(A, B)), _loop(f, A, B), rtol=1e-6)


def test_in_axes_none_broadcasts_an_argument():
    w = rng.normal(size=(3, 2)).astype(np.float32)
    f = lambda x, w: fnp.tanh(x @ w)  # noqa: E731
    out = fnn.vmap(f, in_axes=(0, None))(A, w)
    assert out.shape == (4, 2)
    np.testing.assert_allclose(_np(out), np.tanh(A @ w), rtol=1e-5)


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_in_axes_int_and_negative(axis):
    x = rng.normal(size=(2, 5)).astype(np.float32)
    out = fnn.vmap(lambda r: fnp.sum(r**2), in_axes=axis)(x)
    np.testing.assert_allclose(_np(out), np.sum(x**2, axis=1 - (axis % 2)), rtol=1e-6)


@pytest.mark.parametrize("out_axis", [0, 1, 2, -1, -2, -3])
def test_out_axes(out_axis):
    x = rng.normal(size=(4, 2, 3)).astype(np.float32)
    out = fnn.vmap(lambda m: m * 2.0, out_axes=out_axis)(x)
    np.testing.assert_allclose(_np(out), np.moveaxis(x * 2.0, 0, out_axis))


def test_in_axes_and_out_axes_pytrees():
    Pt = namedtuple("Pt", ["p", "q"])

    def f(d, pt):
        return {"sum": d["a"] + pt.p, "prod": d["b"] * pt.q}, pt.q

    d = {"a": fnp.ones((3, 2)), "b": fnp.arange(3.0)}
    pt = Pt(fnp.ones((2, 3)), fnp.asarray(5.0))
    out, q = fnn.vmap(
        f, in_axes=({"a": 0, "b": 0}, Pt(1, None)), out_axes=({"sum": 1, "prod": 0}, None)
    )(d, pt)
    assert out["sum"].shape == (2, 3) and out["prod"].shape == (3,)
    np.testing.assert_allclose(_np(out["sum"]), 2 * np.ones((2, 3)))
    np.testing.assert_allclose(_np(out["prod"]), 5 * np.arange(3.0))
    assert float(q) == 5.0
    # prefixes: one int for a whole subtree
    out2, _ = fnn.vmap(f, in_axes=(0, Pt(1, None)))(d, pt)
    np.testing.assert_allclose(_np(out2["sum"]), _np(out["sum"]).T)


def test_in_axes_list_treated_as_tuple():
    out = fnn.vmap(lambda x, y: x * y, in_axes=[0, None])(fnp.arange(3.0), 2.0)
    np.testing.assert_allclose(_np(out), [0.0, 2.0, 4.0])


def test_axis_size_with_no_mapped_inputs():
    out = fnn.vmap(lambda x: x * 2.0, in_axes=None, axis_size=3)(fnp.asarray([1.0, 2.0]))
    assert out.shape == (3, 2)
    np.testing.assert_allclose(_np(out), np.tile([2.0, 4.0], (3, 1)))
    out = fnn.vmap(lambda: fnp.ones(2), axis_size=4)()
    assert out.shape == (4, 2)


def test_axis_size_must_agree_with_inputs():
    with pytest.raises(ValueError, match="inconsistent"):
        fnn.vmap(lambda x: x, axis_size=5)(fnp.ones(3))


def test_unbatched_output_is_broadcast():
    out = fnn.vmap(lambda x: fnp.asarray(1.0))(fnp.ones(4))
    assert out.shape == (4,)
    out = fnn.vmap(lambda x, y: y, in_axes=(0, None))(fnp.ones(4), fnp.arange(2.0))
    np.testing.assert_allclose(_np(out), np.tile([0.0, 1.0], (4, 1)))


def test_out_axes_none_for_a_batched_output_is_an_error():
    with pytest.raises(ValueError, match="out_axes=None"):
        fnn.vmap(lambda x: x, out_axes=None)(fnp.ones(3))


def test_pytree_outputs_and_scalars():
    out = fnn.vmap(lambda x: {"a": x, "b": [x * 2, None]})(fnp.arange(3.0))
    np.testing.assert_allclose(_np(out["b"][0]), [0.0, 2.0, 4.0])
    assert out["b"][1] is None


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_random_in_and_out_axes(shape, data):
    in_axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out_axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) / 7.0

    def f(v):
        return fnp.cumsum(fnp.sin(v), axis=-1) * fnp.sum(v) if v.ndim else fnp.sin(v) * v

    out = fnn.vmap(f, in_axes=in_axis, out_axes=out_axis)(x)
    moved = np.moveaxis(x, in_axis, 0)
    expected = np.moveaxis(np.stack([_np(f(fnp.asarray(m))) for m in moved]), 0, out_axis)
    np.testing.assert_allclose(_np(out), expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------
# Many primitives under vmap, against a loop

_PRIMS = {
    "matmul": lambda x, y: x[:, None] @ y[None, :],
    "dot": lambda x, y: fnp.dot(x, y),
    "outer_einsum": lambda x, y: fnp.einsum("i,j->ij", x, y),
    "reshape_T": lambda x, y: (x.reshape(3, 1) * y).T,
    "concat": lambda x, y: fnp.concatenate([x, y[::-1]]),
    "index": lambda x, y: x[1] + y[-1],
    "adv_index": lambda x, y: x[np.array([2, 0, 0])] * y,
    "at_set": lambda x, y: x.at[1].set(y[0]),
    "where": lambda x, y: fnp.where(x > 0, x, y),
    "reductions": lambda x, y: fnp.stack([fnp.max(x), fnp.min(y), fnp.mean(x * y), fnp.prod(y)]),
    "argmax": lambda x, y: fnp.argmax(x * y),
    "cumsum": lambda x, y: fnp.cumsum(x + y),
    "broadcast": lambda x, y: fnp.broadcast_to(x, (2, 3)) + y,
    "softmax": lambda x, y: fnp.exp(x) / fnp.sum(fnp.exp(x)),
    "pad": lambda x, y: fnp.pad(x, (1, 2)),
    "clip": lambda x, y: fnp.clip(x, -0.5, y[0]),
    "astype": lambda x, y: (x > y).astype(fnp.float32) + x,
}


@pytest.mark.parametrize("name", list(_PRIMS))
def test_primitives_under_vmap(name):
    f = _PRIMS[name]
    np.testing.assert_allclose(_np(fnn.vmap(f)(A, B)), _loop(f, A, B), rtol=1e-5, atol=1e-6)
    # one argument unbatched
    a0, b0 = fnp.asarray(A[0]), fnp.asarray(B[0])
    out = fnn.vmap(f, in_axes=(0, None))(A, b0)
    np.testing.assert_allclose(_np(out), _loop(lambda a: f(a, b0), A), rtol=1e-5, atol=1e-6)
    out = fnn.vmap(f, in_axes=(None, 1))(a0, B.T)
    np.testing.assert_allclose(_np(out), _loop(lambda b: f(a0, b), B), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------
# Composition


def test_vmap_of_grad_and_grad_of_vmap():
    f = lambda x: fnp.sum(fnp.tanh(x) ** 2)  # noqa: E731
    per_row = fnn.vmap(fnn.grad(f))(A)
    np.testing.assert_allclose(_np(per_row), _loop(fnn.grad(f), A), rtol=1e-6)
    total = fnn.grad(lambda X: fnp.sum(fnn.vmap(f)(X)))(A)
    np.testing.assert_allclose(_np(total), _np(per_row), rtol=1e-6)


def test_vmap_of_vmap():
    f = lambda x, y: fnp.dot(x, y)  # noqa: E731
    X = rng.normal(size=(5, 3)).astype(np.float32)
    Y = rng.normal(size=(4, 3)).astype(np.float32)
    pairwise = fnn.vmap(fnn.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(X, Y)
    np.testing.assert_allclose(_np(pairwise), X @ Y.T, rtol=1e-5, atol=1e-6)
    Z = rng.normal(size=(2, 4, 3)).astype(np.float32)
    nested = fnn.vmap(fnn.vmap(lambda z: fnp.sum(z**2)))(Z)
    np.testing.assert_allclose(_np(nested), np.sum(Z**2, -1), rtol=1e-5)
    inner_axis1 = fnn.vmap(fnn.vmap(lambda z: fnp.sum(z), in_axes=1), in_axes=0)(Z)
    np.testing.assert_allclose(_np(inner_axis1), Z.sum(axis=1), rtol=1e-5)


def test_jacrev_built_on_vmap_of_vjp():
    def f(x):
        return fnp.stack([fnp.sin(x[0]) * x[1], x[1] ** 2, fnp.sum(fnp.exp(x))])

    x = fnp.asarray([0.3, -0.4])
    out, f_vjp = fnn.vjp(f, x)
    J = fnn.vmap(lambda ct: f_vjp(ct)[0])(fnp.eye(3))
    np.testing.assert_allclose(_np(J), _np(fnn.jacrev(f)(x)), rtol=1e-6)
    # and jacfwd as vmap of jvp
    Jf = fnn.vmap(lambda t: fnn.jvp(f, (x,), (t,))[1], out_axes=1)(fnp.eye(2))
    np.testing.assert_allclose(_np(Jf), _np(J), rtol=1e-6)


def test_vmap_of_jit_and_jit_of_vmap():
    f = lambda x, y: fnp.sum(fnp.sin(x) * y)  # noqa: E731
    expected = _loop(f, A, B)
    jf = fnn.jit(f)
    np.testing.assert_allclose(_np(fnn.vmap(jf)(A, B)), expected, rtol=1e-6)
    jv = fnn.jit(fnn.vmap(f))
    np.testing.assert_allclose(_np(jv(A, B)), expected, rtol=1e-6)
    jv(A + 1.0, B)
    assert jv.trace_count == 1
    np.testing.assert_allclose(
        _np(fnn.jit(fnn.vmap(jf, in_axes=(0, None)))(A, B[0])),
        _loop(lambda a: f(a, B[0]), A),
        rtol=1e-6,
    )


def test_per_example_gradients_equal_a_loop():
    fnn.config.update("enable_x64", True)
    r = np.random.default_rng(5)
    params = {
        "w1": fnp.asarray(r.normal(size=(3, 8)) * 0.5),
        "b1": fnp.zeros(8),
        "w2": fnp.asarray(r.normal(size=(8, 2)) * 0.5),
        "b2": fnp.zeros(2),
    }
    xs = fnp.asarray(r.normal(size=(6, 3)))
    ys = fnp.asarray(r.integers(0, 2, size=6))

    def loss(p, x, y):
        h = fnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        logp = logits - fnp.log(fnp.sum(fnp.exp(logits)))
        return -fnp.sum(fnp.where(fnp.arange(2) == y, logp, 0.0))

    per_ex = fnn.vmap(fnn.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    jitted = fnn.jit(fnn.vmap(fnn.grad(loss), in_axes=(None, 0, 0)))(params, xs, ys)
    for k in params:
        assert per_ex[k].shape == (6,) + params[k].shape
        loop = np.stack([_np(fnn.grad(loss)(params, xs[i], ys[i])[k]) for i in range(6)])
        np.testing.assert_allclose(_np(per_ex[k]), loop, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(_np(jitted[k]), loop, rtol=1e-12, atol=1e-14)
    # and the mean of per-example gradients is the batch gradient
    batch = fnn.grad(lambda p: fnp.mean(fnn.vmap(loss, in_axes=(None, 0, 0))(p, xs, ys)))(params)
    for k in params:
        np.testing.assert_allclose(_np(batch[k]), _np(per_ex[k]).mean(0), rtol=1e-12, atol=1e-14)


def test_vmap_closure_over_batched_value():
    def f(x):
        return fnn.vmap(lambda y: x * y)(fnp.arange(3.0))

    out = fnn.vmap(f)(fnp.asarray([1.0, 2.0]))
    np.testing.assert_allclose(_np(out), [[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]])


def test_vmap_preserves_dtypes():
    assert fnn.vmap(lambda x: x + 1)(fnp.arange(3)).dtype == np.int32
    assert fnn.vmap(lambda x: x * 2.0)(fnp.ones(3)).dtype == np.float32


def test_vmap_with_python_scalars_and_numpy_inputs():
    out = fnn.vmap(lambda x, s: x * s, in_axes=(0, None))(np.arange(3.0), 2.0)
    np.testing.assert_allclose(_np(out), [0.0, 2.0, 4.0])


# ----------------------------------------------------------------------------------------
# Errors


def test_inconsistent_axis_sizes_name_each_argument():
    with pytest.raises(ValueError) as e:
        fnn.vmap(lambda x, y: x + y)(fnp.ones((3, 2)), fnp.ones((4, 2)))
    msg = str(e.value)
    assert "inconsistent" in msg
    assert "(3, 2)" in msg and "(4, 2)" in msg
    assert "size 3" in msg and "size 4" in msg
    assert "argument 0" in msg and "argument 1" in msg and "<lambda>" in msg


def test_inconsistent_sizes_in_a_pytree_argument():
    with pytest.raises(ValueError) as e:
        fnn.vmap(lambda d: d["a"] + d["b"])({"a": fnp.ones(3), "b": fnp.ones(2)})
    msg = str(e.value)
    assert "argument 0['a'] of shape (3,) has size 3" in msg
    assert "argument 0['b'] of shape (2,) has size 2" in msg


def test_in_axes_out_of_range():
    with pytest.raises(ValueError, match=r"in_axes=2.*\(3,\)"):
        fnn.vmap(lambda x: x, in_axes=2)(fnp.ones(3))


def test_in_axes_length_mismatch():
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        fnn.vmap(lambda x, y: x, in_axes=(0,))(fnp.ones(3), fnp.ones(3))


def test_vmap_of_a_scalar_input_is_an_error():
    with pytest.raises(ValueError, match="rank 0"):
        fnn.vmap(lambda x: x)(fnp.asarray(1.0))


def test_batched_python_control_flow_raises_concretization_error():
    def f(x):
        return x if x > 0 else -x

    with pytest.raises(fnn.ConcretizationTypeError, match="fnn.lax.cond"):
        fnn.vmap(f)(fnp.asarray([1.0, -1.0]))


def test_leaves_of_vmap_output_are_arrays():
    out = fnn.vmap(lambda x: (x, x * 2))(fnp.ones(2))
    assert all(type(a) is fnn.Array for a in tree_leaves(out))


def test_keyword_arguments_are_mapped_over_axis_0():
    # as in JAX; used to be a TypeError
    out = fnn.vmap(lambda x, scale=1.0: x * scale)(fnp.ones(3), scale=fnp.arange(3.0))
    np.testing.assert_allclose(_np(out), [0.0, 1.0, 2.0])
    out = fnn.vmap(lambda x, scale=1.0: x * scale, in_axes=(None,))(
        fnp.ones(2), scale=fnp.arange(3.0)
    )
    np.testing.assert_allclose(_np(out), [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])


def test_in_axes_for_registered_classes_and_mixed_dict_keys():
    from fnn.tree_util import register_pytree_node

    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, ch: Pair(*ch))
    out = fnn.vmap(lambda p: p.a * p.b, in_axes=(Pair(0, None),))(
        Pair(fnp.arange(3.0), fnp.asarray(2.0))
    )
    np.testing.assert_allclose(_np(out), [0.0, 2.0, 4.0])
    d = {1: fnp.arange(3.0), "a": fnp.asarray(2.0)}
    out = fnn.vmap(lambda d: d[1] * d["a"], in_axes=({1: 0, "a": None},))(d)
    np.testing.assert_allclose(_np(out), [0.0, 2.0, 4.0])
    with pytest.raises(ValueError, match=r"keys \['b'\] differ from \['a'\]"):
        fnn.vmap(lambda d: d, in_axes=({"b": 0},))({"a": fnp.ones(2)})
