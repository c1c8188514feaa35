"""The forward Laplacian: value, Jacobian and Laplacian pushed forward together.

For ``u = f(x)`` with x in R^d, ``laplacian(f)(x)`` is ``sum_i d^2 u / dx_i^2``. Nested
differentiation gets it from d Hessian-vector products; the forward Laplacian (Li et al.,
2023; the folx, lapjax and fwdlap packages for JAX) carries, for every intermediate value
v, its value, its directional derivatives ``J_k = Dv[e_k]`` along the d coordinate axes
and the running sum ``L = sum_k w_k D^2 v[e_k, e_k]``, in one forward pass. Through a
primitive ``y = p(x)``:

    J_k(y) = Dp[J_k(x)],    L(y) = Dp[L(x)] + sum_k w_k D^2 p[J_k(x), J_k(x)].

Both come from the primitive's second-order Taylor rule (``fnn.rules.jet_rules``) run
once over the stacked directions (a vmap over k): with x(t) = x + J_k t, its coefficients
are ``Dp[J_k]`` and ``D^2 p[J_k, J_k] / 2``. So every primitive with a Taylor rule
has a forward-Laplacian rule for free, linear maps cost one application to L (not d),
and values that do not depend on x (a network's parameters) carry no Jacobian at all
(symbolic zeros). The same pass with weights ``w_k`` and directions from the
eigenvectors of a symmetric matrix A gives ``sum_ij A_ij d_ij u``; keeping the d terms
apart instead of summing gives the Hessian's diagonal ``d_ii u``.

Sparsity: a value carries only the directions it can depend on. Each value's stack
comes with a sparsity pattern computed while tracing (from the coordinate basis, through
slices, reshapes, products and elementwise operations), so ``g(x[i])`` carries one
direction, not d, and a sum of such terms joins their directions only where they meet.
Once a value is dense (a network's first layer mixes every coordinate) tracking stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fnn import core
from fnn.core import FnnTypeError, Trace, Tracer
from fnn.lax.base import is_float
from fnn.lax.dot import dot_general_p
from fnn.lax.elementwise import add, mul
from fnn.lax.reductions import reduce_sum
from fnn.lax.slicing import concatenate, concatenate_p, pad_p, rev_p, slice_in_dim, slice_p
from fnn.lax.structural import (
    broadcast_in_dim,
    broadcast_in_dim_p,
    moveaxis,
    reduce_sum_p,
    reshape,
    reshape_p,
    transpose_p,
    zeros_like_aval,
)
from fnn.lowering import lowering_of
from fnn.rules import jet_rules
from fnn.transforms.batching import vmap
from fnn.transforms.jet import _has_float_output, _integer_output_jet, _jet_by_nested_jvp
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = [
    "directional_laplacian",
    "forward_laplacian",
    "laplacian",
    "hessian_diagonal",
    "second_order_operator",
    "LaplacianTrace",
    "LaplacianTracer",
]


class _Directions:
    """What a LaplacianTrace carries: the number of directions m, their weights (None
    for all ones) and whether the second-order terms are kept apart (the diagonal)."""

    __slots__ = ("count", "weights", "diagonal")

    def __init__(self, count: int, weights, diagonal: bool):
        self.count, self.weights, self.diagonal = count, weights, diagonal


class LaplacianTracer(Tracer):
    """A value with its directional derivatives and second-order term.

    ``jac`` stacks ``Dv[e_k]`` on a leading axis for the directions ``rows`` only: the
    others are zero (a value computed from some coordinates alone). ``lap`` is the summed
    second-order term, or for the diagonal a stack over ``rows`` like ``jac``. ``jac`` and
    ``lap`` are None when zero. ``pattern`` (a concrete bool array of the stack's shape, or
    None when unknown) marks the entries that may be nonzero: it is how tracing finds that
    ``x[i]`` depends on direction i alone.
    """

    __slots__ = ("primal", "rows", "jac", "lap", "pattern")

    def __init__(self, trace, primal, rows, jac, lap, pattern=None):
        self._trace = trace
        self.primal = primal
        self.rows = rows
        self.jac = jac
        self.lap = lap
        self.pattern = pattern

    @property
    def aval(self):
        return core.get_aval(self.primal)

    def full_lower(self):
        if self.jac is None and self.lap is None:
            return core.full_lower(self.primal)
        return self

    def concrete_value(self):
        p = self.primal
        if isinstance(p, Tracer):
            return p.concrete_value()
        return core._to_numpy(p)


_NO_ROWS: tuple[int, ...] = ()


class LaplacianTrace(Trace):
    __slots__ = ()

    @property
    def directions(self) -> _Directions:
        return self.main.global_data

    def pure(self, val):
        return LaplacianTracer(self, val, _NO_ROWS, None, None)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = [t.primal for t in tracers]
        if all(t.jac is None and t.lap is None for t in tracers):
            out = primitive.bind(*primals, **params)
            if primitive.multiple_results:
                return [LaplacianTracer(self, o, _NO_ROWS, None, None) for o in out]
            return LaplacianTracer(self, out, _NO_ROWS, None, None)
        out, rows, jacs, laps, patterns = _push_forward(primitive, tracers, params, self.directions)
        if primitive.multiple_results:
            return [
                LaplacianTracer(self, o, r, j, lap, pat)
                for o, r, j, lap, pat in zip(out, rows, jacs, laps, patterns, strict=True)
            ]
        return LaplacianTracer(self, out, rows[0], jacs[0], laps[0], patterns[0])

    def process_custom_jvp_call(self, fun, jvp, tracers):
        del jvp  # second derivatives come from the function's own body
        return fun(*tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_holder):
        del fwd, bwd, out_tree_holder
        return fun(*tracers)


def _taylor_rule(primitive, primals, params):
    rule = jet_rules.get(primitive)
    if rule is None and not _has_float_output(primitive, primals, params):
        return _integer_output_jet(primitive)

    def run(primals_, series):
        result = NotImplemented if rule is None else rule(primals_, series, **params)
        if result is NotImplemented:
            result = _jet_by_nested_jvp(primitive, primals_, series, params, len(series[0]))
        return result

    return run


def _push_forward(primitive, tracers, params, directions: _Directions):
    """(outputs, their rows, Jacobian stacks and second-order terms) through a primitive.

    The inputs' direction sets are joined (a stack missing some rows gets zero rows);
    the outputs' are pruned to the rows their sparsity pattern may have nonzero (see
    :func:`_out_pattern`), so a network applied to ``x[i]`` carries one direction.
    """
    primals = [t.primal for t in tracers]
    rule = _taylor_rule(primitive, primals, params)
    multiple = primitive.multiple_results
    union = tuple(sorted({k for t in tracers for k in t.rows}))
    jacs = [_expand(t.jac, t.rows, union) for t in tracers]
    diagonal = directions.diagonal
    laps = [_expand(t.lap, t.rows, union) if diagonal else t.lap for t in tracers]
    weights = None
    if directions.weights is not None:
        weights = np.asarray(directions.weights)[list(union)]
    scalar_input = _scalar_function_input(primitive, primals, params, jacs, laps)
    if scalar_input is not None:
        outs, jac_out, laps_out = _push_scalar_function(
            rule, primals, scalar_input, jacs, laps, weights, diagonal
        )
    else:
        outs, jac_out, laps_out = _push_generic(
            primitive, rule, primals, params, union, jacs, laps, weights, diagonal
        )

    pattern = None if multiple or not union else _out_pattern(primitive, tracers, union, params)
    rows_out, patterns = [], []
    for k in range(len(outs)):
        if jac_out[k] is None and (not diagonal or laps_out[k] is None):
            rows_out.append(_NO_ROWS)
            patterns.append(None)
            continue
        if pattern is None:
            rows_out.append(union)
            patterns.append(None)
            continue
        keep = [i for i in range(len(union)) if pattern[i].any()]
        if not keep:  # no direction reaches this output
            jac_out[k] = None
            if diagonal:
                laps_out[k] = None
            rows_out.append(_NO_ROWS)
            patterns.append(None)
            continue
        rows_out.append(tuple(union[i] for i in keep))
        patterns.append(pattern[keep])
        if len(keep) < len(union):
            jac_out[k] = _select_rows(jac_out[k], keep)
            if diagonal:
                laps_out[k] = _select_rows(laps_out[k], keep)
    return outs if multiple else outs[0], rows_out, jac_out, laps_out, patterns


def _push_generic(primitive, rule, primals, params, union, jacs, laps, weights, diagonal):
    """Any primitive: its second-order Taylor rule vmapped over the directions."""
    multiple = primitive.multiple_results
    n_in = len(primals)
    batched = [i for i, j in enumerate(jacs) if j is not None]
    lap_batched = [i for i, lap in enumerate(laps) if lap is not None] if diagonal else []
    store: dict[str, Any] = {}

    # Second-order Taylor coefficients along each direction, stacked: one vmap over k.
    # In the diagonal, each direction's own second-order term rides in the second
    # coefficient (D^2 p[J, J] / 2 + Dp[L / 2]), so one pass gives everything.
    def along_directions(*args):
        jac_k = dict(zip(batched, args[: len(batched)], strict=True))
        lap_k = dict(zip(lap_batched, args[len(batched) :], strict=True))
        series = [
            [jac_k.get(i), None if i not in lap_k else mul(lap_k[i], _half(lap_k[i]))]
            for i in range(n_in)
        ]
        out, terms = rule(primals, series)
        outs = out if multiple else [out]
        terms = terms if multiple else [terms]
        store["shape"] = [(t[0] is not None, t[1] is not None) for t in terms]
        store["outs"] = outs
        flat = []
        for t in terms:
            flat += [x for x in t if x is not None]
        return flat

    if union:
        args = [jacs[i] for i in batched] + [laps[i] for i in lap_batched]
        flat = vmap(along_directions, in_axes=0, out_axes=0, axis_size=len(union))(*args)
        outs = store["outs"]
        it = iter(flat)
        jac_out, second = [], []
        for has1, has2 in store["shape"]:
            jac_out.append(next(it) if has1 else None)
            second.append(next(it) if has2 else None)
    else:  # only summed second-order terms come in
        out = primitive.bind(*primals, **params)
        outs = out if multiple else [out]
        jac_out, second = [None] * len(outs), [None] * len(outs)

    if diagonal:
        laps_out = [None if s is None else mul(s, _two(s)) for s in second]
    else:
        # The summed second-order term: sum_k w_k D^2 p[J_k, J_k] + Dp[L].
        laps_out = [None if s is None else _weighted_sum(s, weights) for s in second]
        if any(lap is not None for lap in laps):
            _, first = rule(primals, [[lap] for lap in laps])
            first = first if multiple else [first]
            laps_out = [_add_opt(a, f[0]) for a, f in zip(laps_out, first, strict=True)]

    return outs, jac_out, laps_out


def _scalar_function_input(primitive, primals, params, jacs, laps):
    """The operand index when ``primitive`` acts elementwise as a function of one operand
    with derivatives (the others constant) of the output's shape, else None."""
    if primitive.multiple_results or not lowering_of(primitive).elementwise:
        return None
    live = [i for i in range(len(primals)) if jacs[i] is not None or laps[i] is not None]
    if len(live) != 1:
        return None
    (i,) = live
    out_aval = primitive.abstract_eval(*[core.get_aval(x) for x in primals], **params)
    x_aval = core.get_aval(primals[i])
    if out_aval.shape != x_aval.shape or not is_float(out_aval.dtype):
        return None
    return i


def _push_scalar_function(rule, primals, i, jacs, laps, weights, diagonal):
    """y = f(x) elementwise: J_y = f' J, L_y = f' L + f'' sum_k w_k J_k^2 (or, for the
    diagonal, f' D_k + f'' J_k^2). f' and f''/2 come from the Taylor rule along
    x(t) = x + t, once, not per direction."""
    x = primals[i]
    ones = np.ones(core.get_aval(x).shape, core.get_aval(x).dtype)
    series = [[ones, None] if k == i else [None, None] for k in range(len(primals))]
    out, (slope, half_curvature) = rule(primals, series)
    jac, lap = jacs[i], laps[i]
    if slope is None:
        return [out], [None], [None]
    jac_out = None if jac is None else mul(jac, slope)
    first = None if lap is None else mul(lap, slope)
    if half_curvature is None or jac is None:
        return [out], [jac_out], [first]
    curvature = mul(half_curvature, _two(half_curvature))
    if diagonal:
        second = mul(mul(jac, jac), curvature)
    else:
        second = mul(_weighted_square_sum(jac, weights), curvature)
    return [out], [jac_out], [_add_opt(first, second)]


def _weighted_square_sum(jac, weights):
    """sum_k w_k jac[k]**2."""
    squares = mul(jac, jac)
    if weights is None:
        return reduce_sum(squares, (0,))
    aval = core.get_aval(squares)
    w = broadcast_in_dim(np.asarray(weights, aval.dtype), aval.shape, (0,))
    return reduce_sum(mul(squares, w), (0,))


# Patterns are computed while tracing; beyond this many entries fnn keeps every row.
_MAX_PATTERN_SIZE = 1 << 22

# Linear primitives with static parameters whose sparsity pattern is their impl applied
# to the inputs' patterns (as 0/1 arrays), row by row.
_PATTERN_BY_IMPL = {
    reshape_p,
    transpose_p,
    broadcast_in_dim_p,
    reduce_sum_p,
    slice_p,
    rev_p,
    pad_p,
    concatenate_p,
    dot_general_p,
}


def _out_pattern(primitive, tracers, union, params):
    """Which entries of the output's stack over ``union`` may be nonzero (a bool array),
    or None when that is not known (then every row is kept)."""
    patterns = []
    for t in tracers:
        if t.jac is None and t.lap is None:
            patterns.append(None)
        elif t.pattern is None:
            return None
        else:
            patterns.append(_expand_pattern(t.pattern, t.rows, union))
    present = [p for p in patterns if p is not None]
    if all(p.all() for p in present):
        return None  # dense in, dense (or unknown) out: stop tracking
    out_aval = primitive.abstract_eval(*[core.get_aval(t.primal) for t in tracers], **params)
    if len(union) * int(np.prod(out_aval.shape)) > _MAX_PATTERN_SIZE:
        return None
    if lowering_of(primitive).elementwise:
        # J_out = sum over operands of (partial derivative) * J_operand, elementwise
        rank = len(out_aval.shape)
        out = np.zeros((len(union), *out_aval.shape), dtype=bool)
        for p in patterns:
            if p is not None:
                p = p.reshape((p.shape[0],) + (1,) * (rank - (p.ndim - 1)) + p.shape[1:])
                out |= p
        return out
    if primitive not in _PATTERN_BY_IMPL:
        return None
    # Each operand's contribution, the others held at a neutral value: ones for the other
    # factor of a product, zeros for the other pieces of a concatenation or a pad.
    fill = 1.0 if primitive is dot_general_p else 0.0
    out = None
    for i, p in enumerate(patterns):
        if p is None:
            continue
        rows = []
        for k in range(len(union)):
            args = [
                p[k].astype(np.float32)
                if j == i
                else np.full(core.get_aval(t.primal).shape, fill, np.float32)
                for j, t in enumerate(tracers)
            ]
            rows.append(np.asarray(primitive.impl(*args, **params)) != 0)
        contribution = np.stack(rows)
        out = contribution if out is None else out | contribution
    return out


def _expand_pattern(pattern, rows, union):
    if tuple(rows) == tuple(union):
        return pattern
    out = np.zeros((len(union), *pattern.shape[1:]), dtype=bool)
    position = {k: i for i, k in enumerate(union)}
    out[[position[k] for k in rows]] = pattern
    return out


def _select_rows(stack, keep):
    """The rows ``keep`` (increasing positions) of ``stack``, by slices of runs."""
    if stack is None:
        return None
    blocks, i = [], 0
    while i < len(keep):
        j = i
        while j + 1 < len(keep) and keep[j + 1] == keep[j] + 1:
            j += 1
        blocks.append(slice_in_dim(stack, keep[i], keep[j] + 1, axis=0))
        i = j + 1
    return concatenate(blocks, 0)


def _expand(stack, rows, union):
    """``stack`` (rows ``rows``) as a stack over ``union`` (a superset), zeros elsewhere."""
    if stack is None or tuple(rows) == tuple(union):
        return stack
    aval = core.get_aval(stack)
    position = {k: i for i, k in enumerate(rows)}
    blocks, k = [], 0
    while k < len(union):
        start = k
        if union[k] in position:
            first = position[union[k]]
            while (
                k < len(union)
                and union[k] in position
                and position[union[k]] == first + (k - start)
            ):
                k += 1
            blocks.append(slice_in_dim(stack, first, first + (k - start), axis=0))
        else:
            while k < len(union) and union[k] not in position:
                k += 1
            zeros = core.ShapedArray((k - start, *aval.shape[1:]), aval.dtype)
            blocks.append(zeros_like_aval(zeros))
    return concatenate(blocks, 0)


def _half(x):
    return np.asarray(0.5, core.get_aval(x).dtype)


def _two(x):
    return np.asarray(2.0, core.get_aval(x).dtype)


def _add_opt(a, b):
    if a is None:
        return b
    return a if b is None else add(a, b)


def _weighted_sum(stacked, weights):
    """sum_k w_k stacked[k] (twice the normalized second coefficients: D^2 p[J_k, J_k])."""
    aval = core.get_aval(stacked)
    if weights is None:
        total = reduce_sum(stacked, (0,))
        return mul(total, _two(total))
    w = np.asarray(weights, aval.dtype) * 2
    return reduce_sum(mul(stacked, broadcast_in_dim(w, aval.shape, (0,))), (0,))


# ---- the public functions ---------------------------------------------------------------------


def _run(fun, args, argnums, basis, weights, diagonal):
    """Push the directions ``basis`` (m, *x.shape) of argument ``argnums`` forward."""
    x = args[argnums]
    aval = core.get_aval(x)
    directions = _Directions(basis.shape[0], weights, diagonal)
    store = {}
    with core.new_main(LaplacianTrace, directions) as main:
        trace = LaplacianTrace(main)
        rows = tuple(range(basis.shape[0]))
        basis = np.asarray(basis, aval.dtype)
        tracer = LaplacianTracer(trace, x, rows, basis, None, basis != 0)
        full = list(args)
        full[argnums] = tracer
        out = fun(*full)
        leaves, store["tree"] = tree_flatten(out)
        outs = [core.full_raise(trace, o) for o in leaves]
        values = [core.ensure_array(core.full_lower(o.primal)) for o in outs]
        jacs, laps = [], []
        for o, v in zip(outs, values, strict=True):
            v_aval = core.get_aval(v)
            stacked = core.ShapedArray((basis.shape[0], *v_aval.shape), v_aval.dtype)
            every = tuple(range(basis.shape[0]))
            jac = _expand(o.jac, o.rows, every) if o.jac is not None else None
            jacs.append(core.full_lower(jac) if jac is not None else zeros_like_aval(stacked))
            lap = o.lap
            if diagonal and lap is not None:
                lap = _expand(lap, o.rows, every)
            lap_aval = stacked if diagonal else v_aval
            laps.append(core.full_lower(lap) if lap is not None else zeros_like_aval(lap_aval))
    return store["tree"], values, jacs, laps


def _check(fun_name, args, argnums):
    if not isinstance(argnums, int) or not -len(args) <= argnums < len(args):
        raise FnnTypeError(
            f"{fun_name}: argnums must be the index of one positional argument "
            f"(0..{len(args) - 1}), got {argnums!r}"
        )
    x = args[argnums]
    if not isinstance(x, Tracer):
        x = core.ensure_array(x)
    aval = core.get_aval(x)
    if not is_float(aval.dtype):
        raise FnnTypeError(
            f"{fun_name}: argument {argnums} must have a floating dtype, got {aval.str_short()}"
        )
    args = list(args)
    args[argnums] = x
    return args, argnums % len(args), aval


def _coordinate_basis(aval):
    d = int(np.prod(aval.shape))
    return np.eye(d, dtype=aval.dtype).reshape((d, *aval.shape))


def _jacobian_layout(jac, x_shape):
    """(m, *out) stacked directional derivatives -> jacfwd's (*out, *x) layout."""
    aval = core.get_aval(jac)
    out_shape = aval.shape[1:]
    moved = moveaxis(jac, 0, -1) if out_shape else jac
    return reshape(moved, (*out_shape, *x_shape))


def forward_laplacian(fun: Callable, argnums: int = 0) -> Callable:
    """``(u, du/dx, laplacian of u)`` in one forward pass.

    Args:
        fun: a function of arrays returning a pytree of arrays.
        argnums: the argument the derivatives are taken with respect to.

    Returns:
        A function of the same arguments returning ``(value, jacobian, laplacian)``, each
        a pytree like ``fun``'s output: the Jacobian of a leaf of shape ``s`` has shape
        ``s + x.shape`` (as ``jacfwd``), its Laplacian shape ``s``.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> u, du, lap = fnn.forward_laplacian(lambda x: fnp.sum(x ** 3))(fnp.array([1.0, 2.0]))
        >>> float(u), du.tolist(), float(lap)
        (9.0, [3.0, 12.0], 18.0)
    """

    def wrapped(*args):
        args, i, aval = _check("forward_laplacian", args, argnums)
        tree, values, jacs, laps = _run(fun, args, i, _coordinate_basis(aval), None, False)
        jacs = [_jacobian_layout(j, aval.shape) for j in jacs]
        return (
            tree_unflatten(tree, values),
            tree_unflatten(tree, [core.ensure_array(j) for j in jacs]),
            tree_unflatten(tree, [core.ensure_array(lap) for lap in laps]),
        )

    return wrapped


def laplacian(fun: Callable, argnums: int = 0) -> Callable:
    """The Laplacian ``sum_i d^2 fun / dx_i^2`` with respect to argument ``argnums``, by
    the forward Laplacian (one pass, no Hessian).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> lap = fnn.laplacian(lambda x: fnp.sum(fnp.sin(x)))
        >>> round(float(lap(fnp.array([0.5, 1.0]))), 5)  # -(sin 0.5 + sin 1)
        -1.3209
    """
    full = forward_laplacian(fun, argnums)

    def wrapped(*args):
        return full(*args)[2]

    return wrapped


def hessian_diagonal(fun: Callable, argnums: int = 0) -> Callable:
    """Every ``d^2 fun / dx_i^2`` (the Hessian's diagonal), in one forward pass.

    A leaf of shape ``s`` gets shape ``s + x.shape``: entry ``[..., i]`` is the second
    derivative along coordinate i.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.hessian_diagonal(lambda x: x[0] ** 3 * x[1])(fnp.array([1.0, 2.0])).tolist()
        [12.0, 0.0]
    """

    def wrapped(*args):
        args, i, aval = _check("hessian_diagonal", args, argnums)
        tree, _, _, laps = _run(fun, args, i, _coordinate_basis(aval), None, True)
        return tree_unflatten(
            tree, [core.ensure_array(_jacobian_layout(lap, aval.shape)) for lap in laps]
        )

    return wrapped


def directional_laplacian(
    fun: Callable, directions: Any, weights: Any = None, argnums: int = 0
) -> Callable:
    """``sum_k w_k D^2 fun[v_k, v_k]`` for given directions ``v_k``, in one forward pass.

    ``directions`` has shape ``(m, *x.shape)``: row k is the direction ``v_k``; ``weights``
    (m,) defaults to ones. With the coordinate axes this is the Laplacian; with the rows
    ``E_k`` (ones in column k of a batch of points (N, d)) of a function that maps each
    row to its own value (a PINN's network), it is every point's Laplacian at once.

    Example:
        >>> import fnn, fnn.numpy as fnp, numpy as np
        >>> X = fnp.array([[1.0, 2.0], [3.0, 4.0]])  # two points (x, y)
        >>> E = np.stack([np.tile([1.0, 0.0], (2, 1)), np.tile([0.0, 1.0], (2, 1))])
        >>> u = lambda X: X[:, 0] ** 2 * X[:, 1]  # u_xx + u_yy = 2 y
        >>> fnn.directional_laplacian(u, E)(X).tolist()
        [4.0, 8.0]
    """

    def wrapped(*args):
        args, i, aval = _check("directional_laplacian", args, argnums)
        basis = np.asarray(directions)
        if basis.ndim < 1 or basis.shape[1:] != aval.shape:
            raise FnnTypeError(
                f"directional_laplacian: directions must have shape (m, *{aval.shape}) for "
                f"argument {i} of shape {aval.shape}, got {basis.shape}"
            )
        w = None if weights is None else np.asarray(weights, np.float64)
        if w is not None and w.shape != (basis.shape[0],):
            raise FnnTypeError(
                f"directional_laplacian: weights must have shape ({basis.shape[0]},), got {w.shape}"
            )
        tree, _, _, laps = _run(fun, args, i, basis, w, False)
        return tree_unflatten(tree, [core.ensure_array(lap) for lap in laps])

    return wrapped


def second_order_operator(fun: Callable, coefficients: Any, argnums: int = 0) -> Callable:
    """``sum_ij A_ij d^2 fun / dx_i dx_j`` for a constant matrix A, in one forward pass.

    Only A's symmetric part matters. A = V diag(s) V^T: the pass carries one direction
    per nonzero eigenvalue (a rank-r A costs r directions, not d) with weight s_k, so an
    indefinite A works too. ``x`` of any shape counts as the vector ``x.ravel()``.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> A = fnp.array([[2.0, 1.0], [1.0, 0.0]])
        >>> op = fnn.second_order_operator(lambda x: x[0] ** 2 * x[1], A)
        >>> float(op(fnp.array([1.0, 3.0])))  # 2 * 2 x1 + 2 * 1 * 2 x0
        16.0
    """
    a = np.asarray(coefficients, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise FnnTypeError(
            f"second_order_operator: coefficients must be a square matrix, got shape {a.shape}"
        )
    s, v = np.linalg.eigh((a + a.T) / 2)
    keep = np.abs(s) > 1e-12 * max(1.0, float(np.max(np.abs(s), initial=0.0)))
    s, v = s[keep], v[:, keep]

    def wrapped(*args):
        args, i, aval = _check("second_order_operator", args, argnums)
        d = int(np.prod(aval.shape))
        if a.shape[0] != d:
            raise FnnTypeError(
                f"second_order_operator: coefficients are {a.shape[0]}x{a.shape[0]} but "
                f"argument {i} has {d} entries (shape {aval.shape})"
            )
        if not keep.any():
            out = fun(*args)
            leaves, tree = tree_flatten(out)
            return tree_unflatten(tree, [zeros_like_aval(core.get_aval(o)) for o in leaves])
        basis = v.T.reshape((v.shape[1], *aval.shape))
        tree, _, _, laps = _run(fun, args, i, basis, s, False)
        return tree_unflatten(tree, [core.ensure_array(lap) for lap in laps])

    return wrapped
