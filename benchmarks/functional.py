"""Build a benchmark program (fnn jit, fnn eager or JAX) from a workload's functional model.

A workload's ``functional.py`` defines ``KIND`` and ``loss(ops, params, batch)`` once, for
every functional system. ``KIND`` says what one step computes:

* ``"sgd"``: loss, gradient and an SGD update ``p - LR * g`` (the new params are the state);
* ``"value_and_grad"``: loss and the gradient w.r.t. the params (the state is unchanged);
* ``"hessian"``: the full Hessian of the loss w.r.t. ``params`` (a vector).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from benchmarks.backends import Ops


def _flat_grads(ops: Ops, loss, grads) -> dict[str, np.ndarray]:
    out = {"loss": ops.to_numpy(loss)}
    for k, g in grads.items():
        out[f"grad/{k}"] = ops.to_numpy(g)
    return out


def compiled(model: ModuleType, ops: Ops):
    """The jitted (or eager) per-step function of ``model`` for ``ops``."""

    def loss(params, batch):
        return model.loss(ops, params, batch)

    if model.KIND == "sgd":
        lr = model.LR

        def sgd_step(params, batch):
            value, grads = ops.value_and_grad(loss)(params, batch)
            return value, ops.tree_map(lambda p, g: p - lr * g, params, grads)

        return ops.jit(sgd_step)
    if model.KIND == "value_and_grad":
        return ops.jit(ops.value_and_grad(loss))
    if model.KIND == "hessian":
        return ops.jit(ops.hessian(loss))
    raise ValueError(f"unknown workload kind {model.KIND!r}")


def build(model: ModuleType, ops: Ops, data: dict):
    """``(step, state)``: ``state = step(state)`` runs one step and waits for its result."""
    fn = compiled(model, ops)
    params = ops.tree_map(ops.np.asarray, data["params"])
    batch = ops.tree_map(ops.np.asarray, data["batch"])
    if model.KIND == "sgd":

        def step(state):
            value, new = fn(state, batch)
            ops.block((value, new))
            return new

    else:

        def step(state):
            ops.block(fn(state, batch))
            return state

    return step, params


def outputs(model: ModuleType, ops: Ops, data: dict) -> dict[str, np.ndarray]:
    """The loss and its gradient (or Hessian), and for SGD the updated params, as numpy.

    Everything goes through ``ops.jit``, so the agreement test checks the compiled code.
    """
    params = ops.tree_map(ops.np.asarray, data["params"])
    batch = ops.tree_map(ops.np.asarray, data["batch"])

    def loss(p, b):
        return model.loss(ops, p, b)

    if model.KIND == "hessian":
        hess = compiled(model, ops)(params, batch)
        return {"loss": ops.to_numpy(ops.jit(loss)(params, batch)), "hessian": ops.to_numpy(hess)}
    value, grads = ops.jit(ops.value_and_grad(loss))(params, batch)
    out = _flat_grads(ops, value, grads)
    if model.KIND == "sgd":
        _, new = compiled(model, ops)(params, batch)
        out.update({f"updated/{k}": ops.to_numpy(v) for k, v in new.items()})
    return out
