"""Tests of fnn.lax.linalg and fnn.numpy.linalg: numpy agreement, first and second
derivatives against central finite differences (float64), <vjp(u), v> == <u, jvp(v)>,
vmap against a Python loop, jit against eager, and error messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from fnn.lax import linalg as lax_linalg
from fnn.tree_util import tree_leaves

la = fnp.linalg


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


# ---- inputs -------------------------------------------------------------------------------


def _rng(seed=0):
    return np.random.default_rng(seed)


def general(n=4, batch=(), seed=0):
    """Well-conditioned: a random matrix plus n on the diagonal."""
    return _rng(seed).standard_normal(batch + (n, n)) + n * np.eye(n)


def spd(n=4, batch=(), seed=0):
    m = _rng(seed).standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def distinct_sym(n=4, batch=(), seed=0):
    """Symmetric with well-separated eigenvalues 1, 2.5, 4, ..."""
    q, _ = np.linalg.qr(_rng(seed).standard_normal(batch + (n, n)))
    w = 1.0 + 1.5 * np.arange(n)
    return (q * w) @ np.swapaxes(q, -1, -2)


def rect(m, n, batch=(), seed=0):
    return _rng(seed).standard_normal(batch + (m, n))


B_RHS = _rng(7).standard_normal((4, 2))
TRI_LOWER = np.tril(general(4, seed=3))
TRI_UPPER = np.triu(general(4, seed=4))


# ---- cases: (function of one array, input) ---------------------------------------------------
# Functions of eigenvectors and singular vectors are invariant to their sign.

CASES = {
    "inv": (la.inv, general()),
    "solve_a": (lambda a: la.solve(a, B_RHS), general()),
    "solve_b": (lambda b: la.solve(general(), b), B_RHS),
    "solve_vec": (lambda b: la.solve(general(), b), B_RHS[:, 0]),
    "det": (la.det, general()),
    "slogdet": (lambda a: la.slogdet(a).logabsdet, general()),
    "cholesky": (la.cholesky, spd()),
    "cholesky_upper": (lambda a: la.cholesky(a, upper=True), spd()),
    "eigh_values": (lambda a: la.eigh(a).eigenvalues, distinct_sym()),
    "eigh_vectors_sq": (lambda a: la.eigh(a).eigenvectors ** 2, distinct_sym()),
    "eigh_reconstruct": (
        lambda a: (lambda w, v: (v * w[..., None, :] ** 2) @ v.mT)(*la.eigh(a)),
        distinct_sym(),
    ),
    "eigvalsh_lower_only": (lambda a: la.eigvalsh(a, symmetrize_input=False), distinct_sym()),
    "qr_tall_q": (lambda a: la.qr(a).Q, rect(5, 3)),
    "qr_tall_r": (lambda a: la.qr(a).R, rect(5, 3)),
    "qr_wide": (lambda a: la.qr(a).Q @ la.qr(a).R * 2.0 + la.qr(a).R[..., :1], rect(3, 5)),
    "qr_square_complete": (lambda a: la.qr(a, mode="complete").R, general()),
    "svd_values": (lambda a: la.svd(a, compute_uv=False), rect(5, 3)),
    "svd_tall_u_sq": (lambda a: la.svd(a, full_matrices=False).U ** 2, rect(5, 3)),
    "svd_tall_vh_sq": (lambda a: la.svd(a, full_matrices=False).Vh ** 2, rect(5, 3)),
    "svd_wide_u_sq": (lambda a: la.svd(a, full_matrices=False).U ** 2, rect(3, 5)),
    "svd_wide_vh_sq": (lambda a: la.svd(a, full_matrices=False).Vh ** 2, rect(3, 5)),
    "svd_square_full": (lambda a: la.svd(a).U * la.svd(a).Vh.mT, general()),
    "pinv_tall": (la.pinv, rect(5, 3)),
    "pinv_wide": (la.pinv, rect(3, 5)),
    "matrix_power": (lambda a: la.matrix_power(a, 3), general() / 4),
    "matrix_power_neg": (lambda a: la.matrix_power(a, -2), general()),
    "multi_dot": (lambda a: la.multi_dot([a, a.T, a]), rect(3, 4)),
    "norm_fro": (la.norm, rect(3, 4)),
    "norm_nuc": (lambda a: la.norm(a, "nuc"), rect(3, 4)),
    "norm_2": (lambda a: la.norm(a, 2), rect(3, 4)),
    "norm_1": (lambda a: la.norm(a, 1), rect(3, 4)),
    "norm_inf": (lambda a: la.norm(a, np.inf), rect(3, 4)),
    "norm_vec_3": (lambda a: la.norm(a, 3, axis=-1), rect(3, 4)),
    "norm_vec_2": (lambda a: la.norm(a, axis=0, keepdims=True), rect(3, 4)),
    "tri_left_lower": (
        lambda a: lax_linalg.triangular_solve(a, B_RHS, left_side=True, lower=True),
        TRI_LOWER,
    ),
    "tri_left_upper_t": (
        lambda a: lax_linalg.triangular_solve(
            a, B_RHS, left_side=True, lower=False, transpose_a=True
        ),
        TRI_UPPER,
    ),
    "tri_right_unit": (
        lambda a: lax_linalg.triangular_solve(
            a, B_RHS.T, left_side=False, lower=True, unit_diagonal=True
        ),
        TRI_LOWER,
    ),
    "tri_rhs": (
        lambda b: lax_linalg.triangular_solve(TRI_UPPER, b, left_side=False, transpose_a=True),
        B_RHS.T,
    ),
}

NUMPY_REFERENCE = {
    "inv": np.linalg.inv,
    "solve_a": lambda a: np.linalg.solve(a, B_RHS),
    "solve_b": lambda b: np.linalg.solve(general(), b),
    "solve_vec": lambda b: np.linalg.solve(general(), b),
    "det": np.linalg.det,
    "slogdet": lambda a: np.linalg.slogdet(a).logabsdet,
    "cholesky": np.linalg.cholesky,
    "cholesky_upper": lambda a: np.linalg.cholesky(a).T,
    "eigh_values": lambda a: np.linalg.eigh(a).eigenvalues,
    "eigh_vectors_sq": lambda a: np.linalg.eigh(a).eigenvectors ** 2,
    "qr_tall_q": lambda a: np.linalg.qr(a).Q,
    "qr_tall_r": lambda a: np.linalg.qr(a).R,
    "svd_values": lambda a: np.linalg.svd(a, compute_uv=False),
    "svd_tall_u_sq": lambda a: np.linalg.svd(a, full_matrices=False).U ** 2,
    "pinv_tall": np.linalg.pinv,
    "pinv_wide": np.linalg.pinv,
    "matrix_power": lambda a: np.linalg.matrix_power(a, 3),
    "matrix_power_neg": lambda a: np.linalg.matrix_power(a, -2),
    "norm_fro": np.linalg.norm,
    "norm_nuc": lambda a: np.linalg.norm(a, "nuc"),
    "norm_2": lambda a: np.linalg.norm(a, 2),
    "norm_1": lambda a: np.linalg.norm(a, 1),
    "norm_inf": lambda a: np.linalg.norm(a, np.inf),
    "norm_vec_3": lambda a: np.linalg.norm(a, 3, axis=-1),
    "tri_left_lower": lambda a: np.linalg.solve(a, B_RHS),
    "tri_left_upper_t": lambda a: np.linalg.solve(a.T, B_RHS),
    "tri_right_unit": lambda a: B_RHS.T @ np.linalg.inv(np.tril(a, -1) + np.eye(4)),
    "tri_rhs": lambda b: b @ np.linalg.inv(TRI_UPPER.T),
}

# Second derivatives: the rules of these primitives are differentiated again.
SECOND_ORDER = [
    "inv", "solve_a", "solve_b", "det", "slogdet", "cholesky", "eigh_values",
    "eigh_reconstruct", "qr_tall_r", "svd_values", "pinv_tall", "tri_left_lower",
    "tri_right_unit",
]  # fmt: skip


# ---- helpers ------------------------------------------------------------------------------


def _np(x):
    return np.asarray(x)


def fd_jvp(f, x, v, eps=1e-6):
    return (_np(f(fnp.asarray(x + eps * v))) - _np(f(fnp.asarray(x - eps * v)))) / (2 * eps)


def assert_close(actual, expected, rtol=1e-6, atol=1e-6):
    actual, expected = _np(actual), _np(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def scalarize(f, x):
    """sum(W * f(x)) for a fixed random W: a scalar function for grad and hessians."""
    w = _rng(11).standard_normal(np.shape(_np(f(fnp.asarray(x)))))
    return lambda y: fnp.sum(f(y) * w)


# ---- numpy agreement ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(NUMPY_REFERENCE))
def test_matches_numpy(name, x64):
    f, x = CASES[name]
    assert_close(f(fnp.asarray(x)), NUMPY_REFERENCE[name](x), rtol=1e-9, atol=1e-9)


def test_float32_stays_float32():
    a = spd().astype(np.float32)
    for f in (la.inv, la.det, la.cholesky, lambda m: la.eigh(m)[1], lambda m: la.svd(m)[0]):
        assert f(a).dtype == np.float32
    assert la.solve(np.eye(2, dtype=np.int32), np.ones(2, np.int32)).dtype == np.float32


@settings(max_examples=15, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
    n=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_stacks_match_numpy(batch, n, seed):
    a = general(n, batch, seed).astype(np.float32)
    s = spd(n, batch, seed).astype(np.float32)
    b = _rng(seed + 1).standard_normal(batch + (n, 2)).astype(np.float32)
    tol = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(_np(la.inv(a)), np.linalg.inv(a), **tol)
    np.testing.assert_allclose(_np(la.solve(a, b)), np.linalg.solve(a, b), **tol)
    np.testing.assert_allclose(_np(la.det(a)), np.linalg.det(a), rtol=1e-4)
    np.testing.assert_allclose(_np(la.slogdet(a)[1]), np.linalg.slogdet(a)[1], **tol)
    np.testing.assert_allclose(_np(la.cholesky(s)), np.linalg.cholesky(s), **tol)
    np.testing.assert_allclose(_np(la.eigvalsh(s)), np.linalg.eigvalsh(s), rtol=1e-4)
    np.testing.assert_allclose(_np(la.svd(a, compute_uv=False)), np.linalg.svdvals(a), **tol)
    q, r = la.qr(a)
    np.testing.assert_allclose(_np(q @ r), a, **tol)


@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    ord=st.sampled_from([None, 1, 2, 3, 0.5, np.inf, -np.inf, 0]),
    keepdims=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_vector_norm_matches_numpy(shape, ord, keepdims, seed):
    x = _rng(seed).standard_normal(shape).astype(np.float32)
    axis = seed % len(shape)
    np.testing.assert_allclose(
        _np(la.norm(x, ord, axis, keepdims)), np.linalg.norm(x, ord, axis, keepdims), rtol=1e-5
    )


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
@pytest.mark.parametrize("axis", [(0, 1), (2, 0), (-1, -2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norm_matches_numpy(ord, axis, keepdims):
    x = rect(3, 4, (5,)).astype(np.float32)
    np.testing.assert_allclose(
        _np(la.norm(x, ord, axis, keepdims)), np.linalg.norm(x, ord, axis, keepdims), rtol=1e-5
    )


def test_misc_match_numpy():
    a = general(3, (2,)).astype(np.float32)
    np.testing.assert_allclose(_np(la.cond(a)), np.linalg.cond(a), rtol=1e-4)
    np.testing.assert_allclose(_np(la.cond(a, 1)), np.linalg.cond(a, 1), rtol=1e-4)
    assert int(la.matrix_rank(np.ones((3, 3)))) == 1
    assert _np(la.matrix_rank(a)).tolist() == [3, 3]
    mats = [rect(*s, seed=i) for i, s in enumerate([(2, 6), (6, 3), (3, 5), (5, 1)])]
    np.testing.assert_allclose(
        _np(la.multi_dot(mats)), np.linalg.multi_dot(mats), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        _np(la.matrix_power(a, 0)), np.broadcast_to(np.eye(3), a.shape), rtol=0
    )
    assert la.qr(a, mode="r").shape == (2, 3, 3)
    assert la.qr(rect(5, 3), mode="complete").Q.shape == (5, 5)
    u, s, vh = la.svd(rect(5, 3))
    assert (u.shape, s.shape, vh.shape) == ((5, 5), (3,), (3, 3))


def test_solve_broadcasts_batch_dimensions():
    a = general(3, (2, 1)).astype(np.float32)
    b = _rng(1).standard_normal((4, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(_np(la.solve(a, b)), np.linalg.solve(a, b), rtol=1e-5)
    v = b[0, :, 0]
    np.testing.assert_allclose(_np(la.solve(a, v)), np.linalg.solve(a, v), rtol=1e-5)


def test_eigh_uplo_reads_one_triangle():
    s = distinct_sym().astype(np.float32)
    lower_junk = s + np.triu(np.ones_like(s), 1)
    upper_junk = s + np.tril(np.ones_like(s), -1)
    for junk, uplo in ((lower_junk, "L"), (upper_junk, "U")):
        w = la.eigh(junk, UPLO=uplo, symmetrize_input=False).eigenvalues
        np.testing.assert_allclose(_np(w), np.linalg.eigh(junk, UPLO=uplo)[0], rtol=1e-5)


# ---- derivatives --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_finite_differences(name, x64):
    f, x = CASES[name]
    v = _rng(1).standard_normal(x.shape)
    _, t = fnn.jvp(f, (fnp.asarray(x),), (fnp.asarray(v),))
    assert_close(t, fd_jvp(f, x, v), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_is_the_transpose_of_jvp(name, x64):
    f, x = CASES[name]
    v = _rng(2).standard_normal(x.shape)
    out, t = fnn.jvp(f, (fnp.asarray(x),), (fnp.asarray(v),))
    u = _rng(3).standard_normal(np.shape(_np(out)))
    _, f_vjp = fnn.vjp(f, fnp.asarray(x))
    (g,) = f_vjp(fnp.asarray(u))
    np.testing.assert_allclose(np.sum(_np(g) * v), np.sum(u * _np(t)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_finite_differences(name, x64):
    f, x = CASES[name]
    grad_f = fnn.grad(scalarize(f, x))
    v = _rng(4).standard_normal(x.shape)
    _, hvp = fnn.jvp(grad_f, (fnp.asarray(x),), (fnp.asarray(v),))
    assert_close(hvp, fd_jvp(grad_f, x, v), rtol=1e-5, atol=1e-6)


def test_hessian_of_det_and_grad_grad_of_cholesky(x64):
    a = general(3)
    h = _np(fnn.hessian(la.det)(fnp.asarray(a)))
    grad_det = fnn.grad(la.det)
    fd = np.stack([fd_jvp(grad_det, a, e.reshape(3, 3)) for e in np.eye(9)], -1).reshape(h.shape)
    assert_close(h, fd, rtol=1e-6, atol=1e-7)

    def g(x):
        return fnp.sum(fnn.grad(lambda y: fnp.sum(la.cholesky(y) ** 3))(x) ** 2)

    s = spd(3)
    v = _rng(5).standard_normal(s.shape)
    _, t = fnn.jvp(fnn.grad(g), (fnp.asarray(s),), (fnp.asarray(v),))
    assert_close(t, fd_jvp(fnn.grad(g), s, v), rtol=1e-5, atol=1e-6)


def test_known_gradients(x64):
    a = general(4)
    # d log|det A| / dA = A^-T;  d tr(A^-1 W) / dA = -A^-T W^T A^-T
    assert_close(fnn.grad(lambda m: la.slogdet(m)[1])(a), np.linalg.inv(a).T)
    w = _rng(9).standard_normal((4, 4))
    ainv = np.linalg.inv(a)
    assert_close(fnn.grad(lambda m: fnp.sum(la.inv(m) * w.T))(a), -ainv.T @ w.T @ ainv.T)


def test_norm_gradient_at_zero_is_not_nan():
    for f in (la.norm, lambda x: la.norm(x, axis=-1).sum(), lambda x: la.norm(x, "fro")):
        g = _np(fnn.grad(lambda x, f=f: fnp.sum(f(x)))(fnp.zeros((2, 3))))
        assert np.all(np.isfinite(g))
    g = _np(fnn.grad(la.norm)(fnp.array([3.0, 4.0])))
    np.testing.assert_allclose(g, [0.6, 0.8], rtol=1e-6)


def test_full_matrices_derivative_of_tall_input_raises():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fnn.grad(lambda a: fnp.sum(la.svd(a).U))(rect(4, 2).astype(np.float32))
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        fnn.grad(lambda a: fnp.sum(la.qr(a, mode="complete").Q))(rect(4, 2).astype(np.float32))


# ---- vmap and jit -------------------------------------------------------------------------


def _stacked(x, k=3):
    """k perturbed copies of x (still well-conditioned, symmetric when x is)."""
    eps = _rng(6).standard_normal((k,) + x.shape) * 0.05
    if x.ndim == 2 and x.shape[0] == x.shape[1]:
        if np.allclose(x, x.T):
            eps = eps + np.swapaxes(eps, -1, -2)
        if np.allclose(x, np.tril(x)):
            eps = np.tril(eps)
        if np.allclose(x, np.triu(x)):
            eps = np.triu(eps)
    return x + eps


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_loop(name, x64):
    f, x = CASES[name]
    xs = _stacked(x)
    expected = np.stack([_np(f(fnp.asarray(xi))) for xi in xs])
    assert_close(fnn.vmap(f)(fnp.asarray(xs)), expected, rtol=1e-10, atol=1e-10)
    moved = fnn.vmap(f, in_axes=-1, out_axes=-1)(fnp.asarray(np.moveaxis(xs, 0, -1)))
    assert_close(moved, np.moveaxis(expected, 0, -1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_matches_eager(name):
    f, x = CASES[name]
    x = x.astype(np.float32)
    np.testing.assert_allclose(_np(fnn.jit(f)(x)), _np(f(fnp.asarray(x))), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("left_side", [True, False])
@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None), (None, 1), (2, 2)])
def test_vmap_of_two_operand_solvers(left_side, in_axes, x64):
    k = 3
    a = np.stack([np.tril(general(4, seed=i)) for i in range(k)])
    b = _rng(8).standard_normal((k, 4, 2) if left_side else (k, 2, 4))

    def arg(x, ax):
        return x[0] if ax is None else np.moveaxis(x, 0, ax)

    def pick(x, ax, i):
        return x[0] if ax is None else x[i]

    for f in (
        lambda a_, b_: lax_linalg.triangular_solve(a_, b_, left_side=left_side, lower=True),
        lambda a_, b_: la.solve(a_, b_) if left_side else la.solve(a_.T, b_.T).T,
    ):
        out = fnn.vmap(f, in_axes=in_axes)(arg(a, in_axes[0]), arg(b, in_axes[1]))
        expected = np.stack(
            [_np(f(pick(a, in_axes[0], i), pick(b, in_axes[1], i))) for i in range(k)]
        )
        assert_close(out, expected, rtol=1e-10, atol=1e-10)


def test_vmap_of_grad_and_jit_of_grad(x64):
    xs = _stacked(spd())
    f = lambda a: la.slogdet(la.cholesky(a) + 0.1).logabsdet  # noqa: E731
    g = fnn.grad(f)
    expected = np.stack([_np(g(fnp.asarray(x))) for x in xs])
    assert_close(fnn.vmap(g)(fnp.asarray(xs)), expected, rtol=1e-9, atol=1e-10)
    assert_close(fnn.jit(fnn.vmap(g))(fnp.asarray(xs)), expected, rtol=1e-9, atol=1e-10)


def test_namedtuple_results_pass_through_transforms():
    a = spd(3, (2,)).astype(np.float32)
    w, v = fnn.jit(la.eigh)(a)
    np.testing.assert_allclose(_np(w), np.linalg.eigvalsh(a), rtol=1e-5)
    sign, logdet = fnn.vmap(la.slogdet)(a)
    assert isinstance(fnn.vmap(la.slogdet)(a), la.SlogdetResult)
    np.testing.assert_allclose(_np(logdet), np.linalg.slogdet(a)[1], rtol=1e-5)
    assert len(tree_leaves(fnn.jit(la.svd)(a))) == 3


# ---- failures and errors ------------------------------------------------------------------


def test_failures_give_nan_per_matrix():
    good, bad = spd(3), -spd(3)
    out = _np(la.cholesky(np.stack([good, bad]).astype(np.float32)))
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1]))
    out = _np(la.inv(np.stack([general(3), np.zeros((3, 3))]).astype(np.float32)))
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1]))
    for batch in ((), (2,)):
        g = fnn.grad(lambda a: fnp.sum(la.cholesky(a)))(
            -np.eye(2, dtype=np.float32) + np.zeros(batch + (1, 1), np.float32)
        )
        assert np.all(np.isnan(_np(g)))
        singular = np.zeros(batch + (2, 2), np.float32)
        out = lax_linalg.triangular_solve(
            singular, np.ones(batch + (2, 1), np.float32), left_side=True
        )
        assert np.all(np.isnan(_np(out)))


@pytest.mark.parametrize(
    "fn",
    [la.inv, la.det, la.slogdet, la.cholesky, la.eigh, la.eigvalsh, lambda a: la.solve(a, a)],
)
def test_non_square_input_has_a_clear_error(fn):
    with pytest.raises(
        FnnTypeError, match=r"expected a square matrix \(\.\.\., n, n\), got shape \(3, 4\)"
    ):
        fn(np.ones((3, 4), np.float32))


def test_lax_level_errors():
    with pytest.raises(FnnTypeError, match="cholesky: expected a square matrix"):
        lax_linalg.cholesky(np.ones((2, 3), np.float32))
    with pytest.raises(FnnTypeError, match="expected a floating-point matrix"):
        lax_linalg.det(np.eye(2, dtype=np.int32))
    with pytest.raises(FnnTypeError, match="batch dimensions differ"):
        lax_linalg.solve(np.ones((2, 3, 3), np.float32), np.ones((4, 3, 1), np.float32))
    with pytest.raises(FnnTypeError, match="needs 3 along axis -2"):
        lax_linalg.triangular_solve(
            np.eye(3, dtype=np.float32), np.ones((2, 2), np.float32), left_side=True
        )
    with pytest.raises(
        FnnTypeError, match=r"svd: expected a matrix \(\.\.\., m, n\), got shape \(3,\)"
    ):
        la.svd(np.ones(3, np.float32))
    with pytest.raises(FnnTypeError, match="needs b of length 3"):
        la.solve(np.eye(3), np.ones(4))
    with pytest.raises(FnnTypeError, match="invalid norm order"):
        la.norm(np.ones(3), "fro")
    with pytest.raises(FnnTypeError, match="1-D or 2-D"):
        la.norm(np.ones((2, 2, 2)), 2)
