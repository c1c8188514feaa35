"""The differentiation and batching rules of cond, scan and while_loop.

These primitives (``fnn.lax.control_flow``) hold sub-programs, so their rules run the
interpreters on those programs (the JVP of a scan is a scan of the body's JVP): they
live here, above both the primitives and the interpreters, and register into the
tables of ``fnn.rules`` like every other rule.
"""

from __future__ import annotations

import numpy as np

from fnn import core
from fnn.core import ShapedArray
from fnn.jaxpr import call_closed, join_consts, permute_jaxpr, trace_closed
from fnn.lax.control_flow import _avals, _bind_cond, cond_p, scan_p, while_p
from fnn.lax.elementwise import add, eq, select
from fnn.lax.reductions import reduce_max
from fnn.lax.structural import (
    bdim_at_front,
    broadcast_in_dim,
    instantiate,
    moveaxis,
)
from fnn.rules import (
    batching_rules,
    is_undefined_primal,
    jvp_rules,
    partial_eval_rules,
    transpose_rules,
)
from fnn.transforms.jaxpr_transforms import (
    batch_jaxpr,
    jvp_jaxpr,
    partial_eval_jaxpr,
    transpose_jaxpr,
)

__all__: list[str] = []


def _cond_jvp(primals, tangents, *, branches):

    index, *ops = primals
    tans = [instantiate(t) for t in tangents[1:]]
    jvps = [jvp_jaxpr(b) for b in branches]
    outs = _bind_cond(index, jvps, list(ops) + tans)
    n = len(outs) // 2
    return outs[:n], outs[n:]


def _cond_batch(vals, dims, *, branches):

    index, *ops = vals
    d_index, *op_dims = dims
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    batched = [batch_jaxpr(b, size, op_dims) for b in branches]
    if d_index is None:
        return _bind_cond(index, batched, ops), [0] * len(branches[0].outvars)
    # A batched index: run every branch on the whole batch and pick per example.
    index = moveaxis(index, d_index, 0)
    results = [call_closed(j, c, *ops) for j, c in batched]
    outs = results[0]
    for i, res in enumerate(results[1:], start=1):
        new = []
        for o, r in zip(outs, res, strict=True):
            shape = core.get_aval(o).shape
            pick = broadcast_in_dim(
                eq(index, np.asarray(i, core.get_aval(index).dtype)), shape, (0,)
            )
            new.append(select(pick, r, o))
        outs = new
    return outs, [0] * len(outs)


def _cond_partial_eval(trace, tracers, *, branches):
    index, *ops = tracers
    if not index.known:
        return trace.default_process(cond_p, tracers, {"branches": branches})
    in_unk = [not t.known for t in ops]
    n_out = len(branches[0].outvars)
    out_unk = [False] * n_out
    for b in branches:
        _, _, _, unk, _ = partial_eval_jaxpr(b, in_unk, [False] * n_out)
        out_unk = [a or b_ for a, b_ in zip(out_unk, unk, strict=True)]
    splits = [partial_eval_jaxpr(b, in_unk, out_unk) for b in branches]
    res_avals = [j.out_avals[-n:] if n else [] for (j, _, _, _, n) in splits]
    all_res = [a for avals in res_avals for a in avals]
    known_vals = [t.val for t in ops if t.known]
    n_known_out = n_out - sum(out_unk)

    def known_branch(i):
        known, consts, _, _, n_res = splits[i]
        before = sum(len(r) for r in res_avals[:i])
        after = sum(len(r) for r in res_avals[i + 1 :])

        def f(*args):
            outs = call_closed(known, consts, *args)
            zeros = [np.zeros(a.shape, a.dtype) for a in all_res]
            res = outs[n_known_out:]
            return outs[:n_known_out] + zeros[:before] + list(res) + zeros[len(zeros) - after :]

        return trace_closed(f, _avals(known_vals), "known_branch")

    known_closed = [known_branch(i) for i in range(len(branches))]
    known_outs = _bind_cond(index.val, known_closed, known_vals)
    residuals = known_outs[n_known_out:]
    known_outs = known_outs[:n_known_out]

    unk_avals = [t.aval for t in ops if not t.known]

    def unknown_branch(i):
        _, _, unknown, _, _ = splits[i]
        before = sum(len(r) for r in res_avals[:i])
        n_res = len(res_avals[i])

        def f(*args):
            res = args[before : before + n_res]
            unk = args[len(all_res) :]
            return call_closed(unknown, [], *res, *unk)

        return trace_closed(f, all_res + unk_avals, "unknown_branch")

    jaxprs, consts = join_consts([unknown_branch(i) for i in range(len(branches))])
    in_tracers = (
        [index]
        + [trace.pure(c) for c in consts]
        + [trace.pure(r) for r in residuals]
        + [t for t in ops if not t.known]
    )
    unk_outs = trace.default_process(cond_p, in_tracers, {"branches": tuple(jaxprs)})
    it_known, it_unk = iter(known_outs), iter(unk_outs)
    return [next(it_unk) if u else trace.pure(next(it_known)) for u in out_unk]


def _cond_transpose(cts, index, *ops, branches):

    linear = [is_undefined_primal(x) for x in ops]
    transposed = [transpose_jaxpr(b, linear) for b in branches]
    nonlin = [x for x in ops if not is_undefined_primal(x)]
    cts = [instantiate(c) for c in cts]
    cts_in = _bind_cond(index, transposed, nonlin + cts)
    it = iter(cts_in)
    return [None] + [next(it) if lin else None for lin in linear]


def _scan_jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse):

    tans = [instantiate(t) for t in tangents]
    jvp, jvp_consts = jvp_jaxpr(jaxpr)
    # jvp takes (jvp_consts, consts, carry, xs, consts_dot, carry_dot, xs_dot); regroup to
    # (jvp_consts + consts + consts_dot | carry + carry_dot | xs + xs_dot).
    nk, nc, n = len(jvp_consts), num_consts, len(primals)
    nx = n - nc - num_carry
    P = list(range(nk, nk + n))
    T = list(range(nk + n, nk + 2 * n))
    in_order = (
        list(range(nk))
        + P[:nc]
        + T[:nc]
        + P[nc : nc + num_carry]
        + T[nc : nc + num_carry]
        + P[nc + num_carry :]
        + T[nc + num_carry :]
    )
    n_out = len(jaxpr.outvars)
    ny = n_out - num_carry
    out_order = (
        list(range(num_carry))
        + list(range(n_out, n_out + num_carry))
        + list(range(num_carry, n_out))
        + list(range(n_out + num_carry, 2 * n_out))
    )
    body = permute_jaxpr(jvp, in_order, out_order)
    consts, carry, xs = (
        primals[:nc],
        primals[nc : nc + num_carry],
        primals[nc + num_carry :],
    )
    dconsts, dcarry, dxs = tans[:nc], tans[nc : nc + num_carry], tans[nc + num_carry :]
    outs = scan_p.bind(
        *jvp_consts, *consts, *dconsts, *carry, *dcarry, *xs, *dxs,
        jaxpr=body, num_consts=nk + 2 * nc, num_carry=2 * num_carry, length=length, reverse=reverse,
    )  # fmt: skip
    del nx
    c, dc = outs[:num_carry], outs[num_carry : 2 * num_carry]
    ys, dys = outs[2 * num_carry : 2 * num_carry + ny], outs[2 * num_carry + ny :]
    return c + ys, dc + dys


def _scan_batch(vals, dims, *, jaxpr, num_consts, num_carry, length, reverse):

    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    consts, carry, xs = (
        vals[:num_consts],
        vals[num_consts : num_consts + num_carry],
        vals[num_consts + num_carry :],
    )
    cdims, xdims = dims[:num_consts], dims[num_consts + num_carry :]
    consts = [moveaxis(c, d, 0) if d is not None else c for c, d in zip(consts, cdims, strict=True)]
    carry = [
        bdim_at_front(c, d, size)
        for c, d in zip(carry, dims[num_consts : num_consts + num_carry], strict=True)
    ]
    xs = [moveaxis(x, d, 1) if d is not None else x for x, d in zip(xs, xdims, strict=True)]
    in_dims = (
        [0 if d is not None else None for d in cdims]
        + [0] * num_carry
        + [0 if d is not None else None for d in xdims]
    )
    body, body_consts = batch_jaxpr(jaxpr, size, in_dims)
    outs = scan_p.bind(
        *body_consts, *consts, *carry, *xs,
        jaxpr=body, num_consts=len(body_consts) + num_consts, num_carry=num_carry,
        length=length, reverse=reverse,
    )  # fmt: skip
    n_y = len(jaxpr.outvars) - num_carry
    return outs, [0] * num_carry + [1] * n_y


def _scan_partial_eval(trace, tracers, *, jaxpr, num_consts, num_carry, length, reverse):
    unk = [not t.known for t in tracers]
    const_unk = unk[:num_consts]
    carry_unk = unk[num_consts : num_consts + num_carry]
    xs_unk = unk[num_consts + num_carry :]
    n_out = len(jaxpr.outvars)
    # Fixpoint: a carry is unknown if its initial value or its update is.
    while True:
        in_unk = const_unk + carry_unk + xs_unk
        _, _, _, out_unk, _ = partial_eval_jaxpr(
            jaxpr, in_unk, carry_unk + [False] * (n_out - num_carry)
        )
        new = [a or b for a, b in zip(carry_unk, out_unk[:num_carry], strict=True)]
        if new == carry_unk:
            break
        carry_unk = new
    in_unk = const_unk + carry_unk + xs_unk
    known, kconsts, unknown, out_unk, n_res = partial_eval_jaxpr(
        jaxpr, in_unk, carry_unk + [False] * (n_out - num_carry)
    )
    ys_unk = out_unk[num_carry:]
    kv = [t.val for t, u in zip(tracers, in_unk, strict=True) if not u]
    n_kc = sum(not u for u in const_unk)
    n_kcarry = sum(not u for u in carry_unk)
    known_outs = scan_p.bind(
        *kconsts, *kv,
        jaxpr=known, num_consts=len(kconsts) + n_kc, num_carry=n_kcarry,
        length=length, reverse=reverse,
    )  # fmt: skip
    k_carry = known_outs[:n_kcarry]
    k_rest = known_outs[n_kcarry:]
    n_kys = len(k_rest) - n_res
    k_ys, residuals = k_rest[:n_kys], k_rest[n_kys:]
    # unknown takes (res, unknown consts, unknown carry, unknown xs): move res to the xs group.
    n_uc = sum(const_unk)
    n_ucarry = sum(carry_unk)
    n_ux = sum(xs_unk)
    order = (
        list(range(n_res, n_res + n_uc + n_ucarry))
        + list(range(n_res))
        + list(range(n_res + n_uc + n_ucarry, n_res + n_uc + n_ucarry + n_ux))
    )
    body = permute_jaxpr(unknown, order, range(len(unknown.outvars)))
    consts_t = [t for t, u in zip(tracers[:num_consts], const_unk, strict=True) if u]
    carry_t = [
        t for t, u in zip(tracers[num_consts : num_consts + num_carry], carry_unk, strict=True) if u
    ]
    xs_t = [t for t, u in zip(tracers[num_consts + num_carry :], xs_unk, strict=True) if u]
    res_t = [trace.pure(r) for r in residuals]
    params = dict(jaxpr=body, num_consts=n_uc, num_carry=n_ucarry, length=length, reverse=reverse)
    unk_outs = trace.default_process(scan_p, consts_t + carry_t + res_t + xs_t, params)
    it_kc, it_uc = iter(k_carry), iter(unk_outs[:n_ucarry])
    it_ky, it_uy = iter(k_ys), iter(unk_outs[n_ucarry:])
    carry_out = [next(it_uc) if u else trace.pure(next(it_kc)) for u in carry_unk]
    ys_out = [next(it_uy) if u else trace.pure(next(it_ky)) for u in ys_unk]
    return carry_out + ys_out


def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse):

    consts, carry, xs = (
        args[:num_consts],
        args[num_consts : num_consts + num_carry],
        args[num_consts + num_carry :],
    )
    c_lin = [is_undefined_primal(c) for c in consts]
    x_lin = [is_undefined_primal(x) for x in xs]
    # A carry is linear even when its initial value is a known constant (e.g. zeros).
    carry_avals = [c.aval if is_undefined_primal(c) else core.get_aval(c) for c in carry]
    cts = [instantiate(c) for c in cts]
    ct_carry, ct_ys = cts[:num_carry], cts[num_carry:]
    nonlin_consts = [c for c, lin in zip(consts, c_lin, strict=True) if not lin]
    nonlin_xs = [x for x, lin in zip(xs, x_lin, strict=True) if not lin]
    lin_const_avals = [c.aval for c, lin in zip(consts, c_lin, strict=True) if lin]
    body_t, body_t_consts = transpose_jaxpr(jaxpr, c_lin + [True] * num_carry + x_lin)
    n_nc, n_lc = len(nonlin_consts), len(lin_const_avals)
    n_ct_y = len(ct_ys)

    def step(*a):
        # a = (nonlin consts | ct_consts acc, ct_carry | nonlin x slices, ct_y slices)
        nl_c = a[:n_nc]
        acc = a[n_nc : n_nc + n_lc]
        ct_c = a[n_nc + n_lc : n_nc + n_lc + num_carry]
        rest = a[n_nc + n_lc + num_carry :]
        nl_x, ct_y = rest[: len(rest) - n_ct_y], rest[len(rest) - n_ct_y :]
        out = call_closed(body_t, body_t_consts, *nl_c, *nl_x, *ct_c, *ct_y)
        ct_lc, ct_cin, ct_x = out[:n_lc], out[n_lc : n_lc + num_carry], out[n_lc + num_carry :]
        return [add(s, t) for s, t in zip(acc, ct_lc, strict=True)] + list(ct_cin) + list(ct_x)

    nl_x_avals = [
        ShapedArray(core.get_aval(x).shape[1:], core.get_aval(x).dtype) for x in nonlin_xs
    ]
    cty_avals = [ShapedArray(core.get_aval(c).shape[1:], core.get_aval(c).dtype) for c in ct_ys]
    step_avals = _avals(nonlin_consts) + lin_const_avals + carry_avals + nl_x_avals + cty_avals
    step_jaxpr, step_consts = trace_closed(step, step_avals, "scan_transpose")
    zeros = [np.zeros(a.shape, a.dtype) for a in lin_const_avals]
    outs = scan_p.bind(
        *step_consts, *nonlin_consts, *zeros, *ct_carry, *nonlin_xs, *ct_ys,
        jaxpr=step_jaxpr, num_consts=len(step_consts) + n_nc, num_carry=n_lc + num_carry,
        length=length, reverse=not reverse,
    )  # fmt: skip
    ct_consts = iter(outs[:n_lc])
    ct_init = outs[n_lc : n_lc + num_carry]
    ct_xs = iter(outs[n_lc + num_carry :])
    return (
        [next(ct_consts) if lin else None for lin in c_lin]
        + [ct if is_undefined_primal(c) else None for ct, c in zip(ct_init, carry, strict=True)]
        + [next(ct_xs) if lin else None for lin in x_lin]
    )


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):

    nc, nb = cond_nconsts, body_nconsts
    cc, bc, val = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
    dbc = [instantiate(t) for t in tangents[nc : nc + nb]]
    dval = [instantiate(t) for t in tangents[nc + nb :]]
    nv = len(val)
    jvp, jconsts = jvp_jaxpr(body_jaxpr)
    # jvp takes (bc, val, dbc, dval): regroup as consts (jconsts, bc, dbc) | carry (val, dval).
    nk = len(jconsts)
    in_order = (
        list(range(nk))
        + list(range(nk, nk + nb))
        + list(range(nk + nb + nv, nk + 2 * nb + nv))
        + list(range(nk + nb, nk + nb + nv))
        + list(range(nk + 2 * nb + nv, nk + 2 * nb + 2 * nv))
    )
    body = permute_jaxpr(jvp, in_order, range(2 * nv))
    cavals = cond_jaxpr.in_avals

    def cond_f(*args):
        return call_closed(cond_jaxpr, [], *args[: nc + nv])

    cj, ccs = trace_closed(cond_f, cavals + [core.get_aval(d) for d in dval], "while_cond")
    outs = while_p.bind(
        *ccs, *cc, *jconsts, *bc, *dbc, *val, *dval,
        cond_jaxpr=cj, body_jaxpr=body, cond_nconsts=len(ccs) + nc,
        body_nconsts=nk + 2 * nb,
    )  # fmt: skip
    return outs[:nv], outs[nv:]


def _while_batch(vals, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):

    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    nc, nb = cond_nconsts, body_nconsts
    consts = [
        moveaxis(v, d, 0) if d is not None else v for v, d in zip(vals[: nc + nb], dims[: nc + nb])
    ]
    cdims = [0 if d is not None else None for d in dims[: nc + nb]]
    val = [bdim_at_front(v, d, size) for v, d in zip(vals[nc + nb :], dims[nc + nb :], strict=True)]
    nv = len(val)
    bcond, bcond_consts = batch_jaxpr(cond_jaxpr, size, cdims[:nc] + [0] * nv)
    bbody, bbody_consts = batch_jaxpr(body_jaxpr, size, cdims[nc:] + [0] * nv)
    val_avals = _avals(val)
    cc_avals = _avals(consts[:nc])
    bc_avals = _avals(consts[nc:])

    def any_cond(*args):
        (pred,) = call_closed(bcond, bcond_consts, *args)
        return [reduce_max(pred, (0,))]

    def masked_body(*args):
        # args = (cond consts, body consts, val): advance only the examples still running.
        cc, bc, v = args[:nc], args[nc : nc + nb], args[nc + nb :]
        (pred,) = call_closed(bcond, bcond_consts, *cc, *v)
        new = call_closed(bbody, bbody_consts, *bc, *v)
        out = []
        for n, o in zip(new, v, strict=True):
            mask = broadcast_in_dim(pred, core.get_aval(o).shape, (0,))
            out.append(select(mask, n, o))
        return out

    cj, ccs = trace_closed(any_cond, cc_avals + val_avals, "while_cond")
    bj, bcs = trace_closed(masked_body, cc_avals + bc_avals + val_avals, "while_body")
    outs = while_p.bind(
        *ccs, *consts[:nc], *bcs, *consts[:nc], *consts[nc:], *val,
        cond_jaxpr=cj, body_jaxpr=bj, cond_nconsts=len(ccs) + nc,
        body_nconsts=len(bcs) + nc + nb,
    )  # fmt: skip
    return outs, [0] * nv


def _while_partial_eval(trace, tracers, **params):
    if all(t.known for t in tracers):
        return while_p.bind(*[t.val for t in tracers], **params)
    raise TypeError(
        "reverse-mode differentiation (grad, vjp) of while_loop is not supported: its trip "
        "count is not known in advance. Use fnn.lax.fori_loop with concrete (Python int) bounds "
        "or fnn.lax.scan, which are reverse-differentiable."
    )


jvp_rules[cond_p] = _cond_jvp
batching_rules[cond_p] = _cond_batch
partial_eval_rules[cond_p] = _cond_partial_eval
transpose_rules[cond_p] = _cond_transpose
jvp_rules[scan_p] = _scan_jvp
batching_rules[scan_p] = _scan_batch
partial_eval_rules[scan_p] = _scan_partial_eval
transpose_rules[scan_p] = _scan_transpose
jvp_rules[while_p] = _while_jvp
batching_rules[while_p] = _while_batch
partial_eval_rules[while_p] = _while_partial_eval
