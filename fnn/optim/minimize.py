"""``minimize``: scipy.optimize.minimize (L-BFGS-B by default) on a pytree of params.

The params pytree is flattened into one vector for scipy; the loss and its gradient
come from ``fnn.value_and_grad`` (jitted by default). The loss is computed in the
params' own dtypes: with x64 off (fnn's default) that is float32, and scipy receives
float32 values and gradients cast to float64, so it cannot resolve the loss below
float32 rounding (it may then stop with an ABNORMAL line-search message). For a
float64 fit enable x64 first and pass float64 params::

    fnn.config.update("enable_x64", True)
    params = fnn.tree_util.tree_map(lambda p: p.astype(fnp.float64), params)

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn import optim
    >>> loss = lambda p: fnp.sum((p["w"] - 1.0) ** 2) + (p["b"] + 2.0) ** 2
    >>> res = optim.minimize(loss, {"w": fnp.zeros(3), "b": fnp.asarray(0.0)})
    >>> res.success, fnp.round(res.params["w"], 4), fnp.round(res.params["b"], 4)
    (True, Array([1., 1., 1.], dtype=float32), Array(-2., dtype=float32))

Data that the loss depends on but that is not optimized goes in ``args`` (as in
scipy): ``fun(params, *args)``. Under ``jit`` these are arguments of the compiled
program rather than constants baked into it, so one compiled program serves new data
of the same shapes::

    res = optim.minimize(loss, params, args=(x_train, y_train))

With ``has_aux=True``, ``fun`` returns ``(loss, aux)`` (as ``fnn.value_and_grad``'s
``has_aux``): ``aux`` (any pytree, e.g. the terms of a loss) is computed with the loss
at no extra cost, passed to the callback and returned in ``result.aux``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize

import fnn.numpy as fnp
from fnn.backend.jit import jit as _jit
from fnn.transforms.autodiff import value_and_grad
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["minimize", "MinimizeResult"]


@dataclass
class MinimizeResult:
    """The outcome of :func:`minimize`.

    ``params``: the solution, with the structure and leaf dtypes of the initial params;
    ``loss``: its loss; ``n_iter``/``n_fev``: iterations and loss evaluations;
    ``history``: the loss before the first iteration and after each one
    (``len(history) == n_iter + 1``); ``x``: scipy's float vector; ``raw``: scipy's
    own ``OptimizeResult``; ``aux``: with ``has_aux``, the aux output at ``params``.
    """

    params: Any
    loss: float
    n_iter: int
    n_fev: int
    success: bool
    message: str
    history: list[float] = field(default_factory=list)
    x: np.ndarray | None = None
    raw: Any = None
    aux: Any = None


class _Flattener:
    """Between a params pytree and scipy's flat vector."""

    def __init__(self, params: Any):
        leaves, self.treedef = tree_flatten(params)
        if not leaves:
            raise ValueError("minimize: params has no array leaves")
        arrays = [fnp.asarray(x) for x in leaves]
        for i, a in enumerate(arrays):
            if not fnp.issubdtype(a.dtype, fnp.floating):
                raise TypeError(
                    f"minimize: every params leaf must be a float array, leaf {i} has dtype "
                    f"{a.dtype}; keep integer data out of params (close over it in fun)"
                )
        self.shapes = [a.shape for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.x0 = np.concatenate([np.asarray(a).ravel() for a in arrays]).astype(np.float64)

    def unflatten(self, x: np.ndarray) -> Any:
        leaves, start = [], 0
        for shape, dtype, size in zip(self.shapes, self.dtypes, self.sizes, strict=True):
            piece = np.asarray(x[start : start + size], dtype=dtype).reshape(shape)
            leaves.append(fnp.asarray(piece))
            start += size
        return tree_unflatten(self.treedef, leaves)

    def flatten(self, tree: Any, dtype) -> np.ndarray:
        leaves, treedef = tree_flatten(tree)
        if treedef != self.treedef:
            raise ValueError(
                f"minimize: the gradient has structure {treedef}, params {self.treedef}"
            )
        return np.concatenate([np.asarray(g, dtype=dtype).ravel() for g in leaves])


def minimize(
    fun: Callable[..., Any],
    params: Any,
    method: str = "L-BFGS-B",
    *,
    args: tuple = (),
    has_aux: bool = False,
    maxiter: int = 1000,
    tol: float | None = None,
    callback: Callable[[int, float, Any], Any] | None = None,
    dtype: Any = np.float64,
    jit: bool = True,
    options: dict | None = None,
) -> MinimizeResult:
    """Minimize ``fun(params, *args)`` with ``scipy.optimize.minimize(..., jac=True)``.

    Args:
        fun: a scalar loss of a params pytree (and of ``args``), differentiable by fnn
            in its first argument; with ``has_aux``, a pair ``(loss, aux)``.
        params: the initial params (a pytree of float arrays).
        method: a scipy method that uses gradients ("L-BFGS-B", "BFGS", "CG", ...).
        args: more arguments of ``fun``, held fixed (data: under ``jit`` they are
            arguments of the compiled program, not constants).
        has_aux: ``fun`` returns ``(loss, aux)``; ``aux`` goes to the callback and to
            ``result.aux``.
        maxiter: the maximum number of iterations (``options["maxiter"]`` wins).
        tol: scipy's ``tol`` (for L-BFGS-B it sets ``ftol`` and ``gtol``).
        callback: ``callback(iteration, loss, params)`` after each iteration (from 1),
            ``callback(iteration, loss, params, aux)`` with ``has_aux``; returning True
            stops the optimization.
        dtype: the dtype of the vector and gradient handed to scipy (float64; L-BFGS-B
            works in float64 whatever it is given). The loss itself is computed in the
            params' dtypes (see the module docstring for float64).
        jit: compile ``value_and_grad(fun)`` with ``fnn.jit`` (the default).
        options: more scipy options for the method.

    Returns:
        A :class:`MinimizeResult` whose ``params`` has the input's structure and dtypes.

    Example:
        >>> import fnn.numpy as fnp
        >>> seen = []
        >>> res = minimize(lambda p: fnp.sum((p - 2.0) ** 2), fnp.zeros(2),
        ...                callback=lambda i, loss, p: seen.append(i))
        >>> fnp.round(res.params, 4), seen == list(range(1, res.n_iter + 1))
        (Array([2., 2.], dtype=float32), True)
    """
    flat = _Flattener(params)
    args = tuple(args)
    vg = value_and_grad(fun, has_aux=has_aux)
    if jit:
        vg = _jit(vg)
    counts = {"nfev": 0}
    last: dict = {}  # the latest evaluation: scipy asks for x0 again, the callback for its loss

    def evaluate(x) -> dict:
        if "x" not in last or not np.array_equal(last["x"], x):
            out, grad = vg(flat.unflatten(x), *args)
            value, aux = out if has_aux else (out, None)
            counts["nfev"] += 1
            last.update(
                x=np.array(x, copy=True),
                value=float(value),
                grad=flat.flatten(grad, dtype),
                aux=aux,
            )
        return last

    def objective(x):
        e = evaluate(x)
        return e["value"], e["grad"].copy()

    x0 = flat.x0.astype(dtype)
    history = [evaluate(x0)["value"]]

    def on_iteration(intermediate_result):
        x = getattr(intermediate_result, "x", intermediate_result)  # scipy < 1.11 passes x
        fx = getattr(intermediate_result, "fun", None)
        loss = float(fx) if fx is not None else evaluate(x)["value"]
        history.append(loss)
        if callback is None:
            return
        # L-BFGS-B's line search ends at x, so the aux there needs no new evaluation.
        extra = (evaluate(x)["aux"],) if has_aux else ()
        if callback(len(history) - 1, loss, flat.unflatten(x), *extra) is True:
            raise StopIteration

    opts = {"maxiter": maxiter}
    opts.update(options or {})
    res = scipy.optimize.minimize(
        objective, x0, jac=True, method=method, tol=tol, callback=on_iteration, options=opts
    )
    aux = evaluate(res.x)["aux"] if has_aux else None
    return MinimizeResult(
        params=flat.unflatten(res.x),
        loss=float(res.fun),
        n_iter=int(getattr(res, "nit", len(history) - 1)),
        n_fev=counts["nfev"],
        success=bool(res.success),
        message=str(res.message),
        history=history,
        x=np.asarray(res.x),
        raw=res,
        aux=aux,
    )
