"""jaxpr -> a Python function whose body is straight-line numpy calls.

Each primitive may register ``codegen_rules[prim](args, params) -> str``, the numpy
expression computing its output from the names in ``args``. Primitives without one
call their ``impl`` through the generated function's namespace. Elementwise numpy
ufuncs registered in ``ufunc_names`` may write into a dead input's buffer
(``np.add(a, b, out=a)``) when that buffer belongs to the program alone; other
temporaries live in an arena of buffers kept between calls (``buffers.py``), which saves
the allocation and the page faults of a fresh temporary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fnn import config, core
from fnn.jaxpr import Jaxpr, Literal, Var
from fnn.transforms import buffers, jit_check

__all__ = [
    "allocating_prims",
    "codegen_rules",
    "compile_jaxpr",
    "namespace",
    "out_rules",
    "typed_rules",
    "ufunc_names",
    "view_prims",
    "view_when",
]

codegen_rules: dict[core.Primitive, Callable[[list[str], dict], str]] = {}
# Rules that need the equation's shapes: rule(args, eqn) -> str.
typed_rules: dict[core.Primitive, Callable[[list[str], Any], str]] = {}
# Primitives whose impl is exactly a numpy ufunc call on (broadcast) inputs.
ufunc_names: dict[core.Primitive, str] = {}
# Primitives whose result may share memory with their first input (reshape, transpose...).
view_prims: set[core.Primitive] = set()
# Primitives whose result may be such a view for some equations (rule(eqn) -> True) and
# is a fresh array, as for allocating_prims, for the others.
view_when: dict[core.Primitive, Callable[[Any], bool]] = {}
# Primitives whose generated code always returns a fresh array sharing no input's memory.
allocating_prims: set[core.Primitive] = set()
# Rules that write the result into a given C-contiguous buffer of the output's shape and
# dtype: rule(args, eqn, out) -> str, or None when this equation has no such form.
out_rules: dict[core.Primitive, Callable[[list[str], Any, str], str | None]] = {}
# Primitives whose out rule also writes correctly into a Fortran-ordered buffer, for the
# equations where rule(eqn) is True (buffers.prefers_column_major slots; ufuncs always do).
column_major_when: dict[core.Primitive, Callable[[Any], bool]] = {}
# Primitives besides the ufuncs whose code loops elementwise over operands of the output's
# shape: the buffer plan keeps such operands in one memory order.
elementwise_prims: set[core.Primitive] = set()
# Helpers the generated code may call by name (registered by the lax modules).
namespace: dict[str, Any] = {}


def compile_jaxpr(jaxpr: Jaxpr, consts, name: str = "compiled") -> Callable[..., list]:
    """Generate ``f(*args) -> list of numpy arrays`` computing ``jaxpr`` with numpy.

    The result has ``.source`` (the generated code) and ``.plan`` (its BufferPlan).
    """
    ns: dict[str, Any] = {"np": np, **namespace}
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

    def is_ufunc(eqn):
        return eqn.primitive in ufunc_names and not eqn.params

    def can_write_out(i):
        eqn = jaxpr.eqns[i]
        if is_ufunc(eqn):
            return True
        rule = out_rules.get(eqn.primitive)
        return rule is not None and rule(["_"] * len(eqn.inputs), eqn, "_out") is not None

    def column_major_out(i):
        eqn = jaxpr.eqns[i]
        if is_ufunc(eqn):
            return True
        accepts = column_major_when.get(eqn.primitive)
        return accepts is not None and accepts(eqn)

    def is_view(eqn):
        prim = eqn.primitive
        return prim in view_prims or (prim in view_when and view_when[prim](eqn))

    def allocates(eqn):
        prim = eqn.primitive
        if prim in view_when:
            return not view_when[prim](eqn)
        return is_ufunc(eqn) or prim in allocating_prims

    plan = buffers.plan_buffers(
        jaxpr,
        is_ufunc=is_ufunc,
        is_view=is_view,
        allocates=allocates,
        can_write_out=can_write_out,
        max_arena_bytes=int(config.jit_arena_mb * 2**20),
        column_major_out=column_major_out,
        is_elementwise=lambda eqn: is_ufunc(eqn) or eqn.primitive in elementwise_prims,
    )
    arena_arg = ", _S" if plan.slot_specs else ""
    # Overflow to inf and 0/0 to nan are results, not errors (as in JAX): silence numpy.
    lines = [f"def {name}({', '.join(args)}{arena_arg}):", "  with _errstate(all='ignore'):"]
    ns["_errstate"] = np.errstate
    checker = None
    if config.jit_check:
        declared = [
            "view" if is_view(e) else "fresh" if allocates(e) else "unknown" for e in jaxpr.eqns
        ]
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
        if is_ufunc(eqn):
            out_kw = f", out={out_buf}" if out_buf else ""
            lines.append(f"    {target} = np.{ufunc_names[prim]}({', '.join(ins)}{out_kw})")
        elif out_buf is not None:
            lines.append(f"    {target} = {out_rules[prim](ins, eqn, out_buf)}")
        elif prim in typed_rules:
            lines.append(f"    {target} = {typed_rules[prim](ins, eqn)}")
        elif prim in codegen_rules:
            lines.append(f"    {target} = {codegen_rules[prim](ins, eqn.params)}")
        else:
            key = fresh(f"impl_{prim.name}_")
            ns[key] = prim.impl
            pkey = fresh("params")
            ns[pkey] = eqn.params
            lines.append(f"    {target} = {key}({', '.join(ins)}, **{pkey})")
        if checker is not None:
            lines.append(f"    _k.post({i}, [{', '.join(outs)}])")
    outs = [ref(x) for x in jaxpr.outvars]
    if checker is not None:
        lines.append(f"    _k.end([{', '.join(outs)}])")
    lines.append(f"    return [{', '.join(outs)}]")
    lines = lines[:2] + ["  " + line for line in lines[2:]]
    src = "\n".join(lines)
    code = compile(src, f"<fnn.jit {name}>", "exec")
    exec(code, ns)
    body = ns[name]
    if plan.slot_specs:
        fn = _with_arena(body, buffers.Arena(plan.slot_specs, plan.column_major))
    else:
        fn = body
    fn.source, fn.plan, fn.body = src, plan, body
    return fn


def _with_arena(body, arena):
    """``body(*args, _S)`` called with a free set of the arena's buffers."""
    acquire, release = arena.acquire, arena.release

    def run(*args):
        slots = acquire()
        try:
            return body(*args, slots)
        finally:
            release(slots)

    run.arena = arena
    return run
