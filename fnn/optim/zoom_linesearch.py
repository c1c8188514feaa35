"""The zoom line search (Nocedal & Wright, Algorithms 3.5 and 3.6): strong Wolfe steps.

The search is a Python loop of at most ``max_linesearch_steps`` trials whose state is
updated with ``fnp.where`` (no while loop), so it traces under ``fnn.jit``; see
:mod:`fnn.optim.linesearch` for the call pattern and the eager/jit trade-off.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import fnn.numpy as fnp
from fnn.backend.jit import jit
from fnn.optim import _tree
from fnn.optim._linesearch import EvalCache, check_kwargs, concrete_bool, nan_to_inf, select
from fnn.optim.base import GradientTransformation

__all__ = ["scale_by_zoom_linesearch", "ScaleByZoomLinesearchState", "ZoomLinesearchInfo"]


class ZoomLinesearchInfo(NamedTuple):
    """Diagnostics: trials evaluated, and how far the chosen step misses each condition
    (0 means satisfied)."""

    num_linesearch_steps: Any  # int32
    decrease_error: Any
    curvature_error: Any


class ScaleByZoomLinesearchState(NamedTuple):
    """The chosen step, and the value and gradient at the new parameters (reused by
    :func:`value_and_grad_from_state`)."""

    learning_rate: Any
    value: Any
    grad: Any
    info: ZoomLinesearchInfo


_SCALARS = (
    "a",
    "prev_a", "prev_f", "prev_d",
    "lo", "f_lo", "d_lo", "hi", "f_hi", "d_hi",
    "res_a", "res_f", "res_dec", "res_curv",
    "safe_a", "safe_f", "safe_dec", "safe_curv",
)  # fmt: skip


def _interpolate(s: dict):
    """A trial step inside (lo, hi): the cubic fitted to both ends' values and slopes,
    else the quadratic from lo's value and slope and hi's value, else the midpoint.
    Each candidate must fall well inside the interval to be used."""
    lo, f_lo, d_lo, hi, f_hi, d_hi = (s[k] for k in ("lo", "f_lo", "d_lo", "hi", "f_hi", "d_hi"))
    delta = hi - lo
    left, right, width = fnp.minimum(lo, hi), fnp.maximum(lo, hi), fnp.abs(delta)
    one = fnp.ones_like(lo)

    def inside(x, margin):
        return fnp.isfinite(x) & (x > left + margin * width) & (x < right - margin * width)

    safe_delta = fnp.where(delta == 0, one, delta)
    d1 = d_lo + d_hi - 3 * (f_lo - f_hi) / (-safe_delta)
    disc = d1 * d1 - d_lo * d_hi
    d2 = fnp.sign(delta) * fnp.sqrt(fnp.maximum(disc, 0.0))
    den = d_hi - d_lo + 2 * d2
    cubic = hi - delta * (d_hi + d2 - d1) / fnp.where(den == 0, one, den)
    use_cubic = (disc >= 0) & (den != 0) & inside(cubic, 0.2)

    qden = 2 * (f_hi - f_lo - d_lo * delta)
    quad = lo - d_lo * delta * delta / fnp.where(qden == 0, one, qden)
    use_quad = (qden > 0) & inside(quad, 0.1)  # a minimum, not a maximum

    middle = 0.5 * (lo + hi)
    return fnp.where(use_cubic, cubic, fnp.where(use_quad, quad, middle))


def scale_by_zoom_linesearch(
    max_linesearch_steps: int,
    max_learning_rate: float | None = None,
    tol: float = 0.0,
    increase_factor: float = 2.0,
    slope_rtol: float = 1e-4,
    curv_rtol: float = 0.9,
    approx_dec_rtol: float | None = 1e-6,
    stepsize_precision: float = 1e-5,
    initial_guess_strategy: str = "keep",
) -> GradientTransformation:
    """Scale the direction by a step satisfying the strong Wolfe conditions.

    Sufficient decrease (Armijo): ``f(w + eta u) <= f(w) + slope_rtol * eta <grad, u> + tol``;
    small curvature: ``|<grad f(w + eta u), u>| <= curv_rtol |<grad, u>| + tol``. Close to
    a minimum, where ``f`` differences drown in rounding, Hager & Zhang's approximate
    decrease ``<grad f(w + eta u), u> <= (2 slope_rtol - 1) <grad, u>`` is accepted
    instead when ``f(w + eta u) <= f(w) + approx_dec_rtol |f(w)|`` (``None`` disables it).

    The search first grows the step by ``increase_factor`` from the initial guess (1 with
    ``initial_guess_strategy="one"``, the previous step with ``"keep"``) until a bracket
    is found, then zooms in by safeguarded cubic/quadratic interpolation. If no step
    meets both conditions within ``max_linesearch_steps`` trials (or the bracket gets
    narrower than ``stepsize_precision``), the lowest trial meeting the decrease condition
    is used, else the last trial. The direction must be a descent direction.

    ``update(updates, state, params, *, value, grad, value_fn, **fn_kwargs)``: ``value``
    and ``grad`` are ``value_fn(params, **fn_kwargs)`` and its gradient.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> f = lambda w: fnp.sum(w ** 2)
        >>> ls = scale_by_zoom_linesearch(10, initial_guess_strategy="one")
        >>> w = fnp.array([1.0, 2.0])
        >>> v, g = fnn.value_and_grad(f)(w)
        >>> u, s = ls.update(-g, ls.init(w), w, value=v, grad=g, value_fn=f)
        >>> float(s.learning_rate)     # the exact minimizer along -g is at step 0.5
        0.5
    """
    if initial_guess_strategy not in ("one", "keep"):
        raise ValueError(
            f"initial_guess_strategy must be 'one' or 'keep', got {initial_guess_strategy!r}"
        )
    if max_linesearch_steps < 1:
        raise ValueError(f"max_linesearch_steps must be >= 1, got {max_linesearch_steps}")
    cache = EvalCache()

    def init(params):
        dt = _tree.first_float_dtype(params)
        inf = fnp.asarray(np.inf, dtype=dt)
        return ScaleByZoomLinesearchState(
            fnp.asarray(1.0, dtype=dt),
            inf,
            _tree.zeros_like(params),
            ZoomLinesearchInfo(fnp.zeros([], fnp.int32), inf, inf),
        )

    def errors(a, f, d, f0, d0):
        dec = f - f0 - slope_rtol * a * d0
        if approx_dec_rtol is not None:
            approx = fnp.maximum(
                d - (2 * slope_rtol - 1) * d0, f - f0 - approx_dec_rtol * fnp.abs(f0)
            )
            dec = fnp.minimum(dec, approx)
        curv = fnp.abs(d) - curv_rtol * fnp.abs(d0)
        return nan_to_inf(fnp.maximum(dec, 0.0)), nan_to_inf(fnp.maximum(curv, 0.0))

    def cap(a):
        return a if max_learning_rate is None else fnp.minimum(a, max_learning_rate)

    def start(updates, grad, value, learning_rate):
        dt = learning_rate.dtype
        f0 = fnp.asarray(value).astype(dt)
        d0 = _tree.vdot(updates, grad).astype(dt)
        zero, inf = fnp.zeros([], dt), fnp.asarray(np.inf, dtype=dt)
        guess = fnp.ones([], dt) if initial_guess_strategy == "one" else learning_rate
        s = dict.fromkeys(_SCALARS, zero)
        s.update(
            a=cap(guess), prev_f=f0, prev_d=d0, f_lo=f0, d_lo=d0,
            res_f=inf, res_dec=inf, res_curv=inf, safe_f=inf, safe_dec=inf, safe_curv=inf,
            res_g=grad, safe_g=grad, done=fnp.asarray(False), ok=fnp.asarray(False),
            zoom=fnp.asarray(False), steps=fnp.zeros([], fnp.int32),
        )  # fmt: skip
        return s, f0, d0

    def body(s, f, g, d, f0, d0):
        """One trial: ``f``, ``g``, ``d`` are the value, gradient and slope at ``s["a"]``."""
        a = s["a"]
        dec, curv = errors(a, f, d, f0, d0)
        wolfe = (dec <= tol) & (curv <= tol)
        new = dict(s, steps=s["steps"] + 1, res_a=a, res_f=f, res_g=g, res_dec=dec, res_curv=curv)

        # the lowest trial meeting the decrease condition: the fallback
        better = (dec <= tol) & (f < s["safe_f"])
        for k, v in (("a", a), ("f", f), ("g", g), ("dec", dec), ("curv", curv)):
            new["safe_" + k] = _tree.where(better, v, s["safe_" + k])

        # bracketing phase (Algorithm 3.5): grow the step until [lo, hi] holds a point
        too_high = (dec > 0) | ((f >= s["prev_f"]) & (s["steps"] > 0))
        past_min = (d >= 0) & ~too_high
        found = too_high | past_min
        point, prev = (a, f, d), (s["prev_a"], s["prev_f"], s["prev_d"])
        lo_hi = [fnp.where(past_min, x, y) for x, y in zip(point + prev, prev + point, strict=True)]
        capped = fnp.asarray(False) if max_learning_rate is None else a >= max_learning_rate
        # at the maximal step with no bracket the curvature cannot be met: accept it
        bracket_ok = wolfe | (capped & ~found)

        # zoom phase (Algorithm 3.6): shrink [lo, hi] keeping a Wolfe point inside
        new_hi = (dec > 0) | (f >= s["f_lo"])
        flip = ~new_hi & (d * (s["hi"] - s["lo"]) >= 0)
        z = {
            "lo": fnp.where(new_hi, s["lo"], a),
            "f_lo": fnp.where(new_hi, s["f_lo"], f),
            "d_lo": fnp.where(new_hi, s["d_lo"], d),
            "hi": fnp.where(new_hi, a, fnp.where(flip, s["lo"], s["hi"])),
            "f_hi": fnp.where(new_hi, f, fnp.where(flip, s["f_lo"], s["f_hi"])),
            "d_hi": fnp.where(new_hi, d, fnp.where(flip, s["d_lo"], s["d_hi"])),
        }
        b = dict(zip(("lo", "f_lo", "d_lo", "hi", "f_hi", "d_hi"), lo_hi, strict=True))
        zoom = s["zoom"]
        for k in z:
            new[k] = fnp.where(zoom, z[k], fnp.where(found, b[k], s[k]))
        ok = fnp.where(zoom, wolfe, bracket_ok)
        new["zoom"] = zoom | (found & ~ok)
        new["prev_a"], new["prev_f"], new["prev_d"] = a, f, d

        too_narrow = new["zoom"] & (fnp.abs(new["hi"] - new["lo"]) <= stepsize_precision)
        new["ok"] = ok
        new["done"] = ok | too_narrow
        new["a"] = fnp.where(new["zoom"], _interpolate(new), cap(a * increase_factor))
        return select(s["done"], s, new)

    def finish(s, updates):
        # no Wolfe step: the lowest trial with sufficient decrease, else the last trial
        use_safe = ~s["ok"] & (s["safe_a"] > 0)
        pick = {
            k: _tree.where(use_safe, s["safe_" + k], s["res_" + k])
            for k in ("a", "f", "g", "dec", "curv")
        }
        info = ZoomLinesearchInfo(s["steps"], pick["dec"], pick["curv"])
        new_state = ScaleByZoomLinesearchState(pick["a"], pick["f"], pick["g"], info)
        return _tree.scale(pick["a"], updates), new_state

    # Eagerly each piece runs compiled; under an outer jit, jit inlines them.
    start, body, finish = jit(start), jit(body), jit(finish)

    def update(updates, state, params=None, *, value=None, grad=None, value_fn=None, **fn_kwargs):
        check_kwargs("scale_by_zoom_linesearch", value, grad, value_fn)
        if params is None:
            raise ValueError(
                "scale_by_zoom_linesearch needs params: opt.update(g, state, params, ...)"
            )
        probe = cache.get(value_fn, "probe")
        s, f0, d0 = start(updates, grad, value, state.learning_rate)
        for _ in range(max_linesearch_steps):
            if concrete_bool(s["done"]):
                break  # eager only: the remaining trials would change nothing
            f, g, d = probe(params, s["a"], updates, fn_kwargs)
            s = body(s, f, g, d, f0, d0)
        return finish(s, updates)

    def guarded_update(updates, state, params=None, **kwargs):
        # Trial steps may overflow; the search treats inf/nan as "too far", not an error.
        with np.errstate(all="ignore"):
            return update(updates, state, params, **kwargs)

    return GradientTransformation(init, guarded_update)
