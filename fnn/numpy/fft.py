"""fnn.numpy.fft: numpy.fft's functions on the ``fft`` primitive (fnn/lax/fft.py).

Signatures follow numpy (``n``/``s``, ``axis``/``axes``, ``norm``), dtypes follow JAX:
single precision stays single (``complex64``), 64-bit types need ``enable_x64``. Every
function is differentiable (JAX's complex convention, see ``fnn.grad``) and works under
``jit`` and ``vmap``. Repeated axes are refused, as in JAX.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.fft.rfft(fnp.asarray([1.0, 2.0, 3.0, 4.0]))
    Array([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fnn import config, lax
from fnn.core import FnnTypeError
from fnn.lax.base import complex_dtype
from fnn.numpy._core import asarray, canonical_dtype
from fnn.numpy.shape import roll

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip

_NORMS = (None, "backward", "ortho", "forward")


# ---- shared machinery --------------------------------------------------------------------


def _check_norm(norm):
    if norm not in _NORMS:
        raise ValueError(
            f'Invalid norm value {norm!r}; should be "backward", "ortho" or "forward".'
        )


def _as_complex(name, a):
    a = asarray(a)
    if a.dtype.kind == "c":
        return a
    if a.dtype.kind != "f":
        a = lax.convert_element_type(a, config.default_float())
    return lax.convert_element_type(a, complex_dtype(a.dtype))


def _as_real(name, a):
    a = asarray(a)
    if a.dtype.kind == "c":
        raise FnnTypeError(
            f"{name}: expected a real array, got {a.dtype} (take its real part with "
            "fnn.numpy.real, or use fft for complex input)"
        )
    if a.dtype.kind != "f":
        a = lax.convert_element_type(a, config.default_float())
    return a


def _axes_and_lengths(name, a, s, axes, default_axes=None):
    """numpy's rules: without ``axes``, the last ``len(s)`` axes (every axis without ``s``
    either); without ``s``, the input's lengths along ``axes``."""
    ndim = a.ndim
    if axes is None:
        if s is not None:
            axes = tuple(range(ndim - len(s), ndim))
        else:
            axes = default_axes if default_axes is not None else tuple(range(ndim))
    axes = tuple(axes)
    for ax in axes:
        if not isinstance(ax, int | np.integer) or not -ndim <= ax < ndim:
            raise ValueError(f"{name}: axis {ax!r} is out of bounds for an array of rank {ndim}")
    axes = tuple(int(ax) % ndim for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name} does not support repeated axes, got axes={axes}")
    if s is not None:
        s = tuple(s)
        if len(s) != len(axes):
            raise ValueError(f"{name}: the shape s={s} and the axes {axes} have different lengths")
        for n in s:
            if not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"{name}: invalid number of FFT data points ({n}) specified")
        s = tuple(int(n) for n in s)
    return axes, s


def _resize(a, axis, n):
    """``a`` cut to, or zero-padded to, length ``n`` along ``axis`` (numpy's ``n``/``s``)."""
    have = a.shape[axis]
    if have > n:
        return lax.slice_in_dim(a, 0, n, axis=axis)
    if have < n:
        config_ = [(0, 0, 0)] * a.ndim
        config_[axis] = (0, n - have, 0)
        return lax.pad(a, np.zeros((), a.dtype), config_)
    return a


def _scale(out, norm, size, inverse):
    """Rescale a "backward"-normalized result for ``norm``."""
    if norm in (None, "backward"):
        return out
    if norm == "ortho":
        factor = np.sqrt(size) if inverse else 1 / np.sqrt(size)
    else:  # "forward": the forward transform divides by n, the inverse does not
        factor = size if inverse else 1 / size
    return lax.mul(out, np.asarray(factor, out.dtype))


def _complex_transform(name, fft_type, a, s, axes, norm, default_axes=None):
    _check_norm(norm)
    a = _as_complex(name, a)
    axes, s = _axes_and_lengths(name, a, s, axes, default_axes)
    if not axes:
        return a
    if s is None:
        s = tuple(a.shape[ax] for ax in axes)
    for ax, n in zip(axes, s, strict=True):
        a = _resize(a, ax, n)
    _check_nonempty(name, a, axes)
    out = lax.fft(a, fft_type, axes, s)
    return _scale(out, norm, math.prod(s), inverse=fft_type == "ifft")


def _check_nonempty(name, a, axes):
    for ax in axes:
        if a.shape[ax] < 1:
            raise ValueError(
                f"{name}: invalid number of FFT data points (0) along axis {ax} of an array "
                f"of shape {a.shape}"
            )


def _real_forward(name, a, s, axes, norm, default_axes=None):
    _check_norm(norm)
    a = _as_real(name, a)
    axes, s = _axes_and_lengths(name, a, s, axes, default_axes)
    if not axes:
        raise ValueError(f"{name}: needs at least one axis")
    if s is None:
        s = tuple(a.shape[ax] for ax in axes)
    for ax, n in zip(axes, s, strict=True):
        a = _resize(a, ax, n)
    _check_nonempty(name, a, axes)
    out = lax.fft(a, "rfft", axes, s)
    return _scale(out, norm, math.prod(s), inverse=False)


def _real_inverse(name, a, s, axes, norm, default_axes=None):
    _check_norm(norm)
    a = _as_complex(name, a)
    axes, s = _axes_and_lengths(name, a, s, axes, default_axes)
    if not axes:
        raise ValueError(f"{name}: needs at least one axis")
    if s is None:
        s = tuple(a.shape[ax] for ax in axes[:-1]) + (2 * (a.shape[axes[-1]] - 1),)
        if s[-1] < 1:
            raise ValueError(
                f"{name}: invalid number of data points ({s[-1]}) specified: an input of "
                f"length {a.shape[axes[-1]]} along axis {axes[-1]} gives none; pass n or s"
            )
    for ax, n in zip(axes[:-1], s[:-1], strict=True):
        a = _resize(a, ax, n)
    a = _resize(a, axes[-1], s[-1] // 2 + 1)
    _check_nonempty(name, a, axes)
    out = lax.fft(a, "irfft", axes, s)
    return _scale(out, norm, math.prod(s), inverse=True)


def _one(n):
    return None if n is None else (n,)


# ---- one axis ----------------------------------------------------------------------------


def fft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The one-dimensional discrete Fourier transform along ``axis``, as numpy.fft.fft:
    ``n`` cuts or zero-pads the input first; ``norm`` is "backward" (default), "ortho"
    or "forward".

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.fft(fnp.asarray([1.0, 0.0, -1.0, 0.0]))
        Array([0.+0.j, 2.+0.j, 0.+0.j, 2.+0.j], dtype=complex64)
    """
    return _complex_transform("fft", "fft", a, _one(n), (axis,), norm)


def ifft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of :func:`fft` along ``axis``, as numpy.fft.ifft.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.ifft(fnp.asarray([0.0, 2.0, 0.0, 2.0]))
        Array([ 1.+0.j,  0.+0.j, -1.+0.j,  0.+0.j], dtype=complex64)
    """
    return _complex_transform("ifft", "ifft", a, _one(n), (axis,), norm)


def rfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The transform of a real array along ``axis``: its ``n // 2 + 1`` non-negative
    frequencies, as numpy.fft.rfft.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.rfft(fnp.asarray([1.0, 0.0, -1.0, 0.0]))
        Array([0.+0.j, 2.+0.j, 0.+0.j], dtype=complex64)
    """
    return _real_forward("rfft", a, _one(n), (axis,), norm)


def irfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of :func:`rfft`: a real array of length ``n`` (default
    ``2 * (m - 1)`` for ``m`` input entries) along ``axis``, as numpy.fft.irfft.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.irfft(fnp.asarray([0.0, 2.0, 0.0]))
        Array([ 1.,  0., -1.,  0.], dtype=float32)
    """
    return _real_inverse("irfft", a, _one(n), (axis,), norm)


_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def hfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The transform of a Hermitian-symmetric signal given by its first half (a real
    spectrum), as numpy.fft.hfft: ``irfft(conj(a), n)`` with the opposite scaling.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.hfft(fnp.asarray([1.0, 1.0, 1.0]))
        Array([4., 0., 0., 0.], dtype=float32)
    """
    _check_norm(norm)
    return irfft(lax.conj(_as_complex("hfft", a)), n, axis, _SWAP[norm])


def ihfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of :func:`hfft`, as numpy.fft.ihfft: ``conj(rfft(a, n)) / n``.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.ihfft(fnp.asarray([4.0, 0.0, 0.0, 0.0]))
        Array([1.-0.j, 1.-0.j, 1.-0.j], dtype=complex64)
    """
    _check_norm(norm)
    return lax.conj(rfft(a, n, axis, _SWAP[norm]))


# ---- two and n axes ----------------------------------------------------------------------


def fft2(a, s: Sequence[int] | None = None, axes=(-2, -1), norm: str | None = None):
    """The two-dimensional transform over ``axes``, as numpy.fft.fft2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.fft2(fnp.ones((2, 2)))
        Array([[4.+0.j, 0.+0.j],
               [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    return _complex_transform("fft2", "fft", a, s, axes, norm)


def ifft2(a, s: Sequence[int] | None = None, axes=(-2, -1), norm: str | None = None):
    """The inverse of :func:`fft2`, as numpy.fft.ifft2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.ifft2(fnp.asarray([[4.0, 0.0], [0.0, 0.0]]))
        Array([[1.+0.j, 1.+0.j],
               [1.+0.j, 1.+0.j]], dtype=complex64)
    """
    return _complex_transform("ifft2", "ifft", a, s, axes, norm)


def rfft2(a, s: Sequence[int] | None = None, axes=(-2, -1), norm: str | None = None):
    """The two-dimensional transform of a real array, as numpy.fft.rfft2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.rfft2(fnp.ones((2, 2)))
        Array([[4.+0.j, 0.+0.j],
               [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    return _real_forward("rfft2", a, s, axes, norm)


def irfft2(a, s: Sequence[int] | None = None, axes=(-2, -1), norm: str | None = None):
    """The inverse of :func:`rfft2`, as numpy.fft.irfft2.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.irfft2(fnp.asarray([[4.0, 0.0], [0.0, 0.0]]))
        Array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    return _real_inverse("irfft2", a, s, axes, norm)


def fftn(a, s: Sequence[int] | None = None, axes=None, norm: str | None = None):
    """The n-dimensional transform over ``axes`` (every axis by default), as
    numpy.fft.fftn.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.fftn(fnp.ones((2, 2))).shape
        (2, 2)
    """
    return _complex_transform("fftn", "fft", a, s, axes, norm)


def ifftn(a, s: Sequence[int] | None = None, axes=None, norm: str | None = None):
    """The inverse of :func:`fftn`, as numpy.fft.ifftn.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.ifftn(fnp.fft.fftn(fnp.ones((2, 2)))).real
        Array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    return _complex_transform("ifftn", "ifft", a, s, axes, norm)


def rfftn(a, s: Sequence[int] | None = None, axes=None, norm: str | None = None):
    """The n-dimensional transform of a real array (the last axis halved), as
    numpy.fft.rfftn.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.rfftn(fnp.ones((2, 4))).shape
        (2, 3)
    """
    return _real_forward("rfftn", a, s, axes, norm)


def irfftn(a, s: Sequence[int] | None = None, axes=None, norm: str | None = None):
    """The inverse of :func:`rfftn`, as numpy.fft.irfftn (``s`` gives the output's
    lengths; the last defaults to ``2 * (m - 1)``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.irfftn(fnp.fft.rfftn(fnp.ones((2, 4)))).shape
        (2, 4)
    """
    return _real_inverse("irfftn", a, s, axes, norm)


# ---- frequencies and shifts --------------------------------------------------------------


def _frequencies(k: np.ndarray, n: int, d, dtype):
    dtype = config.default_float() if dtype is None else canonical_dtype(dtype)
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of samples n must be a positive integer, got {n!r}")
    if isinstance(d, int | float | np.number):
        return asarray((k / (d * n)).astype(dtype))
    d = lax.convert_element_type(asarray(d), dtype)
    return lax.div(asarray(k.astype(dtype)), lax.mul(d, np.asarray(n, dtype)))


def fftfreq(n: int, d=1.0, *, dtype=None):
    """The sample frequencies of :func:`fft`'s output for ``n`` samples spaced ``d``
    apart: ``[0, 1, ..., -2, -1] / (d * n)``, as numpy.fft.fftfreq (default float dtype).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.fftfreq(4, d=0.5)
        Array([ 0. ,  0.5, -1. , -0.5], dtype=float32)
    """
    k = None
    if isinstance(n, int | np.integer) and n > 0:
        k = np.concatenate([np.arange((n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _frequencies(k, n, d, dtype)


def rfftfreq(n: int, d=1.0, *, dtype=None):
    """The sample frequencies of :func:`rfft`'s output: ``[0, 1, ..., n // 2] / (d * n)``,
    as numpy.fft.rfftfreq.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.rfftfreq(4)
        Array([0.  , 0.25, 0.5 ], dtype=float32)
    """
    k = np.arange(n // 2 + 1, dtype=np.float64) if isinstance(n, int | np.integer) else None
    return _frequencies(k, n, d, dtype)


def _shift(name, x, axes, sign):
    x = asarray(x)
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, int | np.integer):
        axes = (axes,)
    axes = tuple(axes)
    if not axes:
        return x
    shifts = tuple(sign * (x.shape[ax] // 2) for ax in axes)
    return roll(x, shifts, axes)


def fftshift(x, axes=None):
    """Move the zero frequency to the centre (a roll by ``n // 2`` along ``axes``, every
    axis by default), as numpy.fft.fftshift.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.fftshift(fnp.fft.fftfreq(4))
        Array([-0.5 , -0.25,  0.  ,  0.25], dtype=float32)
    """
    return _shift("fftshift", x, axes, 1)


def ifftshift(x, axes=None):
    """The inverse of :func:`fftshift` (a roll by ``-(n // 2)``), as numpy.fft.ifftshift.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fft.ifftshift(fnp.fft.fftshift(fnp.arange(5)))
        Array([0, 1, 2, 3, 4], dtype=int32)
    """
    return _shift("ifftshift", x, axes, -1)
