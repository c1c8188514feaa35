"""Differential fuzz test of jit, grad and vmap on random programs.

Hypothesis draws random programs from fnn's building blocks (``fuzz_programs.py``: a
DAG of 4-12 statements over 2-3 small inputs, ending in a scalar loss) and checks

1. ``fnn.jit(f)(*xs) == f(*xs)``, also with every otherwise unread value returned;
2. ``fnn.jit(fnn.grad(f, argnums))(*xs) == fnn.grad(f, argnums)(*xs)``;
3. ``fnn.grad`` against central finite differences along random directions (float64);
4. ``fnn.vmap(f, in_axes)`` and ``fnn.jit(fnn.vmap(f, in_axes))`` against a Python loop
   stacking ``f`` on each example, and the same for ``grad(f)``,

in float32 and float64. Each jitted function is compiled in every mode of ``JIT_MODES``
(jit as configured, and with the size thresholds of its arena slots, column-major
layouts and batch split lowered so that small programs take those paths too) and called
three times, on the inputs, on other inputs, then on the inputs again (later calls
reuse the buffer arena of the first). Each result is checked when it is returned and
again after the last call, and the inputs must be left unmodified. Inputs closer than
``KINK_GAP`` to a point where the program is not smooth (minimum/maximum, where, max/min
reductions) are skipped.

A failing example prints the program as source (``def f(x0, ...)``, then the inputs)
that pastes into a regression test like the ones at the end of this file.

The CI budget is small and derandomized (the same programs every run, about 15 s) and
does not shrink a failing program (that can take minutes). A long run:

    FNN_FUZZ_EXAMPLES=5000 python -m pytest tests/transforms/test_fuzz_programs.py

sets every fuzz test's ``max_examples`` and shrinks the first failure of each test;
``FNN_FUZZ_SEED=<int>`` draws other programs than the derandomized ones, ``-x`` stops at
the first failing test, ``--hypothesis-show-statistics`` tells how often jit split a
program over its batch, and ``FNN_JIT_CHECK=1`` (as in CI) adds jit's own
equation-by-equation checks. Nothing here registers or loads a hypothesis profile, so
other tests keep their settings.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, note, settings
from hypothesis import seed as hypothesis_seed

import fnn
import fnn.numpy as fnp
from fnn.backend import batch_split, buffers
from tests.transforms.fuzz_programs import Program, programs

FUZZ_EXAMPLES = int(os.environ.get("FNN_FUZZ_EXAMPLES") or 0)
FUZZ_SEED = os.environ.get("FNN_FUZZ_SEED")

# Normwise tolerances: max |actual - expected| <= RTOL * max(1, max |expected|). jit and
# vmap may sum in another order than eager code (einsum paths, fused products).
RTOL = {"float32": 2e-4, "float64": 1e-9}
KINK_GAP = 1e-3  # inputs nearer a kink than this are skipped
MAX_VALUE = 1e3  # inputs at which some value exceeds this are skipped
FD_STEP = 1e-6
BATCH = 4  # a batch split needs 2 rows per thread


def fuzz(ci_examples: int):
    """Hypothesis settings for one fuzz test: ``ci_examples`` derandomized examples, or
    ``FNN_FUZZ_EXAMPLES`` (seeded by ``FNN_FUZZ_SEED`` if set)."""

    def decorate(test):
        test = settings(
            max_examples=FUZZ_EXAMPLES or ci_examples,
            deadline=None,
            database=None,
            report_multiple_bugs=False,  # shrink the first failure only
            # Shrinking a failure takes minutes: only in long runs. Unshrunk programs
            # print as source all the same.
            phases=list(Phase) if FUZZ_EXAMPLES else [Phase.explicit, Phase.generate],
            derandomize=FUZZ_SEED is None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )(test)
        return hypothesis_seed(int(FUZZ_SEED))(test) if FUZZ_SEED is not None else test

    return decorate


@pytest.fixture(params=["float32", "float64"])
def precision(request):
    """Runs the test in float32 and in float64 (x64), restoring the previous mode."""
    old = fnn.config.x64_enabled
    fnn.config.update("enable_x64", request.param == "float64")
    yield request.param
    fnn.config.update("enable_x64", old)


# jit is checked in each of these modes. The programs here are small, and jit's
# thresholds are set for large arrays: by default only temporaries of 16 KiB or more get
# arena slots reused across calls, only tall-and-skinny matrices of 1024 rows or more are
# laid out column-major, and only a batch of 4M elements or more is split over threads.
# The other modes lower those thresholds (performance heuristics: jit must be right with
# any of them) so that small programs take the same paths; "unoptimized" plans buffers
# for the jaxpr as traced (jit(f, optimize=False): dead and duplicate values kept).
JIT_MODES = {
    "default": {},
    "arena_every_temporary": {(buffers, "MIN_SLOT_BYTES"): 0},
    "column_major": {(buffers, "MIN_SLOT_BYTES"): 0, (buffers, "TALL_MIN_ROWS"): 2},
    "batch_split": {(batch_split, "MIN_MAPPED_ELEMENTS"): 0, (fnn.config, "jit_threads"): 2},
    "unoptimized": {(buffers, "MIN_SLOT_BYTES"): 0},
}


@contextlib.contextmanager
def jit_mode(name: str):
    """Compile under ``JIT_MODES[name]`` (module constants and config), then restore."""
    saved = {key: getattr(*key) for key in JIT_MODES[name]}
    try:
        for (owner, attr), value in JIT_MODES[name].items():
            if owner is fnn.config:
                fnn.config.update(attr, value)
            else:
                setattr(owner, attr, value)
        yield
    finally:
        for (owner, attr), value in saved.items():
            if owner is fnn.config:
                fnn.config.update(attr, value)
            else:
                setattr(owner, attr, value)


@pytest.fixture
def x64():
    old = fnn.config.x64_enabled
    fnn.config.update("enable_x64", True)
    yield "float64"
    fnn.config.update("enable_x64", old)


# ---------------------------------------------------------------------------------------
# Checks, shared by the fuzz tests and the regression tests


def assert_close(actual, expected, precision: str, what: str) -> None:
    """Pytrees ``actual`` and ``expected`` agree leaf by leaf, normwise."""
    a_leaves, a_tree = fnn.tree_util.tree_flatten(actual)
    e_leaves, e_tree = fnn.tree_util.tree_flatten(expected)
    assert a_tree == e_tree, f"{what}: structure {a_tree} != {e_tree}"
    for i, (a, e) in enumerate(zip(a_leaves, e_leaves, strict=True)):
        a, e = np.asarray(a), np.asarray(e)
        where = f"{what}, output {i}" if len(e_leaves) > 1 else what
        assert a.shape == e.shape, f"{where}: shape {a.shape} != {e.shape}"
        assert a.dtype == e.dtype, f"{where}: dtype {a.dtype} != {e.dtype}"
        if a.size == 0:
            continue
        err = float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64))))
        tol = RTOL[precision] * max(1.0, float(np.max(np.abs(e))))
        assert err <= tol, f"{where}: max abs difference {err:.3g} > {tol:.3g}"


def check_jit(f, calls, expected, precision: str, what: str) -> list[str]:
    """In every mode of ``JIT_MODES``, ``jit(f)`` is called on each argument list of
    ``calls`` in turn (one compilation; later calls reuse the arena of the first):
    each result equals ``expected[k]`` (``f(*calls[k])``) right away and again after
    the last call, and no argument is modified. Returns the modes whose program was
    split over the batch."""
    before = [[np.array(x, copy=True) for x in fnn.tree_util.tree_leaves(xs)] for xs in calls]
    split = []
    for mode in JIT_MODES:
        jf = fnn.jit(f, optimize=mode != "unoptimized")
        where = f"{what} [jit mode {mode}]"
        results = []
        for k, xs in enumerate(calls):
            try:
                with jit_mode(mode) if k == 0 else contextlib.nullcontext():
                    results.append(jf(*xs))
            except Exception as e:  # jit_check's errors, numpy's: say where
                raise AssertionError(f"{where}, call {k + 1}: {type(e).__name__}: {e}") from e
            assert_close(results[k], expected[k], precision, f"{where}, call {k + 1}")
        if jf.lower(*calls[0]).fn.split is not None:
            split.append(mode)
        for k, result in enumerate(results[:-1]):
            after = f"{where}, call {k + 1}'s result after call {len(calls)}"
            assert_close(result, expected[k], precision, after)
        for k, xs in enumerate(calls):
            leaves = fnn.tree_util.tree_leaves(xs)
            for i, (x, b) in enumerate(zip(leaves, before[k], strict=True)):
                assert np.array_equal(np.asarray(x), b), f"{where}: call {k + 1} modified input {i}"
    return split


def check_jit_grad(f, calls, argnums, precision: str) -> list[str]:
    grad_f = fnn.grad(f, argnums=argnums)
    expected = [grad_f(*xs) for xs in calls]
    return check_jit(grad_f, calls, expected, precision, "jit(grad(f))")


def check_finite_differences(f, xs, argnums, rng) -> None:
    """``<grad f, u>`` against ``(f(x + h u) - f(x - h u)) / 2h`` for two random unit
    directions ``u`` over the differentiated inputs (float64)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    grads = fnn.grad(f, argnums=argnums)(*xs)
    grads = [np.asarray(g) for g in ((grads,) if isinstance(argnums, int) else grads)]
    f0 = float(f(*xs))
    gnorm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    for direction in range(2):
        us = [rng.standard_normal(np.shape(xs[i])) for i in nums]
        norm = np.sqrt(sum(np.sum(u**2) for u in us))
        us = [u / norm for u in us]
        plus, minus = list(xs), list(xs)
        for i, u in zip(nums, us, strict=True):
            plus[i] = fnp.asarray(np.asarray(xs[i]) + FD_STEP * u)
            minus[i] = fnp.asarray(np.asarray(xs[i]) - FD_STEP * u)
        fd = (float(f(*plus)) - float(f(*minus))) / (2 * FD_STEP)
        dot = float(sum(np.vdot(g, u) for g, u in zip(grads, us, strict=True)))
        tol = 1e-6 * (gnorm + abs(f0)) + 1e-8
        assert abs(fd - dot) <= tol, (
            f"grad(f) . u = {dot!r} but finite differences give {fd!r} "
            f"(direction {direction}, |grad| {gnorm:.3g}, tolerance {tol:.3g})"
        )


def check_vmap(f, batches, in_axes, precision: str, what: str) -> list[str]:
    """``vmap(f)`` and ``jit(vmap(f))`` against a loop over the examples, for each
    batch of ``batches`` (jit: called on each in turn)."""
    expected = []
    for xs_batched in batches:
        sizes = {np.shape(x)[a] for x, a in zip(xs_batched, in_axes, strict=True) if a is not None}
        (batch,) = sizes
        outs = [f(*example(xs_batched, in_axes, b)) for b in range(batch)]
        expected.append(fnn.tree_util.tree_map(lambda *leaves: fnp.stack(leaves), *outs))
    vf = fnn.vmap(f, in_axes=in_axes)
    for xs_batched, e in zip(batches, expected, strict=True):
        assert_close(vf(*xs_batched), e, precision, f"vmap({what})")
    return check_jit(vf, batches, expected, precision, f"jit(vmap({what}))")


def example(xs_batched, in_axes, b):
    return [
        x if a is None else fnp.asarray(np.take(np.asarray(x), b, axis=a))
        for x, a in zip(xs_batched, in_axes, strict=True)
    ]


# ---------------------------------------------------------------------------------------
# The fuzz tests


def usable(prog: Program, xs, *, smooth: bool) -> None:
    """Skips inputs with huge values, or nearer a kink than ``KINK_GAP`` (exact ties are
    fine where ``smooth`` is False: both sides compute the same tie)."""
    gap, largest = prog.margin(xs)
    assume(np.isfinite(largest) and largest < MAX_VALUE)
    assume(gap >= KINK_GAP or (gap == 0.0 and not smooth))


def count_splits(split_modes) -> None:
    """Tells ``--hypothesis-show-statistics`` how often jit split a program."""
    event("jit split a program over its batch" if split_modes else "no batch split")


def show(prog: Program, check: str) -> None:
    note(f"check: {check}\nprogram:{prog!r}")


def argument_lists(prog: Program, *, smooth: bool = False) -> list:
    """The program's inputs, other inputs, then its inputs again: jit's second call sees
    new values in the arena, its third the first call's values."""
    xs, ys = prog.inputs(), prog.inputs(seed=prog.seed + 7919)
    usable(prog, xs, smooth=smooth)
    usable(prog, ys, smooth=smooth)
    return [xs, ys, xs]


def batches(prog: Program) -> list:
    """Like ``argument_lists``, batches of ``BATCH`` examples along ``prog.in_axes``; an
    input with in_axes None is the same in every example of a batch."""
    out = []
    for start in (0, BATCH):
        per_example = [prog.inputs(seed=prog.seed + start + b) for b in range(BATCH)]
        per_example = [
            [x0 if a is None else x for x0, x, a in zip(per_example[0], xs, prog.in_axes)]
            for xs in per_example
        ]
        for xs in per_example:
            usable(prog, xs, smooth=False)
        out.append(
            [
                xs[0] if a is None else fnp.stack(xs, axis=a)
                for xs, a in zip(zip(*per_example, strict=True), prog.in_axes, strict=True)
            ]
        )
    return [out[0], out[1], out[0]]


@fuzz(ci_examples=30)
@given(prog=programs())
def test_jit_matches_eager(precision, prog):
    calls = argument_lists(prog)
    show(prog, "jit(f) == f, jit(f_with_sinks) == f_with_sinks")
    split = []
    for f, name in [(prog.function(), "f"), (prog.function_with_sinks(), "f_with_sinks")]:
        split += check_jit(f, calls, [f(*xs) for xs in calls], precision, f"jit({name})")
    count_splits(split)


@fuzz(ci_examples=30)
@given(prog=programs())
def test_jit_grad_matches_grad(precision, prog):
    calls = argument_lists(prog)
    show(prog, f"jit(grad(f, argnums={prog.argnums!r})) == grad(f, argnums={prog.argnums!r})")
    count_splits(check_jit_grad(prog.function(), calls, prog.argnums, precision))


@fuzz(ci_examples=30)
@given(prog=programs())
def test_grad_matches_finite_differences(x64, prog):
    xs = prog.inputs()
    usable(prog, xs, smooth=True)
    show(prog, f"grad(f, argnums={prog.argnums!r}) against central finite differences")
    check_finite_differences(prog.function(), xs, prog.argnums, np.random.default_rng(prog.seed))


@fuzz(ci_examples=20)
@given(prog=programs())
def test_vmap_matches_loop(precision, prog):
    calls = batches(prog)
    show(prog, f"vmap(f, in_axes={prog.in_axes!r}), also of grad(f, argnums={prog.argnums!r})")
    f = prog.function()
    split = check_vmap(f, calls, prog.in_axes, precision, "f")
    grad_f = fnn.grad(f, argnums=prog.argnums)
    split += check_vmap(grad_f, calls, prog.in_axes, precision, "grad(f)")
    count_splits(split)


# ---------------------------------------------------------------------------------------
# Regression tests: programs the fuzz found, minimised


def _inputs(seed, *shapes):
    r = np.random.default_rng(seed)
    return [fnp.asarray(r.standard_normal(s) * 0.8) for s in shapes]


def test_jit_grad_of_concatenate_split_einsum_after_at_add(precision):
    """jit's buffer planner gave a wrong gradient here (max abs difference 5.49): it
    donated x0's buffer while the view x0[..., 0] was still live (issue #19, 13719cf)."""

    def f(x0, x1):
        v2 = x0.at[..., -1].add(x0[..., 0])
        v3 = fnp.minimum(x1, v2 - 0.05)
        v4 = fnp.split(fnp.concatenate([x1, x0], axis=-1), 2, axis=-1)[1] * x1
        v5 = fnp.einsum("...ij,...kj->...ik", v3, v4) @ v3 / 4.0
        out = (v5 * v5 + 1.0) ** 1.5
        return fnp.sum(out * fnp.cos(out)) + 0.1 * fnp.sum(v2**2)

    x0, x1 = _inputs(285, (4, 4), (4, 4))
    check_jit_grad(f, [[x0, x1]] * 2, 0, precision)


def test_jit_of_batched_matrix_times_vector_through_an_arena_slot(precision):
    """x0 @ x1 with x0 (2, 4, 4) and x1 (4,) is one (8, 4) @ (4, 1) matmul reshaped to
    (2, 4); its short-and-wide (2, 4) arena slot was Fortran-ordered, so the reshape of
    the slot in ``_matmul_into`` copied it and the product never reached the slot: jit
    returned uninitialised memory (max abs difference 0.017 here, 0.1 in float64)."""

    def f(x0, x1):
        v2 = fnp.stack([x0, x0], axis=-1)
        v3 = x0 @ x1 / 4.0
        return fnp.sum(v2 @ v3)

    x0, x1 = _inputs(0, (2, 4, 4), (4,))
    check_jit(f, [[x0, x1]] * 2, [f(x0, x1)] * 2, precision, "jit(f)")
    check_jit_grad(f, [[x0, x1]] * 2, 0, precision)


def test_jit_of_batched_matrix_times_vector_into_a_default_arena_slot():
    """The same bug at sizes the default arena gives a slot (16 KiB and more)."""

    def f(x0, x1, w):
        v = x0 @ x1 / 4.0  # (2, 4096): a short-and-wide temporary
        return w @ v

    x0, x1, w = _inputs(0, (2, 4096, 4), (4,), (3, 2))
    check_jit(f, [[x0, x1, w]] * 2, [f(x0, x1, w)] * 2, "float32", "jit(f)")


@pytest.fixture
def checking_mode():
    old = fnn.config.jit_check
    fnn.config.update("jit_check", True)
    yield
    fnn.config.update("jit_check", old)


def test_jit_check_lets_a_dead_values_slot_be_reused(checking_mode):
    """Without optimization ``sin(x0)`` stays in the program though nothing reads it,
    and the planner rightly gives its arena slot to the next value, ``sin(v2)``.
    jit_check kept a value that nothing reads live to the end of the call and failed:
    "output t9 shares memory with t8, which is still live, and the lowering declares
    this equation 'fresh'" (the fuzz's "unoptimized" mode under FNN_JIT_CHECK=1; fixed
    in 08913a6)."""

    def f(x0):
        v2 = x0.at[-1].add(x0[-1])
        fnp.sin(x0)  # dead: kept only without optimization
        return fnp.sum(fnp.sin(v2))

    (x0,) = _inputs(0, (2, 4, 4))
    with jit_mode("arena_every_temporary"):
        jf = fnn.jit(f, optimize=False)
        assert_close(jf(x0), f(x0), "float32", "jit(f, optimize=False)")
