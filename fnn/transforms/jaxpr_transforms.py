"""Transforms of whole jaxprs, used by the rules of primitives that hold sub-programs
(cond, scan, while_loop): each returns a *closed* jaxpr ``(jaxpr, consts)`` whose
constants are hoisted to leading inputs (``fnn.jaxpr.trace_closed``), so a primitive
can pass them as ordinary operands.
"""

from __future__ import annotations

from collections.abc import Sequence

from fnn import core
from fnn.core import ShapedArray
from fnn.jaxpr import Jaxpr, eval_jaxpr, hoist_consts, trace_closed
from fnn.lax.structural import instantiate
from fnn.transforms.batching import vmap_flat
from fnn.transforms.jvp import jvp_flat
from fnn.transforms.vjp import (
    PartialEvalTrace,
    PartialEvalTracer,
    backward_pass,
    tracers_to_jaxpr,
)

__all__ = ["jvp_jaxpr", "batch_jaxpr", "partial_eval_jaxpr", "transpose_jaxpr"]


def jvp_jaxpr(jaxpr: Jaxpr):
    """``(*primals, *tangents) -> (*primals_out, *tangents_out)``, every tangent instantiated."""
    avals = jaxpr.in_avals
    n = len(avals)

    def f(*args):
        primals, tangents = args[:n], args[n:]
        out, t_out = jvp_flat(lambda *p: eval_jaxpr(jaxpr, [], *p), list(primals), list(tangents))
        return list(out) + [instantiate(t) for t in t_out]

    return trace_closed(f, avals + avals, "jvp")


def _batched_aval(aval: ShapedArray, size: int, dim) -> ShapedArray:
    if dim is None:
        return aval
    shape = list(aval.shape)
    shape.insert(dim, size)
    return ShapedArray(shape, aval.dtype)


def batch_jaxpr(jaxpr: Jaxpr, size: int, in_dims):
    """The jaxpr vmapped over ``in_dims`` (None = unbatched) with every output batched at 0."""
    avals = [_batched_aval(a, size, d) for a, d in zip(jaxpr.in_avals, in_dims, strict=True)]
    n_out = len(jaxpr.outvars)

    def f(*args):
        return vmap_flat(
            lambda *a: eval_jaxpr(jaxpr, [], *a), size, list(in_dims), [0] * n_out, args
        )

    return trace_closed(f, avals, "vmap")


def partial_eval_jaxpr(jaxpr: Jaxpr, in_unknowns: Sequence[bool], instantiate: Sequence[bool]):
    """Split ``jaxpr`` into the part computable from known inputs and the rest.

    Returns ``(known, known_consts, unknown, out_unknowns, num_res)``: ``known`` maps the
    known inputs to the known outputs followed by ``num_res`` residuals; ``unknown`` maps
    ``(*residuals, *unknown_inputs)`` to the unknown outputs. Outputs flagged in
    ``instantiate`` are unknown even when computable.
    """
    known_avals = [a for a, u in zip(jaxpr.in_avals, in_unknowns, strict=True) if not u]
    store = {}

    def fun_known(*known_vals):
        with core.new_main(PartialEvalTrace) as main:
            trace = PartialEvalTrace(main)
            it = iter(known_vals)
            ins = [
                trace.new_arg(a) if u else PartialEvalTracer(trace, a, True, val=next(it))
                for a, u in zip(jaxpr.in_avals, in_unknowns, strict=True)
            ]
            outs = [core.full_raise(trace, o) for o in eval_jaxpr(jaxpr, [], *ins)]
            out_unk = [
                (not o.known) or bool(inst) for o, inst in zip(outs, instantiate, strict=True)
            ]
            known_outs = [o.val for o, u in zip(outs, out_unk, strict=True) if not u]
            unk_outs = [trace.instantiate_const(o) for o, u in zip(outs, out_unk, strict=True) if u]
            unk_ins = [t for t, u in zip(ins, in_unknowns, strict=True) if u]
            jaxpr_unk, residuals = tracers_to_jaxpr(unk_ins, unk_outs)
        store["unknown"] = hoist_consts(jaxpr_unk)
        store["out_unknowns"] = out_unk
        store["num_res"] = len(residuals)
        return known_outs + list(residuals)

    known, known_consts = trace_closed(fun_known, known_avals, "known")
    return known, known_consts, store["unknown"], store["out_unknowns"], store["num_res"]


def transpose_jaxpr(jaxpr: Jaxpr, linear: Sequence[bool]):
    """``(*nonlinear_inputs, *cts_out) -> cts of the linear inputs`` (zeros instantiated)."""
    nonlin_vars = [v for v, lin in zip(jaxpr.invars, linear, strict=True) if not lin]
    lin_vars = [v for v, lin in zip(jaxpr.invars, linear, strict=True) if lin]
    view = Jaxpr(nonlin_vars, lin_vars, jaxpr.eqns, jaxpr.outvars)
    n_nonlin = len(nonlin_vars)

    def f(*args):
        cts = backward_pass(view, list(args[:n_nonlin]), list(args[n_nonlin:]))
        return [instantiate(c) for c in cts]

    avals = [v.aval for v in nonlin_vars] + jaxpr.out_avals
    return trace_closed(f, avals, "transpose")
