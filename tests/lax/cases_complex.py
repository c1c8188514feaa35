"""Table rows for the complex-number primitives (real, imag, conj, complex: fnn/lax/
complex_ops.py) and the fft primitive (fnn/lax/fft.py).

The harness checks real functions of real arrays, so each row builds its complex values
with ``lax.complex(x, y)`` from real arguments and returns real outputs (the real and
imaginary parts of a complex result). Every property then applies: numpy agreement,
derivatives against finite differences, ``<vjp(u), v> == <u, jvp(v)>`` (which, on real
inputs and outputs, checks the complex transposes inside), jit, vmap and Taylor mode.
Complex-valued derivatives (JAX's convention, ``holomorphic``) are checked in
tests/numpy/test_complex.py; every fft variant in tests/numpy/test_fft.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import fnn.lax as lax
import fnn.numpy as fnp
from tests.lax.harness import Case, Spec, args, broadcast_shapes, shape


def _z(x, y):
    return lax.complex(x, y)


def _np_z(x, y):
    return x + 1j * y


def _parts(z):
    return fnp.real(z), fnp.imag(z)


def _np_parts(z):
    return np.real(z), np.imag(z)


# ---- the parts of complex numbers --------------------------------------------------------


def _holomorphic(x, y):
    z = _z(x, y)
    return (
        fnp.real(fnp.sqrt(z)),
        fnp.imag(fnp.log(z)),
        fnp.real(fnp.tanh(z)),
        fnp.imag(fnp.arcsinh(z) * z),
        fnp.real(fnp.power(z, 3) / (z + 2.0)),
    )


def _np_holomorphic(x, y):
    z = _np_z(x, y)
    return (
        np.real(np.sqrt(z)),
        np.imag(np.log(z)),
        np.real(np.tanh(z)),
        np.imag(np.arcsinh(z) * z),
        np.real(z**3 / (z + 2.0)),
    )


PARTS = [
    Case(
        "complex_real",
        lambda x, y: fnp.real(_z(x, y) * _z(y, x)),
        lambda x, y: np.real(_np_z(x, y) * _np_z(y, x)),
        broadcast_shapes(2),
        args("real", "real"),
        prims=("complex", "real"),
        nargs=2,
    ),
    Case(
        "complex_imag_conj",
        lambda x, y: fnp.imag(fnp.conj(_z(x, y)) * fnp.exp(_z(y, x))),
        lambda x, y: np.imag(np.conj(_np_z(x, y)) * np.exp(_np_z(y, x))),
        broadcast_shapes(2),
        args("real", "real"),
        prims=("complex", "imag", "conj"),
        nargs=2,
    ),
    Case(
        "complex_abs",
        lambda x, y: fnp.abs(_z(x, y)),
        lambda x, y: np.abs(_np_z(x, y)),
        broadcast_shapes(2),
        args("away0", "real"),
        prims=("complex", "abs"),
        nargs=2,
    ),
    # x > 0 keeps sqrt, log and arcsinh off their branch cuts (the negative real axis,
    # the imaginary axis beyond +-i).
    Case(
        "complex_holomorphic",
        _holomorphic,
        _np_holomorphic,
        broadcast_shapes(2),
        args("pos", "real"),
        prims=("complex", "real", "imag"),
        nargs=2,
        rtol32=1e-4,
    ),
]

# ---- fft ---------------------------------------------------------------------------------

_NORM = st.sampled_from([None, "backward", "ortho", "forward"])


@st.composite
def _one_axis_spec(draw, nargs, inverse_real=False):
    s = draw(shape(min_dims=1, min_side=1, max_side=5))
    axis = draw(st.integers(-len(s), len(s) - 1))
    m = s[axis]
    # irfft's default length 2 * (m - 1) needs m >= 2
    choices = [None] if (m >= 2 or not inverse_real) else []
    choices += [1, 2, m + 2] if inverse_real else [1, max(m - 1, 1), m + 2]
    n = draw(st.sampled_from(choices))
    return Spec((s,) * nargs, {"n": n, "axis": axis, "norm": draw(_NORM)})


@st.composite
def _n_axes_spec(draw, nargs, inverse_real=False):
    s = draw(shape(min_dims=1, min_side=1, max_side=4))
    nd = len(s)
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    sizes = tuple(draw(st.integers(1, 5)) for _ in axes) if draw(st.booleans()) else None
    if inverse_real and sizes is None and s[axes[-1]] < 2:
        sizes = tuple(s[a] for a in axes[:-1]) + (3,)  # the default 2 * (1 - 1) is empty
    if sizes is None and len(axes) == nd and axes == sorted(axes) and draw(st.booleans()):
        given = None  # every axis, numpy's default
    else:
        given = [a - nd if draw(st.booleans()) else a for a in axes]
    return Spec((s,) * nargs, {"s": sizes, "axes": given, "norm": draw(_NORM)})


def _fft_case(name, f, ref, spec, complex_input, complex_output):
    """A row for the fnn.numpy.fft function ``f`` (numpy's ``ref``): a complex input is
    built from two real arguments, a complex output is returned as its two parts."""
    out, np_out = (_parts, _np_parts) if complex_output else ((lambda v: v),) * 2
    if complex_input:
        fn = lambda x, y, **p: out(f(_z(x, y), **p))  # noqa: E731
        np_fn = lambda x, y, **p: np_out(ref(_np_z(x, y), **p))  # noqa: E731
        make = args("real", "real")
    else:
        fn = lambda x, **p: out(f(x, **p))  # noqa: E731
        np_fn = lambda x, **p: np_out(ref(x, **p))  # noqa: E731
        make = args("real")
    # float32 transforms round at about 1e-7 of the largest entry per butterfly level.
    return Case(name, fn, np_fn, spec, make, prims=("fft",), nargs=1 + complex_input, rtol32=1e-5)


FFT = [
    _fft_case("fft", fnp.fft.fft, np.fft.fft, _one_axis_spec(2), True, True),
    _fft_case("ifft", fnp.fft.ifft, np.fft.ifft, _one_axis_spec(2), True, True),
    _fft_case("rfft", fnp.fft.rfft, np.fft.rfft, _one_axis_spec(1), False, True),
    _fft_case("irfft", fnp.fft.irfft, np.fft.irfft, _one_axis_spec(2, True), True, False),
    _fft_case("fftn", fnp.fft.fftn, np.fft.fftn, _n_axes_spec(2), True, True),
    _fft_case("ifftn", fnp.fft.ifftn, np.fft.ifftn, _n_axes_spec(2), True, True),
    _fft_case("rfftn", fnp.fft.rfftn, np.fft.rfftn, _n_axes_spec(1), False, True),
    _fft_case("irfftn", fnp.fft.irfftn, np.fft.irfftn, _n_axes_spec(2, True), True, False),
]

CASES = PARTS + FFT
