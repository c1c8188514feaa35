"""jaxpr -> a Python function whose body is straight-line numpy calls.

Each primitive may register ``codegen_rules[prim](args, params) -> str``, the numpy
expression computing its output from the names in ``args``. Primitives without one
call their ``impl`` through the generated function's namespace. Elementwise numpy
ufuncs registered in ``ufunc_names`` may write into a dead input's buffer
(``np.add(a, b, out=a)``) when that buffer belongs to the program alone, which saves
the allocation and the page faults of a fresh temporary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fnn import core
from fnn.jaxpr import Jaxpr, Literal, Var

__all__ = ["codegen_rules", "ufunc_names", "view_prims", "compile_jaxpr"]

codegen_rules: dict[core.Primitive, Callable[[list[str], dict], str]] = {}
# Rules that need the equation's shapes: rule(args, eqn) -> str.
typed_rules: dict[core.Primitive, Callable[[list[str], Any], str]] = {}
# Primitives whose impl is exactly a numpy ufunc call on (broadcast) inputs.
ufunc_names: dict[core.Primitive, str] = {}
# Primitives whose result may share memory with their first input (reshape, transpose...).
view_prims: set[core.Primitive] = set()


def compile_jaxpr(jaxpr: Jaxpr, consts, name: str = "compiled") -> Callable[..., list]:
    """Generate ``f(*args) -> list of numpy arrays`` computing ``jaxpr`` with numpy."""
    ns: dict[str, Any] = {"np": np}
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

    reusable = _reusable_buffers(jaxpr)
    # Overflow to inf and 0/0 to nan are results, not errors (as in JAX): silence numpy.
    lines = [f"def {name}({', '.join(args)}):", "  with _errstate(all='ignore'):"]
    ns["_errstate"] = np.errstate
    for i, eqn in enumerate(jaxpr.eqns):
        outs = [fresh() for _ in eqn.out_binders]
        for v, o in zip(eqn.out_binders, outs, strict=True):
            names[v] = o
        ins = [ref(x) for x in eqn.inputs]
        prim = eqn.primitive
        target = ", ".join(outs) + ("," if prim.multiple_results and len(outs) == 1 else "")
        if prim in ufunc_names and not eqn.params:
            donor = reusable.get(i)
            out_kw = f", out={names[donor]}" if donor is not None else ""
            lines.append(f"    {target} = np.{ufunc_names[prim]}({', '.join(ins)}{out_kw})")
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
    outs = [ref(x) for x in jaxpr.outvars]
    lines.append(f"    return [{', '.join(outs)}]")
    lines = lines[:2] + ["  " + line for line in lines[2:]]
    src = "\n".join(lines)
    code = compile(src, f"<fnn.jit {name}>", "exec")
    exec(code, ns)
    fn = ns[name]
    fn.source = src
    return fn


def _reusable_buffers(jaxpr: Jaxpr) -> dict[int, Var]:
    """For each ufunc equation, an input whose buffer can receive the output.

    A buffer is reusable when it was allocated by this program (not an argument, a
    constant, or a view of one), when no live value views it, and when this equation
    is its last use; shapes and dtypes must match the output exactly.
    """
    # Root buffer of each value: views share their source's root.
    root: dict[Var, Var | None] = {}
    for v in jaxpr.invars + jaxpr.constvars:
        root[v] = None  # not owned by the program
    for eqn in jaxpr.eqns:
        if eqn.primitive in view_prims:
            # A view of a literal (a broadcast constant) is read-only: nobody owns it.
            src = eqn.inputs[0]
            r = root.get(src) if type(src) is Var else None
            for o in eqn.out_binders:
                root[o] = r
        else:
            for o in eqn.out_binders:
                root[o] = o
    # Last use of each root buffer, through any of its views.
    last_use: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for x in eqn.inputs:
            if type(x) is Var and root.get(x) is not None:
                last_use[root[x]] = i
    n = len(jaxpr.eqns)
    for x in jaxpr.outvars:
        if type(x) is Var and root.get(x) is not None:
            last_use[root[x]] = n  # outputs are never overwritten
    donors: dict[int, Var] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        if eqn.primitive not in ufunc_names or eqn.params:
            continue
        out_aval = eqn.out_binders[0].aval
        if out_aval.ndim == 0:
            continue  # numpy returns scalars for 0-d results: nothing to write into
        for x in eqn.inputs:
            if type(x) is not Var or root.get(x) is not x:
                continue
            if last_use.get(x) != i or x.aval != out_aval:
                continue
            if sum(1 for y in eqn.inputs if y is x) > 1:
                continue
            donors[i] = x
            last_use[x] = -1  # consumed
            break
    return donors
