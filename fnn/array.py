"""``fnn.Array``: an immutable, numpy-backed array, and the array methods of tracers.

Arrays hold a read-only numpy buffer: ``np.asarray(x)`` returns it without a copy,
and updates are functional (``x.at[0].set(1.0)`` returns a new array). Every operator
and method calls fnn.numpy, so the same code runs eagerly and under transforms; the
methods are installed on both ``Array`` and ``core.Tracer``.

Example:
    >>> import fnn.numpy as fnp
    >>> x = fnp.arange(3.0)
    >>> x.at[1].set(10.0)
    Array([ 0., 10.,  2.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnn import core
from fnn.core import ShapedArray

__all__ = ["Array"]

# fnn.numpy, set when it is imported (it imports this module, so not the other way).
_fnp: Any = None


class Array:
    """An immutable n-dimensional array backed by a read-only numpy buffer."""

    __slots__ = ("_value", "_aval", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value: np.ndarray):
        value.setflags(write=False)  # cheaper than the flags-object setter
        self._value = value
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        aval = self._aval
        if aval is None:  # computed once: transforms ask for it many times per array
            aval = self._aval = ShapedArray(self._value.shape, self._value.dtype)
        return aval

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    nbytes = property(lambda self: self._value.nbytes)

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype)
        if dtype is None or np.dtype(dtype) == self._value.dtype:
            return self._value
        return self._value.astype(dtype)

    def __setitem__(self, idx, value):
        raise TypeError(
            "fnn arrays are immutable: `x[idx] = v` is not supported. "
            "Use the functional update `x = x.at[idx].set(v)` instead."
        )

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", prefix="Array(")
        return f"Array({body}, dtype={self._value.dtype.name})"

    def __str__(self):
        return str(self._value)

    def __bool__(self):
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        return int(self._value.__index__())

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (wrap(v) for v in self._value)

    __hash__ = None  # type: ignore[assignment]

    def __format__(self, spec):
        if self._value.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def block_until_ready(self):
        return self

    def __reduce__(self):
        return (wrap, (np.array(self._value),))


def wrap(value) -> Array:
    """Wrap a numpy result (array or numpy scalar) into an Array without copying."""
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    return Array(value)


core.wrap_array = wrap
core.array_type = Array


# ----------------------------------------------------------------------------------------
# Methods shared by Array and Tracer


def _binop(name, reflected=False):
    if reflected:

        def method(self, other):
            return getattr(_fnp, name)(other, self)

    else:

        def method(self, other):
            return getattr(_fnp, name)(self, other)

    method.__name__ = name
    return method


def _unop(name):
    def method(self):
        return getattr(_fnp, name)(self)

    method.__name__ = name
    return method


_BINOPS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "mod",
    "pow": "power",
    "matmul": "matmul",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}
_COMPARISONS = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


class _IndexUpdateHelper:
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.array, idx)


class _IndexUpdateRef:
    """``x.at[idx]``: functional versions of ``x[idx] = v``, ``x[idx] += v`` and others."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def get(self):
        return self.array[self.index]

    def set(self, values):
        return _fnp._index_update(self.array, self.index, values, "set")

    def add(self, values):
        return _fnp._index_update(self.array, self.index, values, "add")

    def subtract(self, values):
        return _fnp._index_update(self.array, self.index, -_fnp.asarray(values), "add")

    def multiply(self, values):
        return _fnp._index_update(self.array, self.index, values, "mul")

    def divide(self, values):
        return self.multiply(1.0 / _fnp.asarray(values))

    def min(self, values):
        return _fnp._index_update(self.array, self.index, values, "min")

    def max(self, values):
        return _fnp._index_update(self.array, self.index, values, "max")


def _methods() -> dict[str, Any]:
    m: dict[str, Any] = {}
    for dunder, fname in {**_BINOPS, **_COMPARISONS}.items():
        m[f"__{dunder}__"] = _binop(fname)
        if dunder not in _COMPARISONS:
            m[f"__r{dunder}__"] = _binop(fname, reflected=True)
    m["__neg__"] = _unop("negative")
    m["__pos__"] = lambda self: self
    m["__abs__"] = _unop("abs")
    m["__invert__"] = _unop("invert")
    m["__getitem__"] = lambda self, idx: _fnp._getitem(self, idx)
    m["at"] = property(lambda self: _IndexUpdateHelper(self))
    m["T"] = property(lambda self: _fnp.transpose(self))
    m["mT"] = property(lambda self: _fnp.swapaxes(self, -1, -2))
    m["real"] = property(lambda self: _fnp.real(self))

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return _fnp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return _fnp.transpose(self, axes or None)

    m["reshape"] = reshape
    m["transpose"] = transpose
    for name in [
        "sum",
        "mean",
        "prod",
        "max",
        "min",
        "var",
        "std",
        "argmax",
        "argmin",
        "all",
        "any",
        "cumsum",
        "cumprod",
        "ravel",
        "squeeze",
        "swapaxes",
        "clip",
        "dot",
        "round",
        "conj",
        "flatten",
        "repeat",
        "take",
        "trace",
        "diagonal",
        "nonzero",
        "sort",
        "argsort",
    ]:
        m[name] = _forward(name)
    m["astype"] = lambda self, dtype: _fnp.astype(self, dtype)
    m["conjugate"] = m["conj"]
    return m


def _forward(name):
    def method(self, *args, **kwargs):
        return getattr(_fnp, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


for _name, _method in _methods().items():
    setattr(Array, _name, _method)
    setattr(core.Tracer, _name, _method)
