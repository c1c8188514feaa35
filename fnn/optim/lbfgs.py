"""L-BFGS as a jittable gradient transformation (``optax.lbfgs``'s design).

The curvature pairs ``s_k = w_{k+1} - w_k``, ``y_k = g_{k+1} - g_k`` live in fixed-size
buffers of ``memory_size`` rows (oldest first), so the state has a fixed shape and the
two-loop recursion is a Python loop of fixed length: ``update`` traces under
``fnn.jit``. Empty rows have weight 0 and drop out of the recursion.

Call pattern (the line search needs the objective)::

    opt = optim.lbfgs()
    state = opt.init(params)
    value_and_grad = optim.value_and_grad_from_state(loss)   # reuses the search's work
    for _ in range(100):
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        params = optim.apply_updates(params, updates)

Run this loop eagerly for expensive losses (PINNs): the search stops at the first
acceptable step, usually the first trial, and jits ``loss`` itself. Wrapping the step in
``fnn.jit`` also works, but without a while loop every one of the search's trials is
evaluated. For a full-batch fit, :func:`fnn.optim.minimize` (scipy's L-BFGS-B) is the
other option.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn import optim
    >>> loss = lambda p: fnp.sum((p["x"] - 3.0) ** 2) + 10 * fnp.sum(p["y"] ** 2)
    >>> params = {"x": fnp.zeros(2), "y": fnp.ones(1)}
    >>> opt = optim.lbfgs()
    >>> state = opt.init(params)
    >>> vg = optim.value_and_grad_from_state(loss)
    >>> for _ in range(10):
    ...     value, grad = vg(params, state=state)
    ...     updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
    ...     params = optim.apply_updates(params, updates)
    >>> fnp.round(params["x"], 4), fnp.round(params["y"], 4)
    (Array([3., 3.], dtype=float32), Array([0.], dtype=float32))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import fnn.numpy as fnp
from fnn.backend.jit import jit
from fnn.optim import _tree
from fnn.optim.base import GradientTransformation, ScalarOrSchedule, chain, identity
from fnn.optim.linesearch import scale_by_zoom_linesearch
from fnn.optim.transforms import scale, scale_by_learning_rate
from fnn.tree_util import tree_map

__all__ = ["lbfgs", "scale_by_lbfgs", "ScaleByLBFGSState"]


class ScaleByLBFGSState(NamedTuple):
    """Previous params and gradients, and the last ``memory_size`` curvature pairs."""

    count: Any  # int32 scalar
    params: Any
    updates: Any  # the previous gradients
    diff_params_memory: Any  # s_k, each leaf of shape (memory_size, *leaf.shape)
    diff_updates_memory: Any  # y_k, likewise
    weights_memory: Any  # rho_k = 1 / <s_k, y_k>, shape (memory_size,); 0 marks an empty row


def _row(memory: Any, i: int) -> Any:
    return tree_map(lambda m: m[i], memory)


def _push(memory: Any, new: Any) -> Any:
    """Drop the oldest row, append ``new`` as the newest."""
    return tree_map(lambda m, x: fnp.concatenate([m[1:], fnp.expand_dims(x, 0)]), memory, new)


def _two_loop(grad, s_mem, y_mem, rho, gamma, memory_size: int):
    """``H g`` for the L-BFGS inverse Hessian ``H`` (Nocedal & Wright, Algorithm 7.4)."""
    q = grad
    alphas = []
    for i in reversed(range(memory_size)):  # newest to oldest
        alpha = rho[i] * _tree.vdot(_row(s_mem, i), q)
        q = _tree.add_scale(q, -alpha, _row(y_mem, i))
        alphas.append(alpha)
    r = _tree.scale(gamma, q)
    for i, alpha in zip(range(memory_size), reversed(alphas), strict=True):  # oldest first
        beta = rho[i] * _tree.vdot(_row(y_mem, i), r)
        r = _tree.add_scale(r, alpha - beta, _row(s_mem, i))
    return r


def scale_by_lbfgs(
    memory_size: int = 10, scale_init_precond: bool = True
) -> GradientTransformation:
    """Precondition gradients by the L-BFGS approximation of the inverse Hessian.

    The output is a *descent* direction to be negated (``lbfgs`` chains ``scale(-1)``)
    and scaled by a line search. A pair is stored only when ``<s, y> > eps <y, y>``
    (positive curvature), so the approximation stays positive definite even without a
    Wolfe line search. ``scale_init_precond`` scales the initial inverse Hessian by
    ``<s, y> / <y, y>`` of the newest pair, and the very first step by
    ``min(1, 1 / |g|)`` (as scipy does).

    Example:
        >>> import fnn.numpy as fnp
        >>> opt = scale_by_lbfgs()
        >>> w, g = fnp.zeros(2), fnp.array([3.0, 4.0])
        >>> opt.update(g, opt.init(w), w)[0]       # first step: g / |g|
        Array([0.6, 0.8], dtype=float32)
    """
    if memory_size < 1:
        raise ValueError(f"scale_by_lbfgs: memory_size must be >= 1, got {memory_size}")

    def init(params):
        dt = _tree.first_float_dtype(params)
        memory = tree_map(
            lambda p: fnp.zeros((memory_size, *fnp.shape(p)), fnp.asarray(p).dtype), params
        )
        return ScaleByLBFGSState(
            _tree.zeros_count(),
            params,
            _tree.zeros_like(params),
            memory,
            memory,
            fnp.zeros((memory_size,), dt),
        )

    def update(updates, state, params):
        dt = state.weights_memory.dtype
        s = _tree.sub(params, state.params)
        y = _tree.sub(updates, state.updates)
        sy = _tree.vdot(s, y).astype(dt)
        yy = _tree.vdot(y, y).astype(dt)
        eps = float(fnp.finfo(dt).eps)
        store = (state.count > 0) & (sy > eps * yy) & (yy > 0)
        rho_new = 1 / fnp.where(store, sy, fnp.ones_like(sy))
        store = store & fnp.isfinite(rho_new)  # sy may be subnormal near convergence
        s_mem = _tree.where(store, _push(state.diff_params_memory, s), state.diff_params_memory)
        y_mem = _tree.where(store, _push(state.diff_updates_memory, y), state.diff_updates_memory)
        rho = fnp.where(store, _push(state.weights_memory, rho_new), state.weights_memory)

        g_norm = fnp.sqrt(_tree.vdot(updates, updates)).astype(dt)
        first_scale = fnp.minimum(1.0, 1 / fnp.where(g_norm > 0, g_norm, fnp.ones_like(g_norm)))
        if scale_init_precond:
            # gamma from the newest stored pair: <s, y> / <y, y> = 1 / (rho <y, y>)
            y_new = _row(y_mem, memory_size - 1)
            denom = rho[memory_size - 1] * _tree.vdot(y_new, y_new).astype(dt)
            has_pair = denom > 0
            gamma = fnp.where(
                has_pair, 1 / fnp.where(has_pair, denom, fnp.ones_like(denom)), first_scale
            )
        else:
            gamma = fnp.ones([], dt)
        direction = _two_loop(updates, s_mem, y_mem, rho, gamma, memory_size)
        # Rounding can break descent on a nearly singular model; fall back to the gradient.
        descent = _tree.vdot(direction, updates) > 0
        direction = _tree.where(descent, direction, _tree.scale(first_scale, updates))
        new_state = ScaleByLBFGSState(
            _tree.safe_increment(state.count), params, updates, s_mem, y_mem, rho
        )
        return direction, new_state

    compiled = jit(update)  # eager calls run compiled; under an outer jit it is inlined

    def guarded_update(updates, state, params=None):
        if params is None:
            raise ValueError("scale_by_lbfgs needs params: opt.update(grads, state, params, ...)")
        # Near convergence s and y underflow; the guards above select around inf/nan.
        with np.errstate(all="ignore"):
            return compiled(updates, state, params)

    return GradientTransformation(init, guarded_update)


def lbfgs(
    learning_rate: ScalarOrSchedule | None = None,
    memory_size: int = 10,
    scale_init_precond: bool = True,
    linesearch: GradientTransformation | None = scale_by_zoom_linesearch(
        max_linesearch_steps=20, initial_guess_strategy="one"
    ),
) -> GradientTransformation:
    """L-BFGS: ``chain(scale_by_lbfgs(...), scale(-1) or scale_by_learning_rate(lr), linesearch)``.

    The default line search is :func:`scale_by_zoom_linesearch` (strong Wolfe, up to 20
    trials, first trial step 1). Its ``update`` needs ``value=``, ``grad=`` and
    ``value_fn=`` (see the module docstring for the call pattern). With
    ``linesearch=None`` it takes plain steps of ``learning_rate`` (1 if None).

    Example:
        >>> import fnn.numpy as fnp
        >>> from fnn import optim
        >>> f = lambda w: fnp.sum(fnp.array([1.0, 100.0]) * w ** 2)
        >>> w = fnp.array([1.0, 1.0])
        >>> opt = optim.lbfgs()
        >>> state = opt.init(w)
        >>> vg = optim.value_and_grad_from_state(f)
        >>> for _ in range(10):
        ...     v, g = vg(w, state=state)
        ...     u, state = opt.update(g, state, w, value=v, grad=g, value_fn=f)
        ...     w = optim.apply_updates(w, u)
        >>> bool(f(w) < 1e-10)
        True
    """
    base_scaling = scale(-1.0) if learning_rate is None else scale_by_learning_rate(learning_rate)
    return chain(
        scale_by_lbfgs(memory_size, scale_init_precond),
        base_scaling,
        linesearch if linesearch is not None else identity(),
    )
