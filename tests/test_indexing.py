"""fnn.numpy indexing: numpy's indexing rules in corner cases (None mixed with index
arrays, scalar booleans), take/take_along_axis/nonzero, and indexing under vmap, jit and
grad (gather and scatter are batchable and differentiable)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


A = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

# Each of these used to raise NotImplementedError (None with index arrays) or to be read
# as the integer 1 (a scalar True).
_NEW_AXIS_INDICES = [
    (None, np.array([0, 2])),
    (np.array([0, 2]), None, slice(None)),
    (Ellipsis, None, np.array([1, 0])),
    (None, np.array([0, 1]), None, 1),
    (1, None, np.array([0, 3])),
    (np.array([0, 2]), None, np.array([1, 1])),  # None separates the arrays: axes go first
    True,
    False,
    np.array(True),
    (np.array([0, 1]), True),
    (True, None, 0),
    (slice(None), False),
]


@pytest.mark.parametrize("idx", _NEW_AXIS_INDICES, ids=repr)
def test_new_axes_with_advanced_indices_against_numpy(idx):
    x = fnp.asarray(A)
    got = x[idx]
    assert got.shape == A[idx].shape
    np.testing.assert_array_equal(_np(got), A[idx])
    np.testing.assert_array_equal(_np(fnn.jit(lambda x: x[idx])(x)), A[idx])


@pytest.mark.parametrize("idx", _NEW_AXIS_INDICES, ids=repr)
def test_new_axes_in_updates_against_numpy(idx):
    x = fnp.asarray(A)
    expected = A.copy()
    expected[idx] = -1.0
    np.testing.assert_array_equal(_np(x.at[idx].set(-1.0)), expected)
    expected = A.copy()
    np.add.at(expected, idx, 2.0)
    np.testing.assert_array_equal(_np(x.at[idx].add(2.0)), expected)


def test_fnn_scalar_boolean_index():
    x = fnp.asarray(A)
    assert x[fnp.asarray(True)].shape == (1, 3, 4, 5)
    assert x[fnp.asarray(False)].shape == (0, 3, 4, 5)


def test_traced_scalar_boolean_index_is_a_clear_error():
    with pytest.raises(TypeError, match="scalar boolean"):
        fnn.jit(lambda x, b: x[b])(fnp.ones(3), True)


def test_gradient_through_new_axis_index():
    g = fnn.grad(lambda x: fnp.sum(x[None, np.array([0, 2, 2]), None] * 2.0))(fnp.asarray(A))
    expected = np.zeros_like(A)
    expected[0], expected[2] = 2.0, 4.0
    np.testing.assert_array_equal(_np(g), expected)


# ----------------------------------------------------------------------------------------
# take, take_along_axis, nonzero


def test_take():
    x = fnp.asarray(A)
    np.testing.assert_array_equal(_np(fnp.take(x, np.array([7, 59]))), np.take(A, [7, 59]))
    for axis in (0, 1, -1):
        idx = np.array([[0, 2], [1, 1]])
        np.testing.assert_array_equal(_np(fnp.take(x, idx, axis=axis)), np.take(A, idx, axis=axis))
    np.testing.assert_array_equal(_np(x.take(np.array([1]), axis=-1)), np.take(A, [1], axis=-1))


def test_take_along_axis():
    idx = np.argsort(A * np.array([1, -1, 1, -1, 1]), axis=1)[:, :2]
    for axis in (1,):
        got = fnp.take_along_axis(fnp.asarray(A), idx, axis=axis)
        np.testing.assert_array_equal(_np(got), np.take_along_axis(A, idx, axis=axis))
    idx0 = np.array([[[2]], [[0]], [[1]]]).reshape(1, 3, 1) % 3
    got = fnp.take_along_axis(fnp.asarray(A[:, :3, :1]), idx0, axis=0)
    np.testing.assert_array_equal(_np(got), np.take_along_axis(A[:, :3, :1], idx0, axis=0))


def test_take_along_axis_gradient_accumulates():
    x = fnp.ones((2, 3))
    g = fnn.grad(lambda a: fnp.sum(fnp.take_along_axis(a, np.array([[1, 1], [0, 2]]), axis=1)))(x)
    np.testing.assert_array_equal(_np(g), [[0.0, 2.0, 0.0], [1.0, 0.0, 1.0]])


def test_nonzero_argwhere_flatnonzero():
    a = np.array([[0, 3, 0], [4, 0, 5]])
    for got, exp in zip(fnp.nonzero(fnp.asarray(a)), np.nonzero(a), strict=True):
        np.testing.assert_array_equal(_np(got), exp)
        assert got.dtype == np.int32
    np.testing.assert_array_equal(_np(fnp.argwhere(fnp.asarray(a))), np.argwhere(a))
    np.testing.assert_array_equal(_np(fnp.flatnonzero(fnp.asarray(a))), np.flatnonzero(a))
    (padded,) = fnp.nonzero(fnp.asarray([0, 3, 0, 4]), size=3, fill_value=-1)
    np.testing.assert_array_equal(_np(padded), [1, 3, -1])
    (cut,) = fnp.nonzero(fnp.asarray([1, 1, 1]), size=2)
    np.testing.assert_array_equal(_np(cut), [0, 1])


def test_nonzero_under_jit_is_a_clear_error():
    with pytest.raises(TypeError, match=r"nonzero.*shape \(3,\).*where"):
        fnn.jit(lambda x: fnp.nonzero(x)[0])(fnp.ones(3))


# ----------------------------------------------------------------------------------------
# Traced and batched indices


def test_traced_index_arrays_under_jit():
    x = fnp.asarray(A)
    f = fnn.jit(lambda x, i, j: x[i, :, j])
    i, j = fnp.asarray([2, 0]), fnp.asarray([-1, 1])
    np.testing.assert_array_equal(_np(f(x, i, j)), A[[2, 0], :, [-1, 1]])
    g = fnn.jit(lambda x, i, v: x.at[i].add(v))
    np.testing.assert_array_equal(
        _np(g(fnp.zeros(4), fnp.asarray([1, 1, 3]), 1.0)), [0.0, 2.0, 0.0, 1.0]
    )


def test_traced_integer_scalar_index_under_jit():
    x = fnp.arange(5.0)
    f = fnn.jit(lambda x, i: x[i] * 2.0)
    assert float(f(x, fnp.asarray(3))) == 6.0
    assert float(f(x, fnp.asarray(-1))) == 8.0
    assert f.trace_count == 1


def test_batched_array_and_batched_indices():
    xs = fnp.asarray(np.arange(12.0).reshape(3, 4))
    idx = fnp.asarray([[0, 3], [1, 1], [2, 0]])
    got = fnn.vmap(lambda r, i: r[i])(xs, idx)
    np.testing.assert_array_equal(_np(got), np.take_along_axis(_np(xs), _np(idx), axis=1))
    got = fnn.vmap(lambda i: xs[i])(fnp.asarray([2, 0]))  # only the index is batched
    np.testing.assert_array_equal(_np(got), _np(xs)[[2, 0]])
    got = fnn.vmap(lambda r: r[np.array([3, 0])])(xs)  # only the array is batched
    np.testing.assert_array_equal(_np(got), _np(xs)[:, [3, 0]])
    got = fnn.vmap(lambda r: r[None, 1:3])(xs)
    np.testing.assert_array_equal(_np(got), _np(xs)[:, None, 1:3])


def test_batched_scatter():
    zs = fnp.zeros((2, 3))
    got = fnn.vmap(lambda z, i: z.at[i].add(1.0))(zs, fnp.asarray([2, 0]))
    np.testing.assert_array_equal(_np(got), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    got = fnn.vmap(lambda z, v: z.at[np.array([0, 0])].add(v))(zs, fnp.asarray([1.0, 2.0]))
    np.testing.assert_array_equal(_np(got), [[2.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    got = fnn.vmap(lambda v: fnp.zeros(3).at[1].set(v))(fnp.asarray([5.0, 6.0]))
    np.testing.assert_array_equal(_np(got), [[0.0, 5.0, 0.0], [0.0, 6.0, 0.0]])


def test_embedding_lookup_gradient():
    # the gradient of an embedding lookup scatters rows back, summing repeated tokens
    table = fnp.asarray(np.arange(8.0).reshape(4, 2))
    tokens = np.array([1, 3, 1])
    g = fnn.grad(lambda t: fnp.sum(t[tokens] * fnp.asarray([[1.0, 2.0]])))(table)
    np.testing.assert_array_equal(_np(g), [[0, 0], [2, 4], [0, 0], [1, 2]])
    per_ex = fnn.vmap(fnn.grad(lambda t, i: fnp.sum(t[i])), in_axes=(None, 0))(
        table, fnp.asarray(tokens)
    )
    assert per_ex.shape == (3, 4, 2)
    np.testing.assert_array_equal(_np(per_ex).sum(0), [[0, 0], [2, 2], [0, 0], [1, 1]])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_mixed_indices_against_numpy(data):
    shape = (3, 4, 5)
    idx = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "array", "none_then_slice", "full"]))
        if kind == "int":
            idx.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = data.draw(st.one_of(st.none(), st.integers(-n, n)))
            step = data.draw(st.sampled_from([None, 1, 2, -1, -2]))
            idx.append(slice(start, None, step))
        elif kind == "array":
            k = data.draw(st.integers(1, 3))
            idx.append(
                np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)))
            )
        elif kind == "none_then_slice":
            idx += [None, slice(None)]
        else:
            idx.append(slice(None))
    arrays = [i for i in idx if isinstance(i, np.ndarray)]
    if len({a.shape for a in arrays}) > 1:
        return  # numpy would refuse to broadcast them too
    idx = tuple(idx)
    x = fnp.asarray(A)
    expected = A[idx]
    np.testing.assert_array_equal(_np(x[idx]), expected)
    # the gradient of a gather counts how often each element was read
    g = fnn.grad(lambda x: fnp.sum(x[idx]))(x)
    counts = np.zeros_like(A)
    np.add.at(counts, idx, 1.0)
    np.testing.assert_array_equal(_np(g), counts)
