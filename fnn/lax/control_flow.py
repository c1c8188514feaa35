"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map.

Each holds its body as a jaxpr (constants hoisted to operands). This module defines the
primitives, how they run and how jit lowers them; their rules for every transform run
the interpreters on the body and so live in ``fnn.transforms.control_flow``: JVP and
batching transform the body; reverse mode splits cond and scan into a known and an
unknown part (partial evaluation) and transposes the unknown part, so ``grad`` of a
``scan`` runs a backward scan (what trains a recurrent model). ``while_loop`` supports
forward mode and vmap (with per-example trip counts); ``fori_loop`` with concrete
bounds is a ``scan`` and so supports reverse mode too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.jaxpr import Jaxpr, join_consts, run_jaxpr_impls, trace_closed
from fnn.lax.elementwise import max_, min_, ne
from fnn.lax.structural import convert_element_type
from fnn.lowering import Lowering
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map"]


def _avals(xs):
    return [core.get_aval(x) for x in xs]


def _to_array(x):
    return core.ensure_array(x)


def _compile(body: Jaxpr | Callable) -> Callable:
    """A body as a function of numpy values: under jit, codegen passes the body already
    compiled (a program with its ``.jaxpr``; the records below name the parameters that
    hold bodies); eagerly, the jaxpr runs through its primitives' impls."""
    if isinstance(body, Jaxpr):
        return lambda *args: run_jaxpr_impls(body, [], *args)
    return body


def _trace_branch(fun, in_tree, avals, name):
    store = {}

    def flat(*leaves):
        out = fun(*tree_unflatten(in_tree, leaves))
        out_leaves, store["tree"] = tree_flatten(out)
        return [_to_array(o) for o in out_leaves]

    jaxpr, consts = trace_closed(flat, avals, name)
    return jaxpr, consts, store["tree"]


# ==== cond / switch =======================================================================


def _cond_impl(index, *ops, branches):
    i = int(np.clip(int(index), 0, len(branches) - 1))
    return _compile(branches[i])(*ops)


def _cond_abstract(index, *ops, branches):
    if index.shape != () or not np.issubdtype(index.dtype, np.integer):
        raise FnnTypeError(f"cond: the index must be an integer scalar, got {index.str_short()}")
    return branches[0].out_avals


cond_p = core.Primitive("cond", multiple_results=True)
cond_p.impl = _cond_impl
cond_p.abstract_eval = _cond_abstract


def _bind_cond(index, closed_branches, args):
    jaxprs, consts = join_consts(closed_branches)
    return cond_p.bind(index, *consts, *args, branches=tuple(jaxprs))


def switch(index, branches: Sequence[Callable], *operands):
    """Apply ``branches[index](*operands)``; the index is clamped to the valid range.

    Example:
        >>> import fnn.lax as lax
        >>> lax.switch(1, [lambda x: x + 1.0, lambda x: x * 10.0], 2.0)
        Array(20., dtype=float32)
    """
    if not branches:
        raise ValueError("switch: need at least one branch")
    leaves, in_tree = tree_flatten(operands)
    leaves = [_to_array(x) for x in leaves]
    avals = _avals(leaves)
    traced = [_trace_branch(b, in_tree, avals, f"branch{i}") for i, b in enumerate(branches)]
    out_tree = traced[0][2]
    for i, (j, _, tree) in enumerate(traced):
        if tree != out_tree or j.out_avals != traced[0][0].out_avals:
            raise TypeError(
                f"cond/switch: branch {i} returns {tree} with types {j.out_avals}, but branch 0 "
                f"returns {out_tree} with types {traced[0][0].out_avals}; all branches must "
                "return the same structure, shapes and dtypes"
            )
    idx = _to_array(index)
    if idx.shape != ():
        raise TypeError(f"switch: the index must be a scalar, got shape {idx.shape}")
    idx = convert_element_type(idx, np.int32)
    idx = max_(min_(idx, np.int32(len(branches) - 1)), np.int32(0))
    outs = _bind_cond(idx, [(j, c) for j, c, _ in traced], leaves)
    return tree_unflatten(out_tree, outs)


def cond(pred, true_fun: Callable, false_fun: Callable, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, traceable.

    Both branches are traced; they must return the same structure, shapes and dtypes.

    Example:
        >>> import fnn.lax as lax
        >>> lax.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 1.0)
        Array(2., dtype=float32)
    """
    p = _to_array(pred)
    if p.shape != ():
        raise TypeError(
            f"cond: pred must be a scalar (a bool or a number), got shape {p.shape}; use "
            "fnn.numpy.where for elementwise choices"
        )
    if p.dtype != np.bool_:
        p = ne(p, np.zeros((), p.dtype))
    index = convert_element_type(p, np.int32)
    return switch(index, [false_fun, true_fun], *operands)


# ==== scan =================================================================================


def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse):
    body = _compile(jaxpr)
    consts = args[:num_consts]
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    ys_avals = (jaxpr if isinstance(jaxpr, Jaxpr) else jaxpr.jaxpr).out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, a.dtype) for a in ys_avals]
    order = range(length - 1, -1, -1) if reverse else range(length)
    for i in order:
        outs = body(*consts, *carry, *[x[i] for x in xs])
        carry = outs[:num_carry]
        for y, o in zip(ys, outs[num_carry:], strict=True):
            y[i] = o
    return [np.asarray(c) for c in carry] + ys


def _scan_abstract(*avals, jaxpr, num_consts, num_carry, length, reverse):
    carry_in = avals[num_consts : num_consts + num_carry]
    carry_out = jaxpr.out_avals[:num_carry]
    if list(carry_in) != list(carry_out):
        raise FnnTypeError(
            f"scan: the carry must keep its type; the body takes {list(carry_in)} and returns "
            f"{list(carry_out)}"
        )
    for a in avals[num_consts + num_carry :]:
        if not a.shape or a.shape[0] != length:
            raise FnnTypeError(
                f"scan: every xs leaf needs a leading axis of length {length}, got {a}"
            )
    ys = [ShapedArray((length,) + a.shape, a.dtype) for a in jaxpr.out_avals[num_carry:]]
    return list(carry_out) + ys


scan_p = core.Primitive("scan", multiple_results=True)
scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract


def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns ``(carry, ys)``.

    Example:
        >>> import fnn.lax as lax, fnn.numpy as fnp
        >>> carry, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, fnp.arange(4.0))
        >>> carry
        Array(6., dtype=float32)
    """
    x_leaves, x_tree = tree_flatten(xs)
    x_leaves = [_to_array(x) for x in x_leaves]
    lengths = {x.shape[0] for x in x_leaves if x.ndim}
    if any(x.ndim == 0 for x in x_leaves):
        raise TypeError("scan: every leaf of xs needs a leading axis to scan over, got a scalar")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(
            f"scan: xs leaves have leading axis sizes {sorted(lengths)} (and length={length}); "
            "they must all equal the scan length"
        )
    n = lengths.pop()
    c_leaves, c_tree = tree_flatten(init)
    c_leaves = [_to_array(c) for c in c_leaves]
    c_avals = _avals(c_leaves)
    x_avals = [ShapedArray(x.shape[1:], x.dtype) for x in x_leaves]
    store = {}

    def body(*args):
        carry = tree_unflatten(c_tree, args[: len(c_leaves)])
        x = tree_unflatten(x_tree, args[len(c_leaves) :])
        new_carry, y = f(carry, x)
        nc_leaves, nc_tree = tree_flatten(new_carry)
        if nc_tree != c_tree:
            raise TypeError(
                f"scan: the body returned a carry of structure {nc_tree}, expected {c_tree}"
            )
        nc_leaves = [_to_array(c) for c in nc_leaves]
        y_leaves, store["y_tree"] = tree_flatten(y)
        return nc_leaves + [_to_array(v) for v in y_leaves]

    jaxpr, consts = trace_closed(body, c_avals + x_avals, "scan_body")
    got = jaxpr.out_avals[: len(c_leaves)]
    if got != c_avals:
        raise TypeError(
            f"scan: the carry must keep its shapes and dtypes; init has {c_avals} but the body "
            f"returns {got} (cast with .astype to keep the dtype)"
        )
    outs = scan_p.bind(
        *consts,
        *c_leaves,
        *x_leaves,
        jaxpr=jaxpr,
        num_consts=len(consts),
        num_carry=len(c_leaves),
        length=n,
        reverse=bool(reverse),
    )
    carry = tree_unflatten(c_tree, outs[: len(c_leaves)])
    ys = tree_unflatten(store["y_tree"], outs[len(c_leaves) :])
    return carry, ys


def map(f: Callable, xs):  # noqa: A001 - jax.lax.map's name
    """``stack([f(x) for x in xs])`` as a scan (one compiled body, any pytree xs)."""
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


# ==== while_loop / fori_loop ===============================================================


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_fn, body_fn = _compile(cond_jaxpr), _compile(body_jaxpr)
    cc = args[:cond_nconsts]
    bc = args[cond_nconsts : cond_nconsts + body_nconsts]
    val = list(args[cond_nconsts + body_nconsts :])
    while bool(cond_fn(*cc, *val)[0]):
        val = body_fn(*bc, *val)
    return [np.asarray(v) for v in val]


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    return list(avals[cond_nconsts + body_nconsts :])


while_p = core.Primitive("while", multiple_results=True)
while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract


def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
    """``while cond_fun(val): val = body_fun(val)``, traceable (forward mode and vmap).

    Reverse-mode differentiation needs a known trip count: use fori_loop with static
    bounds or scan.

    Example:
        >>> import fnn.lax as lax
        >>> lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)
        Array(16, dtype=int32)
    """
    leaves, tree = tree_flatten(init_val)
    args_tree = tree_flatten((init_val,))[1]
    leaves = [_to_array(v) for v in leaves]
    avals = _avals(leaves)
    cj, cc, _ = _trace_branch(cond_fun, args_tree, avals, "while_cond")
    if len(cj.out_avals) != 1 or cj.out_avals[0].shape != () or cj.out_avals[0].dtype != np.bool_:
        raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got {cj.out_avals}")
    bj, bc, btree = _trace_branch(body_fun, args_tree, avals, "while_body")
    if btree != tree or bj.out_avals != avals:
        raise TypeError(
            f"while_loop: body_fun must return the same structure and types as init_val: "
            f"expected {tree} {avals}, got {btree} {bj.out_avals}"
        )
    outs = while_p.bind(
        *cc, *bc, *leaves,
        cond_jaxpr=cj, body_jaxpr=bj, cond_nconsts=len(cc), body_nconsts=len(bc),
    )  # fmt: skip
    return tree_unflatten(tree, outs)


def _concrete_int(x):
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, core.Tracer):
        v = x.concrete_value()
        return None if v is None else int(v)
    try:
        return int(np.asarray(x))
    except TypeError:
        return None


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With concrete bounds it is a scan (reverse-differentiable); otherwise a while_loop.

    Example:
        >>> import fnn.lax as lax
        >>> lax.fori_loop(0, 5, lambda i, x: x + i, 0)
        Array(10, dtype=int32)
    """
    lo, hi = _concrete_int(lower), _concrete_int(upper)
    if lo is not None and hi is not None:
        n = max(hi - lo, 0)

        def step(carry, _):
            i, val = carry
            return (i + 1, body_fun(i, val)), None

        (_, out), _ = (
            scan(step, (np.asarray(lo, np.int32), init_val), None, length=n)
            if n
            else ((None, init_val), None)
        )
        return out

    def cond_fun(c):
        return c[0] < c[1]

    def body(c):
        i, h, val = c
        return (i + 1, h, body_fun(i, val))

    lo_a = convert_element_type(_to_array(lower), np.int32)
    hi_a = convert_element_type(_to_array(upper), np.int32)
    return while_loop(cond_fun, body, (lo_a, hi_a, init_val))[2]


# jit runs these by calling their impls, with their bodies compiled.
lowering.register(cond_p, Lowering(bodies=("branches",)))
lowering.register(scan_p, Lowering(bodies=("jaxpr",)))
lowering.register(while_p, Lowering(bodies=("cond_jaxpr", "body_jaxpr")))
