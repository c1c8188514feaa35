"""Array creation: zeros, ones, full, eye, arange, linspace, meshgrid, tri, ..."""

from __future__ import annotations

import numpy as np

from fnn import config, core, lax
from fnn.core import Array
from fnn.numpy._core import asarray, canonical_dtype, is_array, result_type

__all__ = [
    "zeros", "ones", "full", "empty", "eye", "identity", "arange", "linspace", "logspace",
    "meshgrid", "zeros_like", "ones_like", "full_like", "empty_like", "tri", "indices",
    "geomspace",
]  # fmt: skip


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _dtype(dtype, default=None):
    return canonical_dtype(dtype) if dtype is not None else (default or config.default_float())


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value`` (which may be a traced scalar)."""
    shape = _shape(shape)
    if is_array(fill_value):
        dt = _dtype(dtype, fill_value.dtype)
        return lax.broadcast_to(asarray(fill_value, dt), shape)
    dt = _dtype(dtype, result_type(fill_value))
    return Array(np.full(shape, fill_value, dtype=dt))


def zeros(shape, dtype=None):
    """An array of zeros (float32 unless ``dtype`` or x64 says otherwise).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.zeros((2,))
        Array([0., 0.], dtype=float32)
    """
    return Array(np.zeros(_shape(shape), _dtype(dtype)))


def ones(shape, dtype=None):
    return Array(np.ones(_shape(shape), _dtype(dtype)))


def empty(shape, dtype=None):
    """Like zeros: fnn arrays are immutable, so uninitialised memory is never useful."""
    return zeros(shape, dtype)


def _like(a, dtype, shape):
    a_dtype = a.dtype if hasattr(a, "dtype") else asarray(a).dtype
    a_shape = a.shape if hasattr(a, "shape") else asarray(a).shape
    return (_dtype(dtype, a_dtype), a_shape if shape is None else _shape(shape))


def _filled_like(a, value, dtype, shape):
    # Under a transform, a broadcast scalar (a zero-cost view when jitted) rather than a
    # concrete full-size constant baked into the program.
    dt, sh = _like(a, dtype, shape)
    if isinstance(a, core.Tracer):
        return lax.broadcast_in_dim(np.asarray(value, dt), sh, ())
    return full(sh, value, dt)


def zeros_like(a, dtype=None, shape=None):
    return _filled_like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None):
    return _filled_like(a, 1, dtype, shape)


def empty_like(a, dtype=None, shape=None):
    return zeros_like(a, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None):
    if is_array(fill_value):
        dt, sh = _like(a, dtype, shape)
        return full(sh, fill_value, dt)
    return _filled_like(a, fill_value, dtype, shape)


def eye(N, M=None, k=0, dtype=None):
    return Array(np.eye(N, M, k, dtype=_dtype(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    return Array(np.tri(N, M, k, dtype=_dtype(dtype)))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop), as numpy.arange (bounds must be concrete)."""
    args = [a for a in (start, stop, step) if a is not None]
    for a in args:
        if is_array(a) and not isinstance(a, Array):
            raise TypeError(
                "arange: its bounds fix the output's shape, so they must be concrete, not "
                "traced; pass them as static arguments"
            )
    vals = [np.asarray(a).item() if isinstance(a, Array) else a for a in args]
    default = result_type(*vals) if dtype is None else canonical_dtype(dtype)
    return Array(np.arange(*vals, dtype=default))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if is_array(start) or is_array(stop):
        start, stop = asarray(start), asarray(stop)
        dt = _dtype(dtype, result_type(start, stop, 1.0))
        t = np.linspace(0.0, 1.0, num, endpoint=endpoint).astype(dt)
        out = (
            start[..., None] + (stop - start)[..., None] * t
            if start.ndim
            else start + (stop - start) * t
        )
        return (out, (stop - start) / (num - 1 if endpoint else num)) if retstep else out
    out = np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, axis=axis)
    dt = _dtype(dtype)
    if retstep:
        return Array(out[0].astype(dt)), out[1]
    return Array(out.astype(dt))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None):
    return Array(np.logspace(start, stop, num, endpoint=endpoint, base=base).astype(_dtype(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` (both of
    one sign, or complex), as numpy.geomspace. Concrete bounds give numpy's values
    exactly; traced ones are differentiable (``start * (stop / start) ** t``).

    Example:
        >>> import fnn.numpy as fnp
        >>> fnp.geomspace(1.0, 1000.0, 4)
        Array([   1.,   10.,  100., 1000.], dtype=float32)
    """
    if not (is_array(start) and not isinstance(start, Array)) and not (
        is_array(stop) and not isinstance(stop, Array)
    ):
        start_v, stop_v = np.asarray(start), np.asarray(stop)
        out = np.geomspace(start_v, stop_v, num, endpoint=endpoint, axis=axis)
        if dtype is not None:
            return Array(out.astype(canonical_dtype(dtype)))
        return Array(out.astype(config.canonicalize_dtype(out.dtype)))
    start, stop = asarray(start), asarray(stop)
    dt = _dtype(dtype, result_type(start, stop, 1.0))
    div = (num - 1) if endpoint else num
    t = (np.arange(num) / max(div, 1)).astype(dt)
    shape = start.shape
    t = t.reshape((num,) + (1,) * len(shape))
    out = start * (stop / start) ** t
    if endpoint and num > 1:
        out = lax.concatenate(
            [out[:-1], lax.reshape(lax.broadcast_to(stop, shape), (1,) + shape)], 0
        )
    return lax.convert_element_type(_moved(out, axis), dt) if out.dtype != dt else _moved(out, axis)


def _moved(out, axis):
    if axis == 0 or out.ndim <= 1:
        return out
    order = list(range(1, out.ndim))
    order.insert(axis % out.ndim, 0)
    return lax.transpose(out, order)


def meshgrid(*xi, indexing="xy", sparse=False):
    """Coordinate matrices from coordinate vectors, as numpy.meshgrid."""
    arrays = [asarray(x).reshape(-1) for x in xi]
    n = len(arrays)
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, a in enumerate(arrays):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        s = [1] * n
        s[pos] = a.shape[0]
        r = a.reshape(s)
        out.append(r if sparse else lax.broadcast_to(r, tuple(shape)))
    return out


def indices(dimensions, dtype=None):
    return Array(np.indices(dimensions, dtype=_dtype(dtype, config.default_int())))
