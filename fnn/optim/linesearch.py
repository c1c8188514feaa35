"""Line searches as gradient transformations: zoom (strong Wolfe) and backtracking (Armijo).

A line search scales the incoming direction ``u`` by a step ``eta`` chosen from trial
evaluations of the objective at ``params + eta * u``. Its ``update`` needs more than
the gradients, passed as keywords::

    updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)

Extra keywords (data batches, say) are passed on to ``value_fn``.

Why no while loop: the search runs a fixed maximum number of trials written as a
Python loop, and ``fnp.where`` keeps the first acceptable step, so the whole update
traces under ``fnn.jit``. Under jit every trial is evaluated; when ``update`` runs
eagerly the loop stops at the first acceptable step and ``value_fn`` is jitted here,
which is the cheaper way to drive an expensive loss (a PINN, say).

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import optim
    >>> f = lambda w: fnp.sum((w - 1.0) ** 2)
    >>> opt = optim.chain(optim.sgd(1.0), optim.scale_by_zoom_linesearch(15))
    >>> w = fnp.zeros(3)
    >>> state = opt.init(w)
    >>> value, grad = fnn.value_and_grad(f)(w)
    >>> u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=f)
    >>> optim.apply_updates(w, u)
    Array([1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fnn.numpy as fnp
from fnn.optim import _tree
from fnn.optim._linesearch import concrete_bool
from fnn.optim.backtracking_linesearch import (
    BacktrackingLinesearchInfo,
    ScaleByBacktrackingLinesearchState,
    scale_by_backtracking_linesearch,
)
from fnn.optim.zoom_linesearch import (
    ScaleByZoomLinesearchState,
    ZoomLinesearchInfo,
    scale_by_zoom_linesearch,
)
from fnn.transforms.autodiff import value_and_grad

__all__ = [
    "scale_by_zoom_linesearch",
    "scale_by_backtracking_linesearch",
    "value_and_grad_from_state",
    "ScaleByZoomLinesearchState",
    "ZoomLinesearchInfo",
    "ScaleByBacktrackingLinesearchState",
    "BacktrackingLinesearchInfo",
]


def _find_linesearch_state(state: Any):
    if isinstance(state, ScaleByZoomLinesearchState | ScaleByBacktrackingLinesearchState):
        return state
    if isinstance(state, tuple):
        found = [x for x in (_find_linesearch_state(c) for c in state) if x is not None]
        if len(found) > 1:
            raise ValueError("value_and_grad_from_state: the state holds several line searches")
        return found[0] if found else None
    return None


def value_and_grad_from_state(value_fn: Callable) -> Callable:
    """Like ``fnn.value_and_grad(value_fn)``, but returns the value and gradient that the
    line search already computed at these params, when the state holds them.

    The returned function is called as ``vg(params, *args, state=opt_state, **kwargs)``.
    On the first step (nothing stored yet) it evaluates ``value_fn``. Eagerly, a stored
    pair costs nothing; under ``fnn.jit`` both are computed and one is selected. The
    stored pair belongs to ``apply_updates(params, updates)``: the line search must be
    the last transformation of the chain, and ``value_fn`` must not change between steps.

    Example:
        >>> import fnn.numpy as fnp
        >>> from fnn import optim
        >>> f = lambda w: fnp.sum((w - 2.0) ** 2)
        >>> opt = optim.lbfgs()
        >>> w = fnp.zeros(2)
        >>> state = opt.init(w)
        >>> vg = optim.value_and_grad_from_state(f)
        >>> for _ in range(3):
        ...     value, grad = vg(w, state=state)
        ...     u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=f)
        ...     w = optim.apply_updates(w, u)
        >>> w
        Array([2., 2.], dtype=float32)
    """
    vg = value_and_grad(value_fn)

    def fun(params, *args, state, **kwargs):
        ls = _find_linesearch_state(state)
        if ls is None or ls.grad is None:
            raise ValueError(
                "value_and_grad_from_state: the optimizer state has no line search storing a "
                "gradient (use scale_by_zoom_linesearch, lbfgs, or "
                "scale_by_backtracking_linesearch(store_grad=True))"
            )
        stored = fnp.isfinite(ls.value)
        known = concrete_bool(stored)
        if known:
            return ls.value, ls.grad
        value, grad = vg(params, *args, **kwargs)
        if known is False:
            return value, grad
        value = fnp.where(stored, ls.value, value)
        return value, _tree.where(stored, ls.grad, grad)

    return fun
