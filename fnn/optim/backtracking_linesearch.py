"""The backtracking line search: the first step meeting the sufficient decrease
(Armijo) condition, shrinking geometrically from a guess.

See :mod:`fnn.optim.linesearch` for the call pattern.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import fnn.numpy as fnp
from fnn.optim import _tree
from fnn.optim._linesearch import EvalCache, check_kwargs, concrete_bool, nan_to_inf, select
from fnn.optim.base import GradientTransformation

__all__ = [
    "scale_by_backtracking_linesearch",
    "ScaleByBacktrackingLinesearchState",
    "BacktrackingLinesearchInfo",
]


class BacktrackingLinesearchInfo(NamedTuple):
    num_linesearch_steps: Any  # int32
    decrease_error: Any  # 0 when the sufficient decrease condition holds


class ScaleByBacktrackingLinesearchState(NamedTuple):
    learning_rate: Any
    value: Any
    grad: Any  # None unless store_grad=True
    info: BacktrackingLinesearchInfo


def scale_by_backtracking_linesearch(
    max_backtracking_steps: int,
    slope_rtol: float = 1e-4,
    decrease_factor: float = 0.8,
    increase_factor: float = 1.5,
    max_learning_rate: float = 1.0,
    atol: float = 0.0,
    rtol: float = 0.0,
    store_grad: bool = False,
) -> GradientTransformation:
    """Scale the direction by the first step meeting the sufficient decrease condition
    ``f(w + eta u) <= (1 + rtol) f(w) + eta slope_rtol <grad, u> + atol``.

    The first trial is ``min(increase_factor * previous step, max_learning_rate)``; each
    failure multiplies it by ``decrease_factor``, for at most ``max_backtracking_steps``
    trials (then the last trial is taken). ``store_grad=True`` also stores the gradient
    at the new parameters for :func:`value_and_grad_from_state` (one extra evaluation).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> f = lambda w: fnp.sum(w ** 2)
        >>> ls = scale_by_backtracking_linesearch(20, decrease_factor=0.5)
        >>> w = fnp.array([1.0, 2.0])
        >>> v, g = fnn.value_and_grad(f)(w)
        >>> u, s = ls.update(-g, ls.init(w), w, value=v, grad=g, value_fn=f)
        >>> float(s.learning_rate)   # 1 fails (no decrease), 0.5 is exact
        0.5
    """
    cache = EvalCache()

    def init(params):
        dt = _tree.first_float_dtype(params)
        inf = fnp.asarray(np.inf, dtype=dt)
        return ScaleByBacktrackingLinesearchState(
            fnp.asarray(1.0, dtype=dt),
            inf,
            _tree.zeros_like(params) if store_grad else None,
            BacktrackingLinesearchInfo(fnp.zeros([], fnp.int32), inf),
        )

    def update(updates, state, params=None, *, value=None, grad=None, value_fn=None, **fn_kwargs):
        check_kwargs("scale_by_backtracking_linesearch", value, grad, value_fn)
        dt = fnp.asarray(state.learning_rate).dtype
        f_along = cache.get(value_fn, "value")
        f0 = fnp.asarray(value).astype(dt)
        slope = _tree.vdot(updates, grad).astype(dt)
        lr = fnp.minimum(increase_factor * state.learning_rate, max_learning_rate).astype(dt)
        s = {
            "lr": lr,
            "f": f0,
            "err": fnp.asarray(np.inf, dtype=dt),
            "steps": fnp.zeros([], fnp.int32),
        }
        done = fnp.asarray(False)
        for it in range(max_backtracking_steps):
            if concrete_bool(done):
                break
            trial = lr * decrease_factor**it
            f = f_along(params, trial, updates, fn_kwargs)
            err = f - (1 + rtol) * f0 - trial * slope_rtol * slope
            err = nan_to_inf(fnp.maximum(err, 0.0))
            new = {"lr": trial, "f": f, "err": err, "steps": s["steps"] + 1}
            s = select(done, s, new)
            done = done | (err <= atol)
        new_grad = None
        if store_grad:
            new_grad = cache.get(value_fn, "grad")(params, s["lr"], updates, fn_kwargs)
        new_state = ScaleByBacktrackingLinesearchState(
            s["lr"], s["f"], new_grad, BacktrackingLinesearchInfo(s["steps"], s["err"])
        )
        return _tree.scale(s["lr"], updates), new_state

    def guarded_update(updates, state, params=None, **kwargs):
        with np.errstate(all="ignore"):
            return update(updates, state, params, **kwargs)

    return GradientTransformation(init, guarded_update)
