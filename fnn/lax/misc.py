"""``stop_gradient``: the identity whose derivative is zero."""

from __future__ import annotations

from fnn import core, lowering
from fnn.lax import split_rules
from fnn.lax.base import Zero, batching_rules, defprim, jvp_rules
from fnn.lax.structural import zero_jet
from fnn.lowering import VIEW, Lowering
from fnn.rules import jet_rules
from fnn.tree_util import tree_map

__all__ = ["stop_gradient"]

stop_gradient_p = defprim("stop_gradient", lambda x: x, lambda x: x, silent=True)
jvp_rules[stop_gradient_p] = lambda primals, tangents: (
    stop_gradient_p.bind(primals[0]),
    Zero(core.get_aval(primals[0])),
)
jet_rules[stop_gradient_p] = zero_jet(stop_gradient_p)
batching_rules[stop_gradient_p] = lambda vals, dims: (stop_gradient_p.bind(vals[0]), dims[0])
# The result is its input's buffer: buffer reuse must treat it as a view.
lowering.register(
    stop_gradient_p,
    Lowering(
        emit=lambda a, eqn, out=None: None if out else a[0],
        memory=VIEW,
        elementwise=True,
        split=split_rules.elementwise_rule,
    ),
)


def stop_gradient(x):
    """The identity on a pytree of arrays, with zero derivative.

    Example:
        >>> import fnn
        >>> fnn.grad(lambda x: x * fnn.lax.stop_gradient(x))(3.0)
        Array(3., dtype=float32)
    """
    return tree_map(stop_gradient_p.bind, x)
