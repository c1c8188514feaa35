"""User-defined derivatives: ``custom_jvp`` and ``custom_vjp``, as in JAX.

``custom_jvp``: under forward mode (and so under reverse mode, which is JVP plus
transposition) the user's rule replaces differentiation of the function's body.
Other transforms see the body (vmap of the rule is not separate: vmap of a
custom_jvp function batches the body, and a later JVP then differentiates the
batched body; the result agrees with the rule wherever the rule is a true derivative).

``custom_vjp``: forward mode runs ``fwd`` to get the output and residuals and records a
``custom_lin`` equation on the tangents (``fnn.transforms.custom_lin``); reverse mode
transposes it by calling ``bwd``.
Pure forward mode (``jvp``) of a custom_vjp function is an error, as in JAX.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from fnn import core
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["custom_jvp", "custom_vjp"]


def _top_trace(leaves):
    return core.find_top_trace(leaves)


class custom_jvp:  # noqa: N801 - JAX's name
    """A function with a user-defined JVP rule.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> @fnn.custom_jvp
        ... def log1pexp(x):
        ...     return fnp.log1p(fnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t / (1 + fnp.exp(-x))
        >>> fnn.grad(log1pexp)(100.0)
        Array(1., dtype=float32)
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None
        functools.update_wrapper(self, fun, updated=())

    def defjvp(self, jvp_rule: Callable) -> Callable:
        """``jvp_rule(primals, tangents) -> (primal_out, tangent_out)``."""
        self.jvp = jvp_rule
        return jvp_rule

    def __call__(self, *args):
        if self.jvp is None:
            raise AttributeError(
                f"custom_jvp function `{self.__name__}` has no JVP rule: call .defjvp(rule) first"
            )
        nondiff = {i: args[i] for i in self.nondiff_argnums}
        diff_args = tuple(a for i, a in enumerate(args) if i not in nondiff)
        leaves, in_tree = tree_flatten(diff_args)
        if not core.is_tracing():
            return self.fun(*args)
        out_store = {}

        def full_args(dargs):
            it = iter(dargs)
            return [nondiff[i] if i in nondiff else next(it) for i in range(len(args))]

        def flat_fun(*flat):
            out = self.fun(*full_args(tree_unflatten(in_tree, flat)))
            out_leaves, out_store["tree"] = tree_flatten(out)
            return out_leaves

        def flat_jvp(primals, tangents):
            p = tree_unflatten(in_tree, primals)
            t = tree_unflatten(in_tree, tangents)
            nd = [nondiff[i] for i in self.nondiff_argnums]
            out, t_out = self.jvp(*nd, tuple(p), tuple(t)) if nd else self.jvp(tuple(p), tuple(t))
            out_leaves, out_store["tree"] = tree_flatten(out)
            return out_leaves, tree_flatten(t_out)[0]

        trace = _top_trace(leaves)
        tracers = [core.full_raise(trace, x) for x in leaves]
        outs = trace.process_custom_jvp_call(flat_fun, flat_jvp, tracers)
        return tree_unflatten(out_store["tree"], [core.full_lower(o) for o in outs])


class custom_vjp:  # noqa: N801 - JAX's name
    """A function with a user-defined VJP: ``f.defvjp(fwd, bwd)``.

    ``fwd(*args) -> (out, residuals)``; ``bwd(residuals, g) -> tuple of cotangents``, one
    per argument.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> @fnn.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1, 1),))
        >>> fnn.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
        Array(1., dtype=float32)
    """

    def __init__(self, fun: Callable):
        self.fun = fun
        self.fwd = None
        self.bwd = None
        functools.update_wrapper(self, fun, updated=())

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise AttributeError(
                f"custom_vjp function `{self.__name__}` has no VJP: call .defvjp(fwd, bwd) first"
            )
        leaves, in_tree = tree_flatten(args)
        if not core.is_tracing():
            return self.fun(*args)
        out_store = {}

        def flat_fun(*flat):
            out = self.fun(*tree_unflatten(in_tree, flat))
            out_leaves, out_store["tree"] = tree_flatten(out)
            return out_leaves

        def flat_fwd(*flat):
            out, res = self.fwd(*tree_unflatten(in_tree, flat))
            out_leaves, out_store["tree"] = tree_flatten(out)
            res_leaves, res_tree = tree_flatten(res)
            out_store["res_tree"] = res_tree
            return out_leaves, res_leaves

        def flat_bwd(res_leaves, ct_leaves):
            res = tree_unflatten(out_store["res_tree"], res_leaves)
            ct = tree_unflatten(out_store["tree"], ct_leaves)
            cts_in = self.bwd(res, ct)
            if not isinstance(cts_in, tuple) or len(cts_in) != len(args):
                raise TypeError(
                    f"custom_vjp `{self.__name__}`: bwd must return a tuple of {len(args)} "
                    f"cotangent(s), one per argument, got {type(cts_in).__name__}"
                )
            flat_cts = []
            for a, c in zip(args, cts_in, strict=True):
                a_leaves, a_tree = tree_flatten(a)
                if c is None:
                    flat_cts += [None] * len(a_leaves)
                    continue
                c_leaves, c_tree = tree_flatten(c)
                if c_tree != a_tree:
                    raise TypeError(
                        f"custom_vjp `{self.__name__}`: bwd returned a cotangent of structure "
                        f"{c_tree} for an argument of structure {a_tree}"
                    )
                flat_cts += c_leaves
            return flat_cts

        trace = _top_trace(leaves)
        tracers = [core.full_raise(trace, x) for x in leaves]
        outs = trace.process_custom_vjp_call(flat_fun, flat_fwd, flat_bwd, tracers, out_store)
        return tree_unflatten(out_store["tree"], [core.full_lower(o) for o in outs])
