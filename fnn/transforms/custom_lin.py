"""``custom_lin``: the linear stand-in for a ``custom_vjp`` function's derivative.

Forward mode of a ``custom_vjp`` function (``fnn.transforms.custom``) runs ``fwd`` for
the output and residuals and records a ``custom_lin`` equation on the tangents; reverse
mode transposes that equation by calling the user's ``bwd``. Pure forward mode has no
rule to run and is an error, as in JAX.
"""

from __future__ import annotations

from fnn import core, lowering
from fnn.core import ShapedArray
from fnn.lax.structural import instantiate, zeros_like_aval
from fnn.rules import is_undefined_primal, transpose_rules

__all__ = ["custom_lin_p"]


def _custom_lin_impl(*args, num_res, bwd, out_avals):
    raise TypeError(
        "forward-mode differentiation (jvp, jacfwd) of a custom_vjp function is not "
        "supported; use reverse mode (grad, vjp, jacrev) or define a custom_jvp instead"
    )


def _custom_lin_abstract(*avals, num_res, bwd, out_avals):
    return list(out_avals)


custom_lin_p = core.Primitive("custom_lin", multiple_results=True)
custom_lin_p.impl = _custom_lin_impl
custom_lin_p.abstract_eval = _custom_lin_abstract


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals):
    res = list(args[:num_res])
    cts_in = bwd(res, [instantiate(c) for c in cts])
    out = [None] * num_res
    for x, c in zip(args[num_res:], cts_in, strict=True):
        if c is None:
            aval = x.aval if is_undefined_primal(x) else core.get_aval(x)
            c = zeros_like_aval(ShapedArray(aval.shape, aval.dtype))
        out.append(c)
    return out


transpose_rules[custom_lin_p] = _custom_lin_transpose
# jit runs it by calling its impl.
lowering.register(custom_lin_p, lowering.INTERPRETED)
