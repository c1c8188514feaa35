"""Making fnn arrays from other things: asanyarray, ascontiguousarray, asarray_chkfinite,
copy, frombuffer, fromiter, fromstring, fromfile, from_dlpack.

numpy reads the bytes, the iterator or the file; the result is converted as
:func:`asarray` converts (64-bit types narrow unless ``enable_x64``). fnn arrays have no
memory layout of their own and are immutable, so "contiguous" and "copy" hold of every
array.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.fromiter(range(4), dtype=float)
    Array([0., 1., 2., 3.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from fnn.core import FnnTypeError, Tracer
from fnn.numpy._core import asarray, canonical_dtype

__all__ = [
    "asanyarray", "ascontiguousarray", "asarray_chkfinite", "copy", "frombuffer",
    "fromiter", "fromstring", "fromfile", "from_dlpack",
]  # fmt: skip


def _dtype(dtype):
    return None if dtype is None else canonical_dtype(dtype)


def asanyarray(a, dtype=None, order=None):
    """:func:`asarray` (fnn has no array subclasses to keep)."""
    del order
    return asarray(a, _dtype(dtype))


def ascontiguousarray(a, dtype=None):
    """:func:`asarray`: an fnn array is always contiguous in the sense numpy means."""
    return asarray(a, _dtype(dtype))


def asarray_chkfinite(a, dtype=None, order=None):
    """:func:`asarray`, refusing input with NaN or infinity (it must be concrete to check).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.asarray_chkfinite([1.0, 2.0])
        Array([1., 2.], dtype=float32)
    """
    del order
    x = asarray(a, _dtype(dtype))
    values = x.concrete_value() if isinstance(x, Tracer) else np.asarray(x)
    if values is None:
        raise FnnTypeError("asarray_chkfinite: checking needs concrete values, got a traced array")
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise FnnTypeError("asarray_chkfinite: the array must not contain infs or NaNs")
    return x


def copy(a, order="K", subok=False):
    """``a`` as an fnn array (immutable, so sharing it is as good as a copy).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.copy([1, 2])
        Array([1, 2], dtype=int32)
    """
    del order, subok
    return asarray(a)


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """An array of the bytes in ``buffer`` read as ``dtype``, as numpy.frombuffer.

    Example:
        >>> import numpy as np, fnn.numpy as fnp
        >>> fnp.frombuffer(np.arange(3, dtype=np.int32).tobytes(), dtype=np.int32)
        Array([0, 1, 2], dtype=int32)
    """
    return asarray(np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset))


def fromiter(iter, dtype, count=-1):  # noqa: A002 - numpy's name
    """An array of the values an iterable yields, as numpy.fromiter."""
    return asarray(np.fromiter(iter, dtype=np.dtype(dtype), count=count))


def fromstring(string, dtype=float, count=-1, *, sep):
    """An array of the numbers in a text ``string`` separated by ``sep``, as
    numpy.fromstring (whose binary mode, ``sep=''``, numpy itself no longer supports).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fromstring("1 2 3", dtype=int, sep=" ")
        Array([1, 2, 3], dtype=int32)
    """
    return asarray(np.fromstring(string, dtype=np.dtype(dtype), count=count, sep=sep))


def fromfile(file, dtype=float, count=-1, sep="", offset=0):
    """An array of the data in a file (binary, or text with ``sep``), as numpy.fromfile."""
    return asarray(np.fromfile(file, dtype=np.dtype(dtype), count=count, sep=sep, offset=offset))


def from_dlpack(x, /, *, device=None, copy=None):
    """An array of the data of any object with the DLPack protocol (a numpy array, a
    PyTorch CPU tensor, ...), copied, as numpy.from_dlpack."""
    return asarray(np.from_dlpack(x, device=device, copy=copy))
