"""Utilities around arrays: dtype questions (promote_types, can_cast, isscalar,
iterable), printing (array_repr, array_str, array2string and numpy's print options,
which fnn arrays print with), saving and loading (save, savez, savez_compressed, load),
einsum_path, and bit packing (packbits, unpackbits).

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.promote_types(fnp.int32, fnp.float32)
    dtype('float32')
"""

from __future__ import annotations

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import _promote_two, asarray, is_array
from fnn.numpy.math import not_equal
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.shape import moveaxis, ravel, reshape

__all__ = [
    "promote_types", "can_cast", "isscalar", "iterable", "array_repr", "array_str",
    "array2string", "get_printoptions", "set_printoptions", "printoptions", "save", "savez",
    "savez_compressed", "load", "einsum_path", "packbits", "unpackbits",
]  # fmt: skip

# numpy's print options: fnn arrays print through numpy, so these govern them too. They
# change numpy's state only when the user calls them.
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions
printoptions = np.printoptions
iterable = np.iterable


def promote_types(type1, type2, /) -> np.dtype:
    """The dtype fnn computes a mix of ``type1`` and ``type2`` in, with JAX's rules
    (a float and any integer give the float: int64 with float32 is float32).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.promote_types(fnp.int64, fnp.float32)
        dtype('float32')
    """
    return _promote_two(np.dtype(type1), np.dtype(type2))


def can_cast(from_, to, casting="safe") -> bool:
    """Whether a value of dtype ``from_`` (or an array's dtype) casts to ``to`` under the
    ``casting`` rule, as numpy.can_cast."""
    if is_array(from_):
        from_ = from_.dtype
    return bool(np.can_cast(from_, to, casting=casting))


def isscalar(element) -> bool:
    """Whether ``element`` is a scalar: a Python or numpy number, or a 0-d fnn array (as
    jax.numpy.isscalar; numpy says False for 0-d arrays).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.isscalar(1.0), fnp.isscalar(fnp.array(1.0)), fnp.isscalar(fnp.ones(2))
        (True, True, False)
    """
    if is_array(element):
        return element.ndim == 0
    return bool(np.isscalar(element))


def _values(name, a):
    if isinstance(a, Tracer):
        val = a.concrete_value()
        if val is None:
            raise FnnTypeError(f"{name}: needs concrete values, got a traced array")
        return np.asarray(val)
    return np.asarray(a)


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """numpy's repr text of the array's values."""
    return np.array_repr(_values("array_repr", arr), max_line_width, precision, suppress_small)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """numpy's str text of the array's values."""
    return np.array_str(_values("array_str", a), max_line_width, precision, suppress_small)


def array2string(a, *args, **kwargs):
    """numpy.array2string of the array's values (all of numpy's options)."""
    return np.array2string(_values("array2string", a), *args, **kwargs)


def save(file, arr, allow_pickle=True):
    """Write an array to a ``.npy`` file, as numpy.save.

    Example:
        >>> import io, fnn.numpy as fnp
        >>> buf = io.BytesIO(); fnp.save(buf, fnp.arange(3)); _ = buf.seek(0)
        >>> fnp.load(buf)
        Array([0, 1, 2], dtype=int32)
    """
    np.save(file, _values("save", asarray(arr)), allow_pickle=allow_pickle)


def savez(file, *args, allow_pickle=True, **kwds):
    """Write several arrays to an uncompressed ``.npz`` file, as numpy.savez."""
    np.savez(file, *[_values("savez", asarray(a)) for a in args], allow_pickle=allow_pickle,
             **{k: _values("savez", asarray(v)) for k, v in kwds.items()})  # fmt: skip


def savez_compressed(file, *args, allow_pickle=True, **kwds):
    """Write several arrays to a compressed ``.npz`` file, as numpy.savez_compressed."""
    np.savez_compressed(file, *[_values("savez", asarray(a)) for a in args],
                        allow_pickle=allow_pickle,
                        **{k: _values("savez", asarray(v)) for k, v in kwds.items()})  # fmt: skip


def load(file, *args, **kwargs):
    """Read a ``.npy`` file as an fnn array (a ``.npz`` file gives numpy's lazy mapping of
    names to numpy arrays), as numpy.load."""
    out = np.load(file, *args, **kwargs)
    return asarray(out) if isinstance(out, np.ndarray) else out


def einsum_path(subscripts, /, *operands, optimize="greedy", einsum_call=False):
    """numpy's contraction order (and its cost report) for an einsum of operands of these
    shapes; fnn.numpy.einsum itself contracts left to right."""
    shaped = [np.broadcast_to(np.zeros((), np.asarray(o).dtype if not is_array(o) else o.dtype),
                              np.shape(o) if not is_array(o) else o.shape)
              for o in operands]  # fmt: skip
    return np.einsum_path(subscripts, *shaped, optimize=optimize, einsum_call=einsum_call)


def _bitorder(name, bitorder):
    if bitorder not in ("big", "little"):
        raise FnnTypeError(f"{name}: bitorder must be 'big' or 'little', got {bitorder!r}")
    return bitorder == "big"


def packbits(a, /, axis=None, bitorder="big"):
    """Pack the truth of each element into the bits of uint8 values along ``axis`` (of
    the flattened array when None), eight to a byte, padding with zeros, as
    numpy.packbits.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.packbits(fnp.array([1, 0, 1, 1, 0, 0, 0, 1, 1]))
        Array([177, 128], dtype=uint8)
    """
    big = _bitorder("packbits", bitorder)
    a = asarray(a)
    if not (np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
        raise FnnTypeError(f"packbits: expected an integer or boolean array, got {a.dtype}")
    if axis is None:
        a, axis = ravel(a), 0
    (ax,) = normalize_axes("packbits", axis, a.ndim)
    bits = lax.convert_element_type(not_equal(a, 0), np.uint8)
    bits = moveaxis(bits, ax, -1)
    n = bits.shape[-1]
    pad = -n % 8
    if pad:
        bits = lax.pad(bits, np.zeros((), np.uint8), [(0, 0, 0)] * (bits.ndim - 1) + [(0, pad, 0)])
    groups = reshape(bits, bits.shape[:-1] + ((n + pad) // 8, 8))
    weights = (1 << np.arange(8)[::-1] if big else 1 << np.arange(8)).astype(np.uint8)
    packed = lax.reduce_sum(lax.mul(groups, weights), (groups.ndim - 1,))
    return moveaxis(packed, -1, ax)


def unpackbits(a, /, axis=None, count=None, bitorder="big"):
    """The bits of uint8 values as 0/1 uint8 entries along ``axis`` (of the flattened
    array when None); ``count`` keeps that many (negative: drops that many from the end,
    beyond the data: pads with zeros), as numpy.unpackbits.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.unpackbits(fnp.array([5], dtype=fnp.uint8))
        Array([0, 0, 0, 0, 0, 1, 0, 1], dtype=uint8)
    """
    big = _bitorder("unpackbits", bitorder)
    a = asarray(a)
    if a.dtype != np.uint8:
        raise FnnTypeError(f"unpackbits: expected a uint8 array, got dtype {a.dtype}")
    if axis is None:
        a, axis = ravel(a), 0
    (ax,) = normalize_axes("unpackbits", axis, a.ndim)
    x = moveaxis(a, ax, -1)
    shifts = (np.arange(8)[::-1] if big else np.arange(8)).astype(np.uint8)
    bits = lax.bitwise_and(lax.shift_right(x[..., None], shifts), np.ones((), np.uint8))
    bits = reshape(bits, x.shape[:-1] + (x.shape[-1] * 8,))
    total = bits.shape[-1]
    if count is not None and count < -total:
        raise FnnTypeError(f"unpackbits: count={count} drops more than the {total} bits there are")
    keep = total if count is None else (count if count >= 0 else total + count)
    if keep <= total:
        bits = bits[..., :keep]
    else:
        widths = [(0, 0, 0)] * (bits.ndim - 1) + [(0, keep - total, 0)]
        bits = lax.pad(bits, np.zeros((), np.uint8), widths)
    return moveaxis(bits, -1, ax)
