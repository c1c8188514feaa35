"""Global configuration, read with ``fnn.config.x64_enabled`` and set with ``update``.

Example:
    >>> import fnn
    >>> fnn.config.update("enable_x64", True)   # float64/int64 defaults from now on
    >>> fnn.config.update("enable_x64", False)
"""

from __future__ import annotations

import numpy as np

__all__ = ["update", "x64_enabled", "default_float", "default_int", "canonicalize_dtype"]

x64_enabled = False


def update(name: str, value) -> None:
    """Set a configuration option (only ``"enable_x64"`` exists)."""
    global x64_enabled
    if name != "enable_x64":
        raise ValueError(f"fnn.config.update: unknown option {name!r}; known: 'enable_x64'")
    x64_enabled = bool(value)


def default_float() -> np.dtype:
    return np.dtype(np.float64 if x64_enabled else np.float32)


def default_int() -> np.dtype:
    return np.dtype(np.int64 if x64_enabled else np.int32)


_NARROW = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.uint32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}


def canonicalize_dtype(dtype) -> np.dtype:
    """The dtype fnn stores for ``dtype``: 64-bit types narrow unless x64 is enabled."""
    dtype = np.dtype(dtype)
    if not x64_enabled:
        return _NARROW.get(dtype, dtype)
    return dtype
