"""fnn.numpy.fft against numpy.fft: values and dtypes, round trips, the transposes
(``<vjp(u), v> == <u, jvp(v)>`` for the bilinear pairing ``Re(sum(a * b))`` of fnn's
complex convention) for every variant, derivatives of real losses against finite
differences, vmap against a loop, jit against eager (in checking mode), and errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError

c64, c128, f32, f64 = np.complex64, np.complex128, np.float32, np.float64


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _rng(seed):
    return np.random.default_rng(seed)


def _complex(rng, shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


# (id, function name, input shape, complex input, keyword arguments): every variant, with
# n or s cutting and padding, explicit and default axes, and each norm.
VARIANTS = [
    ("fft", "fft", (6,), True, {}),
    ("fft_n_pad", "fft", (3, 5), True, {"n": 8, "axis": 0, "norm": "ortho"}),
    ("fft_n_cut", "fft", (3, 5), True, {"n": 3, "norm": "forward"}),
    ("fft_real_input", "fft", (4, 3), False, {"axis": -2}),
    ("ifft", "ifft", (5,), True, {}),
    ("ifft_n", "ifft", (2, 6), True, {"n": 4, "norm": "ortho"}),
    ("ifft_forward", "ifft", (2, 6), True, {"axis": 0, "norm": "forward"}),
    ("rfft_even", "rfft", (8,), False, {}),
    ("rfft_odd", "rfft", (3, 7), False, {"axis": 1, "norm": "ortho"}),
    ("rfft_n", "rfft", (5, 2), False, {"n": 6, "axis": 0, "norm": "forward"}),
    ("irfft", "irfft", (5,), True, {}),
    ("irfft_odd", "irfft", (2, 4), True, {"n": 7}),
    ("irfft_cut", "irfft", (6, 2), True, {"n": 4, "axis": 0, "norm": "ortho"}),
    ("irfft_n1", "irfft", (3,), True, {"n": 1, "norm": "forward"}),
    ("irfft_n2", "irfft", (3,), True, {"n": 2}),
    ("hfft", "hfft", (4,), True, {}),
    ("hfft_odd", "hfft", (2, 4), True, {"n": 5, "norm": "ortho"}),
    ("ihfft", "ihfft", (6,), False, {}),
    ("ihfft_forward", "ihfft", (5, 3), False, {"axis": 0, "norm": "forward"}),
    ("fft2", "fft2", (3, 4), True, {}),
    ("fft2_s", "fft2", (2, 3, 4), True, {"s": (2, 6), "axes": (0, 2), "norm": "ortho"}),
    ("ifft2", "ifft2", (4, 3), True, {"norm": "forward"}),
    ("rfft2", "rfft2", (4, 6), False, {}),
    ("rfft2_axes", "rfft2", (3, 2, 5), False, {"axes": (2, 0), "norm": "ortho"}),
    ("irfft2", "irfft2", (3, 4), True, {}),
    ("irfft2_s", "irfft2", (3, 4), True, {"s": (2, 5), "norm": "forward"}),
    ("fftn", "fftn", (2, 3, 4), True, {}),
    ("fftn_axes", "fftn", (2, 3, 4), True, {"axes": (-1, 0), "norm": "ortho"}),
    ("fftn_s", "fftn", (3, 4), True, {"s": (5, 2), "axes": (0, 1)}),
    ("ifftn", "ifftn", (3, 2, 2), True, {"axes": (0, 2)}),
    ("ifftn_s", "ifftn", (3, 4), True, {"s": (2, 6), "axes": (0, 1), "norm": "forward"}),
    ("rfftn", "rfftn", (2, 3, 4), False, {}),
    ("rfftn_s", "rfftn", (3, 4, 2), False, {"s": (5, 3), "axes": (2, 0), "norm": "ortho"}),
    ("irfftn", "irfftn", (2, 3, 3), True, {}),
    ("irfftn_s", "irfftn", (3, 4, 2), True, {"s": (2, 3, 5), "axes": (1, 2, 0)}),
    ("irfftn_odd", "irfftn", (3, 3), True, {"s": (3, 5), "axes": (0, 1), "norm": "ortho"}),
]
IDS = [v[0] for v in VARIANTS]


def _input(shape, is_complex, seed=0):
    rng = _rng(seed)
    return _complex(rng, shape) if is_complex else rng.normal(size=shape)


def _fns(name, kw):
    return (lambda x: getattr(fnp.fft, name)(x, **kw)), (lambda x: getattr(np.fft, name)(x, **kw))


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_values_against_numpy(variant):
    _, name, shape, is_complex, kw = variant
    f, ref = _fns(name, kw)
    x = _input(shape, is_complex)
    fnn.config.update("enable_x64", True)
    try:
        out = f(x)
        want = ref(x)
        assert out.dtype == want.dtype and out.shape == want.shape
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    finally:
        fnn.config.update("enable_x64", False)
    # default precision: single precision in and out (JAX's dtypes)
    x32 = x.astype(c64 if is_complex else f32)
    out = f(x32)
    assert out.dtype == (f32 if want.dtype.kind == "f" else c64)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_dtypes_follow_jax():
    assert fnp.fft.fft(np.arange(4)).dtype == c64  # integers become the default complex
    assert fnp.fft.fft(fnp.ones(4, np.float16)).dtype == c64
    assert fnp.fft.rfft(np.arange(4)).dtype == c64
    assert fnp.fft.irfft(fnp.ones(3, c64)).dtype == f32
    assert fnp.fft.fftfreq(4).dtype == f32 and fnp.fft.rfftfreq(4).dtype == f32


def test_dtypes_follow_jax_x64(x64):
    assert fnp.fft.fft(np.arange(4)).dtype == c128
    assert fnp.fft.fft(fnp.ones(4, f32)).dtype == c64  # single precision stays single
    assert fnp.fft.rfft(fnp.ones(4, f32)).dtype == c64
    assert fnp.fft.irfft(fnp.ones(3, c64)).dtype == f32
    assert fnp.fft.irfft(fnp.ones(3, c128)).dtype == f64
    assert fnp.fft.fftfreq(4).dtype == f64
    assert fnp.fft.fftfreq(4, dtype=f32).dtype == f32


# ---- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
def test_round_trips(norm, x64):
    rng = _rng(1)
    z = _complex(rng, (3, 4, 5))
    np.testing.assert_allclose(fnp.fft.ifft(fnp.fft.fft(z, norm=norm), norm=norm), z, atol=1e-13)
    np.testing.assert_allclose(fnp.fft.ifftn(fnp.fft.fftn(z, norm=norm), norm=norm), z, atol=1e-13)
    np.testing.assert_allclose(fnp.fft.ifft2(fnp.fft.fft2(z, norm=norm), norm=norm), z, atol=1e-13)
    for n in (6, 7):  # even and odd lengths
        x = rng.normal(size=(2, n))
        back = fnp.fft.irfft(fnp.fft.rfft(x, norm=norm), n=n, norm=norm)
        np.testing.assert_allclose(back, x, atol=1e-13)
        back = fnp.fft.hfft(fnp.fft.ihfft(x, norm=norm), n=n, norm=norm)
        np.testing.assert_allclose(back, x, atol=1e-13)
        y = rng.normal(size=(3, 4, n))
        back = fnp.fft.irfftn(fnp.fft.rfftn(y, norm=norm), s=y.shape, norm=norm)
        np.testing.assert_allclose(back, y, atol=1e-13)
        back = fnp.fft.irfft2(fnp.fft.rfft2(y, norm=norm), s=(4, n), norm=norm)
        np.testing.assert_allclose(back, y, atol=1e-13)


def test_parseval_with_ortho():
    z = _complex(_rng(2), (16,)).astype(c64)
    energy = float(fnp.sum(fnp.abs(z) ** 2))
    np.testing.assert_allclose(fnp.sum(fnp.abs(fnp.fft.fft(z, norm="ortho")) ** 2), energy, 1e-5)


# ---- transposes and derivatives ----------------------------------------------------------


def _pair(a, b):
    """fnn's (and JAX's) pairing of cotangents with tangents: Re(sum(a * b))."""
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_vjp_is_the_transpose_of_jvp(variant, x64):
    _, name, shape, is_complex, kw = variant
    f, ref = _fns(name, kw)
    x = _input(shape, is_complex, seed=3)
    u = _input(shape, is_complex, seed=4)
    y, f_vjp = fnn.vjp(f, fnp.asarray(x))
    v = _input(np.shape(y), y.dtype.kind == "c", seed=5)
    _, jvp_u = fnn.jvp(f, (x,), (u,))
    np.testing.assert_allclose(jvp_u, ref(u), rtol=1e-12, atol=1e-12)  # linear: J u = f(u)
    (vjp_v,) = f_vjp(fnp.asarray(v))
    assert vjp_v.dtype == fnp.asarray(x).dtype
    np.testing.assert_allclose(_pair(vjp_v, u), _pair(v, jvp_u), rtol=1e-11)
    # and against the Jacobian as a matrix: the transpose applied to v, entry by entry
    basis = np.eye(x.size).reshape((x.size, *shape))
    cols = [ref(b) for b in basis] + ([ref(1j * b) for b in basis] if is_complex else [])
    dense = np.array([_pair(v, c) for c in cols])  # <v, J e_k>
    got = np.asarray(vjp_v).reshape(-1)
    want_re = dense[: x.size]
    np.testing.assert_allclose(np.real(got), want_re, rtol=1e-10, atol=1e-12)
    if is_complex:  # <ct, J (i e_k)> = Re(ct_bar_k * i) = -Im(ct_bar_k)
        np.testing.assert_allclose(-np.imag(got), dense[x.size :], rtol=1e-10, atol=1e-12)


def _fd_convention_grad(g, z, eps=1e-6):
    """``dg/dx - i dg/dy`` per entry for complex z (``dg/dx`` for real z), by central
    finite differences: JAX's gradient of a real scalar."""
    out = np.zeros(z.shape, z.dtype)
    for k in range(z.size):
        e = np.zeros(z.size)
        e[k] = eps
        e = e.reshape(z.shape)
        out.flat[k] = (g(z + e) - g(z - e)) / (2 * eps)
        if z.dtype.kind == "c":
            out.flat[k] -= 1j * (g(z + 1j * e) - g(z - 1j * e)) / (2 * eps)
    return out


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_gradient_of_a_nonlinear_loss(variant, x64):
    _, name, shape, is_complex, kw = variant
    f, ref = _fns(name, kw)
    x = _input(shape, is_complex, seed=6)
    w = _input(np.shape(ref(x)), True, seed=7)

    def loss(x):
        y = f(x)
        return fnp.sum(fnp.abs(y) ** 3) + fnp.sum(fnp.real(w * y))

    def loss_np(x):
        y = ref(x)
        return np.sum(np.abs(y) ** 3) + np.sum(np.real(w * y))

    want = _fd_convention_grad(loss_np, x)
    np.testing.assert_allclose(fnn.grad(loss)(x), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fnn.jit(fnn.grad(loss))(x), want, rtol=1e-6, atol=1e-7)


def test_gradient_by_hand():
    # Parseval: sum |fft(z)|^2 = n sum |z|^2, whose gradient in JAX's convention is
    # 2 n conj(z); with norm="ortho" the transform is unitary: 2 conj(z).
    z = _complex(_rng(8), (8,)).astype(c64)
    g = fnn.grad(lambda z: fnp.sum(fnp.abs(fnp.fft.fft(z)) ** 2))(z)
    np.testing.assert_allclose(g, 2 * 8 * np.conj(z), rtol=1e-5)
    g = fnn.grad(lambda z: fnp.sum(fnp.abs(fnp.fft.fft2(z.reshape(2, 4), norm="ortho")) ** 2))(z)
    np.testing.assert_allclose(g, 2 * np.conj(z), rtol=1e-5)
    # the real part of the zero frequency of rfft is the sum of x: gradient all ones
    x = _rng(9).normal(size=6).astype(f32)
    np.testing.assert_allclose(fnn.grad(lambda x: fnp.real(fnp.fft.rfft(x)[0]))(x), np.ones(6))
    # irfft(y)[0] = (y_0 + 2 Re(y_1) + ... + y_{n/2}) / n: weights 1, 2, ..., 2, 1 over n
    y = _complex(_rng(10), (4,)).astype(c64)
    g = fnn.grad(lambda y: fnp.fft.irfft(y)[0])(y)
    np.testing.assert_allclose(g, np.array([1, 2, 2, 1]) / 6, rtol=1e-6)


def test_second_derivatives(x64):
    x = _rng(11).normal(size=(3, 6))
    v = _rng(12).normal(size=(3, 6))

    def loss(x):
        return fnp.sum(fnp.abs(fnp.fft.rfft2(fnp.sin(x))) ** 2 * fnp.fft.rfftfreq(6))

    g = fnn.grad(loss)
    _, hv = fnn.jvp(g, (x,), (v,))
    want = (np.asarray(g(x + 1e-5 * v)) - np.asarray(g(x - 1e-5 * v))) / 2e-5
    np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)


def test_spectral_derivative():
    # A spectral PDE solver's basic step: d/dx on a periodic grid is i k in Fourier space.
    fnn.config.update("enable_x64", True)
    try:
        n = 32
        grid = 2 * np.pi * np.arange(n) / n
        k = 2 * np.pi * fnp.fft.rfftfreq(n, d=2 * np.pi / n)

        def ddx(u):
            return fnp.fft.irfft(1j * k * fnp.fft.rfft(u), n=n)

        np.testing.assert_allclose(ddx(np.sin(3 * grid)), 3 * np.cos(3 * grid), atol=1e-12)
        np.testing.assert_allclose(fnn.jit(ddx)(np.cos(grid)), -np.sin(grid), atol=1e-12)
        # d/da of the energy of d/dx (a sin x) is 2 a pi ... summed on the grid: n a
        energy = fnn.grad(lambda a: fnp.sum(ddx(a * np.sin(grid)) ** 2))
        np.testing.assert_allclose(energy(2.0), 2 * 2.0 * n / 2, rtol=1e-12)
    finally:
        fnn.config.update("enable_x64", False)


# ---- vmap and jit ------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize("in_axis", [0, -1])
def test_vmap_equals_a_loop(variant, in_axis):
    _, name, shape, is_complex, kw = variant
    f, _ = _fns(name, kw)
    xs = [_input(shape, is_complex, seed=s).astype(c64 if is_complex else f32) for s in (1, 2)]
    batch = np.stack(xs, axis=in_axis)
    got = fnn.vmap(f, in_axes=in_axis)(batch)
    np.testing.assert_allclose(got, np.stack([f(x) for x in xs]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_jit_equals_eager_in_checking_mode(variant):
    _, name, shape, is_complex, kw = variant
    f, _ = _fns(name, kw)
    fnn.config.update("jit_check", True)
    try:
        jf = fnn.jit(lambda x: f(x * 2.0) + 1.0)
        for seed in (1, 2):  # a compile, then a cached call on new values
            x = _input(shape, is_complex, seed=seed).astype(c64 if is_complex else f32)
            want = f(x * 2.0) + 1.0
            got = jf(x)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    finally:
        fnn.config.update("jit_check", False)


# ---- frequencies and shifts --------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("d", [1.0, 0.25, 3])
def test_frequencies(n, d):
    np.testing.assert_allclose(fnp.fft.fftfreq(n, d), np.fft.fftfreq(n, d), rtol=1e-6)
    np.testing.assert_allclose(fnp.fft.rfftfreq(n, d), np.fft.rfftfreq(n, d), rtol=1e-6)
    # d as an array: traced through jit, and differentiable
    f = fnn.jit(lambda d: fnp.fft.fftfreq(n, d))
    np.testing.assert_allclose(f(np.float32(d)), np.fft.fftfreq(n, d), rtol=1e-6)
    g = fnn.grad(lambda d: fnp.sum(fnp.fft.rfftfreq(n, d)))(np.float32(d))
    np.testing.assert_allclose(g, -np.sum(np.fft.rfftfreq(n, d)) / d, rtol=1e-5)


@pytest.mark.parametrize("axes", [None, 0, -1, (0, 2), (2, 1, 0)])
def test_shifts(axes):
    x = np.arange(4 * 5 * 3).reshape(4, 5, 3)
    for fn, ref in ((fnp.fft.fftshift, np.fft.fftshift), (fnp.fft.ifftshift, np.fft.ifftshift)):
        out = fn(x, axes)
        np.testing.assert_array_equal(out, ref(x, axes))
        assert out.dtype == np.int32
    np.testing.assert_array_equal(fnp.fft.ifftshift(fnp.fft.fftshift(x, axes), axes), x)
    np.testing.assert_allclose(
        fnp.fft.fftshift(fnp.fft.fftfreq(5)), np.fft.fftshift(np.fft.fftfreq(5))
    )


# ---- errors ------------------------------------------------------------------------------


def test_errors():
    x = np.ones((3, 4), f32)
    with pytest.raises(ValueError, match="Invalid norm value 'backwards'"):
        fnp.fft.fft(x, norm="backwards")
    with pytest.raises(ValueError, match="does not support repeated axes"):
        fnp.fft.fftn(x, axes=(0, -2))
    with pytest.raises(ValueError, match="different lengths"):
        fnp.fft.fftn(x, s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.fft.fft(x, axis=2)
    with pytest.raises(ValueError, match=r"invalid number of FFT data points \(0\)"):
        fnp.fft.fft(x, n=0)
    with pytest.raises(ValueError, match="invalid number of FFT data points"):
        fnp.fft.fft(np.ones((0,), f32))
    with pytest.raises(ValueError, match="pass n or s"):
        fnp.fft.irfft(np.ones(1, c64))  # the default length 2 * (1 - 1) is empty
    with pytest.raises(FnnTypeError, match="rfft: expected a real array, got complex64"):
        fnp.fft.rfft(np.ones(4, c64))
    with pytest.raises(ValueError, match="positive integer"):
        fnp.fft.fftfreq(0)
    with pytest.raises(FnnTypeError, match=r"fft\[rfft\]: expected a real floating-point dtype"):
        fnn.lax.fft(np.ones(4, c64), "rfft", (0,), (4,))
    with pytest.raises(FnnTypeError, match="fft_lengths=.* need"):
        fnn.jit(lambda z: fnn.lax.fft(z, "irfft", (0,), (8,)))(np.ones(4, c64))
