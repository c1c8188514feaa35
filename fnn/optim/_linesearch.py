"""Shared plumbing of the line searches (private): eager/traced detection, compiled
evaluations of the objective along the search line, argument checks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import fnn.numpy as fnp
from fnn import core
from fnn.backend.jit import jit
from fnn.optim import _tree
from fnn.transforms.autodiff import value_and_grad


def concrete_bool(x) -> bool | None:
    """``bool(x)`` when x is known now (eager), None while tracing under jit."""
    if isinstance(x, core.Tracer):
        val = x.concrete_value()
        return None if val is None else bool(val)
    return bool(x)


def _along_line(value_fn: Callable) -> dict[str, Callable]:
    """The objective at ``params + a * updates``, each form compiled by ``fnn.jit``."""
    vg = value_and_grad(value_fn)

    def probe(params, a, updates, fn_kwargs):
        """Value, gradient, and slope along ``updates``."""
        f, g = vg(_tree.add_scale(params, a, updates), **fn_kwargs)
        return fnp.asarray(f).astype(a.dtype), g, _tree.vdot(g, updates).astype(a.dtype)

    def value(params, a, updates, fn_kwargs):
        f = value_fn(_tree.add_scale(params, a, updates), **fn_kwargs)
        return fnp.asarray(f).astype(a.dtype)

    def grad(params, a, updates, fn_kwargs):
        return vg(_tree.add_scale(params, a, updates), **fn_kwargs)[1]

    return {"probe": jit(probe), "value": jit(value), "grad": jit(grad)}


class EvalCache:
    """The compiled objective along the search line, for the last few ``value_fn`` seen.

    Eager calls run compiled code; under an outer jit, jit inlines them. Pass the same
    ``value_fn`` object on every step, or each step traces it anew. A few functions are
    kept because one line search may serve several optimizers (``lbfgs``'s default).
    """

    size = 8

    def __init__(self):
        self.compiled: OrderedDict[Callable, dict[str, Callable]] = OrderedDict()

    def get(self, value_fn: Callable, kind: str) -> Callable:
        """``kind``: "probe" (value, grad, slope), "value" or "grad"."""
        if value_fn not in self.compiled:
            self.compiled[value_fn] = _along_line(value_fn)
            if len(self.compiled) > self.size:
                self.compiled.popitem(last=False)
        self.compiled.move_to_end(value_fn)
        return self.compiled[value_fn][kind]


def check_kwargs(name: str, value, grad, value_fn):
    missing = [
        k for k, v in (("value", value), ("grad", grad), ("value_fn", value_fn)) if v is None
    ]
    if missing:
        raise TypeError(
            f"{name}.update needs the keyword arguments value=, grad= and value_fn= (missing: "
            f"{', '.join(missing)}): call opt.update(grad, state, params, value=loss, "
            "grad=grad, value_fn=loss_fn)"
        )


def nan_to_inf(x):
    return fnp.where(fnp.isnan(x), fnp.inf, x)


def select(cond, on_true: dict, on_false: dict) -> dict:
    """Entrywise (and leafwise) ``on_true if cond else on_false`` for a scalar ``cond``."""
    return {k: _tree.where(cond, on_true[k], on_false[k]) for k in on_false}
