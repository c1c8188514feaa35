"""fnn.numpy.linalg beyond tests/lax/test_linalg.py: eig and eigvals (complex results,
first derivatives of the eigenvalues against finite differences, the clear error for
eigenvectors), pinv's cutoffs (rcond/rtol, per-matrix arrays, hermitian), lstsq,
diagonal, trace, vecdot, tensorinv and tensorsolve, against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from tests.lax.harness import Case, Spec, args, x64
from tests.lax.properties import property_tests

la = fnp.linalg
RNG = np.random.default_rng(0)


def _with(spec_fn):
    return st.composite(spec_fn)()


# ---- harness rows: real-valued functions --------------------------------------------------


def _pinv_spec(draw):
    batch = draw(st.sampled_from([(), (2,)]))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # A cutoff far from every singular value of a random matrix: the rank is fixed.
    cut = draw(st.sampled_from([None, 1e-3, (1e-3, 1e-4)]))
    key = draw(st.sampled_from(["rcond", "rtol"]))
    if cut is None or (isinstance(cut, tuple) and not batch):
        return Spec((batch + (m, n),), {})
    return Spec((batch + (m, n),), {key: cut})


def _pinv(module):
    def fn(a, **kw):
        kw = {k: np.asarray(v) if isinstance(v, tuple) else v for k, v in kw.items()}
        if module is np and not kw:  # fnn's default cutoff is JAX's
            kw = {"rtol": 10 * max(a.shape[-2:]) * np.finfo(a.dtype).eps}
        if module is np and "rtol" in kw:
            kw = {"rcond": kw["rtol"]}
        return module.linalg.pinv(a, **kw)

    return fn


def _lstsq(module):
    def fn(a, b):
        return module.linalg.lstsq(a, b)[0]

    return fn


def _lstsq_spec(draw):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return Spec(((m, n), draw(st.sampled_from([(m,), (m, 2)]))), {})


def _stack_spec(draw):
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return Spec((batch + (m, n),), {"offset": draw(st.integers(-2, 2))})


def _vecdot_spec(draw):
    n = draw(st.integers(1, 4))
    return Spec(((2, n), (n,)), {})


def _tensorinv(module):
    def fn(a):
        # Near the identity: well conditioned, so finite differences are accurate.
        return module.linalg.tensorinv(a * 0.1 + np.eye(6).reshape(6, 2, 3), ind=1)

    return fn


def _tensorsolve(module):
    def fn(a, b):
        return module.linalg.tensorsolve(a * 0.1 + np.eye(6).reshape(2, 3, 6), b)

    return fn


CASES = [
    Case("pinv", _pinv(fnp), _pinv(np), _with(_pinv_spec), args("real")),
    Case("lstsq", _lstsq(fnp), _lstsq(np), _with(_lstsq_spec), args("real", "real"), nargs=2),
    Case(
        "linalg_diagonal",
        lambda a, offset: la.diagonal(a, offset=offset),
        lambda a, offset: np.linalg.diagonal(a, offset=offset),
        _with(_stack_spec),
        args("real"),
        api=("linalg.diagonal",),
    ),
    Case(
        "linalg_trace",
        lambda a, offset: la.trace(a, offset=offset),
        lambda a, offset: np.linalg.trace(a, offset=offset),
        _with(_stack_spec),
        args("real"),
        api=("linalg.trace",),
    ),
    Case(
        "vecdot",
        lambda a, b: la.vecdot(a, b),
        lambda a, b: np.linalg.vecdot(a, b),
        _with(_vecdot_spec),
        args("real", "real"),
        nargs=2,
    ),
    Case(
        "tensorinv",
        _tensorinv(fnp),
        _tensorinv(np),
        st.just(Spec(((6, 2, 3),), {})),
        args("real"),
        rtol32=1e-4,
    ),
    Case(
        "tensorsolve",
        _tensorsolve(fnp),
        _tensorsolve(np),
        st.just(Spec(((2, 3, 6), (2, 3)), {})),
        args("real", "real"),
        nargs=2,
        rtol32=1e-4,
    ),
]

globals().update(property_tests(CASES))


# ---- eig and eigvals ------------------------------------------------------------------------


def test_eig_satisfies_its_definition_and_matches_numpy():
    a = RNG.normal(size=(3, 4, 4)).astype(np.float32)
    w, v = la.eig(a)
    assert w.dtype == np.complex64 and v.dtype == np.complex64
    assert w.shape == (3, 4) and v.shape == (3, 4, 4)
    av = np.einsum("bij,bjk->bik", a.astype(np.complex64), np.asarray(v))
    np.testing.assert_allclose(av, np.asarray(v) * np.asarray(w)[:, None, :], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(v), axis=1), 1.0, rtol=1e-5)
    ref_w, _ = np.linalg.eig(a)
    np.testing.assert_allclose(w, ref_w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(la.eigvals(a), ref_w, rtol=1e-5, atol=1e-5)
    assert isinstance(la.eig(a), la.EigResult)


def test_eig_of_a_rotation_has_complex_eigenvalues():
    w = np.sort_complex(np.asarray(la.eigvals(np.array([[0.0, -1.0], [1.0, 0.0]]))))
    np.testing.assert_allclose(w, [-1j, 1j], atol=1e-7)


def test_eig_dtypes_follow_the_input():
    assert la.eigvals(np.eye(2, dtype=np.int32)).dtype == np.complex64
    with x64():
        assert la.eigvals(np.eye(2)).dtype == np.complex128
        assert la.eig(np.eye(2, dtype=np.float32)).eigenvectors.dtype == np.complex64


def test_eig_under_jit_and_vmap():
    a = RNG.normal(size=(2, 3, 3)).astype(np.float32)
    w, v = fnn.jit(la.eig)(a[0])
    ref_w, ref_v = la.eig(a[0])
    np.testing.assert_allclose(w, ref_w, rtol=1e-6)
    np.testing.assert_allclose(v, ref_v, rtol=1e-6)
    batched = fnn.vmap(la.eigvals)(a)
    np.testing.assert_allclose(batched, np.linalg.eigvals(a), rtol=1e-5, atol=1e-5)


def _fd_jvp(f, x, t, eps=1e-6):
    return (f(x + eps * t) - f(x - eps * t)) / (2 * eps)


def test_eigvals_first_derivatives_against_finite_differences():
    with x64():
        a = RNG.normal(size=(2, 4, 4))
        t = RNG.normal(size=a.shape)
        _, jt = fnn.jvp(la.eigvals, (a,), (t,))
        np.testing.assert_allclose(jt, _fd_jvp(np.linalg.eigvals, a, t), rtol=1e-6, atol=1e-7)
        # The gradient of a real function of the eigenvalues.
        c = RNG.normal(size=4) + 1j * RNG.normal(size=4)

        def loss(x, module):
            w = module.linalg.eigvals(x)
            return module.sum(module.real(w * c) + module.imag(w) ** 2)

        g = np.asarray(fnn.grad(lambda x: loss(x, fnp))(a[0]))
        fd = np.zeros((4, 4))
        for i, j in np.ndindex(4, 4):
            e = np.zeros((4, 4))
            e[i, j] = 1e-6
            fd[i, j] = (loss(a[0] + e, np) - loss(a[0] - e, np)) / 2e-6
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)


def test_eigvals_jit_of_grad():
    a = np.array([[2.0, 1.0], [0.5, -1.0]], np.float32)
    g = fnn.jit(fnn.grad(lambda x: fnp.sum(fnp.real(la.eigvals(x)))))(a)
    np.testing.assert_allclose(g, np.eye(2), atol=1e-5)  # d trace = I


def test_eigenvector_derivatives_raise_a_clear_error():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    with pytest.raises(NotImplementedError, match="eigvals.*eigh"):
        fnn.grad(lambda x: fnp.sum(fnp.real(la.eig(x).eigenvalues)))(a)
    with pytest.raises(NotImplementedError, match="eigenvectors"):
        fnn.jvp(lambda x: la.eig(x).eigenvectors, (a,), (a,))


def test_second_derivatives_of_eigvals_say_they_are_missing():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    with pytest.raises(NotImplementedError, match="only first derivatives"):
        fnn.hessian(lambda x: fnp.sum(fnp.real(la.eigvals(x))))(a)


def test_eig_failure_is_nan_as_in_jax():
    w, v = la.eig(np.array([[np.nan, 1.0], [1.0, 1.0]], np.float32))
    assert np.isnan(np.asarray(w)).all() and np.isnan(np.asarray(v)).all()


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: la.eig(np.ones((2, 3))), "square matrix"),
        (lambda: la.eigvals(np.ones(3)), "square matrix"),
        (lambda: la.pinv(np.ones((2, 2)), rtol=0.1, rcond=0.1), "not both"),
        (lambda: la.pinv(np.ones((3, 2, 2)), np.array([0.1, 0.2])), "does not broadcast"),
        (lambda: la.pinv(np.ones((2, 3)), hermitian=True), "square matrix"),
        (lambda: fnn.jit(lambda a, r: la.pinv(a, r))(np.eye(2), 0.1), "must be concrete"),
        (lambda: la.lstsq(np.ones(3), np.ones(3)), "must be a matrix"),
        (lambda: la.lstsq(np.ones((3, 2)), np.ones(2)), "a's rows"),
        (lambda: la.diagonal(np.ones(3)), "expected a matrix"),
        (lambda: la.vecdot(np.ones(3), np.ones(4)), "has length 3"),
        (lambda: la.tensorinv(np.ones((4, 2, 3))), "same number of elements"),
        (lambda: la.tensorsolve(np.ones((2, 3, 5)), np.ones((2, 3))), "has 6 elements"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


# ---- pinv and lstsq details -------------------------------------------------------------------


def test_pinv_cutoff_is_positional_rcond_and_per_matrix():
    a = RNG.normal(size=(2, 3, 5)).astype(np.float32)
    np.testing.assert_allclose(la.pinv(a, 0.3), np.linalg.pinv(a, 0.3), rtol=1e-4, atol=1e-5)
    cut = np.array([0.1, 0.9])
    np.testing.assert_allclose(
        la.pinv(a, rcond=cut), np.linalg.pinv(a, rcond=cut), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        la.pinv(a, rtol=cut), np.linalg.pinv(a, rtol=cut), rtol=1e-4, atol=1e-5
    )


def test_pinv_hermitian_matches_numpy_on_symmetric_input():
    s = RNG.normal(size=(4, 4)).astype(np.float32)
    s = s + s.T
    np.testing.assert_allclose(
        la.pinv(s, hermitian=True), np.linalg.pinv(s, hermitian=True), rtol=1e-4, atol=1e-4
    )


def test_lstsq_returns_numpys_four_results():
    a = RNG.normal(size=(6, 3)).astype(np.float32)
    b = RNG.normal(size=(6, 2)).astype(np.float32)
    for aa, bb in [
        (a, b),
        (a, b[:, 0]),
        (a[:3].T.copy(), b[:3]),
        (np.ones((5, 3), np.float32), b[:5]),
    ]:
        got, ref = la.lstsq(aa, bb), np.linalg.lstsq(aa, bb)
        assert len(got) == 4
        for k, (g, r) in enumerate(zip(got, ref, strict=True)):
            assert np.shape(g) == np.shape(r), (k, np.shape(g), np.shape(r))
            np.testing.assert_allclose(np.asarray(g), r, rtol=1e-4, atol=1e-5)
