"""Complex numbers through fnn.numpy: values against numpy, dtypes against JAX's promotion
rules (written out below), derivatives against finite differences in both real
directions and against JAX's convention written out by hand, ``holomorphic=True`` for
grad, jacfwd and jacrev, and jit and vmap.

JAX's convention, which fnn follows: a JVP is the (real-linear) differential applied to
the tangent, complex tangents for complex values; VJPs are its transpose for the
bilinear pairing ``Re(sum(a * b))``. So for a real ``g(z)``, ``grad(g)(z)`` is
``dg/dx - i dg/dy``; for a holomorphic ``f``, ``vjp`` multiplies by ``f'(z)`` (not by
its conjugate) and ``grad(f, holomorphic=True)`` is ``f'(z)``.
"""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import lax
from fnn.core import FnnTypeError

c64, c128, f32, f64 = np.complex64, np.complex128, np.float32, np.float64


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _off_cuts(rng, shape):
    """Complex numbers with both parts in +-[0.3, 1.5]: away from every branch cut of
    sqrt, log, arcsin, ..., arctanh (the real and imaginary axes beyond +-1, or all of a
    half axis), so a finite-difference step never crosses one."""

    def part():
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0) * rng.uniform(0.3, 1.5, shape)

    return part() + 1j * part()


# ---- promotion ---------------------------------------------------------------------------

# JAX's type promotion for complex operands (jax docs, "Type promotion semantics": the
# lattice ... f2 -> f4 -> c8 -> c16, f8 -> c16, with Python's complex the weak c*),
# written out: (a, b, result by default, result with enable_x64). A dtype name is a
# strong array; a Python scalar is weakly typed.
PROMOTION = [
    ("float32", "complex64", c64, c64),
    ("float32", "complex128", c64, c128),
    ("float64", "complex64", c64, c128),
    ("float16", "complex64", c64, c64),
    ("int32", "complex64", c64, c64),
    ("int64", "complex64", c64, c64),
    ("uint8", "complex64", c64, c64),
    ("bool", "complex64", c64, c64),
    ("complex64", "complex128", c64, c128),
    ("float32", 1j, c64, c64),
    ("float64", 1j, c64, c128),
    ("float16", 1j, c64, c64),
    ("int32", 1j, c64, c128),
    ("uint8", 1j, c64, c128),
    ("bool", 1j, c64, c128),
    ("complex64", 1.5, c64, c64),
    ("complex64", 2, c64, c64),
    ("complex64", 1j, c64, c64),
    ("complex128", 1.5, c64, c128),
    (1.5, 1j, c64, c128),
    (2, 1j, c64, c128),
    (1j, 1j, c64, c128),
]


def _operand(t):
    return fnp.ones((2,), t) if isinstance(t, str) else t


@pytest.mark.parametrize("use_x64", [False, True], ids=["x32", "x64"])
@pytest.mark.parametrize("a,b,want32,want64", PROMOTION, ids=str)
def test_promotion_follows_jax(a, b, want32, want64, use_x64):
    fnn.config.update("enable_x64", use_x64)
    try:
        want = np.dtype(want64 if use_x64 else want32)
        for x, y in ((a, b), (b, a)):
            assert fnp.result_type(_operand(x), _operand(y)) == want
            assert fnp.add(_operand(x), _operand(y)).dtype == want
            assert fnp.multiply(_operand(x), _operand(y)).dtype == want
        if isinstance(a, str) and isinstance(b, complex):
            assert fnn.jit(lambda u: u * b)(_operand(a)).dtype == want
    finally:
        fnn.config.update("enable_x64", False)


def test_array_creation_dtypes():
    assert fnp.asarray(1j).dtype == c64 and fnp.asarray([1, 2j]).dtype == c64
    assert fnp.asarray(np.ones(2, c128)).dtype == c64  # narrows without x64
    assert fnp.zeros(2, c64).dtype == c64 and fnp.full((2,), 1 + 1j).dtype == c64
    assert (fnp.ones(2) + 1j).dtype == c64


def test_array_creation_dtypes_x64(x64):
    assert fnp.asarray(1j).dtype == c128 and fnp.asarray(np.ones(2, c64)).dtype == c64
    assert (fnp.ones(2, f32) + 1j).dtype == c64  # a weak complex takes float32's width


# ---- values against numpy ----------------------------------------------------------------

UNARY = {
    "exp": (fnp.exp, np.exp),
    "log": (fnp.log, np.log),
    "log2": (fnp.log2, np.log2),
    "log10": (fnp.log10, np.log10),
    "log1p": (fnp.log1p, np.log1p),
    "expm1": (fnp.expm1, np.expm1),
    "exp2": (fnp.exp2, np.exp2),
    "sqrt": (fnp.sqrt, np.sqrt),
    "square": (fnp.square, np.square),
    "cube": (lambda z: fnp.power(z, 3), lambda z: z**3),
    "inverse_square": (lambda z: fnp.power(z, -2), lambda z: z**-2),
    "reciprocal": (fnp.reciprocal, np.reciprocal),
    "sin": (fnp.sin, np.sin),
    "cos": (fnp.cos, np.cos),
    "tan": (fnp.tan, np.tan),
    "arcsin": (fnp.arcsin, np.arcsin),
    "arccos": (fnp.arccos, np.arccos),
    "arctan": (fnp.arctan, np.arctan),
    "sinh": (fnp.sinh, np.sinh),
    "cosh": (fnp.cosh, np.cosh),
    "tanh": (fnp.tanh, np.tanh),
    "arcsinh": (fnp.arcsinh, np.arcsinh),
    "arccosh": (fnp.arccosh, np.arccosh),
    "arctanh": (fnp.arctanh, np.arctanh),
    "negative": (fnp.negative, np.negative),
    "power_complex": (lambda z: fnp.power(z, 0.5 - 0.7j), lambda z: np.power(z, 0.5 - 0.7j)),
}
HOLOMORPHIC = list(UNARY)
REAL_VALUED = {
    "abs": (fnp.abs, np.abs),
    "real": (fnp.real, np.real),
    "imag": (fnp.imag, np.imag),
    "angle": (fnp.angle, np.angle),
    "angle_deg": (lambda z: fnp.angle(z, deg=True), lambda z: np.angle(z, deg=True)),
}
OTHER = {
    "conj": (fnp.conj, np.conj),
    "sign": (fnp.sign, np.sign),
    "round": (lambda z: fnp.round(z, 1), lambda z: np.round(z, 1)),
    "rint": (lambda z: fnp.rint(3 * z), lambda z: np.rint(3 * z)),
}


@pytest.mark.parametrize("name", list(UNARY) + list(REAL_VALUED) + list(OTHER))
def test_unary_values_and_dtypes(name):
    fn, ref = {**UNARY, **REAL_VALUED, **OTHER}[name]
    z = _off_cuts(_rng(1), (3, 4))
    out = fn(z.astype(c64))
    want = ref(z.astype(c64))
    assert isinstance(out, fnn.Array) and out.dtype == want.dtype  # numpy keeps complex64
    np.testing.assert_allclose(out, ref(z), rtol=2e-5, atol=2e-6)
    fnn.config.update("enable_x64", True)
    try:
        out = fn(z)
        assert out.dtype == ref(z).dtype
        np.testing.assert_allclose(out, ref(z), rtol=1e-12, atol=1e-14)
    finally:
        fnn.config.update("enable_x64", False)


def test_parts_of_real_input_follow_numpy():
    x = np.arange(-2, 3, dtype=np.int32)
    assert fnp.real(x).dtype == np.int32 and fnp.imag(x).dtype == np.int32
    np.testing.assert_array_equal(fnp.imag(x), 0)
    np.testing.assert_array_equal(fnp.conj(x), x)
    np.testing.assert_allclose(fnp.angle(x), np.angle(x), rtol=1e-6)
    assert fnp.angle(x).dtype == f32
    assert fnp.iscomplexobj(fnp.asarray(1j)) and fnp.isrealobj(x)
    np.testing.assert_array_equal(fnp.iscomplex([1 + 1j, 2.0]), [True, False])
    np.testing.assert_array_equal(fnp.isreal([1 + 1j, 2.0]), [False, True])
    z = fnp.asarray([1 + 2j, -3j])
    np.testing.assert_array_equal(z.real, [1, 0])
    np.testing.assert_array_equal(z.imag, [2, -3])
    np.testing.assert_array_equal(z.conj(), [1 - 2j, 3j])


def test_lax_parts():
    x, y = np.float32([1.0, -2.0]), np.float32([3.0, 0.5])
    z = lax.complex(x, y)
    assert z.dtype == c64
    np.testing.assert_array_equal(z, x + 1j * y)
    np.testing.assert_array_equal(lax.real(z), x)
    np.testing.assert_array_equal(lax.imag(z), y)
    np.testing.assert_array_equal(lax.conj(z), x - 1j * y)
    assert lax.conj(x).dtype == c64  # as jax.lax.conj: a real array becomes complex
    np.testing.assert_array_equal(lax.complex(x, np.float32(0)), x + 0j)  # broadcasts


def _stack(z):
    return np.stack([z, 2 * z])


RNG_A = _off_cuts(_rng(2), (3, 4))
RNG_B = _off_cuts(_rng(3), (4, 2))
RNG_C = _off_cuts(_rng(4), (3, 4))
IDX = np.array([2, 0, 0])

# Structural, indexing, contraction and reduction functions on complex arrays: (fnn
# function, numpy reference) of the (3, 4) complex array z.
STRUCTURAL = {
    "getitem": (lambda z: z[1:, [0, 2]], lambda z: z[1:, [0, 2]]),
    "gather": (lambda z: z[IDX, 1], lambda z: z[IDX, 1]),
    "take": (lambda z: fnp.take(z, IDX, axis=0), lambda z: np.take(z, IDX, axis=0)),
    "at_set": (lambda z: z.at[0, 1].set(2j), lambda z: _np_at(z, "set", 2j)),
    "at_add": (lambda z: z.at[IDX, 1].add(1 - 1j), lambda z: _np_at(z, "add", 1 - 1j)),
    "at_mul": (lambda z: z.at[0].multiply(2j), lambda z: _np_at(z, "mul", 2j)),
    "concatenate": (
        lambda z: fnp.concatenate([z, z * 1j], axis=1),
        lambda z: np.concatenate([z, z * 1j], 1),
    ),
    "stack": (lambda z: fnp.stack([z, 1j * z]), lambda z: np.stack([z, 1j * z])),
    "reshape": (lambda z: fnp.reshape(z, (2, 6)), lambda z: z.reshape(2, 6)),
    "transpose": (lambda z: z.T, lambda z: z.T),
    "slice": (lambda z: z[::2, 1:3], lambda z: z[::2, 1:3]),
    "pad": (lambda z: fnp.pad(z, 1), lambda z: np.pad(z, 1)),
    "roll": (lambda z: fnp.roll(z, 1, 0), lambda z: np.roll(z, 1, 0)),
    "flip": (lambda z: fnp.flip(z), lambda z: np.flip(z)),
    "where": (
        lambda z: fnp.where(z.real > 0, z, 1j * z),
        lambda z: np.where(z.real > 0, z, 1j * z),
    ),
    "dot": (lambda z: fnp.dot(z, RNG_B), lambda z: np.dot(z, RNG_B)),
    "matmul": (lambda z: fnp.matmul(RNG_B.T, z.T), lambda z: RNG_B.T @ z.T),
    "einsum": (
        lambda z: fnp.einsum("ij,jk,ik->k", z, RNG_B, RNG_C[:, :2]),
        lambda z: np.einsum("ij,jk,ik->k", z, RNG_B, RNG_C[:, :2]),
    ),
    "vdot": (lambda z: fnp.vdot(z, RNG_C), lambda z: np.vdot(z, RNG_C)),
    "outer": (lambda z: fnp.outer(z[0], RNG_C[1]), lambda z: np.outer(z[0], RNG_C[1])),
    "sum": (lambda z: fnp.sum(z, axis=0), lambda z: z.sum(0)),
    "prod": (lambda z: fnp.prod(z, axis=1), lambda z: z.prod(1)),
    "mean": (lambda z: fnp.mean(z), lambda z: z.mean()),
    "var": (lambda z: fnp.var(z, axis=0), lambda z: z.var(0)),
    "std": (lambda z: fnp.std(z), lambda z: z.std()),
    "cumsum": (lambda z: fnp.cumsum(z, axis=1), lambda z: z.cumsum(1)),
    "cumprod": (lambda z: fnp.cumprod(z, axis=1), lambda z: z.cumprod(1)),
    "norm": (lambda z: fnp.linalg.norm(z), lambda z: np.linalg.norm(z)),
    "mixed_real": (lambda z: z * RNG_A.real + 2.0, lambda z: z * RNG_A.real + 2.0),
}


def _np_at(z, how, v):
    z = z.copy()
    if how == "set":
        z[0, 1] = v
    elif how == "add":
        np.add.at(z, (IDX, 1), v)
    else:
        z[0] *= v
    return z


@pytest.mark.parametrize("name", list(STRUCTURAL))
def test_structural_values_jit_vmap(name, x64):
    fn, ref = STRUCTURAL[name]
    z = RNG_A
    want = ref(z)
    out = fn(fnp.asarray(z))
    assert out.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fnn.jit(fn)(z), want, rtol=1e-12, atol=1e-12)
    batch = _stack(z)
    np.testing.assert_allclose(
        fnn.vmap(fn)(batch), np.stack([ref(b) for b in batch]), rtol=1e-12, atol=1e-12
    )


def test_structural_values_complex64():
    z = RNG_A.astype(c64)
    for name, (fn, ref) in STRUCTURAL.items():
        out, want = fn(fnp.asarray(z)), ref(z)
        assert out.dtype == fnn.config.canonicalize_dtype(np.asarray(want).dtype), name
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5, err_msg=name)


# ---- derivatives -------------------------------------------------------------------------


def _fd_along(f, z, t, eps=1e-6):
    """The directional derivative of ``f`` (numpy, complex128) along ``t``."""
    return (f(z + eps * t) - f(z - eps * t)) / (2 * eps)


def _fd_convention_grad(g, z, eps=1e-6):
    """JAX's gradient of a real scalar ``g`` of complex ``z``, by finite differences:
    ``dg/dx - i dg/dy`` entry by entry."""
    out = np.zeros(z.shape, c128)
    for k in range(z.size):
        e = np.zeros(z.size)
        e[k] = eps
        e = e.reshape(z.shape)
        dx = (g(z + e) - g(z - e)) / (2 * eps)
        dy = (g(z + 1j * e) - g(z - 1j * e)) / (2 * eps)
        out.flat[k] = dx - 1j * dy
    return out


@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_holomorphic_derivatives(name, x64):
    fn, ref = UNARY[name]
    z = _off_cuts(_rng(5), (5,))
    fprime = _fd_along(ref, z, 1.0)
    # The JVP along both real directions: t = 1 and t = i (so it is complex-linear).
    for t in (np.ones(5, c128), 1j * np.ones(5), _off_cuts(_rng(6), (5,))):
        _, tangent = fnn.jvp(fn, (z,), (t,))
        np.testing.assert_allclose(tangent, _fd_along(ref, z, t), rtol=1e-7, atol=1e-8)
    # JAX's convention for a holomorphic f: the VJP multiplies by f'(z), not conj(f'(z)).
    ct = _off_cuts(_rng(7), (5,))
    _, f_vjp = fnn.vjp(fn, z)
    np.testing.assert_allclose(f_vjp(ct)[0], ct * fprime, rtol=1e-7, atol=1e-8)
    g = fnn.grad(lambda s: fn(s), holomorphic=True)
    np.testing.assert_allclose(g(z[0]), fprime[0], rtol=1e-7)
    for jac in (fnn.jacfwd, fnn.jacrev):
        np.testing.assert_allclose(jac(fn, holomorphic=True)(z), np.diag(fprime), atol=1e-7)
    np.testing.assert_allclose(fnn.jit(g)(z[1]), fprime[1], rtol=1e-7)
    np.testing.assert_allclose(fnn.vmap(g)(z), fprime, rtol=1e-7)


@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_grad_of_a_real_loss_is_the_conjugate_convention(name, x64):
    fn, ref = UNARY[name]
    z = _off_cuts(_rng(8), (4,))
    w = _off_cuts(_rng(9), (4,))

    def loss(s):  # real: |f(z)|^2 weighted, plus a real part
        v = fn(s)
        return fnp.sum(fnp.real(v * fnp.conj(v))) + fnp.sum(fnp.real(w * v))

    def loss_np(s):
        v = ref(s)
        return np.sum(np.abs(v) ** 2) + np.sum(np.real(w * v))

    want = _fd_convention_grad(loss_np, z)
    np.testing.assert_allclose(fnn.grad(loss)(z), want, rtol=1e-6, atol=1e-7)
    # By hand: d(|f|^2 + Re(w f)) = Re((2 conj(f) + w) f' dz), and a real loss with
    # dL = Re(a dz) has dL/dx = Re(a), dL/dy = -Im(a): JAX's gradient is a itself.
    fprime = _fd_along(ref, z, 1.0)
    by_hand = (2 * np.conj(ref(z)) + w) * fprime
    np.testing.assert_allclose(fnn.grad(loss)(z), by_hand, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(REAL_VALUED))
def test_real_valued_functions_of_complex_input(name, x64):
    fn, ref = REAL_VALUED[name]
    z = _off_cuts(_rng(10), (4,))
    w = _rng(11).normal(size=4)
    want = _fd_convention_grad(lambda s: np.sum(w * ref(s)), z)
    got = fnn.grad(lambda s: fnp.sum(w * fn(s)))(z)
    assert got.dtype == c128
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # jacrev of a real output is allowed (as in JAX), and is the same gradient per row
    np.testing.assert_allclose(fnn.jacrev(fn)(z) @ w, want, rtol=1e-6, atol=1e-7)
    for t in (np.ones(4, c128), 1j * np.ones(4)):
        _, tangent = fnn.jvp(fn, (z,), (t,))
        assert tangent.dtype == f64
        np.testing.assert_allclose(tangent, _fd_along(ref, z, t), rtol=1e-7, atol=1e-8)


def test_jax_convention_by_hand():
    # Values jax 0.10 returns, worked out here by hand: for z = x + iy and real g,
    # grad g = dg/dx - i dg/dy.
    z = fnp.asarray(1 + 2j)
    assert complex(fnn.grad(lambda z: fnp.abs(z) ** 2)(z)) == 2 - 4j  # 2x - 2iy
    assert complex(fnn.grad(lambda z: fnp.real(z * z))(z)) == 2 + 4j  # x^2 - y^2
    assert complex(fnn.grad(fnp.imag)(z)) == -1j
    assert complex(fnn.grad(fnp.real)(z)) == 1
    assert complex(fnn.grad(fnp.abs)(fnp.asarray(0j))) == 0  # as JAX at the kink
    np.testing.assert_allclose(complex(fnn.grad(fnp.abs)(z)), (1 - 2j) / np.sqrt(5), rtol=1e-6)
    # angle = atan2(y, x): d/dx = -y/|z|^2, d/dy = x/|z|^2
    np.testing.assert_allclose(complex(fnn.grad(fnp.angle)(z)), (-2 - 1j) / 5, rtol=1e-6)
    assert complex(fnn.grad(lambda z: z * z, holomorphic=True)(z)) == 2 + 4j
    # VJPs: transposes for the bilinear pairing Re(sum(a * b)).
    ct = np.complex64(2 + 1j)
    assert complex(fnn.vjp(fnp.real, z)[1](np.float32(2.0))[0]) == 2
    assert complex(fnn.vjp(fnp.imag, z)[1](np.float32(2.0))[0]) == -2j
    assert complex(fnn.vjp(fnp.conj, z)[1](ct)[0]) == 2 - 1j
    assert complex(fnn.vjp(lambda z: z * (1 + 2j), z)[1](np.complex64(1j))[0]) == -2 + 1j
    gx, gy = fnn.vjp(lax.complex, np.float32(1), np.float32(2))[1](ct)
    assert float(gx) == 2 and float(gy) == -1
    # Casting real -> complex transposes to the real part, and back again.
    assert float(fnn.vjp(lambda x: x.astype(c64), np.float32(1))[1](ct)[0]) == 2
    assert complex(fnn.vjp(lambda z: z.astype(f32), z)[1](np.float32(2))[0]) == 2
    # jvp of abs and angle (real tangents)
    t = fnp.asarray(1j)
    np.testing.assert_allclose(fnn.jvp(fnp.abs, (z,), (t,))[1], 2 / np.sqrt(5), rtol=1e-6)
    np.testing.assert_allclose(fnn.jvp(fnp.angle, (z,), (t,))[1], 1 / 5, rtol=1e-6)
    assert complex(fnn.jvp(fnp.sign, (z,), (t,))[1]) == 0  # as JAX: sign has zero JVP


def test_arccosh_derivative_left_of_the_imaginary_axis(x64):
    # sqrt(z*z - 1) takes the other branch there; the derivative is 1/(sqrt(z-1) sqrt(z+1)).
    z = np.array([-2 + 0.5j, -0.7 - 1.2j, 1.5 + 0.3j])
    got = fnn.jacfwd(fnp.arccosh, holomorphic=True)(z)
    np.testing.assert_allclose(np.diag(got), _fd_along(np.arccosh, z, 1.0), rtol=1e-7)


@pytest.mark.parametrize("name", list(STRUCTURAL))
def test_structural_derivatives(name, x64):
    fn, ref = STRUCTURAL[name]
    z = RNG_A
    out = np.asarray(ref(z))
    w = _off_cuts(_rng(12), out.shape) if out.dtype.kind == "c" else _rng(12).normal(size=out.shape)

    def loss(s):
        return fnp.sum(fnp.real(w * fn(s)))

    want = _fd_convention_grad(lambda s: np.sum(np.real(w * ref(s))), z)
    np.testing.assert_allclose(fnn.grad(loss)(z), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fnn.jit(fnn.grad(loss))(z), want, rtol=1e-6, atol=1e-7)
    # <vjp(u), v> == <u, jvp(v)> for the bilinear pairing Re(sum(a * b))
    v = _off_cuts(_rng(13), z.shape)
    y, f_vjp = fnn.vjp(fn, fnp.asarray(z))
    u = w.astype(np.asarray(y).dtype)
    _, t = fnn.jvp(fn, (z,), (v,))
    lhs = np.real(np.sum(np.asarray(f_vjp(u)[0]) * v))
    rhs = np.real(np.sum(u * np.asarray(t)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_second_derivatives_of_a_real_loss(x64):
    # Forward over reverse: the JVP of the gradient equals finite differences of it.
    z = _off_cuts(_rng(14), (3,))

    def loss(s):
        return fnp.sum(fnp.abs(fnp.sin(s) * s) ** 2) + fnp.sum(fnp.real(fnp.exp(s)))

    g = fnn.grad(loss)
    for t in (np.ones(3, c128), 1j * np.ones(3)):
        _, hv = fnn.jvp(g, (z,), (t,))
        want = (np.asarray(g(z + 1e-5 * t)) - np.asarray(g(z - 1e-5 * t))) / 2e-5
        np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-7)
    h = fnn.hessian(lambda s: fnp.sum(s**3), holomorphic=True)(z)
    np.testing.assert_allclose(h, np.diag(6 * z), rtol=1e-12)


def test_jit_check_mode_on_a_complex_program(x64):
    fnn.config.update("jit_check", True)
    try:
        z = _off_cuts(_rng(15), (8, 8))

        def step(z):
            a = fnp.real(z) * fnp.imag(z) + fnp.abs(z)
            b = lax.complex(a, fnp.angle(z)) * fnp.conj(z)
            return fnp.sum(fnp.abs(b @ z)), fnn.grad(lambda s: fnp.sum(fnp.abs(s @ z)))(b)

        want = step(fnp.asarray(z))
        got = fnn.jit(step)(z)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12)
    finally:
        fnn.config.update("jit_check", False)


# ---- errors ------------------------------------------------------------------------------


def test_grad_of_a_complex_output_needs_holomorphic():
    z = fnp.asarray(1 + 2j)
    with pytest.raises(TypeError, match="real-valued outputs.*holomorphic=True"):
        fnn.grad(lambda z: z * z)(z)
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs"):
        fnn.jacrev(lambda x: x * (1 + 1j))(1.0)
    with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype"):
        fnn.grad(lambda z: z * z, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="holomorphic=True requires outputs with complex dtype"):
        fnn.grad(fnp.abs, holomorphic=True)(z)
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs.*holomorphic"):
        fnn.jacfwd(lambda z: z * z)(fnp.asarray([1j]))
    with pytest.raises(TypeError, match="jacfwd with holomorphic=True requires outputs"):
        fnn.jacfwd(fnp.abs, holomorphic=True)(fnp.asarray([1j]))
    # what is allowed, as in JAX: a real loss of complex inputs, and vjp of anything
    assert fnn.grad(fnp.abs)(z).dtype == c64
    assert fnn.jacfwd(lambda x: x * (1 + 1j))(fnp.asarray([1.0])).dtype == c64
    assert fnn.vjp(lambda z: z * z, z)[1](np.complex64(1))[0].dtype == c64


@pytest.mark.parametrize(
    "fn",
    [fnp.floor, fnp.ceil, fnp.cbrt, lambda z: fnp.arctan2(z, z), lambda z: z % 2.0],
    ids=["floor", "ceil", "cbrt", "arctan2", "mod"],
)
def test_real_only_functions_refuse_complex(fn):
    with pytest.raises(FnnTypeError, match="complex"):
        fn(fnp.asarray([1 + 1j]))


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_lax_parts_check_dtypes(jit, x64):
    call = (lambda f, *a: fnn.jit(f)(*a)) if jit else (lambda f, *a: f(*a))
    for f in (lax.real, lax.imag):
        with pytest.raises(FnnTypeError, match="expected a complex dtype"):
            call(f, np.float32([1.0]))
    with pytest.raises(FnnTypeError, match="complex: operands must have the same dtype"):
        call(lax.complex, np.float32(1), np.float64(1))
    with pytest.raises(FnnTypeError, match="complex: expected real floating-point parts"):
        call(lax.complex, np.int32(1), np.int32(1))
