"""Conversion and dtype promotion shared by all of fnn.numpy.

Promotion follows JAX: Python scalars are *weakly typed* (``x * 2.0`` keeps x's
float32; ``int32_array + 1.5`` becomes the default float), mixing integers and
floats gives the float, and 64-bit types only exist with ``enable_x64``.
"""

from __future__ import annotations

import numpy as np

from fnn import config, core, lax
from fnn.core import Array, FnnTypeError, Tracer

__all__ = ["asarray", "array", "result_type", "promote_args", "is_array", "canonical_dtype"]

_WEAK = (int, float, bool, complex)


def is_array(x) -> bool:
    return isinstance(x, Array | Tracer)


def _is_weak(x) -> bool:
    return type(x) in _WEAK


def canonical_dtype(dtype) -> np.dtype:
    if dtype is float:
        return config.default_float()
    if dtype is int:
        return config.default_int()
    if dtype is bool:
        return np.dtype(np.bool_)
    return config.canonicalize_dtype(dtype)


def _dtype_of(x) -> np.dtype:
    if is_array(x):
        return x.dtype
    if isinstance(x, np.ndarray | np.generic):
        return config.canonicalize_dtype(x.dtype)
    return core.get_aval(x).dtype


_RANK_OF_KIND = {"b": 0, "i": 1, "u": 1, "f": 2}


def _kind_rank(dt: np.dtype) -> int:
    """bool 0, integers 1, floats 2, complex (and anything else) 3."""
    return _RANK_OF_KIND.get(dt.kind, 3)


def _promote_two(a: np.dtype, b: np.dtype) -> np.dtype:
    ka, kb = _kind_rank(a), _kind_rank(b)
    if ka != kb:
        hi, lo = (a, b) if ka > kb else (b, a)
        if _kind_rank(hi) == 3 and _kind_rank(lo) == 2:
            return config.canonicalize_dtype(np.promote_types(hi, lo))
        return hi  # the float (or complex) wins over ints and bools, as in JAX
    return config.canonicalize_dtype(np.promote_types(a, b))


def result_type(*args) -> np.dtype:
    """The dtype fnn.numpy computes ``args`` in (weak Python scalars adapt to arrays)."""
    strong = [_dtype_of(a) for a in args if not _is_weak(a)]
    weak = [type(a) for a in args if _is_weak(a)]
    if strong:
        dt = strong[0]
        for d in strong[1:]:
            dt = _promote_two(dt, d)
    else:
        order = [bool, int, float, complex]
        top = max(weak, key=order.index)
        # Weak-only: the default of the top kind (complex128 under x64, as in JAX).
        return canonical_dtype(top) if top is not complex else _default_complex()
    for w in weak:
        if w is float and _kind_rank(dt) < 2:
            dt = config.default_float()
        elif w is int and dt == np.bool_:
            dt = config.default_int()
        elif w is complex and _kind_rank(dt) == 2:
            # A weak complex takes the float's width (JAX: f2/f4 -> c8, f8 -> c16).
            dt = np.dtype(np.complex128 if dt.itemsize == 8 else np.complex64)
        elif w is complex and _kind_rank(dt) < 2:
            dt = _default_complex()
    return dt


def _default_complex() -> np.dtype:
    return config.canonicalize_dtype(np.complex128)


def asarray(x, dtype=None):
    """Convert to an fnn array (numpy arrays are copied once so they stay immutable).

    Example:
        >>> import numpy as np, fnn.numpy as fnp
        >>> fnp.asarray(np.arange(3.0))
        Array([0., 1., 2.], dtype=float32)
    """
    if dtype is not None:
        dtype = canonical_dtype(dtype)
    if is_array(x):
        return x if dtype is None else lax.convert_element_type(x, dtype)
    if isinstance(x, list | tuple) and _contains_array(x):
        return asarray(_stack_elements([asarray(e) for e in x]), dtype)
    if isinstance(x, np.ndarray):
        target = dtype or config.canonicalize_dtype(x.dtype)
        if x.dtype == object:
            raise FnnTypeError(f"asarray: object arrays are not supported (got {x!r:.80})")
        _check_numeric(x, x)
        out = x.astype(target, copy=True) if (x.flags.writeable or x.dtype != target) else x
        return Array(out)
    if _is_weak(x) and dtype is None:
        return Array(core.canonical_value(x))
    if isinstance(x, str | bytes):  # numpy would make a string array of it
        raise FnnTypeError(
            f"asarray: expected a number, an array or a (nested) list of numbers, "
            f"got {type(x).__name__} {x!r:.60}"
        )
    arr = np.asarray(x, dtype=dtype)
    if arr.dtype == object:
        raise FnnTypeError(f"asarray: cannot convert {type(x).__name__} to an array")
    _check_numeric(arr, x)
    if dtype is None:
        arr = arr.astype(config.canonicalize_dtype(arr.dtype), copy=False)
    return Array(np.array(arr, copy=True) if arr.flags.writeable and arr.base is not None else arr)


def _check_numeric(arr: np.ndarray, x) -> None:
    """fnn arrays hold booleans and numbers only (strings, datetimes, voids are refused)."""
    if arr.dtype.kind not in "biufc":
        raise FnnTypeError(
            f"asarray: expected numbers or booleans, got {type(x).__name__} of numpy dtype "
            f"{arr.dtype} ({x!r:.60})"
        )


def _stack_elements(elements: list):
    """The array whose rows are ``elements`` (arrays of one shape; dtypes promote)."""
    shapes = {e.shape for e in elements}
    if len(shapes) != 1:
        raise FnnTypeError(
            "asarray: a sequence of arrays needs arrays of one shape, got shapes "
            f"{[e.shape for e in elements]}"
        )
    dtype = result_type(*elements)
    rows = [lax.reshape(lax.convert_element_type(e, dtype), (1, *e.shape)) for e in elements]
    return lax.concatenate(rows, 0)


def _contains_array(xs) -> bool:
    for e in xs:
        if is_array(e) or (isinstance(e, list | tuple) and _contains_array(e)):
            return True
    return False


def array(x, dtype=None, copy=True):
    """Like :func:`asarray` (fnn arrays are immutable, so a copy is never observable)."""
    return asarray(x, dtype)


def convert(x, dtype):
    """``x`` as an array of ``dtype``; Python scalars become constants of that dtype."""
    if _is_weak(x) or isinstance(x, np.ndarray | np.generic):
        return np.asarray(x, dtype=dtype)
    if not is_array(x):
        x = asarray(x)
    return lax.convert_element_type(x, dtype)


_WEAK_RANK = {bool: 0, int: 1, float: 2, complex: 3}


def promote_args(name: str, *args, to_float: bool = False):
    """Arguments converted to their common dtype (floats when ``to_float``)."""
    fast = _promote_fast(args, to_float)
    if fast is not None:
        return fast
    for a in args:
        if not (is_array(a) or _is_weak(a) or isinstance(a, np.ndarray | np.generic)):
            if isinstance(a, list | tuple):
                continue
            raise FnnTypeError(
                f"{name}: expected arrays or numbers, got {type(a).__name__}: {a!r:.60}"
            )
    args = [asarray(a) if isinstance(a, list | tuple) else a for a in args]
    dt = result_type(*args)
    if to_float and _kind_rank(dt) < 2:
        dt = config.default_float()
    return [convert(a, dt) for a in args]


def _promote_fast(args, to_float: bool):
    """The common cases of eager code without the general machinery: fnn arrays of one
    dtype, plus Python scalars of a kind no higher than theirs (``x * 2.0``). None when
    anything else is involved."""
    dt = None
    for a in args:
        if type(a) is Array or isinstance(a, Tracer):
            if dt is None:
                dt = a.dtype
            elif a.dtype != dt:
                return None
    if dt is None or (to_float and dt.kind not in "fc"):
        return None
    rank = _RANK_OF_KIND.get(dt.kind, 3)
    out = []
    for a in args:
        if type(a) is Array or isinstance(a, Tracer):
            out.append(a)
        elif _WEAK_RANK.get(type(a), 9) <= rank:
            out.append(np.asarray(a, dtype=dt))
        else:
            return None
    return out
