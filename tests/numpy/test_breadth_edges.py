"""What the harness rows of tests/numpy/cases_breadth.py do not reach: clear errors for
bad input, dtypes, the partition property against numpy.partition, index tricks
(r_, c_, mgrid, ogrid, ix_), and the functions whose output shape depends on values."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError


def _same(out, expected, dtype=None):
    assert isinstance(out, fnn.Array), type(out)
    expected = np.asarray(expected)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    if dtype is not None:
        assert out.dtype == np.dtype(dtype), (out.dtype, dtype)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6, atol=1e-6)


# ---- errors name what was expected and what was given ---------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fnp.append(fnp.ones((2, 3)), fnp.ones((2, 2)), axis=0), "concatenate"),
        (lambda: fnp.rollaxis(fnp.ones((2, 3)), 0, 3), "start must satisfy -2 <= start <= 2"),
        (lambda: fnp.rollaxis(fnp.ones((2, 3)), 2), "axis 2 is out of bounds"),
        (lambda: fnp.rot90(fnp.ones((2, 3)), axes=(0, 0)), "axes must differ"),
        (lambda: fnp.rot90(fnp.ones((2, 3)), axes=(0, 1, 2)), "exactly 2 axes"),
        (lambda: fnp.rot90(fnp.ones(3)), "rank 2 or more"),
        (lambda: fnp.vsplit(fnp.ones(3), 3), "2 or more dimensions"),
        (lambda: fnp.dsplit(fnp.ones((2, 3)), 3), "3 or more dimensions"),
        (lambda: fnp.hsplit(fnp.ones(()), 1), "1 or more dimensions"),
        (lambda: fnp.hsplit(fnp.ones((2, 3)), 2), "equal division"),
        (lambda: fnp.diff(fnp.ones(())), "at least one axis"),
        (lambda: fnp.diff(fnp.ones(3), n=-1), "non-negative integer"),
        (lambda: fnp.diff(fnp.ones((2, 3)), prepend=fnp.ones((3, 1))), "prepend of shape"),
        (lambda: fnp.gradient(fnp.ones(2), edge_order=2), "at least 3"),
        (lambda: fnp.gradient(fnp.ones(3), edge_order=3), "edge_order must be 1 or 2"),
        (lambda: fnp.gradient(fnp.ones((3, 3)), 1.0, 2.0, 3.0), "one spacing per axis"),
        (lambda: fnp.gradient(fnp.ones(3), fnp.ones(4)), "1-D of length 3"),
        (lambda: fnp.gradient(fnp.ones(3), axis=1), "out of bounds"),
        (lambda: fnp.trapezoid(fnp.ones(3), fnp.ones(4)), "does not match axis"),
        (lambda: fnp.cross(fnp.ones(4), fnp.ones(3)), "length 2 or 3, got 4"),
        (lambda: fnp.cross(fnp.ones(3), fnp.ones(())), "at least one axis"),
        (lambda: fnp.cross(fnp.ones((2, 3)), fnp.ones((4, 3))), "do not broadcast"),
        (lambda: fnp.cross(fnp.ones(3), fnp.ones(3), axisa=1), "axisa=1 is out of bounds"),
        (lambda: fnp.select([fnp.ones(2) > 0], [1, 2]), "1 conditions but 2 choices"),
        (lambda: fnp.select([], []), "at least one condition"),
        (lambda: fnp.select([fnp.ones(2)], [fnp.ones(2)]), "must be a boolean array"),
        (lambda: fnp.partition(fnp.ones(3), 3), "kth=3 is out of bounds"),
        (lambda: fnp.argpartition(fnp.ones((2, 3)), -4), "kth=-4 is out of bounds"),
        (lambda: fnp.partition(fnp.ones(3), 1.5), "kth must be an integer"),
        (lambda: fnp.choose(fnp.array([0, 2]), [fnp.ones(2), fnp.zeros(2)]), r"in \[0, 2\)"),
        (lambda: fnp.choose(fnp.array([0.5]), [fnp.ones(1)]), "must hold integers"),
        (lambda: fnp.piecewise(fnp.ones(3), [fnp.ones(3) > 0], [1, 2, 3]), "give 1 or 2"),
        (lambda: fnp.compress([True, True, True], fnp.ones(2)), "past the end"),
        (lambda: fnp.extract(fnp.ones(3) > 0, fnp.ones(4)), "3 elements but arr has 4"),
        (lambda: fnp.r_[1:3, "0"], "must be the first entry"),
        (lambda: fnp.r_["x", 1:3], "unknown special directive"),
        (lambda: fnp.ix_(fnp.ones((2, 2))), "must be 1-D"),
        (lambda: fnp.mgrid[0:3, 2], "expected slices"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(FnnTypeError, match=match):
        call()


def test_memory_orders_are_refused_as_in_jax():
    with pytest.raises(NotImplementedError, match="ravel: order must be 'C'.*got 'K'"):
        fnp.ravel(fnp.ones(3), order="K")
    with pytest.raises(NotImplementedError, match="reshape: order must be 'C'.*got 'A'"):
        fnp.reshape(fnp.ones(4), (2, 2), order="A")


def test_matrix_directives_are_refused():
    with pytest.raises(NotImplementedError, match="numpy.matrix"):
        fnp.r_["r", [1, 2]]


# ---- values and dtypes that the tables do not draw -----------------------------------------


def test_kron_of_1d_inputs_was_an_index_error():
    a, b = np.array([1.0, 10.0], np.float32), np.array([1.0, 2.0, 3.0], np.float32)
    _same(fnp.kron(a, b), np.kron(a, b), np.float32)
    _same(fnp.kron(np.arange(3), np.eye(2, dtype=np.int32)), np.kron(np.arange(3), np.eye(2)))
    assert fnp.kron(np.arange(3), np.arange(2)).dtype == np.int32
    _same(fnp.kron(2.0, np.arange(3.0)), np.kron(2.0, np.arange(3.0)))


def test_cross_of_two_2_vectors_is_the_z_component():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 7.0])
    _same(fnp.cross(a, b), a[:, 0] * b[1] - a[:, 1] * b[0])


def test_cross_2_vector_with_infinite_partner_has_no_nan():
    # The missing z component is left out, not multiplied as 0 (0 * inf would be NaN).
    a, b = np.array([1.0, 2.0], np.float32), np.array([0.0, np.inf, 1.0], np.float32)
    out = np.asarray(fnp.cross(a, b))
    np.testing.assert_array_equal(out, [2.0, -1.0, np.inf])
    np.testing.assert_array_equal(np.asarray(fnp.cross(b, a)), [-2.0, 1.0, -np.inf])


def test_diff_keeps_integer_and_bool_dtypes():
    assert fnp.diff(np.arange(5, dtype=np.int32)).dtype == np.int32
    out = fnp.diff(np.array([True, False, False, True]))
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out, [True, False, True])
    _same(fnp.diff(np.arange(4.0), n=5), np.zeros(0))  # more steps than samples: empty


def test_gradient_dtypes_and_tuple_of_axes():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4) ** 2
    got = fnp.gradient(x)
    assert isinstance(got, tuple) and len(got) == 2
    for g, r in zip(got, np.gradient(x), strict=True):
        _same(g, r, np.float32)
    g = fnp.gradient(x, axis=(1,))
    _same(g, np.gradient(x, axis=1), np.float32)
    assert fnp.gradient(np.arange(4)).dtype == np.float32  # ints give the default float


def test_trapezoid_of_ints_is_a_float():
    _same(fnp.trapezoid(np.arange(4)), np.trapezoid(np.arange(4)), np.float32)


@pytest.mark.parametrize("kth", [0, 2, -1, [1, 3]])
@pytest.mark.parametrize("axis", [0, -1, None])
def test_partition_has_the_partition_property(kth, axis):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (5, 6)).astype(np.float32)
    out = np.asarray(fnp.partition(x, kth, axis=axis))
    ref = np.partition(x, kth, axis=axis)
    idx = np.asarray(fnp.argpartition(x, kth, axis=axis))
    flat_x = x.reshape(-1) if axis is None else x
    ax = 0 if axis is None else axis
    np.testing.assert_array_equal(np.take_along_axis(flat_x, idx, ax), out)
    for k in np.atleast_1d(kth):
        pivot = np.take(out, [k], axis=ax)
        np.testing.assert_array_equal(pivot, np.take(ref, [k], axis=ax))
        n = out.shape[ax]
        k = k % n
        assert np.all(np.take(out, np.arange(k), axis=ax) <= pivot)
        assert np.all(np.take(out, np.arange(k + 1, n), axis=ax) >= pivot)
    np.testing.assert_array_equal(np.sort(out, axis=ax), np.sort(ref, axis=ax))


def test_select_dtype_and_default_array():
    x = np.arange(4, dtype=np.float32)
    _same(fnp.select([x > 1], [x]), np.select([x > 1], [x]), np.float32)
    got = fnp.select([x > 1, x > 0], [x, -x], default=np.array([9.0, 8, 7, 6], np.float32))
    _same(got, [9.0, -1.0, 2.0, 3.0])
    assert fnp.select([x > 1], [np.arange(4)], default=-1).dtype == np.int32


def test_select_broadcasts_conditions_choices_and_default():
    x = np.arange(4, dtype=np.float32)
    conds = [x[:, None] > 1, np.array([True, False, True])]
    choices = [np.float32(5.0), x[:, None] * np.ones(3, np.float32)]
    default = np.array([-1.0, -2.0, -3.0], np.float32)
    _same(fnp.select(conds, choices, default), np.select(conds, choices, default))
    assert fnp.select(conds, choices, default).shape == (4, 3)


def test_select_and_piecewise_under_jit_and_grad():
    f = fnn.jit(lambda x: fnp.sum(fnp.select([x < 0, x < 2], [x**2, 3 * x], x)))
    x = np.array([-1.0, 1.0, 3.0], np.float32)
    assert float(f(x)) == pytest.approx(1 + 3 + 3)
    g = fnn.grad(lambda x: fnp.sum(fnp.piecewise(x, [x < 0], [lambda v: v**2, lambda v: 3 * v])))
    _same(g(x), [-2.0, 3.0, 3.0])


def test_piecewise_with_a_flat_list_of_booleans():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    _same(fnp.piecewise(x, [True, False, True], [7.0]), np.piecewise(x, [True, False, True], [7.0]))


def test_choose_modes():
    choices = [np.array([1, 2]), np.array([3, 4])]
    idx = np.array([3, -1])
    for mode in ("wrap", "clip"):
        _same(fnp.choose(idx, choices, mode=mode), np.choose(idx, choices, mode=mode), np.int32)
    with pytest.raises(FnnTypeError, match="needs concrete values"):
        fnn.jit(lambda i: fnp.choose(i, choices))(np.array([0, 1]))
    out = fnn.jit(lambda i: fnp.choose(i, choices, mode="clip"))(np.array([0, 1]))
    _same(out, [1, 4])


def test_compress_and_extract():
    a = np.arange(12).reshape(3, 4)
    for axis in (None, 0, 1, -1):
        cond = [True, False, True]
        _same(fnp.compress(cond, a, axis=axis), np.compress(cond, a, axis=axis))
    _same(fnp.extract(a % 3 == 0, a), np.extract(a % 3 == 0, a))
    _same(fnp.extract(a % 3 == 0, a, size=6, fill_value=-1), [0, 3, 6, 9, -1, -1])
    _same(fnp.extract(a % 3 == 0, a, size=2), [0, 3])
    with pytest.raises(FnnTypeError, match="condition must be concrete"):
        fnn.jit(lambda c: fnp.extract(c, a))(a > 2)


def test_append_promotes_and_flattens():
    out = fnp.append(np.ones((2, 2), np.int32), [1.5, 2.5])
    _same(out, np.append(np.ones((2, 2)), [1.5, 2.5]), np.float32)


def test_split_family_returns_lists_like_numpy():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    for f, g, arg in [
        (fnp.vsplit, np.vsplit, 2),
        (fnp.hsplit, np.hsplit, [1, 2]),
        (fnp.dsplit, np.dsplit, 2),
    ]:
        got, ref = f(x, arg), g(x, arg)
        assert isinstance(got, list) and len(got) == len(ref)
        for a, b in zip(got, ref, strict=True):
            _same(a, b, np.float32)
    _same(fnp.hsplit(np.arange(4.0), 2)[1], [2.0, 3.0])


# ---- index tricks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        (slice(1, 4), 0, np.array([7, 8])),
        (slice(-1, 1, 5j),),
        (0.5, slice(1, 3)),
        ("0,2,1", [1, 2], [3, 4]),
        ("1,2,0", [1, 2, 3], [4, 5, 6]),
        ("0,3,0", [[1, 2]]),
        ("0,3,-2", [1, 2]),
        ("-1", np.ones((2, 2)), np.zeros((2, 1))),
        (3,),
    ],
)
def test_r_matches_numpy(key):
    expected = np.r_[key]
    got = fnp.r_[key]
    _same(got, expected, fnn.config.canonicalize_dtype(expected.dtype))


@pytest.mark.parametrize(
    "key",
    [
        (np.array([1, 2, 3]), np.array([4, 5, 6])),
        (np.array([[1, 2, 3]]), 0, 0, np.array([[4, 5, 6]])),
        (np.ones((2, 2)), np.arange(2)),
        (slice(0, 3), np.arange(3.0)),
    ],
)
def test_c_matches_numpy(key):
    expected = np.c_[key]
    _same(fnp.c_[key], expected, fnn.config.canonicalize_dtype(expected.dtype))


def test_r_and_c_are_differentiable_and_jittable():
    g = fnn.grad(lambda a: fnp.sum(fnp.r_[a, 2.0 * a, 0:2] ** 2))(fnp.arange(2.0))
    _same(g, [0.0, 10.0])
    _same(fnn.jit(lambda a: fnp.c_[a, -a])(np.arange(2.0)), [[0.0, -0.0], [1.0, -1.0]])


@pytest.mark.parametrize(
    "key",
    [
        (slice(0, 3), slice(0, 2)),
        (slice(0, 1, 3j), slice(1, 2, 0.5)),
        (slice(1, 7, 2),),
        slice(0, 4),
        slice(-1, 1, 4j),
    ],
)
def test_mgrid_and_ogrid_match_numpy(key):
    dense, expected = fnp.mgrid[key], np.mgrid[key]
    _same(dense, expected, fnn.config.canonicalize_dtype(expected.dtype))
    open_, expected = fnp.ogrid[key], np.ogrid[key]
    if isinstance(expected, np.ndarray):
        _same(open_, expected)
    else:
        assert len(open_) == len(expected)
        for a, b in zip(open_, expected, strict=True):
            _same(a, b, fnn.config.canonicalize_dtype(b.dtype))


def test_ix_picks_the_cross_product():
    x = np.arange(12).reshape(3, 4)
    rows, cols = np.array([0, 2]), np.array([True, False, True, True])
    _same(fnp.asarray(x)[fnp.ix_(rows, cols)], x[np.ix_(rows, cols)])
    for a, b in zip(fnp.ix_(rows, cols, [1]), np.ix_(rows, cols, [1]), strict=True):
        _same(a, b)


# ---- ndarray methods and exactness ----------------------------------------------------------


def test_array_methods_numpy_has():
    x = fnp.arange(6).reshape(2, 3)
    ref = np.arange(6).reshape(2, 3)
    for order in ("C", "F"):
        _same(x.flatten(order), ref.flatten(order))
    _same(x.flatten(), ref.flatten())
    assert x.itemsize == 4
    assert x.copy() is x  # immutable: a copy cannot be told apart
    _same(x.ptp(axis=0), np.ptp(ref, axis=0))
    _same(x.compress([False, True], axis=0), ref.compress([False, True], axis=0))
    _same(fnp.arange(5).searchsorted(2.5), np.arange(5).searchsorted(2.5))
    _same(fnp.array([0, 1, 0]).choose([np.arange(3), -np.arange(3)]), [0, -1, 2])
    idx = x.argpartition(1, axis=1)
    assert np.all(np.take_along_axis(ref, np.asarray(idx), 1)[:, 1] == [1, 4])
    with pytest.raises(NotImplementedError, match="got 'K'"):
        x.flatten("K")


def test_exp2_is_exact_at_integers():
    x = np.arange(-149, 127, dtype=np.float32)
    np.testing.assert_array_equal(fnp.exp2(x), np.exp2(x))
    assert float(fnn.grad(fnp.exp2)(3.0)) == pytest.approx(8 * np.log(2.0))


def test_real_and_imag_of_real_input():
    x = np.array([[1.5, -2.0]], np.float32)
    _same(fnp.real(x), x, np.float32)
    _same(fnp.imag(x), np.zeros_like(x), np.float32)
    _same(fnp.asarray(x).imag, np.zeros_like(x), np.float32)
    assert fnp.imag(np.arange(3)).dtype == np.int32
