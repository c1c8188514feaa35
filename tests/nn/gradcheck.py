"""Reverse-mode gradients against central finite differences, along random directions.

For each differentiated argument, ``<grad f(x), v>`` must equal
``(f(x + h v) - f(x - h v)) / 2h`` for a few random directions ``v`` (covering every
leaf of a params pytree at once). Run under float64 (the ``x64`` fixture).
"""

from __future__ import annotations

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn.tree_util import tree_flatten, tree_leaves, tree_unflatten


def project(fn, out_shape, seed=1):
    """A scalar function of ``fn``'s output: ``sum(fn(...) * R)`` for a fixed random R,
    so that every output entry influences the gradient."""
    weights = np.random.default_rng(seed).standard_normal(out_shape)

    def scalar(*args):
        return fnp.sum(fn(*args) * weights)

    return scalar


def check_grads(f, args, argnums=(0,), eps=1e-6, rtol=1e-6, atol=1e-9, directions=3, seed=0):
    """Assert that fnn.grad(f) matches central differences for each argument in argnums."""
    assert fnn.config.x64_enabled, "run finite-difference checks under the x64 fixture"
    rng = np.random.default_rng(seed)
    for i in argnums:
        grads = tree_leaves(fnn.grad(f, argnums=i)(*args))
        leaves, tree = tree_flatten(args[i])
        assert len(grads) == len(leaves)
        for _ in range(directions):
            dirs = [rng.standard_normal(np.shape(leaf)) for leaf in leaves]
            at = _shifted_value(f, args, i, leaves, tree, dirs)
            numeric = (at(eps) - at(-eps)) / (2 * eps)
            analytic = float(sum(np.sum(np.asarray(g) * d) for g, d in zip(grads, dirs)))
            assert np.isfinite(analytic), f"argument {i}: non-finite gradient"
            assert abs(numeric - analytic) <= atol + rtol * max(abs(numeric), abs(analytic), 1.0), (
                f"argument {i}: finite differences {numeric!r} vs grad {analytic!r}"
            )


def _shifted_value(f, args, i, leaves, tree, dirs):
    """``step -> f(args with argument i moved by step * dirs)``."""

    def at(step):
        moved = [
            fnp.asarray(np.asarray(leaf, np.float64) + step * d) for leaf, d in zip(leaves, dirs)
        ]
        shifted = list(args)
        shifted[i] = tree_unflatten(tree, moved)
        return float(f(*shifted))

    return at
