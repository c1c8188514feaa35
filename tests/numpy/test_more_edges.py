"""What the harness rows of tests/numpy/cases_more.py do not reach: the functions whose
output shape depends on values (unique_*, sets, trim_zeros, roots' zero stripping),
complex results, in-place refusals, files and printing, dtype questions, and clear
errors for bad input."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import scipy.special

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from tests.lax.harness import x64


def _same(out, expected, dtype=None, rtol=1e-6):
    assert isinstance(out, fnn.Array), type(out)
    expected = np.asarray(expected)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    if dtype is not None:
        assert out.dtype == np.dtype(dtype), (out.dtype, dtype)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=rtol, atol=rtol)


# ---- values that depend on the data -------------------------------------------------------------


def test_unique_family_matches_numpy():
    x = np.array([[3, 1], [3, 2]])
    for got, ref in zip(fnp.unique_all(x), np.unique_all(x), strict=True):
        _same(got, ref)
    for got, ref in zip(fnp.unique_inverse(x), np.unique_inverse(x), strict=True):
        _same(got, ref)
    for got, ref in zip(fnp.unique_counts(x), np.unique_counts(x), strict=True):
        _same(got, ref)
    # numpy 2.3+ may return unique_values unsorted (the array API leaves the order open).
    _same(fnp.unique_values(x), np.sort(np.unique_values(x)))
    # The array API keeps every NaN apart.
    nans = np.array([1.0, np.nan, np.nan])
    _same(fnp.unique_counts(nans).counts, [1, 1, 1])
    _same(fnp.unique_values(np.array([3, 1, 3]), size=4, fill_value=-1), [1, 3, -1, -1])


@pytest.mark.parametrize("name", ["intersect1d", "union1d", "setdiff1d", "setxor1d"])
def test_set_operations_match_numpy(name):
    a, b = np.array([1, 3, 4, 3, 7]), np.array([3, 1, 2, 1, 9])
    _same(getattr(fnp, name)(a, b), getattr(np, name)(a, b))
    got = getattr(fnp, name)(a, b, size=6, fill_value=-1)
    ref = getattr(np, name)(a, b)
    _same(got, np.concatenate([ref, -np.ones(6 - ref.size)])[:6])
    with pytest.raises(FnnTypeError, match="must be concrete"):
        fnn.jit(lambda a, b: getattr(fnp, name)(a, b))(a, b)


def test_intersect1d_indices_and_setdiff1d_order():
    a, b = np.array([1, 3, 4, 3]), np.array([3, 1, 2, 1])
    for got, ref in zip(
        fnp.intersect1d(a, b, return_indices=True),
        np.intersect1d(a, b, return_indices=True),
        strict=True,
    ):
        _same(got, ref)
    _same(
        fnp.setdiff1d(np.array([5, 1, 3]), [1], assume_unique=True),
        np.setdiff1d(np.array([5, 1, 3]), [1], assume_unique=True),
    )


def test_isin_is_traceable():
    e, t = np.arange(6).reshape(2, 3), np.array([1, 4, 8])
    _same(fnn.jit(fnp.isin)(e, t), np.isin(e, t))
    _same(fnp.isin(e, t, invert=True), np.isin(e, t, invert=True))


@pytest.mark.parametrize("trim", ["f", "b", "fb", "BF"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
def test_trim_zeros_matches_numpy(trim, axis):
    z = np.array([[0, 0, 0, 0], [0, 1, 0, 2], [0, 0, 3, 0], [0, 0, 0, 0]])
    _same(fnp.trim_zeros(z, trim, axis), np.trim_zeros(z, trim, axis))
    _same(fnp.trim_zeros(np.zeros((2, 3)), trim, axis), np.trim_zeros(np.zeros((2, 3)), trim, axis))


def test_roots_are_complex_and_strip_zeros():
    out = fnp.roots(np.array([0.0, 1.0, -3.0, 2.0, 0.0]))
    assert out.dtype == np.complex64
    np.testing.assert_allclose(np.sort_complex(np.asarray(out)), [0, 1, 2], atol=1e-5)
    np.testing.assert_allclose(
        np.sort_complex(np.asarray(fnp.roots(np.array([1.0, 0.0, 1.0])))), [-1j, 1j], atol=1e-6
    )
    assert fnp.roots(np.array([2.0])).shape == (0,)
    assert fnp.roots(np.zeros(3)).shape == (0,)
    out = fnn.jit(lambda p: fnp.roots(p, strip_zeros=False))(np.array([1.0, -3.0, 2.0], np.float32))
    np.testing.assert_allclose(np.sort_complex(np.asarray(out)), [1, 2], atol=1e-5)
    with pytest.raises(FnnTypeError, match="strip_zeros needs concrete"):
        fnn.jit(fnp.roots)(np.array([1.0, -3.0, 2.0]))


def test_roots_gradient_of_a_real_root():
    # p = x^2 - s x + 2: roots are the zeros; d(root)/ds by implicit differentiation.
    def larger_root(s):
        r = fnp.roots(fnp.stack([fnp.ones(()), -s, fnp.asarray(2.0)]), strip_zeros=False)
        return fnp.max(fnp.real(r))

    s = 3.0
    root = 2.0
    assert float(fnn.grad(larger_root)(s)) == pytest.approx(root / (2 * root - s), rel=1e-4)


def test_polydiv_remainder_keeps_the_length_unless_trimmed():
    q, r = fnp.polydiv(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0]))
    rq, rr = np.polydiv([1.0, 2.0, 3.0, 4.0], [1.0, 1.0])
    _same(q, rq)
    _same(r, [0.0, 0.0, 0.0, 2.0])
    _same(
        fnp.polydiv(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0]), trim_leading_zeros=True)[
            1
        ],
        rr,
    )


def test_sort_complex_and_lexsort():
    z = np.array([1 + 2j, 1 - 1j, 5j, -1 + 0j], np.complex64)
    _same(fnp.sort_complex(z), np.sort_complex(z), np.complex64)
    _same(fnp.sort_complex(np.array([3.0, 1.0], np.float32)), [1.0, 3.0], np.complex64)
    keys = np.random.default_rng(0).integers(0, 3, (3, 4, 5))
    for axis in (0, 1, -1):
        _same(fnp.lexsort(keys, axis=axis), np.lexsort(keys, axis=axis))


# ---- the in-place writes need inplace=False -----------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: fnp.fill_diagonal(fnp.zeros((2, 2)), 1.0),
        lambda: fnp.put(fnp.zeros(3), [0], 1.0),
        lambda: fnp.put_along_axis(fnp.zeros((2, 2)), np.zeros((2, 1), int), 1.0, 1),
        lambda: fnp.place(fnp.zeros(3), np.array([True, False, True]), 1.0),
    ],
)
def test_in_place_writes_say_to_pass_inplace_false(call):
    with pytest.raises(FnnTypeError, match="immutable.*inplace=False"):
        call()


def test_put_modes_and_values_cycle():
    out = fnp.put(fnp.zeros(5), np.array([0, 7, -9]), [1.0, 2.0], mode="wrap", inplace=False)
    ref = np.zeros(5)
    np.put(ref, [0, 7, -9], [1.0, 2.0], mode="wrap")
    _same(out, ref)
    grad = fnn.grad(lambda v: fnp.sum(fnp.put(fnp.zeros(4), [1, 2], v, inplace=False) ** 2))
    _same(grad(np.array([3.0], np.float32)), [12.0])  # one value written twice


# ---- index arrays -----------------------------------------------------------------------------


def test_index_arrays_match_numpy():
    for got, ref in zip(fnp.diag_indices(3, 3), np.diag_indices(3, 3), strict=True):
        _same(got, ref)
    for name in ("tril_indices", "triu_indices"):
        for k in (-1, 0, 2):
            for m in (None, 5):
                for got, ref in zip(
                    getattr(fnp, name)(4, k, m), getattr(np, name)(4, k, m), strict=True
                ):
                    _same(got, ref)
    a = np.ones((3, 5))
    for got, ref in zip(fnp.triu_indices_from(a, 1), np.triu_indices_from(a, 1), strict=True):
        _same(got, ref)
    for got, ref in zip(
        fnp.mask_indices(3, fnp.triu, 1), np.mask_indices(3, np.triu, 1), strict=True
    ):
        _same(got, ref)


def test_unravel_index_checks_concrete_and_clips_traced():
    with pytest.raises(FnnTypeError, match=r"must lie in \[0, 12\)"):
        fnp.unravel_index(np.array([12]), (3, 4))
    got = fnn.jit(lambda i: fnp.unravel_index(i, (3, 4)))(np.array([5, 11, 20]))
    _same(got[0], [1, 2, 2])  # 20 is clipped to 11, as JAX does
    _same(got[1], [1, 3, 3])
    with pytest.raises(FnnTypeError, match="mode='wrap' or mode='clip'"):
        fnn.jit(lambda i: fnp.ravel_multi_index((i, i), (3, 4)))(np.array([1]))
    with pytest.raises(FnnTypeError, match="out of bounds"):
        fnp.ravel_multi_index((np.array([3]), np.array([0])), (3, 4))


# ---- vectorize and friends ------------------------------------------------------------------


def test_vectorize_options():
    calls = fnp.vectorize(lambda a, p: a**p, excluded={1})
    _same(calls(np.arange(3.0), 2), [0.0, 1.0, 4.0])
    kw = fnp.vectorize(lambda a, *, b: a + b)
    _same(kw(np.arange(3.0), b=np.array([[10.0], [20.0]])), np.arange(3.0) + [[10.0], [20.0]])

    @fnp.vectorize(signature="(n)->()")
    def norm(v):
        return fnp.sqrt(fnp.sum(v * v))

    _same(norm(np.full((2, 4), 2.0)), [4.0, 4.0])
    two = fnp.vectorize(lambda a: (a, 2 * a), signature="()->(),()")
    first, second = two(np.arange(3.0))
    _same(second, [0.0, 2.0, 4.0])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fnp.vectorize(lambda a: a, signature="(n->()"), "not a valid gufunc signature"),
        (
            lambda: fnp.vectorize(lambda a, b: a, signature="(n),(n)->()")(np.ones(2)),
            "names 2 inputs",
        ),
        (
            lambda: fnp.vectorize(lambda a, b: fnp.sum(a), signature="(n),(n)->()")(
                np.ones(2), np.ones(3)
            ),
            "core dimension 'n' is 2",
        ),
        (lambda: fnp.vectorize(lambda a: a, signature="(n)->()")(np.ones(2)), "core shape"),
        (
            lambda: fnp.apply_over_axes(lambda a, ax: a[None, None], np.ones(2), [0]),
            "keep the rank",
        ),
    ],
)
def test_vectorize_errors(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


def test_apply_along_axis_with_extra_arguments_and_fromfunction():
    x = np.arange(12.0).reshape(3, 4)
    _same(fnp.apply_along_axis(lambda v, s: v * s, 1, x, 2.0), x * 2)
    _same(
        fnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int),
        np.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int),
        np.int32,
    )
    _same(fnp.fromfunction(lambda i, j: i * j, (2, 2)), [[0.0, 0.0], [0.0, 1.0]], np.float32)


# ---- i0 and windows ---------------------------------------------------------------------------


def test_i0_in_float64_and_its_derivative_i1():
    with x64():
        x = np.concatenate([np.linspace(-60, 60, 601), [0.0, 19.999, 20.0, 20.001]])
        np.testing.assert_allclose(fnp.i0(x), np.i0(x), rtol=1e-13)
        grad = fnn.vmap(fnn.grad(lambda t: fnp.i0(t)))(x)
        np.testing.assert_allclose(grad, scipy.special.i1(x), rtol=1e-12, atol=1e-300)
    x32 = np.linspace(-85, 85, 101, dtype=np.float32)
    np.testing.assert_allclose(fnp.i0(x32), np.i0(x32.astype(np.float64)), rtol=2e-6)


@pytest.mark.parametrize("M", [0, 1, 2, 5, 8])
def test_windows_match_numpy(M):
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        _same(getattr(fnp, name)(M), getattr(np, name)(M), np.float32)
    _same(fnp.kaiser(M, 3.0), np.kaiser(M, 3.0), np.float32)
    _same(fnn.jit(lambda b: fnp.kaiser(M, b))(np.float32(3.0)), np.kaiser(M, 3.0), rtol=1e-5)


def test_kaiser_is_differentiable_in_beta():
    g = float(fnn.grad(lambda b: fnp.sum(fnp.kaiser(5, b)))(2.0))
    fd = (np.kaiser(5, 2.0 + 1e-5).sum() - np.kaiser(5, 2.0 - 1e-5).sum()) / 2e-5
    assert g == pytest.approx(fd, rel=1e-3)


# ---- conversion, files, printing, dtypes -----------------------------------------------------


def test_making_arrays_from_buffers_iterators_strings_files(tmp_path):
    raw = np.arange(3, dtype=np.int32).tobytes()
    _same(fnp.frombuffer(raw, dtype=np.int32), [0, 1, 2], np.int32)
    _same(fnp.fromiter(range(4), float), [0.0, 1.0, 2.0, 3.0], np.float32)
    _same(fnp.fromstring("1 2 3", dtype=int, sep=" "), [1, 2, 3], np.int32)
    path = tmp_path / "data.bin"
    np.arange(4.0).tofile(path)
    _same(fnp.fromfile(path, dtype=np.float64), np.arange(4.0), np.float32)
    _same(fnp.from_dlpack(np.arange(3.0)), [0.0, 1.0, 2.0])
    _same(fnp.copy([1, 2]), [1, 2], np.int32)
    _same(fnp.asanyarray([1.0], dtype=np.float64), [1.0], np.float32)
    _same(fnp.ascontiguousarray(np.ones((2, 2)).T), np.ones((2, 2)))
    with pytest.raises(FnnTypeError, match="must not contain infs or NaNs"):
        fnp.asarray_chkfinite([1.0, np.inf])


def test_a_mutable_buffer_is_copied():
    buf = bytearray(np.arange(3, dtype=np.int32).tobytes())
    x = fnp.frombuffer(buf, dtype=np.int32)
    buf[:4] = np.int32(99).tobytes()
    _same(x, [0, 1, 2])  # fnn arrays are immutable: later writes to the buffer do not show


def test_save_load_round_trips(tmp_path):
    path = tmp_path / "x.npy"
    fnp.save(path, fnp.arange(3.0))
    _same(fnp.load(path), [0.0, 1.0, 2.0], np.float32)
    path = tmp_path / "xs.npz"
    fnp.savez(path, fnp.ones(2), b=fnp.zeros(1))
    with fnp.load(path) as z:
        np.testing.assert_array_equal(z["arr_0"], [1.0, 1.0])
        np.testing.assert_array_equal(z["b"], [0.0])
    buf = io.BytesIO()
    fnp.savez_compressed(buf, a=fnp.arange(4))
    buf.seek(0)
    with np.load(buf) as z:
        np.testing.assert_array_equal(z["a"], np.arange(4))


def test_printing_follows_numpys_options():
    x = fnp.array([1.0, 2.0])
    assert fnp.array_repr(x) == np.array_repr(np.array([1.0, 2.0], np.float32))
    assert fnp.array_str(x) == "[1. 2.]"
    with fnp.printoptions(precision=2):
        assert fnp.array2string(fnp.array([1 / 3])) == "[0.33]"
        assert fnp.get_printoptions()["precision"] == 2
    assert fnp.get_printoptions()["precision"] == 8


def test_dtype_questions():
    assert fnp.promote_types(np.int64, np.float32) == np.float32  # JAX's lattice
    assert fnp.promote_types(np.int8, np.uint8) == np.int16
    assert fnp.can_cast(np.int32, np.float64) and not fnp.can_cast(np.float64, np.int32)
    assert fnp.can_cast(fnp.ones(2), np.float64)
    assert fnp.isscalar(1.0) and fnp.isscalar(fnp.array(1.0)) and not fnp.isscalar(fnp.ones(2))
    assert fnp.iterable([1]) and not fnp.iterable(1)
    assert fnp.isdtype(np.float32, "real floating") and not fnp.isdtype(np.int32, "bool")


def test_einsum_path_is_numpys():
    ops = (np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))
    got = fnp.einsum_path("ij,jk,kl->il", *[fnp.asarray(o) for o in ops])
    assert got[0] == np.einsum_path("ij,jk,kl->il", *ops)[0]


# ---- more errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fnp.cumulative_sum(np.ones((2, 2))), "give axis="),
        (lambda: fnp.unstack(np.ones(())), "at least one axis"),
        (lambda: fnp.matvec(np.ones(3), np.ones(3)), r"expected \(\.\.\., m, n\)"),
        (lambda: fnp.insert(np.ones(3), 5, 1.0), "out of bounds"),
        (lambda: fnp.insert(np.ones((2, 2)), 1, np.ones(3), axis=1), "do not fit"),
        (lambda: fnp.delete(np.ones(3), 3), "out of bounds"),
        (lambda: fnp.delete(np.ones(3), np.array([True, False])), "boolean obj must have shape"),
        (lambda: fnn.jit(lambda i: fnp.delete(np.ones(3), i))(np.array([1])), "must be concrete"),
        (lambda: fnp.block(([1], [2])), "tuple"),
        (lambda: fnp.block([]), "empty list"),
        (lambda: fnp.block([[1], 2]), "different depths"),
        (lambda: fnp.resize(np.ones(2), (-1,)), "non-negative"),
        (lambda: fnp.trim_zeros(np.ones(3), "x"), "made of 'f' and 'b'"),
        (lambda: fnp.fill_diagonal(np.ones((2, 3, 2)), 1.0, inplace=False), "one length"),
        (lambda: fnp.put(np.ones(3), [5], 1.0, inplace=False), "out of bounds"),
        (lambda: fnp.place(np.ones(3), np.ones(2) > 0, 1.0, inplace=False), "mask of size 2"),
        (lambda: fnp.polyval(np.ones((2, 2)), 1.0), "must be 1-D"),
        (lambda: fnp.convolve(np.ones(0), np.ones(2)), "must not be empty"),
        (lambda: fnp.convolve(np.ones(3), np.ones(2), mode="middle"), "mode must be"),
        (lambda: fnp.polyint(np.ones(3), 2, k=[1.0]), "2 integration constants"),
        (lambda: fnp.polyfit(np.ones(3), np.ones(4), 1), "y must be"),
        (lambda: fnp.poly(np.ones((2, 3))), "square matrix"),
        (lambda: fnp.interp(np.ones(2), np.ones(3), np.ones(2)), "one non-zero length"),
        (lambda: fnp.interp(np.ones(2), np.ones(2), np.ones(2), period=0), "non-zero"),
        (lambda: fnp.lexsort([np.ones(2), np.ones(3)]), "one shape"),
        (lambda: fnp.packbits(np.ones(3)), "integer or boolean"),
        (lambda: fnp.unpackbits(np.ones(3, np.int32)), "uint8"),
        (lambda: fnp.unpackbits(np.ones(1, np.uint8), count=-9), "drops more than the 8 bits"),
        (lambda: fnp.packbits(np.ones(3, bool), bitorder="middle"), "'big' or 'little'"),
        (lambda: fnp.i0(np.ones(2, np.complex64)), "real input"),
        (lambda: fnn.jit(lambda m: fnp.hanning(m))(3), "concrete integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


def test_interp_edge_values():
    xp, fp = np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 1.0, 5.0, 6.0])
    assert float(fnp.interp(1.0, xp, fp)) == np.interp(1.0, xp, fp)
    assert math.isnan(float(fnp.interp(np.nan, xp, fp)))
    got = fnp.interp(np.array([0.5, 1.5]), xp[[0, 1, 3]], (fp + 1j * fp)[[0, 1, 3]])
    _same(got, np.interp([0.5, 1.5], xp[[0, 1, 3]], (fp + 1j * fp)[[0, 1, 3]]))
