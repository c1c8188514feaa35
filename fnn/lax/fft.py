"""``fft``: the discrete Fourier transform over some axes of an array, as one primitive.

``fft(x, fft_type, axes, fft_lengths)`` with ``fft_type`` one of

- ``"fft"``: complex -> complex, ``y_k = sum_j x_j exp(-2 pi i jk / n)`` over each axis;
- ``"ifft"``: complex -> complex, its inverse (``1/n`` times the conjugate kernel);
- ``"rfft"``: real -> complex, the ``fft`` of a real array, keeping ``n // 2 + 1``
  entries on the last of ``axes`` (the others follow by Hermitian symmetry);
- ``"irfft"``: complex -> real, the inverse of ``rfft``: its last axis holds
  ``n // 2 + 1`` entries, the output has ``fft_lengths`` along ``axes``.

``fft_lengths`` are the real-space lengths along ``axes`` (the input's for ``fft``,
``ifft`` and ``rfft``, the output's for ``irfft``). Normalization is numpy's "backward"
(none forward, ``1/n`` inverse); fnn.numpy.fft scales for "ortho" and "forward", and
pads or cuts the input to a requested length, before or after this primitive.

Transposes use the bilinear pairing ``Re(sum(a * b))`` of fnn's complex convention
(fnn/lax/complex_ops.py). The DFT matrix is symmetric, so ``fft`` and ``ifft`` are
their own transposes. ``rfft`` maps real ``x`` to ``P F x`` (``P`` keeps the first half
of the last axis); its transpose is ``Re(F^T P^T ct)``, a full transform of the
zero-padded cotangent, which equals ``N * irfft(conj(ct) * w)`` with ``w = 1/2`` except at
the zero (and, for even ``n``, the Nyquist) frequency, where it is 1: irfft counts each
of those once and every other entry twice. ``irfft(Y)`` is ``Re(ifft(pad(w' Y)))``
with ``w' = 1 / w``, so its transpose is ``w' * conj(rfft(ct)) / N``.

Example:
    >>> import numpy as np
    >>> from fnn.lax import fft
    >>> fft(np.ones(4, np.float32), "rfft", (0,), (4,))
    Array([4.+0.j, 0.+0.j, 0.+0.j], dtype=complex64)
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax.base import (
    batching_rules,
    complex_dtype,
    defprim,
    jvp_rules,
    real_dtype,
    transpose_rules,
)
from fnn.lax.complex_ops import conj
from fnn.lax.elementwise import mul
from fnn.lax.split_rules import axes_param_rule
from fnn.lax.structural import linear_jet
from fnn.lowering import FRESH, Lowering
from fnn.rules import jet_rules

__all__ = ["fft", "FFT_TYPES"]

FFT_TYPES = ("fft", "ifft", "rfft", "irfft")

_SCIPY = {"fft": scipy.fft.fftn, "ifft": scipy.fft.ifftn, "rfft": scipy.fft.rfftn}


def _fft_impl(x, *, fft_type, axes, fft_lengths):
    # scipy.fft keeps single precision (numpy.fft computes in double); one thread, the
    # library's default: fnn does not start threads behind its caller's back.
    if fft_type == "irfft":
        return scipy.fft.irfftn(x, s=fft_lengths, axes=axes)
    return _SCIPY[fft_type](x, axes=axes)


def _call_fft(x, fft_type, axes, fft_lengths):
    """The impl with positional parameters (the name jit's emitted code calls)."""
    return _fft_impl(x, fft_type=fft_type, axes=axes, fft_lengths=fft_lengths)


def _fft_abstract(x, *, fft_type, axes, fft_lengths):
    name = f"fft[{fft_type}]"
    if fft_type not in FFT_TYPES:
        raise FnnTypeError(f"fft: fft_type must be one of {FFT_TYPES}, got {fft_type!r}")
    if len(axes) != len(fft_lengths) or not axes:
        raise FnnTypeError(
            f"{name}: needs one length per axis and at least one axis, got axes={axes} "
            f"and fft_lengths={fft_lengths}"
        )
    if len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise FnnTypeError(
            f"{name}: axes {axes} must be distinct axes of an array of shape {x.shape}"
        )
    if any(n < 1 for n in fft_lengths):
        raise FnnTypeError(f"{name}: transform lengths must be >= 1, got {fft_lengths}")
    want_complex = fft_type != "rfft"
    if (x.dtype.kind == "c") != want_complex or x.dtype.kind not in "fc":
        kind = "complex" if want_complex else "real floating-point"
        raise FnnTypeError(f"{name}: expected a {kind} dtype, got {x.dtype}")
    in_lengths = list(fft_lengths)
    if fft_type == "irfft":
        in_lengths[-1] = fft_lengths[-1] // 2 + 1
    got = tuple(x.shape[a] for a in axes)
    if got != tuple(in_lengths):
        raise FnnTypeError(
            f"{name}: an input of shape {x.shape} has lengths {got} along axes {axes}; "
            f"fft_lengths={fft_lengths} need {tuple(in_lengths)}"
        )
    shape = list(x.shape)
    if fft_type == "rfft":
        shape[axes[-1]] = fft_lengths[-1] // 2 + 1
        return ShapedArray(shape, complex_dtype(x.dtype))
    if fft_type == "irfft":
        shape[axes[-1]] = fft_lengths[-1]
        return ShapedArray(shape, real_dtype(x.dtype))
    return ShapedArray(shape, x.dtype)


fft_p = defprim("fft", _fft_impl, _fft_abstract)


def fft(x, fft_type: str, axes, fft_lengths):
    """The ``fft_type`` transform of ``x`` over ``axes`` (see the module docstring).

    Example:
        >>> import numpy as np
        >>> fft(np.asarray([1, 1j], np.complex64), "fft", (0,), (2,))
        Array([1.+1.j, 1.-1.j], dtype=complex64)
    """
    ndim = core.get_aval(x).ndim
    axes = tuple(int(a) % max(ndim, 1) if -ndim <= int(a) < ndim else int(a) for a in axes)
    return fft_p.bind(
        x, fft_type=str(fft_type), axes=axes, fft_lengths=tuple(int(n) for n in fft_lengths)
    )


# ---- rules -------------------------------------------------------------------------------


def _fft_jvp(primals, tangents, **params):
    (x,), (t,) = primals, tangents
    return fft_p.bind(x, **params), fft_p.bind(t, **params)


def _half_spectrum_weights(n: int, axis: int, ndim: int, dtype) -> np.ndarray:
    """How often irfft counts each of the ``n // 2 + 1`` kept frequencies of a length-``n``
    axis (1 for the zero and, for even ``n``, the Nyquist frequency; 2 for the others),
    shaped to broadcast along ``axis``."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape).astype(dtype)


def _fft_transpose(ct, x, *, fft_type, axes, fft_lengths):
    params = {"axes": axes, "fft_lengths": fft_lengths}
    if fft_type in ("fft", "ifft"):
        return [fft_p.bind(ct, fft_type=fft_type, **params)]
    ndim = core.get_aval(ct).ndim
    size = math.prod(fft_lengths)
    counts = _half_spectrum_weights(fft_lengths[-1], axes[-1], ndim, np.float64)
    if fft_type == "rfft":
        scale = (size / counts).astype(core.get_aval(ct).dtype)
        return [fft_p.bind(mul(conj(ct), scale), fft_type="irfft", **params)]
    spectrum = fft_p.bind(ct, fft_type="rfft", **params)
    scale = (counts / size).astype(core.get_aval(spectrum).dtype)
    return [mul(conj(spectrum), scale)]


def _fft_batch(vals, dims, *, axes, **params):
    (x,), (d,) = vals, dims
    return fft_p.bind(x, axes=tuple(a + (a >= d) for a in axes), **params), d


jvp_rules[fft_p] = _fft_jvp
jet_rules[fft_p] = linear_jet(fft_p)
transpose_rules[fft_p] = _fft_transpose
batching_rules[fft_p] = _fft_batch


def _fft_emit(args, eqn, out=None):
    if out:
        return None
    p = eqn.params
    return f"_fft({args[0]}, {p['fft_type']!r}, {p['axes']}, {p['fft_lengths']})"


lowering.register(
    fft_p,
    Lowering(
        emit=_fft_emit,
        memory=FRESH,
        split=axes_param_rule("axes"),
        helpers={"_fft": _call_fft},
    ),
)
