"""Optimization passes, jaxpr -> jaxpr: dead code, common subexpressions, constants, and
algebraic no-ops (x*1, x+0, identity reshapes/transposes, transpose-of-transpose).

Every pass returns a new ``(jaxpr, consts)`` and leaves its input untouched. All
primitives are pure, so an equation whose outputs are unused can always be dropped
and two equations with the same primitive, inputs and parameters always agree.
"""

from __future__ import annotations

import math

import numpy as np

from fnn import core
from fnn.jaxpr import Jaxpr, JaxprEqn, Literal, Var
from fnn.lax.conv import col2im_dot_p, col2im_p
from fnn.lax.dot import dot_general_p
from fnn.lax.elementwise import (
    add_p,
    and_p,
    div_p,
    eq_p,
    gt_p,
    integer_pow_p,
    max_p,
    min_p,
    mul_p,
    ne_p,
    neg_p,
    or_p,
    select_p,
    sub_p,
    xor_p,
)
from fnn.lax.misc import stop_gradient_p
from fnn.lax.random_bits import random_argsort_p, threefry2x32_p
from fnn.lax.slicing import slice_p
from fnn.lax.structural import (
    broadcast_in_dim_p,
    convert_element_type_p,
    reduce_sum_p,
    reshape_p,
    transpose_p,
)
from fnn.lowering import lowering_of

__all__ = ["dce", "cse", "fold_constants", "simplify", "optimize"]

# Constants at most this large are folded; bigger ones would bloat the program.
_FOLD_LIMIT = 1 << 20


def _subst(x, env):
    while type(x) is Var and x in env:
        x = env[x]
    return x


def dce(jaxpr: Jaxpr, consts):
    """Drop equations whose results are never used, and unused constants."""
    live = {v for v in jaxpr.outvars if type(v) is Var}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.out_binders):
            kept.append(eqn)
            live.update(x for x in eqn.inputs if type(x) is Var)
    kept.reverse()
    pairs = [(v, c) for v, c in zip(jaxpr.constvars, consts, strict=True) if v in live]
    return (
        Jaxpr([v for v, _ in pairs], jaxpr.invars, kept, jaxpr.outvars),
        [c for _, c in pairs],
    )


def _hashable(v):
    if isinstance(v, list | tuple):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _input_key(x):
    if type(x) is Literal:
        # By bit pattern: 0.0 == -0.0 as numbers, but x * -0.0 is not x * 0.0 (1 / it
        # is -inf, not inf).
        return ("lit", x.val.dtype.str, x.val.tobytes())
    return ("var", id(x))


def _const_key(c):
    """Equal small constants share a key (folding makes many copies of ``ones``)."""
    if isinstance(c, core.Tracer):
        return ("id", id(c))
    arr = core._to_numpy(c) if not isinstance(c, np.ndarray) else c
    if arr.size > 4096 or arr.dtype == object:
        return ("id", id(c))
    return ("val", arr.dtype.str, arr.shape, arr.tobytes())


_RANDOM_BITS = frozenset({threefry2x32_p, random_argsort_p})
_COMMUTATIVE = frozenset({add_p, mul_p, max_p, min_p, eq_p, ne_p, and_p, or_p, xor_p})


def cse(jaxpr: Jaxpr, consts):
    """Merge equations that apply the same primitive to the same inputs and parameters,
    and constants with equal values."""
    env: dict[Var, Var] = {}
    first_const: dict[tuple, Var] = {}
    for v, c in zip(jaxpr.constvars, consts, strict=True):
        env_v = first_const.setdefault(_const_key(c), v)
        if env_v is not v:
            env[v] = env_v
    seen: dict[tuple, JaxprEqn] = {}
    eqns = []
    for eqn in jaxpr.eqns:
        inputs = [_subst(x, env) for x in eqn.inputs]
        in_keys = tuple(_input_key(x) for x in inputs)
        if eqn.primitive in _COMMUTATIVE:
            in_keys = tuple(sorted(in_keys, key=repr))  # a*b and b*a are one value
        key = (eqn.primitive, in_keys, _hashable(eqn.params))
        prev = seen.get(key)
        if prev is not None:
            for old, new in zip(eqn.out_binders, prev.out_binders, strict=True):
                env[old] = new
            continue
        new_eqn = JaxprEqn(eqn.primitive, inputs, eqn.params, eqn.out_binders)
        seen[key] = new_eqn
        eqns.append(new_eqn)
    outvars = [_subst(x, env) for x in jaxpr.outvars]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, outvars), list(consts)


def fold_constants(jaxpr: Jaxpr, consts):
    """Evaluate equations whose inputs are all known constants, at compile time."""
    known: dict[Var, np.ndarray] = {
        v: core._to_numpy(c) if not isinstance(c, np.ndarray) else c
        for v, c in zip(jaxpr.constvars, consts, strict=True)
        if not isinstance(c, core.Tracer)
    }
    constvars = list(jaxpr.constvars)
    new_consts = list(consts)
    env: dict[Var, Var | Literal] = {}
    eqns = []

    def value(x):
        if type(x) is Literal:
            return x.val
        return known.get(x)

    for eqn in jaxpr.eqns:
        inputs = [_subst(x, env) for x in eqn.inputs]
        vals = [value(x) for x in inputs]
        sizes = [v.aval.size for v in eqn.out_binders]
        foldable = (
            all(v is not None for v in vals)
            and eqn.primitive.impl is not None
            and eqn.primitive not in _RANDOM_BITS
            and not lowering_of(eqn.primitive).collective
            and sum(sizes) <= _FOLD_LIMIT
            and not _has_subprogram(eqn)
        )
        if foldable:
            outs = eqn.primitive.impl(*vals, **eqn.params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
            for v, o in zip(eqn.out_binders, outs, strict=True):
                o = np.asarray(o)
                if o.ndim == 0:
                    env[v] = Literal(o)
                else:
                    known[v] = o
                    constvars.append(v)
                    new_consts.append(o)
            continue
        eqns.append(JaxprEqn(eqn.primitive, inputs, eqn.params, eqn.out_binders))
    outvars = [_subst(x, env) for x in jaxpr.outvars]
    return dce(Jaxpr(constvars, jaxpr.invars, eqns, outvars), new_consts)


def _has_subprogram(eqn) -> bool:
    return any(isinstance(v, Jaxpr) or hasattr(v, "jaxpr") for v in eqn.params.values())


def _is_literal(x, value) -> bool:
    return type(x) is Literal and x.val.ndim == 0 and x.val.item() == value


def _uniform_consts(jaxpr: Jaxpr, consts) -> dict[Var, object]:
    """Constants whose elements are all equal, with that value (``ones`` from folding)."""
    out = {}
    for v, c in zip(jaxpr.constvars, consts, strict=True):
        if isinstance(c, core.Tracer):
            continue
        arr = core._to_numpy(c) if not isinstance(c, np.ndarray) else c
        if 0 < arr.size <= _FOLD_LIMIT and arr.dtype != object and np.all(arr == arr.flat[0]):
            out[v] = arr.flat[0].item()
    return out


# Elementwise primitives where a constant of one repeated value may become a scalar
# literal (numpy broadcasts it): it is not read from memory, and select's fast paths
# (``select(p, x, 0)``, ReLU) apply. The folded zeros of ``where(x > 0, x, 0)`` are one.
_SCALAR_OPERAND_PRIMS = {select_p, mul_p, add_p, sub_p, div_p, max_p, min_p}


def _uniform_operands_to_scalars(prim, inputs, out, uniform, const_of):
    first = 1 if prim is select_p else 0  # select's predicate stays as it is
    for i in range(first, len(inputs)):
        x = inputs[i]
        if type(x) is not Var or x not in uniform:
            continue
        others = [y.aval.shape for k, y in enumerate(inputs) if k != i]
        if np.broadcast_shapes(*others) != out.aval.shape:
            continue  # the constant gives the result its shape
        if x in const_of:
            arr = np.asarray(core._to_numpy(const_of[x])).reshape(-1)
            # A complex number part by part: there is no 16-byte uint for complex128.
            parts = (arr.real, arr.imag) if arr.dtype.kind == "c" else (arr,)
            bits = [p.view(f"u{p.itemsize}") for p in parts]
            if arr.dtype.kind in "fc" and not all(np.all(b == b[0]) for b in bits):
                continue  # 0.0 mixed with -0.0: not one value bit for bit
            value = arr[0]
        else:  # a broadcast literal
            value = np.asarray(uniform[x], dtype=x.aval.dtype)
        inputs = [*inputs[:i], Literal(value), *inputs[i + 1 :]]
    return inputs


def simplify(jaxpr: Jaxpr, consts):
    """Remove algebraic no-ops: x*1, x+0, x-0, x/1, identity reshape/transpose/convert,
    stop_gradient, ReLU's select of its own max, and fuse transpose-of-transpose and
    reshape-of-reshape."""
    env: dict[Var, Var | Literal] = {}
    producer: dict[Var, JaxprEqn] = {}
    uses = _use_counts(jaxpr)
    # Arrays known to hold one repeated value: the cotangent seeds of grad (a broadcast
    # 1.0, or its folded constant) make x*ones as common as x*1.
    uniform = _uniform_consts(jaxpr, consts)
    const_of = dict(zip(jaxpr.constvars, consts, strict=True))

    def is_neutral(x, value) -> bool:
        return _is_literal(x, value) or (type(x) is Var and x in uniform and uniform[x] == value)

    eqns = []
    for eqn in jaxpr.eqns:
        inputs = [_subst(x, env) for x in eqn.inputs]
        prim = eqn.primitive
        out = eqn.out_binders[0] if eqn.out_binders else None
        replacement = None
        if prim in _SCALAR_OPERAND_PRIMS:
            inputs = _uniform_operands_to_scalars(prim, inputs, out, uniform, const_of)
        if (
            prim is add_p
            and inputs[0] is inputs[1]
            and type(inputs[0]) is Var
            and out.aval.dtype.kind == "f"
        ):
            new = _mul_by(inputs[0], 2, eqn)  # x + x -> x * 2, which a scaling may absorb
            eqns.append(new)
            producer[out] = new
            continue
        if prim is mul_p and out.aval.dtype.kind == "f" and any(type(x) is Literal for x in inputs):
            k = 0 if type(inputs[0]) is Literal else 1
            c, x = inputs[k].val, inputs[1 - k]
            prev = producer.get(x) if type(x) is Var else None
            scaled = _scale_of(prev, uses) if prev is not None else None
            # (y * a) * c -> y * (a * c), exact when one factor is a power of two and
            # a * c is a finite nonzero number of the dtype (then inf and NaN in y stay
            # what they were; 2**-100 * 2**-100 would be 0 in float32, and inf * 0 NaN).
            if (
                scaled is not None
                and c.ndim == 0
                and (_pow2(c) or _pow2(scaled[1]))
                and _exact_product(scaled[1], c.item(), out.aval.dtype)
            ):
                new = _mul_by(scaled[0], scaled[1] * c.item(), eqn)
                eqns.append(new)
                producer[out] = new
                continue
        if prim in (mul_p, add_p, sub_p, div_p) and len(inputs) == 2:
            x, y = inputs
            neutral = 1 if prim in (mul_p, div_p) else 0
            if is_neutral(y, neutral) and x.aval == out.aval:
                replacement = x
            elif prim in (mul_p, add_p) and is_neutral(x, neutral) and y.aval == out.aval:
                replacement = y
        elif (
            prim is broadcast_in_dim_p and type(inputs[0]) is Literal and inputs[0].aval != out.aval
        ):
            uniform[out] = inputs[0].val.item()
        elif prim is integer_pow_p and eqn.params.get("y") == 1:
            replacement = inputs[0]
        elif prim is stop_gradient_p:
            # An identity on values, and an optimized program is only run, never
            # differentiated again. Left in, it would read as an opaque use (the buffer
            # plan keeps a short-and-wide value it reads row-major).
            replacement = inputs[0]
        elif prim is select_p and _select_is_its_max(inputs, out, producer):
            replacement = inputs[2]  # select(x > c, x, max(x, c)) -> max(x, c): ReLU
        elif prim is transpose_p and _swapped_dot(inputs[0], eqn, producer, uses):
            # (a @ b).T == b.T @ a.T: contract in the other order, no transpose of the result.
            dot = producer[inputs[0]]
            (lc, rc), _ = dot.params["dimension_numbers"]
            params = {**dot.params, "dimension_numbers": ((rc, lc), ((), ()))}
            new = JaxprEqn(dot.primitive, dot.inputs[::-1], params, eqn.out_binders)
            eqns.append(new)
            producer[out] = new
            continue
        elif prim in (reshape_p, convert_element_type_p, broadcast_in_dim_p, transpose_p):
            x = inputs[0]
            if x.aval == out.aval and (
                prim is not transpose_p or eqn.params["permutation"] == tuple(range(x.aval.ndim))
            ):
                replacement = x
            elif prim in (transpose_p, reshape_p) and type(x) is Var and x in producer:
                prev = producer[x]
                if prev.primitive is eqn.primitive:
                    if prim is transpose_p:
                        p1, p2 = prev.params["permutation"], eqn.params["permutation"]
                        perm = tuple(p1[i] for i in p2)
                        params = {"permutation": perm}
                    else:
                        params = dict(eqn.params)
                    src = prev.inputs[0]
                    if prim is transpose_p and perm == tuple(range(len(perm))):
                        replacement = src
                    elif prim is reshape_p and src.aval == out.aval:
                        replacement = src  # reshape back to the original shape
                    else:
                        new = JaxprEqn(eqn.primitive, [src], params, eqn.out_binders)
                        eqns.append(new)
                        producer[out] = new
                        continue
        elif prim is neg_p and type(inputs[0]) is Var and inputs[0] in producer:
            prev = producer[inputs[0]]
            if prev.primitive is eqn.primitive:
                replacement = prev.inputs[0]
            elif out.aval.dtype.kind == "f":
                scaled = _scale_of(prev, uses)
                if scaled is not None:  # -(x * c) -> x * (-c): one pass instead of two
                    x, c = scaled
                    new = _mul_by(x, -c, eqn)
                    eqns.append(new)
                    producer[out] = new
                    continue

        if replacement is not None:
            env[out] = replacement
            continue
        new = JaxprEqn(eqn.primitive, inputs, eqn.params, eqn.out_binders)
        for v in eqn.out_binders:
            producer[v] = new
        eqns.append(new)
    outvars = [_subst(x, env) for x in jaxpr.outvars]
    return dce(Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, outvars), consts)


def _select_is_its_max(inputs, out, producer) -> bool:
    """Whether ``select(p, x, m)`` is ``m`` bit for bit: ``p = x > c`` and ``m = max(x, c)``
    (either operand order) for the same ``c``. Where ``x > c`` the max is ``x`` itself;
    elsewhere (NaN included) the select takes ``m``. This is ``fnn.nn.relu``, whose select
    exists only for its derivative."""
    p, x, m = inputs
    if type(p) is not Var or type(m) is not Var or m.aval != out.aval:
        return False
    cmp, mx = producer.get(p), producer.get(m)
    if cmp is None or mx is None or cmp.primitive is not gt_p or mx.primitive is not max_p:
        return False
    a, c = cmp.inputs
    u, v = mx.inputs
    other = v if u is x else u if v is x else None
    return a is x and other is not None and _same_operand(other, c)


def _same_operand(a, b) -> bool:
    """The same variable, or scalar literals of one dtype and one (non-NaN) value."""
    if type(a) is Var or type(b) is Var:
        return a is b
    return (
        a.val.ndim == 0
        and b.val.ndim == 0
        and a.val.dtype == b.val.dtype
        and bool(a.val == b.val)  # +0.0 and -0.0 alike: x > 0 and x > -0 agree
    )


def _scale_of(eqn, uses):
    """``(x, c)`` if ``eqn`` is ``x * c`` for a scalar literal c and its result has one use."""
    if eqn is None or eqn.primitive is not mul_p or uses.get(eqn.out_binders[0], 0) != 1:
        return None
    a, b = eqn.inputs
    if type(b) is Literal and b.val.ndim == 0 and type(a) is Var:
        return a, b.val.item()
    if type(a) is Literal and a.val.ndim == 0 and type(b) is Var:
        return b, a.val.item()
    return None


def _pow2(c) -> bool:
    """Scaling by c is exact: a (signed) power of two."""
    c = abs(float(c))
    return c > 0 and np.isfinite(c) and np.frexp(c)[0] == 0.5


def _exact_product(a, c, dtype) -> bool:
    """``a * c`` is a finite nonzero number that ``dtype`` holds exactly."""
    product = a * c
    with np.errstate(over="ignore", under="ignore"):
        cast = np.asarray(product, dtype=dtype)
    return bool(np.isfinite(cast) and cast != 0 and float(cast) == product)


def _mul_by(x: Var, c, eqn: JaxprEqn) -> JaxprEqn:
    """``eqn``'s output computed as ``x * c`` (c a scalar of x's dtype)."""

    lit = Literal(np.asarray(c, dtype=x.aval.dtype))
    return JaxprEqn(mul_p, [x, lit], {}, eqn.out_binders)


def _use_counts(jaxpr: Jaxpr) -> dict[Var, int]:
    counts: dict[Var, int] = {}
    for eqn in jaxpr.eqns:
        for x in eqn.inputs:
            if type(x) is Var:
                counts[x] = counts.get(x, 0) + 1
    for x in jaxpr.outvars:
        if type(x) is Var:
            counts[x] = counts.get(x, 0) + 1
    return counts


def _swapped_dot(x, eqn, producer, uses) -> bool:
    """Is ``eqn`` a transpose swapping the free axes of a dot used only here?"""
    if type(x) is not Var or uses.get(x) != 1 or x not in producer:
        return False
    dot = producer[x]
    if dot.primitive is not dot_general_p:
        return False
    (lc, rc), (lb, rb) = dot.params["dimension_numbers"]
    if lb or rb:
        return False
    n_lf = dot.inputs[0].aval.ndim - len(lc)
    n_rf = dot.inputs[1].aval.ndim - len(rc)
    perm = tuple(range(n_lf, n_lf + n_rf)) + tuple(range(n_lf))
    return eqn.params["permutation"] == perm


def optimize(jaxpr: Jaxpr, consts, rounds: int = 2):
    """The default pipeline: fold, simplify, CSE, DCE (twice, as each enables the others),
    then fusions of equation pairs that numpy runs faster as one."""
    original = jaxpr
    for _ in range(rounds):
        jaxpr, consts = fold_constants(jaxpr, consts)
        jaxpr, consts = simplify(jaxpr, consts)
        jaxpr, consts = cse(jaxpr, consts)
        jaxpr, consts = dce(jaxpr, consts)
    jaxpr = sink_negations(jaxpr)
    jaxpr, consts = dce(merge_selects(jaxpr), consts)
    jaxpr = fuse_col2im_dot(jaxpr)
    return _keep_sources(jaxpr, original), consts


def _keep_sources(jaxpr: Jaxpr, original: Jaxpr) -> Jaxpr:
    """Give a rewritten equation the user's line of the equation it replaced: the one
    that computed the same output, else the producer of its first input that has one."""
    line = {v: e.source for e in original.eqns for v in e.out_binders}
    for eqn in jaxpr.eqns:
        if eqn.source is None:
            for v in [*eqn.out_binders, *eqn.inputs]:
                if line.get(v) is not None:
                    eqn.source = line[v]
                    break
        for v in eqn.out_binders:
            line.setdefault(v, eqn.source)
    return jaxpr


# How a negated operand passes through each primitive, exactly (negation commutes with
# rounding): "linear" ops carry the sign to their output, -(f(x)); add/sub absorb it.
_SIGN_LINEAR_UNARY = {reshape_p, transpose_p, broadcast_in_dim_p, reduce_sum_p}


def sink_negations(jaxpr: Jaxpr) -> Jaxpr:
    """Move each ``neg`` forward until an add, a subtraction, a scaling or another
    ``neg`` absorbs it: ``y * (-x)`` -> ``-(y * x)``, ``z + (-x)`` -> ``z - x``,
    ``c * (-x)`` -> ``(-c) * x``, ``-(-x)`` -> ``x``, and through sums, dots, reshapes.

    Each ``neg`` the derivative of tanh or of a subtraction leaves in a reverse pass is
    a full pass over its array; carried along, it usually ends in an add or a literal.
    Exact in IEEE arithmetic (a negation is, and rounding is symmetric). A negated value
    is negated once, at its first use that the rules do not cover (or on return).
    """

    negated: dict[Var, Var] = {}  # v -> x where v == -x and v's neg is not emitted
    env: dict[Var, Var] = {}  # renames: -(-x) is x
    eqns: list[JaxprEqn] = []

    def materialize(v):
        eqns.append(JaxprEqn(neg_p, [negated.pop(v)], {}, [v]))

    def emit(prim, inputs, params, out, sign):
        # ``out`` = sign * prim(inputs); a negative result stays deferred until a use
        # that cannot absorb the sign.
        if sign > 0:
            eqns.append(JaxprEqn(prim, inputs, params, [out]))
            return
        tmp = Var(out.aval)
        eqns.append(JaxprEqn(prim, inputs, params, [tmp]))
        negated[out] = tmp

    for eqn in jaxpr.eqns:
        prim = eqn.primitive
        ins = [_subst(x, env) for x in eqn.inputs]
        neg_in = [type(x) is Var and x in negated for x in ins]
        floating = len(eqn.out_binders) == 1 and eqn.out_binders[0].aval.dtype.kind == "f"
        out = eqn.out_binders[0] if eqn.out_binders else None
        if prim is neg_p and floating and type(ins[0]) is Var:
            if neg_in[0]:
                env[out] = negated[ins[0]]  # -(-x) -> x
            else:
                negated[out] = ins[0]
            continue
        plain = [negated[x] if n else x for x, n in zip(ins, neg_in, strict=True)]
        handled = floating and any(neg_in)
        if handled and prim not in (add_p, sub_p) or prim is add_p and all(neg_in):
            # The sign moves to the output: only when that is no larger (a negated weight
            # matrix stays negated before the product with a batch, not after it).
            biggest = max(math.prod(x.aval.shape) for x, n in zip(ins, neg_in) if n)
            handled = handled and math.prod(out.aval.shape) <= biggest
        if handled and prim is add_p and neg_in[0] != neg_in[1]:
            a, b = plain if neg_in[1] else plain[::-1]  # a + (-b) -> a - b
            emit(sub_p, [a, b], {}, out, 1)
        elif handled and prim is add_p:
            emit(add_p, plain, {}, out, -1)  # (-a) + (-b) -> -(a + b)
        elif handled and prim is sub_p:
            if neg_in[0] and neg_in[1]:
                emit(sub_p, plain[::-1], {}, out, 1)  # (-a) - (-b) -> b - a
            else:  # a - (-b) -> a + b;  (-a) - b -> -(a + b)
                emit(add_p, plain, {}, out, -1 if neg_in[0] else 1)
        elif handled and prim in (mul_p, div_p, dot_general_p):
            sign = -1 if sum(neg_in) == 1 else 1
            lits = [i for i, x in enumerate(ins) if type(x) is Literal and x.val.ndim == 0]
            if prim is mul_p and sign < 0 and lits:
                k = lits[0]  # c * (-x) -> (-c) * x: the scaling takes the sign
                plain[k] = Literal(-ins[k].val)
                sign = 1
            emit(eqn.primitive, plain, eqn.params, out, sign)
        elif handled and prim in _SIGN_LINEAR_UNARY and len(ins) == 1:
            emit(eqn.primitive, plain, eqn.params, out, -1)
        else:
            for x, n in zip(ins, neg_in, strict=True):
                if n and x in negated:
                    materialize(x)
            eqns.append(JaxprEqn(eqn.primitive, ins, eqn.params, eqn.out_binders))
    outvars = [_subst(x, env) for x in jaxpr.outvars]
    for v in dict.fromkeys(x for x in outvars if type(x) is Var and x in negated):
        materialize(v)  # deferred values the program returns
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, outvars)


def merge_selects(jaxpr: Jaxpr) -> Jaxpr:
    """``select(p, select(q, x, c), c)`` -> ``select(p & q, x, c)``, also through a
    reshape between the two: ``select(p, reshape(select(q, x, c)), c)`` ->
    ``reshape(select(reshape(p) & q, x, c))`` (for the same scalar literal c).

    A ReLU's gradient after a dropout's, or relu6's own, is such a pair: two passes
    over the activations' floats become one over their bool masks and one over the
    floats. (A max-pool's gradient is a product by a float mask, as in JAX, so that NaN
    propagates: not a select.) The inner select (and reshape) must have no other use;
    the result is the same bit for bit. The reshaped mask is a view when ``p`` is
    contiguous, as a select's mask usually is.
    """

    producer: dict[Var, JaxprEqn] = {}
    uses = _use_counts(jaxpr)
    eqns: list[JaxprEqn] = []

    def single(v, prim) -> JaxprEqn | None:
        eqn = producer.get(v) if type(v) is Var and uses.get(v) == 1 else None
        return eqn if eqn is not None and eqn.primitive is prim else None

    for eqn in jaxpr.eqns:
        merged = None
        if eqn.primitive is select_p:
            p, t, c = eqn.inputs
            out = eqn.out_binders[0]
            through = single(t, reshape_p)
            inner = single(through.inputs[0] if through else t, select_p)
            if (
                inner is not None
                and type(p) is Var
                and p.aval.shape == out.aval.shape
                and _same_scalar_literal(c, inner.inputs[2])
                and type(inner.inputs[0]) is Var
                and inner.inputs[0].aval.shape == inner.out_binders[0].aval.shape
            ):
                q, x, _ = inner.inputs
                shape = q.aval.shape
                if through is not None:
                    p_r = Var(core.ShapedArray(shape, p.aval.dtype))
                    eqns.append(JaxprEqn(reshape_p, [p], {"new_sizes": shape}, [p_r]))
                    p = p_r
                both = Var(core.ShapedArray(shape, q.aval.dtype))
                eqns.append(JaxprEqn(and_p, [p, q], {}, [both]))
                if through is None:
                    merged = JaxprEqn(select_p, [both, x, c], {}, [out])
                else:
                    picked = Var(core.ShapedArray(shape, out.aval.dtype))
                    eqns.append(JaxprEqn(select_p, [both, x, c], {}, [picked]))
                    merged = JaxprEqn(reshape_p, [picked], {"new_sizes": out.aval.shape}, [out])
        new = merged or eqn
        eqns.append(new)
        for v in new.out_binders:
            producer[v] = new
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, jaxpr.outvars)


def _same_scalar_literal(a, b) -> bool:
    """Both scalar literals with the same dtype and bit pattern (so +0.0 is not -0.0)."""
    return (
        type(a) is Literal
        and type(b) is Literal
        and a.val.ndim == 0
        and b.val.ndim == 0
        and a.val.dtype == b.val.dtype
        and a.val.tobytes() == b.val.tobytes()
    )


def fuse_col2im_dot(jaxpr: Jaxpr) -> Jaxpr:
    """``col2im(dot_general(ct, w))`` -> ``col2im_dot(ct, w)``: per-offset products
    instead of a patch-sized intermediate.

    Two forms, each used by the col2im alone: a convolution's input gradient
    ``ct @ w.T`` with ``w`` of shape (K*C, F), and a strided transposed convolution's
    ``reshape(x @ w)`` with ``w`` of shape (*window, F, C) contracted over F. A slice of
    the spatial axes that alone uses the result (the crop of a SAME convolution's
    padding) becomes col2im_dot's ``crop``: no padding rows are computed.
    """

    uses = _use_counts(jaxpr)
    producer = {e.out_binders[0]: e for e in jaxpr.eqns if len(e.out_binders) == 1}
    consumers = {x: e for e in jaxpr.eqns for x in e.inputs if type(x) is Var}
    fused: dict[int, JaxprEqn] = {}
    dropped: set[int] = set()
    for eqn in jaxpr.eqns:
        if eqn.primitive is not col2im_p or type(eqn.inputs[0]) is not Var:
            continue
        src, via = producer.get(eqn.inputs[0]), []
        if src is not None and src.primitive is reshape_p and uses.get(eqn.inputs[0]) == 1:
            via, src = [src], producer.get(src.inputs[0]) if type(src.inputs[0]) is Var else None
        if src is None or src.primitive is not dot_general_p:
            continue
        if uses.get(src.out_binders[0]) != 1 or uses.get(eqn.inputs[0]) != 1:
            continue
        ct, w = src.inputs
        if type(ct) is not Var or type(w) is not Var:
            continue
        n = len(eqn.params["window"])
        dn = src.params["dimension_numbers"]
        if not via and w.aval.ndim == 2 and dn == (((ct.aval.ndim - 1,), (1,)), ((), ())):
            layout = "kc_f"
        elif (
            via
            and w.aval.ndim == n + 2
            and tuple(w.aval.shape[:n]) == tuple(eqn.params["window"])
            and dn == (((ct.aval.ndim - 1,), (n,)), ((), ()))
            and via[0].out_binders[0].aval.shape[:-1] == ct.aval.shape[:-1]
        ):
            layout = "window_f_c"  # the reshape merges (window..., C) into one axis
        else:
            continue
        params = {**eqn.params, "kernel_layout": layout}
        out = eqn.out_binders
        unit = all(x == 1 for k in ("strides", "dilation") for x in eqn.params[k])
        # Only the stride-1 kernel path computes the crop alone (others would copy it).
        rows_path = unit and layout == "kc_f"
        crop = _crop_of(eqn.out_binders[0], consumers, uses, n) if rows_path else None
        if crop is not None:  # the slice that follows is done by col2im_dot
            slice_eqn, params["crop"] = crop
            out = slice_eqn.out_binders
            dropped.add(id(slice_eqn))
        fused[id(eqn)] = JaxprEqn(col2im_dot_p, [ct, w], params, out)
        dropped.update(id(e) for e in [src, *via])
    if not fused:
        return jaxpr
    eqns = [fused.get(id(e), e) for e in jaxpr.eqns if id(e) not in dropped]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, jaxpr.outvars)


def _crop_of(v: Var, consumers: dict, uses: dict, n: int):
    """``(slice_eqn, crop)`` when ``v`` (N, *spatial, C) is used once, by a unit-stride
    slice of its spatial axes only (a SAME convolution's input gradient drops the
    padding), else None."""
    if uses.get(v) != 1 or v not in consumers:
        return None
    eqn = consumers[v]
    if eqn.primitive is not slice_p:
        return None
    start, limit, strides = (eqn.params[k] for k in ("start", "limit", "strides"))
    shape = v.aval.shape
    whole = (0, n + 1)  # the batch and channel axes
    if any(st != 1 for st in strides) or any(start[a] != 0 or limit[a] != shape[a] for a in whole):
        return None
    return eqn, tuple(zip(start[1 : 1 + n], limit[1 : 1 + n], strict=True))
