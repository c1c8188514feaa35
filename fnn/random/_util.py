"""Argument checks shared by the samplers: keys, shapes, dtypes, parameters."""

from __future__ import annotations

import numpy as np

from fnn import config, core, lax
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, canonical_dtype, is_array

_U32 = np.dtype(np.uint32)


def check_key(key, name: str):
    """``key`` as an fnn array, after checking it is one raw key: uint32[2]."""
    if not is_array(key):
        key = asarray(key)
    aval = core.get_aval(key)
    if aval.shape == (2,) and aval.dtype == _U32:
        return key
    hint = "make one with fnn.random.key(seed)"
    if aval.dtype == _U32 and aval.shape[-1:] == (2,):
        hint = "this looks like a batch of keys: map over it with fnn.vmap"
    raise FnnTypeError(
        f"{name}: expected a key: a uint32 array of shape (2,), got {aval.str_short()}; {hint}"
    )


def canonical_shape(shape, name: str) -> tuple[int, ...]:
    """``shape`` (an int or a sequence of ints) as a tuple of non-negative ints."""
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise FnnTypeError(
            f"{name}: shape must be an int or a tuple of non-negative ints, got {shape!r}"
        )
    return tuple(int(d) for d in dims)


def check_shape(name: str, shape: tuple[int, ...], *param_shapes) -> None:
    """Parameters must broadcast to ``shape`` exactly (they may not enlarge it), as in JAX."""
    try:
        together = np.broadcast_shapes(shape, *param_shapes)
    except ValueError:
        together = None
    if together != shape:
        params = ", ".join(str(tuple(s)) for s in param_shapes)
        raise ValueError(
            f"{name}: parameters of shapes {params} must broadcast to the requested shape "
            f"{shape}; pass shape=None (where allowed) to use the parameters' shape"
        )


def float_dtype(dtype, name: str) -> np.dtype:
    """The floating dtype to sample in: the default float when None (float64 with x64)."""
    dt = config.default_float() if dtype is None else canonical_dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise FnnTypeError(f"{name}: dtype must be a floating-point dtype, got {dt}")
    return dt


def int_dtype(dtype, name: str) -> np.dtype:
    dt = canonical_dtype(dtype)
    if not np.issubdtype(dt, np.integer):
        raise FnnTypeError(f"{name}: dtype must be an integer dtype, got {dt}")
    return dt


def as_dtype(x, dtype: np.dtype):
    """A parameter in ``dtype``: a numpy constant for numbers, a converted array otherwise."""
    if is_array(x):
        return lax.convert_element_type(x, dtype)
    return np.asarray(x, dtype)


def shape_of(x) -> tuple[int, ...]:
    return core.get_aval(x).shape if is_array(x) else np.shape(x)


def const(value, dtype: np.dtype) -> np.ndarray:
    """A 0-d numpy constant (it broadcasts against any array in lax's elementwise ops)."""
    return np.asarray(value, dtype)
