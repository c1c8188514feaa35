"""The parts of complex numbers: ``real``, ``imag``, ``conj`` and ``complex(x, y)``, and
the JVP rule of ``abs``, whose complex form needs them.

Derivatives follow JAX's convention. Tangents of complex values are complex and those of
real values real; a JVP rule is the (real-linear) differential. Transposes are taken for
the *bilinear* pairing ``<a, b> = Re(sum(a * b))``, not the Hermitian one: the transpose
of multiplying by ``c`` is multiplying by ``c`` (not by ``conj(c)``), the transpose of
``real`` is ``ct + 0j``, of ``imag`` is ``-1j * ct``, of ``conj`` is ``conj``. So the
cotangent ``grad`` returns for a real loss of ``z = x + iy`` is
``df/dx - i df/dy``, the conjugate of ``df/dx + i df/dy``, as in JAX.

Example:
    >>> import numpy as np
    >>> from fnn import lax
    >>> z = lax.complex(np.float32(1.0), np.float32(2.0))
    >>> lax.real(z), lax.imag(lax.conj(z))
    (Array(1., dtype=float32), Array(-2., dtype=float32))
"""

from __future__ import annotations

import numpy as np

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax.base import (
    broadcast_shapes,
    check_same_dtype,
    complex_dtype,
    defprim,
    is_zero,
    jvp_rules,
    real_dtype,
    transpose_rules,
)
from fnn.lax.elementwise import (
    _elementwise_batch,
    abs_p,
    div,
    eq,
    ge,
    mul,
    neg,
    select,
)
from fnn.lax.split_rules import elementwise_rule
from fnn.lax.structural import broadcast_to, convert_element_type, linear_jet, unbroadcast
from fnn.lowering import FRESH, VIEW, Lowering
from fnn.rules import is_undefined_primal, jet_rules

__all__ = ["real", "imag", "conj", "complex"]


def _complex_only(name):
    def abstract(x):
        if x.dtype.kind != "c":
            raise FnnTypeError(
                f"{name}: expected a complex dtype (complex64 or complex128), got {x.dtype}; "
                f"fnn.numpy.{name} also takes real arrays"
            )
        return ShapedArray(x.shape, real_dtype(x.dtype) if name != "conj" else x.dtype)

    return abstract


def _checked(name, fn):
    # Eager calls skip abstract evaluation; numpy would take a real array here.
    check = _complex_only(name)

    def impl(x):
        if x.dtype.kind != "c":
            check(x)
        return fn(x)

    return impl


# np.real and np.imag return strided views of the complex buffer (no copy).
real_p = defprim("real", _checked("real", np.real), _complex_only("real"), silent=True)
imag_p = defprim("imag", _checked("imag", np.imag), _complex_only("imag"), silent=True)
conj_p = defprim("conj", _checked("conj", np.conjugate), _complex_only("conj"), silent=True)


def _complex_impl(x, y, out=None):
    if x.dtype != y.dtype or x.dtype.kind != "f":  # eager calls skip abstract evaluation
        _complex_abstract(x, y)
    if out is None:
        dtype = complex_dtype(np.result_type(x, y))
        out = np.empty(np.broadcast_shapes(np.shape(x), np.shape(y)), dtype)
    out.real = x
    out.imag = y
    return out


def _complex_abstract(x, y):
    dtype = check_same_dtype("complex", [x, y])
    if dtype.kind != "f":
        raise FnnTypeError(
            f"complex: expected real floating-point parts (float32 or float64), got {dtype}"
        )
    return ShapedArray(broadcast_shapes("complex", x.shape, y.shape), complex_dtype(dtype))


complex_p = defprim("complex", _complex_impl, _complex_abstract, silent=True)


def real(x):
    """The real part of a complex array, as ``jax.lax.real``."""
    return real_p.bind(x)


def imag(x):
    """The imaginary part of a complex array, as ``jax.lax.imag``."""
    return imag_p.bind(x)


def conj(x):
    """The complex conjugate, as ``jax.lax.conj`` (a real array becomes complex)."""
    if core.get_aval(x).dtype.kind != "c":
        x = convert_element_type(x, complex_dtype(core.get_aval(x).dtype))
    return conj_p.bind(x)


def complex(x, y):  # noqa: A001 - jax.lax's name
    """``x + i y`` from two real arrays of one dtype (broadcast together), as
    ``jax.lax.complex``."""
    return complex_p.bind(x, y)


# ---- JVP, transpose and batching rules ---------------------------------------------------


def _linear_unary_jvp(prim):
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return prim.bind(x), prim.bind(t)

    jvp_rules[prim] = rule


for _p in (real_p, imag_p, conj_p):
    _linear_unary_jvp(_p)
    _elementwise_batch(_p)
    jet_rules[_p] = linear_jet(_p)


def _zeros_of(like_aval):
    return np.zeros((), like_aval.dtype)


def _complex_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = complex(x, y)
    tx = _zeros_of(tx.aval) if is_zero(tx) else tx
    ty = _zeros_of(ty.aval) if is_zero(ty) else ty
    return out, broadcast_to(complex(tx, ty), core.get_aval(out).shape)


jvp_rules[complex_p] = _complex_jvp
jet_rules[complex_p] = linear_jet(complex_p)
_elementwise_batch(complex_p)


def _real_zero(ct):
    return np.zeros((), core.get_aval(ct).dtype)


transpose_rules[real_p] = lambda ct, x: [complex(ct, _real_zero(ct))]
transpose_rules[imag_p] = lambda ct, x: [complex(_real_zero(ct), neg(ct))]
transpose_rules[conj_p] = lambda ct, x: [conj(ct)]


def _shape(x):
    return x.aval.shape if is_undefined_primal(x) else core.get_aval(x).shape


def _complex_transpose(ct, x, y):
    return [
        unbroadcast(real(ct), _shape(x)) if is_undefined_primal(x) else None,
        unbroadcast(neg(imag(ct)), _shape(y)) if is_undefined_primal(y) else None,
    ]


transpose_rules[complex_p] = _complex_transpose


def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = abs_p.bind(x)
    zero, one = np.zeros((), y.dtype), np.ones((), y.dtype)
    if core.get_aval(x).dtype.kind == "c":
        # d|z| = Re(conj(z) dz) / |z|, and 0 at z = 0 (as JAX).
        return y, div(real(mul(t, conj(x))), select(eq(y, zero), one, y))
    # sign(x), but 1 at x = 0 (as JAX: the subgradient of the right side).
    return y, mul(t, select(ge(x, zero), one, np.asarray(-1, y.dtype)))


jvp_rules[abs_p] = _abs_jvp

# ---- lowering ----------------------------------------------------------------------------


def _part_emit(fn):
    return lambda args, eqn, out=None: None if out else f"np.{fn}({args[0]})"


for _p, _fn in ((real_p, "real"), (imag_p, "imag")):
    lowering.register(
        _p, Lowering(emit=_part_emit(_fn), memory=VIEW, elementwise=True, split=elementwise_rule)
    )
lowering.register(
    conj_p, Lowering(ufunc="conjugate", memory=FRESH, elementwise=True, split=elementwise_rule)
)


def _complex_emit(args, eqn, out=None):
    out_kw = f", out={out}" if out else ""
    return f"_make_complex({args[0]}, {args[1]}{out_kw})"


lowering.register(
    complex_p,
    Lowering(
        emit=_complex_emit,
        memory=FRESH,
        fortran_out=True,  # assigning .real and .imag writes any layout of ``out``
        elementwise=True,
        split=elementwise_rule,
        helpers={"_make_complex": _complex_impl},
    ),
)
