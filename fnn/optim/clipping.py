"""Clipping: ``clip`` (elementwise), ``clip_by_global_norm`` and ``global_norm``.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn import optim
    >>> g = {"a": fnp.array([3.0]), "b": fnp.array([4.0])}    # global norm 5
    >>> opt = optim.clip_by_global_norm(1.0)
    >>> opt.update(g, opt.init(g))[0]["a"]
    Array([0.6], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import fnn.numpy as fnp
from fnn.optim import _tree
from fnn.optim.base import EmptyState, GradientTransformation
from fnn.tree_util import tree_leaves, tree_map

__all__ = ["clip", "clip_by_global_norm", "global_norm"]


def _init_empty(params):
    del params
    return EmptyState()


def global_norm(updates: Any):
    """The l2 norm of all leaves taken together: ``sqrt(sum_i sum(u_i ** 2))``.

    Example:
        >>> import fnn.numpy as fnp
        >>> global_norm({"a": fnp.array([3.0]), "b": fnp.array([[4.0]])})
        Array(5., dtype=float32)
    """
    if not tree_leaves(updates):
        return fnp.asarray(0.0)
    return fnp.sqrt(_tree.vdot(updates, updates))


def clip(max_delta: float) -> GradientTransformation:
    """Clip every update elementwise to ``[-max_delta, max_delta]``.

    Example:
        >>> import fnn.numpy as fnp
        >>> clip(1.0).update(fnp.array([-3.0, 0.5, 2.0]), EmptyState())[0]
        Array([-1. ,  0.5,  1. ], dtype=float32)
    """

    def update(updates, state, params=None):
        del params
        return tree_map(lambda g: fnp.clip(g, -max_delta, max_delta), updates), state

    return GradientTransformation(_init_empty, update)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale all updates together so that their global norm is at most ``max_norm``.

    Updates with ``global_norm(updates) < max_norm`` pass unchanged; otherwise each leaf
    becomes ``u / global_norm * max_norm`` (directions are kept, as in optax).

    Example:
        >>> import fnn.numpy as fnp
        >>> clip_by_global_norm(1.0).update(fnp.array([3.0, 4.0]), EmptyState())[0]
        Array([0.6, 0.8], dtype=float32)
    """

    def update(updates, state, params=None):
        del params
        g_norm = global_norm(updates)
        trigger = g_norm < max_norm
        # The untaken branch of where is still computed: keep it finite when g_norm == 0.
        denom = fnp.where(trigger, fnp.ones_like(g_norm), g_norm)

        def rescale(t):
            return fnp.where(trigger, t, (t / denom.astype(t.dtype)) * max_norm)

        return tree_map(rescale, updates), state

    return GradientTransformation(_init_empty, update)
