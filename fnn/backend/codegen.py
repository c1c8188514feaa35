"""jaxpr -> a Python function whose body is straight-line numpy calls.

Each primitive's lowering record (``fnn/lowering.py``) says how it is emitted: a numpy
ufunc, an expression from ``emit``, or a call of its ``impl`` through the generated
function's namespace. Ufunc calls may write into a dead input's buffer
(``np.add(a, b, out=a)``) when that buffer belongs to the program alone; other
temporaries with an ``out`` form live in an arena of buffers kept between calls
(``buffers.py``), which saves the allocation and the page faults of a fresh temporary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fnn import config, core
from fnn.backend import buffers, jit_check
from fnn.backend.program import Program
from fnn.jaxpr import Jaxpr, Literal, Var
from fnn.lowering import FRESH, VIEW, lowering_of

__all__ = ["compile_jaxpr"]


def _is_ufunc(eqn) -> bool:
    return lowering_of(eqn.primitive).ufunc is not None and not eqn.params


def _memory(eqn) -> str:
    return lowering_of(eqn.primitive).memory_of(eqn)


def compile_jaxpr(jaxpr: Jaxpr, consts, name: str = "compiled") -> Callable[..., list]:
    """Generate ``f(*args) -> list of numpy arrays`` computing ``jaxpr`` with numpy.

    Returns a :class:`Program` with the generated ``source``, its buffer ``plan`` and
    the ``arena`` of buffers it keeps between calls.
    """
    ns: dict[str, Any] = {"np": np}
    for eqn in jaxpr.eqns:
        ns.update(lowering_of(eqn.primitive).helpers)
    names: dict[Var, str] = {}
    counter = [0]

    def fresh(prefix="t"):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def ref(x) -> str:
        if type(x) is Literal:
            key = fresh("lit")
            ns[key] = x.val
            return key
        return names[x]

    for v, c in zip(jaxpr.constvars, consts, strict=True):
        names[v] = fresh("c")
        ns[names[v]] = core._to_numpy(c)
    args = []
    for v in jaxpr.invars:
        names[v] = fresh("a")
        args.append(names[v])

    def emit_into(eqn):
        emit = lowering_of(eqn.primitive).emit
        return emit is not None and emit(["_"] * len(eqn.inputs), eqn, "_out") is not None

    def can_write_out(i):
        eqn = jaxpr.eqns[i]
        return _is_ufunc(eqn) or emit_into(eqn)

    def column_major_out(i):
        eqn = jaxpr.eqns[i]
        return _is_ufunc(eqn) or lowering_of(eqn.primitive).fortran_out_for(eqn)

    def order_elementwise(eqn):
        # Loops elementwise over operands of its output's shape, keeping their order.
        low = lowering_of(eqn.primitive)
        return _is_ufunc(eqn) or (low.elementwise and low.fortran_out_for(eqn))

    plan = buffers.plan_buffers(
        jaxpr,
        is_ufunc=_is_ufunc,
        is_view=lambda eqn: _memory(eqn) == VIEW,
        allocates=lambda eqn: _memory(eqn) == FRESH,
        can_write_out=can_write_out,
        max_arena_bytes=int(config.jit_arena_mb * 2**20),
        column_major_out=column_major_out,
        is_elementwise=order_elementwise,
    )
    arena_arg = ", _S" if plan.slot_specs else ""
    # Overflow to inf and 0/0 to nan are results, not errors (as in JAX): silence numpy.
    lines = [f"def {name}({', '.join(args)}{arena_arg}):", "  with _errstate(all='ignore'):"]
    ns["_errstate"] = np.errstate
    checker = None
    if config.jit_check:
        declared = [_memory(e) for e in jaxpr.eqns]
        checker = ns["_checker"] = jit_check.ProgramChecker(jaxpr, names, declared)
        ns["_consts"] = [ns[names[v]] for v in jaxpr.constvars]
        arena = "_S" if plan.slot_specs else "None"
        lines.append(f"    _k = _checker.begin(_consts, [{', '.join(args)}], {arena})")
    for i, eqn in enumerate(jaxpr.eqns):
        outs = [fresh() for _ in eqn.out_binders]
        for v, o in zip(eqn.out_binders, outs, strict=True):
            names[v] = o
        ins = [ref(x) for x in eqn.inputs]
        if checker is not None:
            lines.append(f"    _k.pre({i}, [{', '.join(ins)}])")
        prim = eqn.primitive
        target = ", ".join(outs) + ("," if prim.multiple_results and len(outs) == 1 else "")
        out_buf = f"_S[{plan.slots[i]}]" if i in plan.slots else None
        if i in plan.donors:
            out_buf = names[plan.donors[i]]
        low = lowering_of(prim)
        expr = None
        if _is_ufunc(eqn):
            out_kw = f", out={out_buf}" if out_buf else ""
            expr = f"np.{low.ufunc}({', '.join(ins)}{out_kw})"
        elif out_buf is not None:
            expr = low.emit(ins, eqn, out_buf)
        elif low.emit is not None:
            expr = low.emit(ins, eqn)
        if expr is None:
            key = fresh(f"impl_{prim.name}_")
            ns[key] = prim.impl
            pkey = fresh("params")
            ns[pkey] = _with_compiled_bodies(eqn.params, low.bodies)
            expr = f"{key}({', '.join(ins)}, **{pkey})"
        where = f"  # {eqn.source}" if eqn.source else ""
        lines.append(f"    {target} = {expr}{where}")
        if checker is not None:
            lines.append(f"    _k.post({i}, [{', '.join(outs)}])")
    outs = [ref(x) for x in jaxpr.outvars]
    if checker is not None:
        lines.append(f"    _k.end([{', '.join(outs)}])")
    lines.append(f"    return [{', '.join(outs)}]")
    lines = lines[:2] + ["  " + line for line in lines[2:]]
    plain = [line for line in lines if not line.lstrip().startswith(("_k.", "_k ="))]
    src = "\n".join(plain)
    exec(compile(src, f"<fnn.jit {name}>", "exec"), ns)
    body = ns[name]
    if checker is not None:
        checked_ns = dict(ns)
        exec(compile("\n".join(lines), f"<fnn.jit {name} checked>", "exec"), checked_ns)
        body = _checked_first_calls(checked_ns[name], body, config.jit_check_calls)
    if not plan.slot_specs:
        return Program(body, src, plan, namespace=ns, jaxpr=jaxpr)
    arena = buffers.Arena(plan.slot_specs, plan.column_major)
    return Program(_with_arena(body, arena), src, plan, arena, namespace=ns, jaxpr=jaxpr)


def _checked_first_calls(checked, plain, calls: int):
    """``checked`` for the first ``calls`` calls (every call if 0), then ``plain``."""
    if calls <= 0:
        return checked
    count = [0]

    def run(*args):
        count[0] += 1
        return (checked if count[0] <= calls else plain)(*args)

    return run


def _with_compiled_bodies(params: dict, bodies: tuple[str, ...]) -> dict:
    """``params`` with the sub-programs named in ``bodies`` compiled (control flow)."""
    if not bodies:
        return params
    out = dict(params)
    for name in bodies:
        value = params[name]
        if isinstance(value, Jaxpr):
            out[name] = compile_jaxpr(value, [], "body")
        else:
            out[name] = tuple(compile_jaxpr(j, [], "body") for j in value)
    return out


def _with_arena(body, arena):
    """``body(*args, _S)`` called with a free set of the arena's buffers."""
    acquire, release = arena.acquire, arena.release

    def run(*args):
        slots = acquire()
        try:
            return body(*args, slots)
        finally:
            release(slots)

    return run
