"""dtype promotion against JAX's documented type promotion lattice.

JAX (docs: "Type promotion semantics") defines promotion as the join on a lattice in
which Python scalars are *weak* types (``i*``, ``f*``, ``c*``) that adopt the width of a
strongly typed operand. The lattice below is the documented one without bfloat16; the
expected table is computed from it, so every pair is checked, not a sample.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp

LATTICE = {
    "b1": ["i*"],
    "u1": ["u2", "i2"],
    "u2": ["i4", "u4"],
    "u4": ["u8", "i8"],
    "u8": ["f*"],
    "i*": ["u1", "i1"],
    "i1": ["i2"],
    "i2": ["i4"],
    "i4": ["i8"],
    "i8": ["f*"],
    "f*": ["c*", "f2"],
    "f2": ["f4"],
    "f4": ["c8", "f8"],
    "f8": ["c16"],
    "c*": ["c8"],
    "c8": ["c16"],
    "c16": [],
}
STRONG = {
    "b1": np.bool_,
    "u1": np.uint8,
    "u2": np.uint16,
    "u4": np.uint32,
    "u8": np.uint64,
    "i1": np.int8,
    "i2": np.int16,
    "i4": np.int32,
    "i8": np.int64,
    "f2": np.float16,
    "f4": np.float32,
    "f8": np.float64,
    "c8": np.complex64,
    "c16": np.complex128,
}
WEAK = {"i*": 1, "f*": 1.5, "c*": 1j}


def _above(t: str) -> set[str]:
    out, todo = {t}, [t]
    while todo:
        for u in LATTICE[todo.pop()]:
            if u not in out:
                out.add(u)
                todo.append(u)
    return out


def join(a: str, b: str) -> str:
    common = _above(a) & _above(b)
    (least,) = [c for c in common if _above(c) >= common]
    return least


def materialize(t: str) -> np.dtype:
    """The dtype a lattice node stands for (a weak type is the default of its kind)."""
    if t in STRONG:
        return fnn.config.canonicalize_dtype(STRONG[t])
    return fnn.config.canonicalize_dtype({"i*": np.int64, "f*": np.float64, "c*": np.complex128}[t])


def operand(t: str):
    return WEAK[t] if t in WEAK else fnp.zeros((2,), STRONG[t])


def test_documented_rows():
    # A few entries copied from JAX's published table, to check the lattice above.
    assert join("u8", "i1") == "f*" and join("u4", "i4") == "i8" and join("u1", "i1") == "i2"
    assert join("i4", "f2") == "f2" and join("f2", "c*") == "c8" and join("b1", "i*") == "i*"
    assert join("u1", "i*") == "u1" and join("i*", "f*") == "f*" and join("f8", "c8") == "c16"


ALL = list(STRONG) + list(WEAK)


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(ALL, 2)))
def test_result_type_x64(a, b):
    fnn.config.update("enable_x64", True)
    expected = materialize(join(a, b))
    assert fnp.result_type(operand(a), operand(b)) == expected
    assert fnp.result_type(operand(b), operand(a)) == expected


SMALL = [t for t in ALL if t not in ("u8", "i8", "f8", "c16")]


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(SMALL, 2)))
def test_result_type_default_precision(a, b):
    # Without x64 the 64-bit results narrow to 32 bits (and weak types to the defaults).
    expected = materialize(join(a, b))
    assert fnp.result_type(operand(a), operand(b)) == expected


REAL = [t for t in SMALL if t[0] != "c"]


@pytest.mark.parametrize("a,b", list(itertools.product(REAL, REAL)))
def test_add_promotes(a, b):
    out = fnp.add(operand(a), operand(b))
    assert out.dtype == materialize(join(a, b))


def test_issue_examples():
    i32, f32 = fnp.ones(3, np.int32), fnp.ones(3, np.float32)
    assert (i32 + f32).dtype == np.float32
    assert (f32 * 2.0).dtype == np.float32  # a weak Python scalar keeps float32
    assert (i32 * 2).dtype == np.int32
    assert (i32 / 2).dtype == np.float32
    assert (i32 + 1.5).dtype == np.float32
    assert fnp.sum(fnp.ones(4, bool)).dtype == np.int32
    np.testing.assert_array_equal(fnp.sum(fnp.asarray([True, False, True])), 2)
    assert fnp.mean(i32).dtype == np.float32
    assert fnp.sum(fnp.ones(3, np.int8)).dtype == np.int32
    assert fnp.asarray(1.0).dtype == np.float32 and fnp.asarray(1).dtype == np.int32
    assert fnp.asarray(np.ones(2)).dtype == np.float32  # float64 data narrows without x64


def test_issue_examples_x64():
    fnn.config.update("enable_x64", True)
    i32, f32 = fnp.ones(3, np.int32), fnp.ones(3, np.float32)
    assert (i32 + f32).dtype == np.float32  # not numpy's float64
    assert (f32 * 2.0).dtype == np.float32
    assert (fnp.ones(3, np.int64) + f32).dtype == np.float32
    assert fnp.asarray(1.0).dtype == np.float64 and fnp.asarray(1).dtype == np.int64
    assert fnp.sum(fnp.ones(4, bool)).dtype == np.int64
    assert (i32 + 1.5).dtype == np.float64  # a weak float joins an int as the default float
