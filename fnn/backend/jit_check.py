"""jit's checking mode: every compiled program also checked against the eager impls.

``fnn.config.update("jit_check", True)`` (or ``FNN_JIT_CHECK=1`` in the environment)
makes ``codegen.compile_jaxpr`` emit an instrumented program. Around every equation it

* checks that each input still holds the bits it had when it was produced (a buffer
  reused while a value in it was live shows up here, at the first read after);
* recomputes the equation with its primitive's eager ``impl`` on the same inputs and
  compares the results (NaN where the impl has NaN, values to a tolerance, since the
  generated call may be a different but equivalent numpy call);
* checks that the output shares memory with no live value its lowering did not declare:
  a view may share its first input's memory, an equation of unknown lowering any
  input's, an allocating one nobody's. Dead values' buffers may be reused.

At the end of a call it checks that the arguments were not modified and that no output
lies in the arena, where the next call would overwrite it. A batch-split program is
checked in each of its parts (every part is a compiled program of its own).

Outputs are not compared with an eager run of the whole program: the passes and the
batch split reorder floating-point sums, and a value that cancels to rounding noise (the
gradient of a bias before batch norm) then differs entirely, without being wrong.

A failed check raises :class:`JitCheckError` naming the equation. The mode is for tests
and debugging: it copies every intermediate and runs each equation twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnn.jaxpr import Jaxpr, Literal, Var

__all__ = ["JitCheckError", "ProgramChecker", "values_agree"]


class JitCheckError(AssertionError):
    """A compiled program disagreed with the eager impls or broke its memory plan."""


def _tolerance(dtype) -> float:
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return 0.0
    return 1e-3 if dtype.itemsize <= 4 * (2 if dtype.kind == "c" else 1) else 1e-9


def values_agree(got, want, scale: float | Callable[[], float] = 0.0) -> str | None:
    """None when ``got`` matches ``want`` (same shape, NaN where it has NaN, infinities
    equal, finite values close relative to the larger of the array's scale and
    ``scale``: a sum that cancels keeps the rounding of its terms); else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape == want.shape and got.dtype == want.dtype:
        if np.array_equal(got, want):
            return None  # the common case, one pass (NaNs take the slower path below)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    tol = _tolerance(want.dtype)
    if tol == 0.0:
        if not np.array_equal(got, want):
            bad = int(np.sum(got != want))
            return f"{bad} of {want.size} elements differ"
        return None
    g_nan, w_nan = np.isnan(got), np.isnan(want)
    if not np.array_equal(g_nan, w_nan):
        return f"NaN at {int(np.sum(g_nan))} elements, eager has {int(np.sum(w_nan))}"
    g_inf, w_inf = np.isinf(got), np.isinf(want)
    if not np.array_equal(got[g_inf | w_inf], want[g_inf | w_inf]):
        return "infinities differ"
    finite = ~(w_nan | w_inf)
    if not finite.any():
        return None
    g, w = got[finite], want[finite]
    scale = max(float(np.max(np.abs(w))), scale() if callable(scale) else scale)
    err = np.abs(g - w)
    ok = err <= tol * (np.abs(w) + scale) + np.finfo(want.dtype).tiny
    if not ok.all():
        k = int(np.argmax(err))
        return (
            f"max abs difference {float(err[k]):.3g} (jit {g[k]!r}, eager {w[k]!r}) at "
            f"{int(np.sum(~ok))} of {want.size} elements"
        )
    return None


def _root(a: np.ndarray):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a if a.base is None else a.base


class ProgramChecker:
    """The checks of one compiled program; ``begin(consts, args, arena)`` starts a call's.

    ``names`` maps each variable to its name in the generated code; ``declared[i]`` is
    what equation i's lowering says its result may share (``fnn.lowering``)."""

    def __init__(self, jaxpr: Jaxpr, names: dict, declared: Sequence[str]):
        self.jaxpr = jaxpr
        self.names = names  # Var -> name in the generated code
        self.declared = declared  # per equation: "view", "fresh" or "unknown"
        n = len(jaxpr.eqns)
        self.last_use: dict[Var, int] = {}
        for i, eqn in enumerate(jaxpr.eqns):
            for x in eqn.inputs:
                if type(x) is Var:
                    self.last_use[x] = i
        for x in jaxpr.outvars:
            if type(x) is Var:
                self.last_use[x] = n + 1
        for v in jaxpr.invars + jaxpr.constvars:
            self.last_use[v] = n + 1  # the caller's memory: never to be written

    def begin(self, consts: Sequence, args: Sequence, arena: list | None = None) -> _Call:
        return _Call(self, consts, args, arena)

    def describe(self, i: int) -> str:
        eqn = self.jaxpr.eqns[i]
        outs = ", ".join(self.names[v] for v in eqn.out_binders)
        ins = ", ".join("literal" if type(x) is Literal else self.names[x] for x in eqn.inputs)
        shapes = ", ".join(v.aval.str_short() for v in eqn.out_binders)
        return f"equation {i} `{outs} = {eqn.primitive.name}({ins})` -> {shapes}"


class _Call:
    """The state of one checked call: snapshots of live values and their roots."""

    def __init__(self, checker: ProgramChecker, consts, args, arena):
        self.c = checker
        self.arena = arena
        self.snap: dict[Var, bytes] = {}
        self.roots: dict[Var, frozenset] = {}  # the declared memory each value may see
        self.live: dict[Var, Any] = {}
        jaxpr = checker.jaxpr
        self.args = list(args)
        self.arg_copies = [np.array(a, copy=True) for a in args]
        for v, x in zip(jaxpr.constvars, consts, strict=True):
            self._record(v, x, frozenset([v]))
        for v, x in zip(jaxpr.invars, args, strict=True):
            self._record(v, x, frozenset([v]))
        # Arguments that the caller passed overlapping may share memory with each other.
        outer = list(jaxpr.constvars) + list(jaxpr.invars)
        for k, v in enumerate(outer):
            for w in outer[:k]:
                if _overlap(self.live[v], self.live[w]):
                    self.roots[v] = self.roots[v] | self.roots[w]
                    self.roots[w] = self.roots[v]
        self.expected: list | None = None

    def _record(self, v: Var, x, roots: frozenset) -> None:
        self.live[v] = x
        self.roots[v] = roots
        self.snap[v] = np.asarray(x).tobytes()

    def _fail(self, i: int, what: str):
        raise JitCheckError(f"fnn.jit check: {self.c.describe(i)}: {what}")

    def pre(self, i: int, ins: list) -> None:
        eqn = self.c.jaxpr.eqns[i]
        for x, val in zip(eqn.inputs, ins, strict=True):
            if type(x) is Var and np.asarray(val).tobytes() != self.snap[x]:
                self._fail(
                    i,
                    f"its input {self.c.names[x]} changed after it was computed (its buffer "
                    "was written while the value was still live)",
                )
        copies = [
            x if type(x) is Literal else np.array(v, copy=True) for x, v in zip(eqn.inputs, ins)
        ]
        vals = [x.val if type(x) is Literal else v for x, v in zip(eqn.inputs, copies)]
        self.inputs = vals
        outs = eqn.primitive.impl(*vals, **eqn.params)
        self.expected = list(outs) if eqn.primitive.multiple_results else [outs]

    def post(self, i: int, outs: list) -> None:
        eqn = self.c.jaxpr.eqns[i]
        inputs = self.inputs

        def scale():  # computed only when a result differs in its bits
            return max((_finite_scale(x) for x in inputs), default=0.0)

        for v, got, want in zip(eqn.out_binders, outs, self.expected, strict=True):
            problem = values_agree(got, np.asarray(want), scale)
            if problem:
                self._fail(i, f"output {self.c.names[v]} differs from the eager impl: {problem}")
        kind = self.c.declared[i]
        in_vars = [x for x in eqn.inputs if type(x) is Var]
        for x in in_vars:  # values read for the last time here are dead from now on
            if self.c.last_use.get(x, -1) <= i:
                self.live.pop(x, None)
        if kind == "view":
            shared = (
                self.roots.get(in_vars[0], frozenset())
                if eqn.inputs[:1] == in_vars[:1]
                else frozenset()
            )
        elif kind == "unknown":
            shared = frozenset().union(*(self.roots[x] for x in in_vars))
        else:
            shared = frozenset()
        for v, got in zip(eqn.out_binders, outs, strict=True):
            self._check_sharing(i, v, got, shared | {v})
            self._record(v, got, shared | {v})
            if v not in self.c.last_use:  # never read (no DCE ran): dead at once
                self.live.pop(v)

    def _check_sharing(self, i: int, v: Var, got, roots: frozenset) -> None:
        if not isinstance(got, np.ndarray) or got.size == 0:
            return
        for w, other in self.live.items():
            if w is v or not isinstance(other, np.ndarray) or roots & self.roots[w]:
                continue
            if _overlap(got, other):
                self._fail(
                    i,
                    f"output {self.c.names[v]} shares memory with {self.c.names[w]}, which is "
                    f"still live, and the lowering declares this equation {self.c.declared[i]!r}",
                )

    def end(self, outs: list) -> None:
        for k, (a, copy) in enumerate(zip(self.args, self.arg_copies, strict=True)):
            if np.asarray(a).tobytes() != copy.tobytes():
                raise JitCheckError(f"fnn.jit check: the program modified its argument {k}")
        for k, o in enumerate(outs):
            if not isinstance(o, np.ndarray):
                continue
            for buf in self.arena or ():
                if _overlap(o, buf):
                    raise JitCheckError(
                        f"fnn.jit check: output {k} lies in the program's buffer arena (the "
                        "next call would overwrite it)"
                    )


def _finite_scale(x) -> float:
    x = np.asarray(x)
    if x.dtype.kind not in "fc" or x.size == 0:
        return 0.0
    finite = np.abs(x[np.isfinite(x)])
    return float(finite.max()) if finite.size else 0.0


def _overlap(a, b) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.size == 0 or b.size == 0 or _root(a) is not _root(b):
        return False
    return bool(np.shares_memory(a, b))
