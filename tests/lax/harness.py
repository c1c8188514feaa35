"""The shared harness: a table-driven description of a function under test, and the
properties every entry of a table is checked against.

A :class:`Case` names an fnn function, its numpy reference, a hypothesis strategy for
its static inputs (:class:`Spec`: argument shapes and keyword parameters) and a value
generator for its array arguments (:func:`args` over named value domains). The
``check_*`` functions each take a case, a drawn spec and arguments, and assert one
property (numpy agreement, derivatives against finite differences, ...). The test
modules parametrize one hypothesis test per property over a table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnn
import fnn.numpy as fnp

# Deterministic, small and fast: every example is a fresh trace, so a few suffice.
# FNN_TEST_EXAMPLES=200 runs a deeper (still deterministic) search locally.
SETTINGS = settings(
    max_examples=int(os.environ.get("FNN_TEST_EXAMPLES", "10")),
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TAYLOR_SETTINGS = settings(
    SETTINGS, max_examples=max(1, int(os.environ.get("FNN_TEST_EXAMPLES", "10")) * 2 // 5)
)


class Spec(NamedTuple):
    """The static part of one example: array argument shapes, the keyword parameters the
    function is called with, and ``extra`` facts only the value generator reads (such as
    the bound of an index array)."""

    shapes: tuple
    params: dict
    extra: dict = {}  # noqa: RUF012 - never mutated


@dataclasses.dataclass(frozen=True, repr=False)
class Case:
    """One row of a table.

    ``diff``: True if differentiable in its float arguments (derivatives are checked
    against finite differences), False if its derivative is zero almost everywhere
    (floor, sign, comparisons on floats, stop_gradient: the derivative must be exactly
    zero), None if derivatives do not apply (integer or boolean inputs or outputs).
    ``prims``: the lax primitives this case is there to exercise. ``xfail``: property
    name -> reason, for known bugs in code this suite may not fix.
    """

    name: str
    fn: Callable
    ref: Callable
    spec: st.SearchStrategy
    make: Callable
    diff: bool | None = True
    prims: tuple[str, ...] = ()
    api: tuple[str, ...] = ()
    rtol32: float = 2e-5
    rtol64: float = 1e-11
    check_dtype: bool = True
    hvp: bool = True  # second derivatives (off where the FD step would cross a kink)
    xfail: dict = dataclasses.field(default_factory=dict)
    nargs: int = 1  # number of array arguments (set by the table helpers)
    # fnn.numpy returns fnn arrays; fnn.lax hands a numpy operand back when it is a no-op.
    returns_array: bool = True
    # Compare values with numpy in the input dtype (for dtype-dependent results such as
    # nan_to_num's largest float), not in float64 from the rounded inputs.
    ref_in_dtype: bool = False

    def __str__(self):
        return self.name

    def __repr__(self):  # hypothesis prints it in every falsifying example
        return f"Case({self.name!r})"


# ---- value domains -------------------------------------------------------------------------


def _frac(rng, shape):
    # Away from integers and from halves, so floor/ceil/round have no jump nearby.
    offset = np.where(
        rng.random(shape) < 0.5, rng.uniform(0.1, 0.4, shape), rng.uniform(0.6, 0.9, shape)
    )
    return rng.integers(-3, 3, shape) + offset


def _distinct(rng, shape):
    # Pairwise gaps of at least 0.15: no ties for max/min/argmax, even after a FD step.
    n = int(np.prod(shape, dtype=np.int64))
    vals = (rng.permutation(n) - n / 2) * 0.25 + rng.uniform(0, 0.1, n)
    return vals.reshape(shape)


def _tenths(rng, shape):
    # Away from the rounding boundaries of round(x, 1).
    return rng.integers(-30, 30, shape) / 10 + rng.uniform(0.01, 0.04, shape)


def _with_zeros(rng, shape):
    x = rng.normal(size=shape)
    return np.where(rng.random(shape) < 0.3, 0.0, x)


def _special(rng, shape):
    x = rng.normal(size=shape)
    pick = rng.random(shape)
    return np.where(
        pick < 0.15, np.inf, np.where(pick < 0.3, np.nan, np.where(pick < 0.4, -np.inf, x))
    )


DOMAINS: dict[str, Callable[[np.random.Generator, tuple], np.ndarray]] = {
    "real": lambda rng, s: rng.normal(size=s),
    "pos": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "unit": lambda rng, s: rng.uniform(-0.9, 0.9, s),
    "gt1": lambda rng, s: rng.uniform(1.2, 3.0, s),
    "away0": lambda rng, s: np.where(rng.random(s) < 0.5, -1.0, 1.0) * rng.uniform(0.3, 2.0, s),
    "frac": _frac,
    "tenths": _tenths,
    "distinct": _distinct,
    "zeros": _with_zeros,
    "special": _special,
    "int": lambda rng, s: rng.integers(-4, 5, s),
    "posint": lambda rng, s: rng.integers(1, 5, s),
    "nzint": lambda rng, s: np.where(rng.random(s) < 0.5, -1, 1) * rng.integers(1, 5, s),
    "smallint": lambda rng, s: rng.integers(0, 4, s),
    "bool": lambda rng, s: rng.random(s) < 0.5,
}


def args(*domains: str) -> Callable:
    """A value generator: one array per shape, each from its named domain."""
    for d in domains:
        if d not in DOMAINS:
            raise KeyError(f"unknown domain {d!r}; known: {sorted(DOMAINS)}")

    def make(rng, spec):
        return [
            np.asarray(DOMAINS[d](rng, tuple(s))) for d, s in zip(domains, spec.shapes, strict=True)
        ]

    return make


def distinct_args(rng, spec):
    """Arguments whose values are all at least 0.15 apart, across arguments too: for
    maximum/minimum and friends, whose kinks a finite-difference step must not cross."""
    sizes = [int(np.prod(s, dtype=np.int64)) for s in spec.shapes]
    pool = _distinct(rng, (sum(sizes),))
    bounds = np.cumsum([0] + sizes)
    return [
        pool[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], spec.shapes, strict=True)
    ]


def cast(arrays, x64: bool):
    """numpy arrays in the dtypes fnn uses: float32/int32, or float64/int64 with x64."""
    f, i = (np.float64, np.int64) if x64 else (np.float32, np.int32)
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(f)
        elif a.dtype.kind in "iu":
            a = a.astype(i)
        out.append(a)
    return out


@contextlib.contextmanager
def x64():
    fnn.config.update("enable_x64", True)
    try:
        yield
    finally:
        fnn.config.update("enable_x64", False)


# ---- shape strategies ----------------------------------------------------------------------


def shape(min_dims=0, max_dims=3, min_side=0, max_side=4):
    """Small shapes; with ``min_side=0`` a side is occasionally 0 (an empty array)."""
    sides = list(range(max(min_side, 1), max_side + 1)) * 4 + ([0] if min_side == 0 else [])
    return st.lists(st.sampled_from(sides), min_size=min_dims, max_size=max_dims).map(tuple)


def same_shapes(n, **kw):
    """``n`` arguments of one drawn shape."""
    return shape(**kw).map(lambda s: Spec((s,) * n, {}))


def broadcast_shapes(n, min_dims=0, max_dims=3, max_side=4):
    """``n`` argument shapes that broadcast together (numpy's rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda b: Spec(tuple(b.input_shapes), {}))


@st.composite
def axis_spec(draw, min_dims=1, tuples=True, none=True, keepdims=True, **kw):
    """One shape and an ``axis`` (None, an int, negative ints, or a tuple) and ``keepdims``."""
    s = draw(shape(min_dims=min_dims, **kw))
    n = len(s)
    choices = [st.integers(-n, n - 1)] if n else []
    if none or not n:
        choices.append(st.none())
    if tuples and n:
        choices.append(
            st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).flatmap(
                lambda axes: st.tuples(*[st.sampled_from([a, a - n]) for a in axes])
            )
        )
    params = {"axis": draw(st.one_of(*choices))}
    if keepdims:
        params["keepdims"] = draw(st.booleans())
    return Spec((s,), params)


# ---- calling ---------------------------------------------------------------------------------


def leaves(out) -> list:
    """The arrays of an output (a single array, or a list/tuple of them such as split's)."""
    return list(out) if isinstance(out, list | tuple) else [out]


def run_fnn(case, spec, arrays) -> list[np.ndarray]:
    return [np.asarray(o) for o in leaves(case.fn(*arrays, **spec.params))]


def run_ref(case, spec, arrays) -> list[np.ndarray]:
    return [np.asarray(o) for o in leaves(case.ref(*arrays, **spec.params))]


def draw(data, case):
    """Draw a spec and a seed; return (spec, rng, float64/int64/bool argument arrays)."""
    spec = data.draw(case.spec, label="spec")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    return spec, rng, case.make(rng, spec)


def float_indices(arrays) -> list[int]:
    return [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]


def assert_close(actual, expected, rtol, atol=None, err=""):
    """allclose with an absolute tolerance scaled by the magnitude of ``expected``."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{err}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind in "biu" and actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=err)
        return
    finite = np.isfinite(expected)
    scale = 1.0 + (np.max(np.abs(expected[finite])) if finite.any() else 0.0)
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=(rtol if atol is None else atol) * scale, err_msg=err
    )


def canonical(dtype) -> np.dtype:
    """numpy's dtype as fnn stores it (64-bit types narrowed unless x64 is on)."""
    return fnn.config.canonicalize_dtype(dtype)


# ---- the properties --------------------------------------------------------------------------


def check_numpy_agreement(case, spec, arrays, use_x64: bool):
    """Values (and dtype, shape) agree with numpy, in float32 or float64."""
    with x64() if use_x64 else contextlib.nullcontext():
        typed = cast(arrays, use_x64)
        raw = leaves(case.fn(*typed, **spec.params))
        if case.returns_array:
            assert all(isinstance(o, fnn.Array) for o in raw), f"{case}: returned {raw!r:.200}"
        out = [np.asarray(o) for o in raw]
        ref_typed = run_ref(case, spec, typed)
        # Values from float64 numpy on the same (possibly float32-rounded) inputs.
        ref = ref_typed
        if not case.ref_in_dtype:
            ref = run_ref(
                case, spec, [a.astype(np.float64) if a.dtype.kind == "f" else a for a in typed]
            )
        assert len(out) == len(ref), f"{case}: {len(out)} outputs, numpy gives {len(ref)}"
        rtol = case.rtol64 if use_x64 else case.rtol32
        for k, (o, r, rt) in enumerate(zip(out, ref, ref_typed, strict=True)):
            if case.check_dtype:
                assert o.dtype == canonical(rt.dtype), (
                    f"{case} output {k}: dtype {o.dtype} != {canonical(rt.dtype)}"
                )
            assert_close(o, r, rtol, err=f"{case} output {k}")


def _split_float(case, spec, arrays):
    """(g, xs): ``g(*xs)`` is the fnn function of the float arguments only."""
    fidx = float_indices(arrays)

    def g(*xs):
        full = list(arrays)
        for i, x in zip(fidx, xs, strict=True):
            full[i] = x
        return case.fn(*full, **spec.params)

    return g, [arrays[i] for i in fidx], fidx


def _ref_of_floats(case, spec, arrays, fidx):
    def r(*xs):
        full = list(arrays)
        for i, x in zip(fidx, xs, strict=True):
            full[i] = x
        return [np.asarray(o, np.float64) for o in leaves(case.ref(*full, **spec.params))]

    return r


def _projection(outs_like, rng):
    return [rng.normal(size=np.shape(o)) for o in outs_like]


def _fnn_project(g, ws):
    def h(*xs):
        return sum(fnp.sum(o * w) for o, w in zip(leaves(g(*xs)), ws, strict=True))

    return h


def _ref_project(r, ws):
    return lambda *xs: float(sum(np.sum(o * w) for o, w in zip(r(*xs), ws, strict=True)))


def _tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def check_first_derivatives(case, spec, arrays, rng):
    """jvp along a random direction, and the gradient of a random projection, vs central FD."""
    with x64():
        arrays = cast(arrays, True)
        g, xs, fidx = _split_float(case, spec, arrays)
        r = _ref_of_floats(case, spec, arrays, fidx)
        vs = [rng.normal(size=x.shape) for x in xs]
        eps = 1e-6
        _, t = fnn.jvp(lambda *a: leaves(g(*a)), tuple(xs), tuple(vs))
        plus = r(*[x + eps * v for x, v in zip(xs, vs, strict=True)])
        minus = r(*[x - eps * v for x, v in zip(xs, vs, strict=True)])
        for k, (tk, p, m) in enumerate(zip(t, plus, minus, strict=True)):
            assert_close(np.asarray(tk), (p - m) / (2 * eps), 1e-6, err=f"{case}: jvp output {k}")
        ws = _projection(plus, rng)
        grads = _tuple(fnn.grad(_fnn_project(g, ws), argnums=tuple(range(len(xs))))(*xs))
        h_ref = _ref_project(r, ws)
        for i, (x, gx) in enumerate(zip(xs, grads, strict=True)):
            fd = np.zeros(x.shape)
            for k in range(x.size):
                e = np.zeros(x.size)
                e[k] = eps
                e = e.reshape(x.shape)
                hp = h_ref(*[xx + e if j == i else xx for j, xx in enumerate(xs)])
                hm = h_ref(*[xx - e if j == i else xx for j, xx in enumerate(xs)])
                fd.flat[k] = (hp - hm) / (2 * eps)
            assert_close(np.asarray(gx), fd, 1e-6, err=f"{case}: gradient of argument {fidx[i]}")


def check_second_derivatives(case, spec, arrays, rng):
    """Hessian-vector products: forward-over-reverse vs FD of the gradient, and
    grad(grad) of the scalar ``e -> sum(f(x + e v) * w)`` vs a five-point FD stencil."""
    with x64():
        arrays = cast(arrays, True)
        g, xs, fidx = _split_float(case, spec, arrays)
        r = _ref_of_floats(case, spec, arrays, fidx)
        vs = [rng.normal(size=x.shape) for x in xs]
        ws = _projection(r(*xs), rng)
        h = _fnn_project(g, ws)
        argnums = tuple(range(len(xs)))
        grad_h = fnn.grad(h, argnums=argnums)
        _, hv = fnn.jvp(lambda *a: _tuple(grad_h(*a)), tuple(xs), tuple(vs))
        eps = 1e-5
        gp = _tuple(grad_h(*[x + eps * v for x, v in zip(xs, vs, strict=True)]))
        gm = _tuple(grad_h(*[x - eps * v for x, v in zip(xs, vs, strict=True)]))
        for i, (hvi, p, m) in enumerate(zip(hv, gp, gm, strict=True)):
            fd = (np.asarray(p) - np.asarray(m)) / (2 * eps)
            assert_close(np.asarray(hvi), fd, 1e-5, err=f"{case}: Hv for argument {fidx[i]}")

        def s(e):
            return h(*[x + e * v for x, v in zip(xs, vs, strict=True)])

        d2 = float(fnn.grad(fnn.grad(s))(np.float64(0.0)))
        h_ref = _ref_project(r, ws)

        def at(e):
            return h_ref(*[x + e * v for x, v in zip(xs, vs, strict=True)])

        eps = 1e-3
        fd2 = (-at(2 * eps) + 16 * at(eps) - 30 * at(0.0) + 16 * at(-eps) - at(-2 * eps)) / (
            12 * eps**2
        )
        assert_close(d2, fd2, 1e-5, atol=1e-6 * (1 + abs(at(0.0))), err=f"{case}: grad(grad)")


TAYLOR_ORDER = 4


def _nested_jvp_derivatives(fun, order):
    """[d^k/dt^k fun(t) at t = 0 for k = 1..order], by nested fnn.jvp (``fun`` maps a
    float64 scalar to a list of arrays)."""
    fs = [fun]
    for _ in range(order):
        prev = fs[-1]
        fs.append(lambda t, prev=prev: fnn.jvp(prev, (t,), (np.float64(1.0),))[1])
    return [fs[k](np.float64(0.0)) for k in range(1, order + 1)]


def check_taylor(case, spec, arrays, rng):
    """fnn.jet along a random degree-4 curve through the inputs equals nested JVPs of the
    function restricted to that curve (every derivative up to order 4, float64)."""
    with x64():
        arrays = cast(arrays, True)
        g, xs, fidx = _split_float(case, spec, arrays)
        series = [[rng.normal(size=x.shape) for _ in range(TAYLOR_ORDER)] for x in xs]
        out, derivs = fnn.jet(lambda *a: leaves(g(*a)), tuple(xs), tuple(series))

        def along(t):
            pts = [
                x + sum(s[k] * t ** (k + 1) / math.factorial(k + 1) for k in range(TAYLOR_ORDER))
                for x, s in zip(xs, series, strict=True)
            ]
            return leaves(g(*pts))

        expected = _nested_jvp_derivatives(along, TAYLOR_ORDER)
        for i, o in enumerate(leaves(g(*xs))):
            assert_close(np.asarray(out[i]), np.asarray(o), 1e-12, err=f"{case}: jet primal {i}")
        for k in range(TAYLOR_ORDER):
            for i, e in enumerate(expected[k]):
                assert_close(
                    np.asarray(derivs[i][k]),
                    np.asarray(e),
                    1e-9,
                    err=f"{case}: order-{k + 1} Taylor coefficient of output {i}",
                )


def check_zero_derivative(case, spec, arrays, rng):
    """Piecewise-constant functions: jvp, grad and vjp are exactly zero (not NaN, not missing)."""
    with x64():
        arrays = cast(arrays, True)
        g, xs, _ = _split_float(case, spec, arrays)
        vs = [rng.normal(size=x.shape) for x in xs]
        outs, ts = fnn.jvp(lambda *a: leaves(g(*a)), tuple(xs), tuple(vs))
        for t, o in zip(ts, outs, strict=True):
            np.testing.assert_array_equal(
                np.asarray(t), np.zeros(np.shape(o)), err_msg=f"{case}: jvp"
            )
        ws = _projection(outs, rng)
        grads = _tuple(fnn.grad(_fnn_project(g, ws), argnums=tuple(range(len(xs))))(*xs))
        for gx, x in zip(grads, xs, strict=True):
            np.testing.assert_array_equal(
                np.asarray(gx), np.zeros(x.shape), err_msg=f"{case}: grad"
            )


def check_vjp_jvp_adjoint(case, spec, arrays, rng):
    """``<vjp(u), v> == <u, jvp(v)>`` for random u and v."""
    with x64():
        arrays = cast(arrays, True)
        g, xs, fidx = _split_float(case, spec, arrays)
        vs = [rng.normal(size=x.shape) for x in xs]
        outs, ts = fnn.jvp(lambda *a: leaves(g(*a)), tuple(xs), tuple(vs))
        us = [rng.normal(size=np.shape(o)) for o in outs]
        _, f_vjp = fnn.vjp(lambda *a: leaves(g(*a)), *xs)
        cts = f_vjp([fnp.asarray(u) for u in us])
        lhs = sum(float(np.sum(np.asarray(c) * v)) for c, v in zip(cts, vs, strict=True))
        rhs = sum(float(np.sum(u * np.asarray(t))) for u, t in zip(us, ts, strict=True))
        scale = 1 + sum(
            float(np.sum(np.abs(u * np.asarray(t)))) for u, t in zip(us, ts, strict=True)
        )
        assert abs(lhs - rhs) <= 1e-10 * scale, (
            f"{case}: <vjp(u), v> = {lhs} != <u, jvp(v)> = {rhs}"
        )


def check_jit(case, spec, arrays, rng):
    """``jit(f)(x) == f(x)``, on a first call and on a cached second call with new values."""
    jf = fnn.jit(lambda *a: case.fn(*a, **spec.params))
    for typed in (cast(arrays, False), cast(case.make(rng, spec), False)):
        expected = run_fnn(case, spec, typed)
        got = [np.asarray(o) for o in leaves(jf(*typed))]
        assert len(got) == len(expected)
        for k, (o, e) in enumerate(zip(got, expected, strict=True)):
            assert o.dtype == e.dtype, f"{case} output {k}: jit dtype {o.dtype} != {e.dtype}"
            assert_close(o, e, 1e-6, err=f"{case}: jit output {k}")


def _stacked(case, spec, examples, out_axis):
    per = [run_fnn(case, spec, ex) for ex in examples]
    return [np.stack([p[k] for p in per], axis=out_axis) for k in range(len(per[0]))]


def check_vmap(case, spec, arrays, rng, data, unbatched: bool):
    """``vmap(f, in_axes, out_axes)(xs) == stack([f(x) for x in xs], out_axes)``.

    With ``unbatched``, a drawn subset of the arguments is shared (in_axes None).
    """
    n = len(arrays)
    size = data.draw(st.integers(1, 3), label="batch size")
    batched = [True] * n
    if unbatched:
        keep = data.draw(
            st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda b: any(b) and not all(b)),
            label="batched args",
        )
        batched = keep
    in_axes = []
    for a, b in zip(arrays, batched, strict=True):
        options = [0, -1] + ([1] if np.ndim(a) >= 1 else [])
        in_axes.append(data.draw(st.sampled_from(options), label="in_axis") if b else None)
    examples = [cast(arrays, False)] + [cast(case.make(rng, spec), False) for _ in range(size - 1)]
    shared = examples[0]
    examples = [
        [e if b else s for e, s, b in zip(ex, shared, batched, strict=True)] for ex in examples
    ]
    out_rank = min(o.ndim for o in run_fnn(case, spec, examples[0]))
    out_axis = data.draw(
        st.sampled_from([0, -1] + ([1] if out_rank >= 1 else [])), label="out_axes"
    )
    xs = [
        np.stack([ex[i] for ex in examples], axis=ax) if ax is not None else shared[i]
        for i, ax in enumerate(in_axes)
    ]
    f = fnn.vmap(lambda *a: case.fn(*a, **spec.params), in_axes=tuple(in_axes), out_axes=out_axis)
    got = [np.asarray(o) for o in leaves(f(*xs))]
    expected = _stacked(case, spec, examples, out_axis)
    assert len(got) == len(expected)
    for k, (o, e) in enumerate(zip(got, expected, strict=True)):
        assert o.dtype == e.dtype, f"{case} output {k}: vmap dtype {o.dtype} != {e.dtype}"
        assert_close(
            o, e, 2e-6, err=f"{case}: vmap output {k} (in_axes={in_axes}, out_axes={out_axis})"
        )


def jaxpr_primitives(case, spec, arrays) -> set[str]:
    """Names of the primitives in the jaxprs of the case, its jvp and its vjp."""
    typed = cast(arrays, False)
    fn = lambda *a: leaves(case.fn(*a, **spec.params))  # noqa: E731
    names = _eqn_names(fnn.make_jaxpr(fn)(*typed))
    if case.diff is not None:
        g, xs, _ = _split_float(case, spec, typed)
        gl = lambda *a: leaves(g(*a))  # noqa: E731
        names |= _eqn_names(fnn.make_jaxpr(lambda *a: fnn.jvp(gl, a, a)[1])(*xs))
        names |= _eqn_names(fnn.make_jaxpr(lambda *a: fnn.vjp(gl, *a)[1](gl(*a)))(*xs))
    return names


def _eqn_names(closed) -> set[str]:
    return {e.primitive.name for e in closed.jaxpr.eqns}
