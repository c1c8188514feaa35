"""A branch-free ``np.where`` for same-shape numeric arrays.

numpy's ``where`` branches once per element; on an unpredictable mask (ReLU's, dropout's)
it runs many times slower than a multiply. Selecting through the bit patterns is exact
(NaN, inf and signed zeros are copied, never computed on): viewed as integers of the
same size, a value times the boolean (0 or 1) is itself or 0, so

    out = t * pred                    # select(pred, t, 0), ReLU's form: one pass
    out = f ^ ((t ^ f) * pred)        # the general form

(an integer multiply by a bool needs no mask array, so it is faster than an and with a
-1/0 mask; measurements in benchmarks/README.md). Large contiguous operands of the
general form are taken in blocks of ``_BLOCK`` elements, so the temporary stays in
cache. It is used by the select primitive's eager impl and by its generated code in
``jit``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["select", "fast_select_applies"]

# Below this many elements np.where's per-call overhead is smaller than ours.
_MIN_SIZE = 512
_INT_OF_SIZE = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
# Elements per block of the general form: its x ^ y scratch (256 KiB for 4-byte types)
# stays in a core's L2.
_BLOCK = 65536


def fast_select_applies(pred_shape, true_shape, false_shape, dtype) -> bool:
    """Whether :func:`select` handles these operands: pred of the full output shape,
    each branch of that shape or a scalar, a non-complex dtype, a large enough size."""
    dtype = np.dtype(dtype)
    full = tuple(pred_shape)
    if dtype.kind not in "fiub" or dtype.itemsize not in _INT_OF_SIZE:
        return False
    if math.prod(full) < _MIN_SIZE:
        return False
    return all(tuple(s) in (full, ()) for s in (true_shape, false_shape))


def _bits(x, dtype, itype):
    """``x`` (array or scalar) as the integer type of its bit pattern."""
    return np.asarray(x, dtype=dtype).view(itype)  # same itemsize: any strides view


def select(pred: np.ndarray, on_true, on_false, out: np.ndarray | None = None) -> np.ndarray:
    """``np.where(pred, on_true, on_false)`` for operands :func:`fast_select_applies` accepts.

    ``out``, if given, is a C- or Fortran-contiguous array of the result's shape and
    dtype that receives the result (it may be one of the operands' buffers); without
    it the result takes ``pred``'s order.

    Example:
        >>> select(np.array([True, False]), np.array([1.0, 2.0]), 0.0)
        array([1., 0.])
    """
    dtype = np.result_type(on_true, on_false)
    itype = _INT_OF_SIZE[dtype.itemsize]
    t, f = _bits(on_true, dtype, itype), _bits(on_false, dtype, itype)
    if out is None:
        out = np.empty_like(pred, dtype)  # pred's layout (C or Fortran), as the ufuncs keep
    o = out.view(itype)
    if f.ndim == 0 and f == 0:  # select(p, x, 0), ReLU's form
        np.multiply(t, pred, out=o)
    elif t.ndim == 0 and t == 0:  # select(p, 0, x)
        np.multiply(f, np.logical_not(pred), out=o)
    elif pred.size > _BLOCK and _contiguous(pred, t, f, o):
        flat = [x.reshape(-1) if x.ndim else x for x in (pred, t, f, o)]
        scratch = np.empty(_BLOCK, itype)
        for start in range(0, pred.size, _BLOCK):
            block = slice(start, start + _BLOCK)
            p, tb, fb, ob = (x[block] if x.ndim else x for x in flat)
            _select_into(p, tb, fb, ob, scratch[: p.size])
    else:
        _select_into(pred, t, f, o, np.empty_like(pred, itype))
    return out


def _contiguous(*arrays) -> bool:
    """Whether every array operand is C-contiguous (scalars pass): flat views are free."""
    return all(x.ndim == 0 or x.flags.c_contiguous for x in arrays)


def _select_into(pred, t, f, o, scratch) -> None:
    """``o = f ^ ((t ^ f) * pred)`` on bit patterns; ``scratch`` has pred's shape (``o``
    may be ``t``'s or ``f``'s buffer, so the difference goes to scratch)."""
    np.bitwise_xor(t, f, out=scratch)
    np.multiply(scratch, pred, out=scratch)
    np.bitwise_xor(scratch, f, out=o)
