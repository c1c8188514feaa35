"""The branch-free select agrees with np.where bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fnn.lax._select_bits import fast_select_applies, select

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.int8, np.bool_]


@st.composite
def operands(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(st.sampled_from([(600,), (32, 20), (3, 10, 20)]))
    elements = (
        st.floats(allow_nan=True, allow_infinity=True, width=8 * dtype.itemsize)
        if dtype.kind == "f"
        else None
    )
    arr = hnp.arrays(dtype, shape, elements=elements)
    scalar = hnp.arrays(dtype, (), elements=elements)
    pred = draw(hnp.arrays(np.bool_, shape))
    on_true = draw(st.one_of(arr, scalar, st.just(np.zeros((), dtype))))
    on_false = draw(st.one_of(arr, scalar, st.just(np.zeros((), dtype))))
    return pred, on_true, on_false


@settings(max_examples=150, deadline=None)
@given(operands())
def test_matches_np_where_bit_for_bit(ops):
    pred, t, f = ops
    assert fast_select_applies(pred.shape, np.shape(t), np.shape(f), t.dtype)
    expected = np.where(pred, t, f)
    got = select(pred, t, f)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == np.ascontiguousarray(expected).tobytes()
    out = np.empty_like(expected)
    assert select(pred, t, f, out=out) is out and out.tobytes() == got.tobytes()


def test_strided_operands_and_small_or_complex_inputs_fall_back():
    pred = np.arange(1200).reshape(40, 30) % 2 == 0
    t = np.arange(1200, dtype=np.float32).reshape(30, 40).T  # a transposed view
    np.testing.assert_array_equal(select(pred, t, -1.0), np.where(pred, t, -1.0))
    assert not fast_select_applies((4,), (4,), (4,), np.float32)  # too small to pay off
    assert not fast_select_applies((600,), (600,), (600,), np.complex64)
    assert not fast_select_applies((600,), (1,), (600,), np.float32)  # broadcasting


@settings(max_examples=40, deadline=None)
@given(form=st.sampled_from(["x0", "0x", "xy"]), seed=st.integers(0, 2**16))
def test_fortran_ordered_operands_keep_their_order(form, seed):
    # jit's column-major slots hand select Fortran-ordered operands and ``out``: the
    # result is right and, allocated fresh, keeps that order (a C result beside them
    # would make every later elementwise loop walk one operand strided).
    rng = np.random.default_rng(seed)
    x, y = (np.asfortranarray(rng.standard_normal((64, 130)), np.float32) for _ in range(2))
    pred = np.asfortranarray(rng.random((64, 130)) < 0.5)
    t, f = {"x0": (x, 0.0), "0x": (0.0, x), "xy": (x, y)}[form]
    expected = np.where(pred, t, f)
    got = select(pred, t, f)
    assert got.flags.f_contiguous and not got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    out = np.empty((130, 64), np.float32).T
    assert select(pred, t, f, out=out) is out
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([65536 + 1, 3 * 65536, 3 * 65536 + 7]),
    form=st.sampled_from(["x0", "0x", "xy", "xc"]),
    alias=st.sampled_from([None, "true", "false"]),
    seed=st.integers(0, 2**16),
)
def test_blocked_select_across_block_edges_and_aliased_out(size, form, alias, seed):
    # Above one block of _select_bits._BLOCK elements the selection runs block by
    # block; the last block is partial and ``out`` may be one of the operands.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size).astype(np.float32)
    y = rng.standard_normal(size).astype(np.float32)
    x[rng.integers(0, size, 50)] = np.nan
    y[rng.integers(0, size, 50)] = -0.0
    pred = rng.random(size) < 0.5
    t, f = {"x0": (x, 0.0), "0x": (0.0, x), "xy": (x, y), "xc": (x, np.float32(2.5))}[form]
    expected = np.where(pred, t, f).astype(np.float32)
    out = None
    if alias == "true" and np.ndim(t):
        out = t = t.copy()
    elif alias == "false" and np.ndim(f):
        out = f = f.copy()
    got = select(pred, t, f, out=out)
    assert got.tobytes() == expected.tobytes()
