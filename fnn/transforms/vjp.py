"""Reverse mode: linearize (JVP + partial evaluation), then transpose.

``linearize_flat`` runs the JVP of a function with known primals and unknown
tangents under a partial-evaluation trace: everything that depends only on primals
is computed now (the residuals), everything that touches a tangent is recorded into
a *linear* jaxpr. ``backward_pass`` runs that jaxpr backwards with each primitive's
``fnn.rules.transpose_rules`` entry. Both phases bind ordinary primitives, so reverse mode
nests inside any other transform (``grad(grad(f))``, ``jacfwd(jacrev(f))``).
"""

from __future__ import annotations

from typing import Any

from fnn import core
from fnn.core import Trace, Tracer
from fnn.jaxpr import Jaxpr, JaxprEqn, Literal, Var, source_line, user_source_line
from fnn.lax.elementwise import add_any
from fnn.lax.structural import instantiate
from fnn.rules import (
    UndefinedPrimal,
    Zero,
    is_undefined_primal,
    partial_eval_rules,
    transpose_rules,
)
from fnn.transforms.jvp import jvp_flat

__all__ = ["PartialEvalTrace", "PartialEvalTracer", "linearize_flat", "vjp_flat", "backward_pass"]


# ----------------------------------------------------------------------------------------
# Partial evaluation


class EqnRecipe:
    __slots__ = ("prim", "in_tracers", "params", "out_avals", "out_vars", "source")

    def __init__(self, prim, in_tracers, params, out_avals):
        self.prim = prim
        self.in_tracers = in_tracers
        self.params = params
        self.out_avals = out_avals
        self.out_vars = None
        self.source = user_source_line()


_LAMBDA = "lambda"
_CONST = "const"
_EQN = "eqn"


class PartialEvalTracer(Tracer):
    """Known (holds a value) or unknown (holds the recipe that computes it)."""

    __slots__ = ("_aval", "known", "val", "recipe", "index", "_unknown_copy")

    def __init__(self, trace, aval, known, val=None, recipe=None, index=0):
        self._trace = trace
        self._aval = aval
        self.known = known
        self.val = val
        self.recipe = recipe
        self.index = index
        self._unknown_copy = None

    @property
    def aval(self):
        return self._aval

    def full_lower(self):
        if self.known:
            return core.full_lower(self.val)
        return self

    def concrete_value(self):
        if self.known:
            v = self.val
            return v.concrete_value() if isinstance(v, Tracer) else core._to_numpy(v)
        return None


class PartialEvalTrace(Trace):
    __slots__ = ()

    def pure(self, val):
        return PartialEvalTracer(self, core.get_aval(val), True, val=val)

    lift = pure

    def new_arg(self, aval) -> PartialEvalTracer:
        return PartialEvalTracer(self, aval, False, recipe=_LAMBDA)

    def instantiate_const(self, t: PartialEvalTracer) -> PartialEvalTracer:
        if not t.known:
            return t
        if t._unknown_copy is None:
            t._unknown_copy = PartialEvalTracer(self, t.aval, False, val=t.val, recipe=_CONST)
        return t._unknown_copy

    def process_primitive(self, primitive, tracers, params):
        if all(t.known for t in tracers):
            return primitive.bind(*[t.val for t in tracers], **params)
        rule = partial_eval_rules.get(primitive)
        if rule is not None:
            return rule(self, tracers, **params)
        return self.default_process(primitive, tracers, params)

    def default_process(self, primitive, tracers, params):
        tracers_in = [self.instantiate_const(t) for t in tracers]
        avals_out = primitive.abstract_eval(*[t.aval for t in tracers_in], **params)
        if not primitive.multiple_results:
            avals_out = [avals_out]
        recipe = EqnRecipe(primitive, tracers_in, params, avals_out)
        outs = [
            PartialEvalTracer(self, a, False, recipe=recipe, index=i)
            for i, a in enumerate(avals_out)
        ]
        return outs if primitive.multiple_results else outs[0]


def tracers_to_jaxpr(in_tracers, out_tracers) -> tuple[Jaxpr, list]:
    """Build the jaxpr of the unknown computation from the recipes of ``out_tracers``."""
    tracer_var: dict[int, Var] = {}
    for t in in_tracers:
        tracer_var[id(t)] = Var(t.aval)
    constvars, consts, eqns = [], [], []
    for t in _toposort(out_tracers):
        if id(t) in tracer_var:
            continue
        if t.recipe == _CONST:
            v = tracer_var[id(t)] = Var(t.aval)
            constvars.append(v)
            consts.append(t.val)
        elif t.recipe == _LAMBDA:
            raise core.UnexpectedTracerError(
                "an input of an inner linearization was used outside it (a leaked tracer)"
            )
        else:
            r: EqnRecipe = t.recipe
            if r.out_vars is None:
                r.out_vars = [Var(a) for a in r.out_avals]
                ins = [tracer_var[id(x)] for x in r.in_tracers]
                eqns.append(JaxprEqn(r.prim, ins, r.params, r.out_vars, r.source))
            tracer_var[id(t)] = r.out_vars[t.index]
    outvars = [tracer_var[id(t)] for t in out_tracers]
    jaxpr = Jaxpr(constvars, [tracer_var[id(t)] for t in in_tracers], eqns, outvars)
    return jaxpr, consts


def _parents(t: PartialEvalTracer):
    return t.recipe.in_tracers if isinstance(t.recipe, EqnRecipe) else ()


def _toposort(out_tracers):
    """Tracers in dependency order (iterative: deep networks exceed recursion limits)."""
    order, visited = [], set()
    for root in out_tracers:
        if id(root) in visited:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for p in reversed(_parents(node)):
                if id(p) not in visited:
                    stack.append((p, False))
    return order


def linearize_flat(fun, primals):
    """Returns ``(primals_out, linear_jaxpr, residuals)``; the jaxpr maps tangents in to out."""
    with core.new_main(PartialEvalTrace) as main:
        trace = PartialEvalTrace(main)
        tangents_in = [trace.new_arg(core.get_aval(p)) for p in primals]
        primals_out, tangents_out = jvp_flat(fun, primals, tangents_in, instantiate_out=False)
        tangents_out = [
            trace.instantiate_const(core.full_raise(trace, instantiate(t))) for t in tangents_out
        ]
        jaxpr, consts = tracers_to_jaxpr(tangents_in, tangents_out)
    return primals_out, jaxpr, consts


# ----------------------------------------------------------------------------------------
# Transposition


def backward_pass(jaxpr: Jaxpr, consts, cts_out) -> list:
    """Cotangents of the linear inputs of ``jaxpr`` given cotangents of its outputs."""
    primal_env: dict[Var, Any] = dict(zip(jaxpr.constvars, consts, strict=True))
    ct_env: dict[Var, Any] = {}

    def read_primal(x):
        if type(x) is Literal:
            return x.val
        if x in primal_env:
            return primal_env[x]
        return UndefinedPrimal(x.aval)

    def write_ct(v, ct):
        if type(v) is Literal or ct is None or type(ct) is Zero or v in primal_env:
            return
        prev = ct_env.get(v)
        ct_env[v] = ct if prev is None else add_any(prev, ct)

    # Equations on non-linear values only (residual arithmetic) are evaluated forward.
    linear_eqns = []
    for eqn in jaxpr.eqns:
        if all(type(x) is Literal or x in primal_env for x in eqn.inputs):
            outs = core.bind(eqn.primitive, *[read_primal(x) for x in eqn.inputs], **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            primal_env.update(zip(eqn.out_binders, outs, strict=True))
        else:
            linear_eqns.append(eqn)
    for v, ct in zip(jaxpr.outvars, cts_out, strict=True):
        write_ct(v, ct)
    for eqn in reversed(linear_eqns):
        cts = [ct_env.pop(v, None) for v in eqn.out_binders]
        if all(c is None for c in cts):
            continue
        primals_in = [read_primal(x) for x in eqn.inputs]
        rule = transpose_rules.get(eqn.primitive)
        if rule is None:
            raise NotImplementedError(f"reverse-mode differentiation of '{eqn.primitive}'")
        with source_line(eqn.source):  # the backward pass of a line is staged as that line
            if eqn.primitive.multiple_results:
                cts = [
                    instantiate(Zero(v.aval)) if c is None else c
                    for c, v in zip(cts, eqn.out_binders, strict=True)
                ]
                cts_in = rule(cts, *primals_in, **eqn.params)
            else:
                cts_in = rule(cts[0], *primals_in, **eqn.params)
        for x, ct in zip(eqn.inputs, cts_in, strict=True):
            if type(x) is Var and is_undefined_primal(read_primal(x)):
                write_ct(x, ct)
    return [ct_env.get(v, Zero(v.aval)) for v in jaxpr.invars]


def vjp_flat(fun, primals):
    """Returns ``(primals_out, f_vjp)`` where ``f_vjp(cts_out) -> cts_in`` (flat lists)."""
    primals_out, jaxpr, consts = linearize_flat(fun, primals)

    def f_vjp(cts_out):
        cts_in = backward_pass(jaxpr, consts, cts_out)
        return [core.ensure_array(core.full_lower(instantiate(c))) for c in cts_in]

    return primals_out, f_vjp, jaxpr
