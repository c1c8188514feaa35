"""Taylor mode: push a truncated Taylor series through a function, one primitive at a time.

``jet(f, (x0,), ([x1, ..., xK],))`` evaluates ``f`` along the curve
``x(t) = x0 + x1 t + x2 t**2 / 2! + ... + xK t**K / K!`` and returns ``f(x0)`` and the
derivatives ``d^k/dt^k f(x(t))`` at ``t = 0`` for ``k = 1..K`` (JAX's convention for
``jax.experimental.jet``). The k-th derivative of a network along a coordinate axis
costs one pass of K + 1 arrays per value instead of the 2**K of k nested JVPs.

Inside, series are *normalized* Taylor coefficients (``x(t) = sum_k c_k t**k``), in
which products and compositions have simple recurrences; each primitive's rule is
``fnn.rules.jet_rules[prim]``, registered beside it in ``fnn.lax``. A primitive without
a rule (linear algebra, loops) is expanded by nested JVPs of the primitive alone:
correct, and exponential in K only for that primitive. Rules are written with fnn
operations, so ``jet`` composes with ``grad`` (for instance with respect to a network's
parameters), ``vmap`` and ``jit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnn import core
from fnn.core import FnnTypeError, Trace, Tracer
from fnn.lax.base import is_float
from fnn.lax.elementwise import add, mul
from fnn.lax.structural import convert_element_type, zeros_like_aval
from fnn.rules import jet_rules
from fnn.transforms.jvp import jvp_flat
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["jet", "jet_normalized", "JetTrace", "JetTracer"]


class JetTracer(Tracer):
    """A value and its normalized Taylor coefficients 1..K (``None`` when all are zero;
    single coefficients may also be ``None``)."""

    __slots__ = ("primal", "terms")

    def __init__(self, trace, primal, terms):
        self._trace = trace
        self.primal = primal
        self.terms = terms

    @property
    def aval(self):
        return core.get_aval(self.primal)

    def full_lower(self):
        if self.terms is None:
            return core.full_lower(self.primal)
        return self

    def concrete_value(self):
        p = self.primal
        if isinstance(p, Tracer):
            return p.concrete_value()
        return core._to_numpy(p)


def _nonzero(terms) -> list | None:
    """``terms`` with all-zero series collapsed to None."""
    if terms is None or all(t is None for t in terms):
        return None
    return list(terms)


class JetTrace(Trace):
    __slots__ = ()

    @property
    def order(self) -> int:
        return self.main.global_data

    def pure(self, val):
        return JetTracer(self, val, None)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = [t.primal for t in tracers]
        if all(t.terms is None for t in tracers):
            out = primitive.bind(*primals, **params)
            if primitive.multiple_results:
                return [JetTracer(self, o, None) for o in out]
            return JetTracer(self, out, None)
        order = self.order
        series = [t.terms if t.terms is not None else [None] * order for t in tracers]
        rule = jet_rules.get(primitive)
        if rule is None and not _has_float_output(primitive, primals, params):
            rule = _integer_output_jet(primitive)
        result = NotImplemented if rule is None else rule(primals, series, **params)
        if result is NotImplemented:
            result = _jet_by_nested_jvp(primitive, primals, series, params, order)
        out, out_terms = result
        if primitive.multiple_results:
            return [JetTracer(self, o, _nonzero(ts)) for o, ts in zip(out, out_terms, strict=True)]
        return JetTracer(self, out, _nonzero(out_terms))

    def process_custom_jvp_call(self, fun, jvp, tracers):
        del jvp  # Taylor mode differentiates the function's own body
        return fun(*tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_holder):
        del fwd, bwd, out_tree_holder
        return fun(*tracers)


def _has_float_output(primitive, primals, params) -> bool:
    avals = primitive.abstract_eval(*[core.get_aval(p) for p in primals], **params)
    avals = avals if primitive.multiple_results else [avals]
    return any(is_float(a.dtype) for a in avals)


def _integer_output_jet(primitive):
    """Integer and boolean results (argmax, comparisons, random bits) have no series."""

    def rule(primals, series, **params):
        out = primitive.bind(*primals, **params)
        order = len(series[0])
        if primitive.multiple_results:
            return out, [[None] * order for _ in out]
        return out, [None] * order

    return rule


def _jet_by_nested_jvp(primitive, primals, series, params, order):
    """Taylor coefficients of ``primitive`` along the input polynomials by nested JVPs.

    ``g(t) = prim(x0 + s1 t + ... + sK t**K)``; K nested JVPs of g at t = 0 give every
    derivative up to K in one evaluation (2**K applications of the primitive's rule),
    and ``c_k = g^(k)(0) / k!``.
    """
    float_dtypes = [core.get_aval(p).dtype for p in primals if is_float(core.get_aval(p).dtype)]
    t_dtype = np.result_type(*float_dtypes) if float_dtypes else np.float32

    def polynomial(x, terms, t):
        if not is_float(core.get_aval(x).dtype) or all(s is None for s in terms):
            return x
        tx = convert_element_type(t, core.get_aval(x).dtype)
        power, out = tx, x
        for s in terms:
            if s is not None:
                out = add(out, mul(s, power))
            power = mul(power, tx)
        return out

    def g(t):
        ins = [polynomial(x, s, t) for x, s in zip(primals, series, strict=True)]
        out = primitive.bind(*ins, **params)
        return list(out) if primitive.multiple_results else [out]

    def derivatives(t, k):
        """[g(t), g'(t), ..., g^(k)(t)], each a list over the primitive's outputs."""
        if k == 0:
            return [g(t)]
        n_out = None

        def lower(t_):
            nonlocal n_out
            ds = derivatives(t_, k - 1)
            n_out = len(ds[0])
            return [o for d in ds for o in d]

        flat, flat_tangents = jvp_flat(lower, [t], [np.ones((), t_dtype)])
        ds = [flat[i * n_out : (i + 1) * n_out] for i in range(k)]
        return ds + [flat_tangents[(k - 1) * n_out : k * n_out]]

    ds = derivatives(np.zeros((), t_dtype), order)
    outs = ds[0]
    terms = [
        [mul(d, np.asarray(1.0 / math.factorial(k), core.get_aval(d).dtype)) for d in ds[k]]
        for k in range(1, order + 1)
    ]
    per_output = [[terms[k][i] for k in range(order)] for i in range(len(outs))]
    if primitive.multiple_results:
        return outs, per_output
    return outs[0], per_output[0]


def jet_normalized(fun: Callable, primals: Sequence, series: Sequence, order: int):
    """``jet`` on flat lists in normalized coefficients (``x(t) = sum_k s_k t**k``).

    ``series[i]`` is None (no dependence on t) or a list of ``order`` coefficients, any
    of which may be None. Returns ``(primals_out, series_out)`` with the same conventions.
    """
    with core.new_main(JetTrace, order) as main:
        trace = JetTrace(main)
        tracers = [JetTracer(trace, x, _nonzero(s)) for x, s in zip(primals, series, strict=True)]
        outs = fun(*tracers)
        outs = [core.full_raise(trace, o) for o in outs]
        primals_out = [core.ensure_array(core.full_lower(o.primal)) for o in outs]
        series_out = [o.terms for o in outs]
    return primals_out, series_out


def jet(fun: Callable, primals: Sequence, series: Sequence) -> tuple[Any, Any]:
    """Taylor-mode derivatives of ``fun`` along a curve, as ``jax.experimental.jet``.

    Args:
        fun: a function of ``len(primals)`` arrays returning a pytree of arrays.
        primals: the point ``(x0, y0, ...)``, one array per positional argument.
        series: one list per argument of K arrays ``[x1, ..., xK]`` of the argument's
            shape: the curve is ``x(t) = x0 + x1 t + x2 t**2/2! + ... + xK t**K/K!``.

    Returns:
        ``(f(x0, ...), series_out)``: ``series_out`` has the output's structure with
        each leaf replaced by the list ``[d/dt f, ..., d^K/dt^K f]`` at ``t = 0``.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> y, (d1, d2, d3) = fnn.jet(fnp.sin, (0.5,), ([1.0, 0.0, 0.0],))
        >>> [round(float(v), 4) for v in (y, d1, d2, d3)]
        [0.4794, 0.8776, -0.4794, -0.8776]
    """
    primals, series = _check_jet_args(primals, series)
    order = len(series[0]) if series else 0
    normalized = [
        [
            mul(s, np.asarray(1.0 / math.factorial(k + 1), core.get_aval(x).dtype))
            for k, s in enumerate(terms)
        ]
        for x, terms in zip(primals, series, strict=True)
    ]
    store = {}

    def flat_fun(*args):
        out = fun(*args)
        leaves, store["tree"] = tree_flatten(out)
        return leaves

    outs, terms_out = jet_normalized(flat_fun, primals, normalized, order)
    derivs = []
    for o, terms in zip(outs, terms_out, strict=True):
        aval = core.get_aval(o)
        if terms is None:
            terms = [None] * order
        derivs.append(
            [
                zeros_like_aval(aval)
                if s is None
                else core.ensure_array(
                    core.full_lower(mul(s, np.asarray(math.factorial(k + 1), aval.dtype)))
                )
                for k, s in enumerate(terms)
            ]
        )
    return tree_unflatten(store["tree"], outs), tree_unflatten(store["tree"], derivs)


def _check_jet_args(primals, series):
    if not isinstance(primals, tuple | list):
        raise FnnTypeError(
            f"jet: primals must be a tuple or list of arrays, got {type(primals).__name__}"
        )
    if not isinstance(series, tuple | list) or len(series) != len(primals):
        raise FnnTypeError(
            f"jet: series must be a tuple or list with one list of coefficients per primal "
            f"({len(primals)}), got {series!r:.80}"
        )
    primals = [core.ensure_array(p) if not isinstance(p, Tracer) else p for p in primals]
    orders = {len(s) if isinstance(s, tuple | list) else -1 for s in series}
    if -1 in orders or len(orders) > 1:
        raise FnnTypeError(
            "jet: every entry of series must be a list of the same length K (the order), "
            f"got lengths {[len(s) if isinstance(s, tuple | list) else None for s in series]}"
        )
    checked = []
    for i, (x, terms) in enumerate(zip(primals, series, strict=True)):
        aval = core.get_aval(x)
        if not is_float(aval.dtype):
            raise FnnTypeError(
                f"jet: primal {i} must have a floating dtype, got {aval.str_short()}"
            )
        row = []
        for k, s in enumerate(terms):
            s = core.ensure_array(s) if not isinstance(s, Tracer) else s
            s_aval = core.get_aval(s)
            if s_aval.shape != aval.shape:
                raise FnnTypeError(
                    f"jet: series[{i}][{k}] has shape {s_aval.shape} but primal {i} has "
                    f"shape {aval.shape}"
                )
            if s_aval.dtype != aval.dtype:
                s = convert_element_type(s, aval.dtype)
            row.append(s)
        checked.append(row)
    return primals, checked
