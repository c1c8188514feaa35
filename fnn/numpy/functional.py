"""Applying Python functions over arrays: vectorize, apply_along_axis, apply_over_axes,
fromfunction.

``vectorize`` and ``apply_along_axis`` call the function on one slice at a time
through ``fnn.lax.map`` (a scan): the function is traced once, so they work under jit,
grad and vmap, but, like numpy's, they run the function once per slice. A function
already written with fnn.numpy on whole arrays is faster called directly (or through
``fnn.vmap``).

Example:
    >>> import fnn.numpy as fnp
    >>> f = fnp.vectorize(lambda a, b: a + 2 * b)
    >>> f(fnp.array([1.0, 2.0]), 10.0)
    Array([21., 22.], dtype=float32)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from fnn import lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, canonical_dtype
from fnn.numpy.creation import indices
from fnn.numpy.reductions import normalize_axes
from fnn.numpy.shape import broadcast_shapes, broadcast_to, expand_dims, moveaxis, reshape
from fnn.numpy.shape import transpose as _transpose

__all__ = ["vectorize", "apply_along_axis", "apply_over_axes", "fromfunction"]

_DIMS = r"\((?:\w+(?:,\s*\w+)*)?\)"
_SIGNATURE = re.compile(rf"^\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*->\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*$")


def _parse_signature(signature: str):
    """'(m,n),(n)->(m)' -> ([('m', 'n'), ('n',)], [('m',)])."""
    if not _SIGNATURE.match(signature):
        raise FnnTypeError(f"vectorize: not a valid gufunc signature: {signature!r}")
    ins, outs = signature.split("->")

    def cores(part):
        return [tuple(d for d in re.split(r",\s*", g) if d) for g in re.findall(r"\((.*?)\)", part)]

    return cores(ins), cores(outs)


def _map_over_batch(fn, args, batch):
    """``fn`` over the leading axis of every arg (``batch`` long): a scan, or one call."""
    if batch == 1:
        out = fn(*[a[0] for a in args])
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(asarray(o)[None] for o in outs), isinstance(out, tuple)
    probe = []

    def body(xs):
        out = fn(*xs)
        probe.append(isinstance(out, tuple))
        return tuple(out) if isinstance(out, tuple) else (out,)

    outs = lax.map(body, tuple(args))
    return tuple(outs), probe[0]


class vectorize:  # noqa: N801 - numpy's name
    """``pyfunc`` made to broadcast over its array arguments, as numpy.vectorize: it
    is called on each element (or, with a gufunc ``signature`` such as
    ``'(n),(n)->()'``, on each core slice), and the results are stacked. Positions or
    names in ``excluded`` are passed through whole. ``otypes``, ``doc`` and ``cache``
    are accepted for numpy's signature; the output dtype is whatever ``pyfunc`` returns.

    Example:
        >>> import fnn.numpy as fnp
        >>> dot = fnp.vectorize(lambda a, b: fnp.sum(a * b), signature="(n),(n)->()")
        >>> dot(fnp.ones((3, 2)), fnp.array([1.0, 2.0]))
        Array([3., 3., 3.], dtype=float32)
    """

    def __init__(self, pyfunc=None, otypes=None, doc=None, excluded=None, cache=False,
                 signature=None):  # fmt: skip
        del otypes, cache
        self.pyfunc = pyfunc
        self.excluded = frozenset(excluded or ())
        self.signature = signature
        self._cores = _parse_signature(signature) if signature is not None else None
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)

    def __call__(self, *args, **kwargs):
        if self.pyfunc is None:  # used as @vectorize(signature=...)
            (pyfunc,) = args
            return vectorize(pyfunc, excluded=self.excluded, signature=self.signature)
        names = [i for i in range(len(args)) if i not in self.excluded]
        keys = [k for k in kwargs if k not in self.excluded]
        arrays = [asarray(args[i]) for i in names] + [asarray(kwargs[k]) for k in keys]
        in_cores = self._cores[0] if self._cores else [()] * len(arrays)
        if len(in_cores) != len(arrays):
            raise FnnTypeError(
                f"vectorize: the signature {self.signature!r} names {len(in_cores)} inputs, "
                f"but {len(arrays)} were given"
            )
        sizes: dict[str, int] = {}
        loops = []
        for k, (x, core) in enumerate(zip(arrays, in_cores, strict=True)):
            if x.ndim < len(core):
                raise FnnTypeError(
                    f"vectorize: input {k} of shape {x.shape} has fewer axes than its core "
                    f"dimensions {core}"
                )
            for name, d in zip(core, x.shape[x.ndim - len(core) :], strict=True):
                if sizes.setdefault(name, d) != d:
                    raise FnnTypeError(
                        f"vectorize: core dimension {name!r} is {sizes[name]} in one input "
                        f"and {d} in another"
                    )
            loops.append(x.shape[: x.ndim - len(core)])
        loop_shape = broadcast_shapes(*loops) if loops else ()
        batch = math.prod(loop_shape)
        flat = [
            reshape(
                broadcast_to(x, loop_shape + x.shape[x.ndim - len(core) :]),
                (batch,) + x.shape[x.ndim - len(core) :],
            )  # fmt: skip
            for x, core in zip(arrays, in_cores, strict=True)
        ]

        def call(*xs):
            full = list(args)
            for i, x in zip(names, xs, strict=False):
                full[i] = x
            kw = dict(kwargs)
            for key, x in zip(keys, xs[len(names) :], strict=True):
                kw[key] = x
            return self.pyfunc(*full, **kw)

        if batch == 0:
            raise FnnTypeError("vectorize: cannot infer the output of a call over zero elements")
        outs, is_tuple = _map_over_batch(call, flat, batch)
        results = [reshape(o, loop_shape + o.shape[1:]) for o in outs]
        if self._cores:
            out_cores = self._cores[1]
            if len(out_cores) != len(results):
                raise FnnTypeError(
                    f"vectorize: the signature names {len(out_cores)} outputs, pyfunc gave "
                    f"{len(results)}"
                )
            for r, core in zip(results, out_cores, strict=True):
                if r.ndim - len(loop_shape) != len(core):
                    raise FnnTypeError(
                        f"vectorize: an output has core shape {r.shape[len(loop_shape) :]}, "
                        f"the signature says {core}"
                    )
        return tuple(results) if is_tuple else results[0]


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` applied to each 1-D slice of ``arr`` along ``axis``; its output's axes
    take the place of ``axis``, as numpy.apply_along_axis.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.apply_along_axis(lambda v: v[0] + v[-1], 1, fnp.arange(6.0).reshape(2, 3))
        Array([2., 8.], dtype=float32)
    """
    arr = asarray(arr)
    (ax,) = normalize_axes("apply_along_axis", axis, arr.ndim)
    moved = moveaxis(arr, ax, -1)
    loop = moved.shape[:-1]
    batch = math.prod(loop)
    if batch == 0:
        raise FnnTypeError("apply_along_axis: cannot apply a function over zero slices")
    flat = reshape(moved, (batch, moved.shape[-1]))
    (out,), _ = _map_over_batch(lambda v: asarray(func1d(v, *args, **kwargs)), [flat], batch)
    out = reshape(out, loop + out.shape[1:])
    k = out.ndim - len(loop)  # the function's own output axes, now at the end
    order = list(range(ax)) + list(range(len(loop), len(loop) + k)) + list(range(ax, len(loop)))
    return _transpose(out, order)


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` applied for each of ``axes`` in turn, keeping the rank (a
    reduced axis comes back as length 1), as numpy.apply_over_axes.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.apply_over_axes(fnp.sum, fnp.ones((2, 3, 4)), [0, 2])
        Array([[[8.],
                [8.],
                [8.]]], dtype=float32)
    """
    out = asarray(a)
    for axis in np.atleast_1d(axes).tolist():
        (ax,) = normalize_axes("apply_over_axes", axis, out.ndim)
        res = asarray(func(out, ax))
        if res.ndim == out.ndim:
            out = res
        elif res.ndim == out.ndim - 1:
            out = expand_dims(res, ax)
        else:
            raise FnnTypeError(
                "apply_over_axes: func must keep the rank or reduce it by one, got shape "
                f"{res.shape} from {out.shape}"
            )
    return out


def fromfunction(function: Callable, shape, *, dtype=float, **kwargs):
    """``function(*indices)`` where the i-th argument holds each element's index along
    axis i (as ``dtype``), as numpy.fromfunction.

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
        Array([[ 0, 10, 20],
               [ 1, 11, 21]], dtype=int32)
    """
    grid = indices(tuple(shape), dtype=canonical_dtype(dtype))
    return function(*[grid[i] for i in range(len(shape))], **kwargs)
