"""The IR: variables, equations and jaxprs; staging Python functions into jaxprs.

A jaxpr is a typed straight-line program::

    { lambda a:f32[3]; b:f32[3]. let
        c:f32[3] = mul b a
        d:f32[] = reduce_sum[axes=(0,)] c
      in (d) }

``constvars`` (before the ``;``) hold captured arrays, ``invars`` the arguments.
``trace_to_jaxpr(f, avals)`` stages ``f`` by running it on tracers under a dynamic
trace, so every primitive, even one on constants only, lands in the program.

Example:
    >>> from fnn.core import ShapedArray
    >>> import numpy as np
    >>> jaxpr, consts, _ = trace_to_jaxpr(lambda x: x * 2.0, [ShapedArray((3,), np.float32)])
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnn import core
from fnn.core import ShapedArray, Trace, Tracer

__all__ = [
    "Var",
    "Literal",
    "JaxprEqn",
    "Jaxpr",
    "eval_jaxpr",
    "trace_to_jaxpr",
    "pp_jaxpr",
    "trace_closed",
    "call_closed",
    "hoist_consts",
    "permute_jaxpr",
    "join_consts",
]


class Var:
    """A variable of a jaxpr; identity is the object itself."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in a jaxpr."""

    __slots__ = ("val", "aval")

    def __init__(self, val):
        self.val = np.asarray(val)
        self.aval = ShapedArray(self.val.shape, self.val.dtype)

    def __repr__(self):
        return f"Literal({self.val!r})"


class JaxprEqn:
    """``out_binders = primitive(*inputs, **params)``; ``source`` is the user's line that
    staged it (``"file.py:12 (loss)"``), where known."""

    __slots__ = ("primitive", "inputs", "params", "out_binders", "source")

    def __init__(self, primitive, inputs, params, out_binders, source=None):
        self.primitive = primitive
        self.inputs = list(inputs)
        self.params = dict(params)
        self.out_binders = list(out_binders)
        self.source = source

    def __repr__(self):
        return f"JaxprEqn({self.primitive.name})"


class Jaxpr:
    """A typed program: ``outvars = eqns(constvars, invars)``."""

    __slots__ = ("constvars", "invars", "eqns", "outvars")

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.eqns = list(eqns)
        self.outvars = list(outvars)

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def __repr__(self):
        return pp_jaxpr(self)

    __str__ = __repr__


class ClosedJaxpr:
    """A jaxpr with the values of its constvars."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)

    def __call__(self, *args):
        return eval_jaxpr(self.jaxpr, self.consts, *args)

    def __repr__(self):
        return pp_jaxpr(self.jaxpr)

    __str__ = __repr__


def eval_jaxpr(jaxpr: Jaxpr, consts, *args) -> list:
    """Run a jaxpr by binding each equation's primitive (so it runs under any trace)."""
    env: dict[Var, Any] = {}

    def read(x):
        return x.val if type(x) is Literal else env[x]

    for v, val in zip(jaxpr.constvars, consts, strict=True):
        env[v] = val
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"eval_jaxpr: expected {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, val in zip(jaxpr.invars, args, strict=True):
        env[v] = val
    for eqn in jaxpr.eqns:
        outs = core.bind(eqn.primitive, *[read(x) for x in eqn.inputs], **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        for v, val in zip(eqn.out_binders, outs, strict=True):
            env[v] = val
    # literals, constants and passed-through Python scalars come back as Arrays
    return [core.ensure_array(read(x)) for x in jaxpr.outvars]


def run_jaxpr_impls(jaxpr: Jaxpr, consts, *args) -> list:
    """Run a jaxpr on numpy values by calling each primitive's ``impl`` (no tracing).

    The eager path of control flow's bodies; under jit they are compiled instead.
    """
    env: dict[Var, Any] = dict(zip(jaxpr.constvars, consts, strict=True))
    env.update(zip(jaxpr.invars, args, strict=True))
    for eqn in jaxpr.eqns:
        vals = [x.val if type(x) is Literal else env[x] for x in eqn.inputs]
        outs = eqn.primitive.impl(*vals, **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        env.update(zip(eqn.out_binders, outs, strict=True))
    return [x.val if type(x) is Literal else env[x] for x in jaxpr.outvars]


# ----------------------------------------------------------------------------------------
# Staging: a dynamic trace that records every primitive into a jaxpr


_FNN_DIR = os.path.dirname(os.path.abspath(core.__file__)) + os.sep


_source_lines = threading.local()


@contextlib.contextmanager
def source_line(line: str | None):
    """Stage the primitives bound in this block as coming from ``line`` (the transpose of
    a forward equation keeps the forward equation's line)."""
    stack = _source_lines.__dict__.setdefault("stack", [])
    stack.append(line)
    try:
        yield
    finally:
        stack.pop()


def user_source_line() -> str | None:
    """The user's line staging a primitive now: ``"file.py:12 (function)"``, the
    innermost calling line outside fnn unless :func:`source_line` says otherwise."""
    stack = _source_lines.__dict__.get("stack")
    if stack and stack[-1] is not None:
        return stack[-1]
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_FNN_DIR) and not filename.startswith("<fnn"):
            name = os.path.basename(filename)
            return f"{name}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back
    return None


class _Builder:
    """Collects equations and constants while a function is staged."""

    __slots__ = ("eqns", "tracer_to_var", "const_tracers", "tracers", "fun_name")

    def __init__(self, fun_name: str | None = None):
        self.eqns: list[JaxprEqn] = []
        self.tracer_to_var: dict[int, Var] = {}
        self.const_tracers: dict[int, tuple[StagingTracer, Any]] = {}
        self.tracers: list[StagingTracer] = []
        self.fun_name = fun_name

    def new_tracer(self, trace, aval) -> StagingTracer:
        t = StagingTracer(trace, aval)
        self.tracers.append(t)
        self.tracer_to_var[id(t)] = Var(aval)
        return t

    def get_var(self, t: StagingTracer) -> Var:
        return self.tracer_to_var[id(t)]


class StagingTracer(Tracer):
    __slots__ = ("_aval",)

    def __init__(self, trace, aval):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self):
        return self._aval


class StagingTrace(Trace):
    """Records primitives into the builder held in ``main.global_data``."""

    __slots__ = ()

    def pure(self, val):
        builder: _Builder = self.main.global_data
        key = id(val)
        hit = builder.const_tracers.get(key)
        if hit is not None and hit[1] is val:
            return hit[0]
        aval = core.get_aval(val)
        t = builder.new_tracer(self, aval)
        builder.const_tracers[key] = (t, val)
        return t

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        builder: _Builder = self.main.global_data
        avals_in = [t.aval for t in tracers]
        avals_out = primitive.abstract_eval(*avals_in, **params)
        if not primitive.multiple_results:
            avals_out = [avals_out]
        outs = [builder.new_tracer(self, a) for a in avals_out]
        builder.eqns.append(
            JaxprEqn(
                primitive,
                [builder.get_var(t) for t in tracers],
                params,
                [builder.get_var(t) for t in outs],
                user_source_line(),
            )
        )
        return outs if primitive.multiple_results else outs[0]


def trace_to_jaxpr(fun, in_avals, fun_name: str | None = None):
    """Stage ``fun`` (taking and returning flat lists of arrays) into a jaxpr.

    Returns ``(jaxpr, consts, out_avals)``; scalar constants become literals.
    """
    builder = _Builder(fun_name)
    with core.new_main(StagingTrace, builder) as main:
        with core.new_dynamic(main):
            trace = StagingTrace(main)
            in_tracers = [builder.new_tracer(trace, a) for a in in_avals]
            outs = fun(*in_tracers)
            out_tracers = [core.full_raise(trace, o) for o in outs]
    invars = [builder.get_var(t) for t in in_tracers]
    outvars = [builder.get_var(t) for t in out_tracers]
    constvars, consts = [], []
    literal_of: dict[Var, Literal] = {}
    for t, val in builder.const_tracers.values():
        var = builder.get_var(t)
        if not isinstance(val, Tracer) and np.ndim(val) == 0:
            literal_of[var] = Literal(core._to_numpy(val))
        else:
            constvars.append(var)
            consts.append(val)
    if literal_of:
        for eqn in builder.eqns:
            eqn.inputs = [literal_of.get(x, x) if type(x) is Var else x for x in eqn.inputs]
        outvars = [literal_of.get(x, x) for x in outvars]
    jaxpr = Jaxpr(constvars, invars, builder.eqns, outvars)
    return jaxpr, consts, [o.aval for o in outvars]


# ----------------------------------------------------------------------------------------
# Pretty printing


class _Names:
    def __init__(self):
        self.names: dict[Var, str] = {}

    def __call__(self, v) -> str:
        if type(v) is Literal:
            return _literal_str(v.val)
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = _nth_name(len(self.names))
        return name


def _nth_name(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def _literal_str(val: np.ndarray) -> str:
    v = val.item()
    if isinstance(v, float):
        return f"{v:.8g}" + ("" if "." in f"{v:.8g}" or "e" in f"{v:.8g}" else ".0")
    return str(v)


def _param_str(v, names, indent) -> str:
    if isinstance(v, Jaxpr):
        return "\n" + _pp(v, names, indent + 4)
    if isinstance(v, ClosedJaxpr):
        return "\n" + _pp(v.jaxpr, names, indent + 4)
    if isinstance(v, tuple | list) and v and isinstance(v[0], Jaxpr | ClosedJaxpr):
        return "(" + ", ".join(_param_str(x, names, indent) for x in v) + ")"
    if isinstance(v, np.dtype):
        return v.name
    if callable(v) and hasattr(v, "__name__"):
        return v.__name__
    return repr(v)


def _pp(jaxpr: Jaxpr, names: _Names, indent: int = 0) -> str:
    pad = " " * indent

    def binders(vs):
        return " ".join(f"{names(v)}:{v.aval.str_short()}" for v in vs)

    head = f"{pad}{{ lambda {binders(jaxpr.constvars)}; {binders(jaxpr.invars)}. let"
    lines = [head]
    for eqn in jaxpr.eqns:
        outs = " ".join(f"{names(v)}:{v.aval.str_short()}" for v in eqn.out_binders)
        params = ""
        if eqn.params:
            items = [f"{k}={_param_str(v, names, indent)}" for k, v in eqn.params.items()]
            params = "[" + ", ".join(items) + "]"
        ins = " ".join(names(x) for x in eqn.inputs)
        lines.append(f"{pad}    {outs} = {eqn.primitive.name}{params} {ins}".rstrip())
    lines.append(f"{pad}  in ({', '.join(names(v) for v in jaxpr.outvars)}) }}")
    return "\n".join(lines)


def pp_jaxpr(jaxpr: Jaxpr) -> str:
    """The readable text of a jaxpr (one equation a line, shapes and params shown)."""
    return _pp(jaxpr, _Names())


# ----------------------------------------------------------------------------------------
# Closed jaxprs: (jaxpr, consts) with the consts hoisted to leading inputs, the form in
# which cond, scan and while_loop hold their sub-programs.


def hoist_consts(jaxpr: Jaxpr) -> Jaxpr:
    """The same program with its constvars turned into leading invars."""
    return Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.eqns, jaxpr.outvars)


def trace_closed(fun: Callable, in_avals: Sequence[ShapedArray], name=None):
    """Stage ``fun`` (flat lists in and out); returns ``(jaxpr, consts)`` with consts hoisted."""
    jaxpr, consts, _ = trace_to_jaxpr(fun, list(in_avals), name)
    return hoist_consts(jaxpr), consts


def call_closed(jaxpr: Jaxpr, consts, *args):
    return eval_jaxpr(jaxpr, [], *consts, *args)


def permute_jaxpr(jaxpr: Jaxpr, in_order: Sequence[int], out_order: Sequence[int]) -> Jaxpr:
    """The jaxpr with its inputs and outputs reordered (new position i takes old in_order[i])."""
    return Jaxpr(
        jaxpr.constvars,
        [jaxpr.invars[i] for i in in_order],
        jaxpr.eqns,
        [jaxpr.outvars[i] for i in out_order],
    )


def join_consts(closed: Sequence[tuple[Jaxpr, list]]):
    """Give several closed jaxprs one shared const list (each ignores the others' consts).

    Returns ``(jaxprs, consts)`` where every jaxpr takes ``(*consts, *args)``.
    """
    all_consts = [c for _, cs in closed for c in cs]
    out = []
    offset = 0
    for jaxpr, cs in closed:
        n = len(cs)
        own = jaxpr.invars[:n]
        rest = jaxpr.invars[n:]
        before = [Var(core.get_aval(c)) for c in all_consts[:offset]]
        after = [Var(core.get_aval(c)) for c in all_consts[offset + n :]]
        out.append(Jaxpr([], before + own + after + rest, jaxpr.eqns, jaxpr.outvars))
        offset += n
    return out, all_consts
