"""Forward mode: push tangents through a function alongside its values.

Each primitive registers ``fnn.rules.jvp_rules[prim](primals, tangents, **params) ->
(primal_out, tangent_out)``. Tangents may be the symbolic ``Zero``, so that inputs
which do not depend on the differentiated variables cost nothing (a PINN's
parameters when differentiating with respect to x, for instance). Rules are
written with fnn operations, so they are differentiable again.
"""

from __future__ import annotations

from fnn import core
from fnn.core import Trace, Tracer
from fnn.lax.structural import instantiate
from fnn.rules import Zero, jvp_rules
from fnn.transforms.custom_lin import custom_lin_p

__all__ = ["JVPTrace", "JVPTracer", "jvp_flat"]


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return core.get_aval(self.primal)

    def concrete_value(self):
        p = self.primal
        if isinstance(p, Tracer):
            return p.concrete_value()
        return core._to_numpy(p)


class JVPTrace(Trace):
    __slots__ = ()

    def pure(self, val):
        return JVPTracer(self, val, Zero(core.get_aval(val)))

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        if all(type(t) is Zero for t in tangents):
            out = primitive.bind(*primals, **params)
            if primitive.multiple_results:
                return [JVPTracer(self, o, Zero(core.get_aval(o))) for o in out]
            return JVPTracer(self, out, Zero(core.get_aval(out)))
        rule = jvp_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(f"forward-mode differentiation of '{primitive}'")
        primal_out, tangent_out = rule(primals, tangents, **params)
        if primitive.multiple_results:
            return [JVPTracer(self, p, t) for p, t in zip(primal_out, tangent_out, strict=True)]
        return JVPTracer(self, primal_out, tangent_out)

    def process_custom_jvp_call(self, fun, jvp, tracers):
        primals = [t.primal for t in tracers]
        tangents = [instantiate(t.tangent) for t in tracers]
        primals_out, tangents_out = jvp(primals, tangents)
        return [JVPTracer(self, p, t) for p, t in zip(primals_out, tangents_out, strict=True)]

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_holder):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        primals_out, residuals = fwd(*primals)
        out_avals = [core.get_aval(p) for p in primals_out]
        if all(type(t) is Zero for t in tangents):
            return [
                JVPTracer(self, p, Zero(a)) for p, a in zip(primals_out, out_avals, strict=True)
            ]
        tangents_in = [instantiate(t) for t in tangents]
        tangents_out = custom_lin_p.bind(
            *residuals,
            *tangents_in,
            num_res=len(residuals),
            bwd=bwd,
            out_avals=tuple(out_avals),
        )
        return [JVPTracer(self, p, t) for p, t in zip(primals_out, tangents_out, strict=True)]


def jvp_flat(fun, primals, tangents, instantiate_out: bool = True):
    """Forward mode on flat lists: returns (primals_out, tangents_out)."""
    with core.new_main(JVPTrace) as main:
        trace = JVPTrace(main)
        tracers_in = [JVPTracer(trace, x, t) for x, t in zip(primals, tangents, strict=True)]
        outs = fun(*tracers_in)
        tracers_out = [core.full_raise(trace, o) for o in outs]
        primals_out = [core.ensure_array(core.full_lower(t.primal)) for t in tracers_out]
        tangents_out = [t.tangent for t in tracers_out]
    if instantiate_out:
        tangents_out = [core.ensure_array(core.full_lower(instantiate(t))) for t in tangents_out]
    return primals_out, tangents_out
