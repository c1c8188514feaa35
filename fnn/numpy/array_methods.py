"""The numpy-style operators and methods of ``fnn.Array`` and of tracers.

``x + y``, ``x[i]``, ``x.sum(axis=0)``, ``x.T``, ``x.at[i].set(v)`` are the fnn.numpy
functions of the same meaning, so the same code runs eagerly and under every transform.
``Array`` and ``Tracer`` are defined in ``fnn.core``, below fnn.numpy; fnn.numpy installs
these methods on both when it is imported (``import fnn`` does), as jax.numpy installs
them on jax.Array.

Example:
    >>> import fnn.numpy as fnp
    >>> x = fnp.arange(6.0).reshape(2, 3)
    >>> (x.T @ x).sum(axis=0)
    Array([36., 51., 66.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from fnn import core
from fnn import numpy as fnp

__all__: list[str] = []


def _binop(name, reflected=False):
    if reflected:

        def method(self, other):
            return getattr(fnp, name)(other, self)

    else:

        def method(self, other):
            return getattr(fnp, name)(self, other)

    method.__name__ = name
    return method


def _unop(name):
    def method(self):
        return getattr(fnp, name)(self)

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
        return fnp._index_update(self.array, self.index, values, "set")

    def add(self, values):
        return fnp._index_update(self.array, self.index, values, "add")

    def subtract(self, values):
        return fnp._index_update(self.array, self.index, -fnp.asarray(values), "add")

    def multiply(self, values):
        return fnp._index_update(self.array, self.index, values, "mul")

    def divide(self, values):
        return self.multiply(1.0 / fnp.asarray(values))

    def min(self, values):
        return fnp._index_update(self.array, self.index, values, "min")

    def max(self, values):
        return fnp._index_update(self.array, self.index, values, "max")


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
    m["__getitem__"] = lambda self, idx: fnp._getitem(self, idx)
    m["at"] = property(lambda self: _IndexUpdateHelper(self))
    m["T"] = property(lambda self: fnp.transpose(self))
    m["mT"] = property(lambda self: fnp.swapaxes(self, -1, -2))
    m["real"] = property(lambda self: fnp.real(self))
    m["imag"] = property(lambda self: fnp.imag(self))

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return fnp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return fnp.transpose(self, axes or None)

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
        "repeat",
        "take",
        "trace",
        "diagonal",
        "nonzero",
        "sort",
        "argsort",
        "argpartition",
        "choose",
        "ptp",
        "searchsorted",
    ]:
        m[name] = _forward(name)
    m["astype"] = lambda self, dtype: fnp.astype(self, dtype)
    m["conjugate"] = m["conj"]

    def flatten(self, order="C"):
        """The elements in a 1-D array, row-major (``'C'``) or column-major (``'F'``)."""
        return fnp.ravel(self, order=order)

    def compress(self, condition, axis=None, out=None):
        return fnp.compress(condition, self, axis=axis, out=out)

    def copy(self, order="C"):
        """``self``: fnn arrays are immutable, so a copy could never be told apart."""
        del order
        return self

    m["flatten"] = flatten
    m["compress"] = compress
    m["copy"] = copy
    m["itemsize"] = property(lambda self: self.dtype.itemsize)
    return m


def _forward(name):
    def method(self, *args, **kwargs):
        return getattr(fnp, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


for _name, _method in _methods().items():
    setattr(core.Array, _name, _method)
    setattr(core.Tracer, _name, _method)
