"""Keys and raw bits: key/PRNGKey, split, fold_in, bits.

A key is a uint32 array of shape (2,), the 64-bit key of the Threefry-2x32 cipher.
Bits for an array of shape ``s`` are the cipher applied to the counters
0, 1, ..., prod(s) - 1 (each a 64-bit (high, low) word pair); ``split`` takes its new
keys from the same construction and ``fold_in`` encrypts ``(0, data)``. This is JAX's
construction with ``jax_threefry_partitionable=True`` (its default since JAX 0.5), so
keys and bits agree with JAX bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from fnn import config, core, lax
from fnn.core import Array, FnnTypeError
from fnn.lax.random_bits import threefry2x32_p
from fnn.numpy._core import asarray, canonical_dtype, is_array
from fnn.random._util import canonical_shape, check_key

__all__ = ["key", "PRNGKey", "split", "fold_in", "bits", "key_data", "wrap_key_data"]

_U32 = np.dtype(np.uint32)
_MASK32 = 0xFFFFFFFF


def key(seed) -> Array:
    """A new key from an integer seed: the uint32 pair (high 32 bits, low 32 bits).

    Any Python int works: its low 64 bits (two's complement) are used, so ``key(-1)`` is
    ``[2**32 - 1, 2**32 - 1]``, as JAX gives with x64. Integer arrays (also traced ones)
    work the same way (int32 seeds are sign-extended). Like ``jax.random.PRNGKey`` (fnn
    has no typed key arrays; a key is a plain uint32[2]).

    Example:
        >>> import fnn
        >>> fnn.random.key(0)
        Array([0, 0], dtype=uint32)
        >>> fnn.random.key(2**32 + 7)
        Array([1, 7], dtype=uint32)
    """
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool | np.bool_):
        s = int(seed)
        return asarray(np.array([(s >> 32) & _MASK32, s & _MASK32], _U32))
    if not is_array(seed):
        seed = asarray(seed)
    aval = core.get_aval(seed)
    if aval.shape != () or not np.issubdtype(aval.dtype, np.integer):
        raise FnnTypeError(f"key: the seed must be an integer scalar, got {aval.str_short()}")
    bits = aval.dtype.itemsize * 8
    if bits > 32:
        hi = lax.shift_right(seed, np.asarray(32, aval.dtype))
    elif np.issubdtype(aval.dtype, np.signedinteger):
        # Sign-extend to 64 bits, so key(int32(-1)) == key(-1).
        hi = lax.shift_right(seed, np.asarray(bits - 1, aval.dtype))
    else:
        hi = np.zeros((), _U32)
    words = [lax.convert_element_type(w, _U32) for w in (hi, seed)]
    return lax.concatenate([lax.reshape(w, (1,)) for w in words], 0)


PRNGKey = key


def key_words(k, name: str):
    """The two uint32 words of a key, as 0-d arrays."""
    k = check_key(k, name)
    return [lax.reshape(lax.slice(k, (i,), (i + 1,)), ()) for i in (0, 1)]


def _counters(shape: tuple[int, ...]):
    """The flat index of each element as (high, low) uint32 words."""
    n = math.prod(shape)
    if n <= _MASK32 + 1:
        return np.zeros((), _U32), np.arange(n, dtype=_U32).reshape(shape)
    idx = np.arange(n, dtype=np.uint64).reshape(shape)
    return (idx >> np.uint64(32)).astype(_U32), idx.astype(_U32)


def _threefry_blocks(k, shape, name):
    k0, k1 = key_words(k, name)
    hi, lo = _counters(shape)
    return threefry2x32_p.bind(k0, k1, hi, lo)


def random_bits(k, bit_width: int, shape: tuple[int, ...], name: str = "bits"):
    """Uniform random unsigned integers of ``bit_width`` bits (8, 16, 32 or 64)."""
    b1, b2 = _threefry_blocks(k, shape, name)
    if bit_width == 64:
        if not config.x64_enabled:
            raise FnnTypeError(
                f"{name}: 64-bit random numbers need fnn.config.update('enable_x64', True)"
            )
        u64 = np.dtype(np.uint64)
        hi, lo = (lax.convert_element_type(b, u64) for b in (b1, b2))
        return lax.bitwise_or(lax.shift_left(hi, np.asarray(32, u64)), lo)
    out = lax.bitwise_xor(b1, b2)
    if bit_width == 32:
        return out
    if bit_width in (8, 16):
        return lax.convert_element_type(out, np.dtype(f"uint{bit_width}"))  # the low bits
    raise FnnTypeError(f"{name}: bit width must be 8, 16, 32 or 64, got {bit_width}")


def split(key, num: int | tuple[int, ...] = 2) -> Array:
    """``num`` new independent keys (an array of shape ``(num, 2)``; ``num`` may be a shape).

    Example:
        >>> import fnn
        >>> k, sub = fnn.random.split(fnn.random.key(0))
        >>> sub
        Array([ 928981903, 3453687069], dtype=uint32)
    """
    shape = canonical_shape(num, "split")
    b1, b2 = _threefry_blocks(key, shape, "split")
    nd = len(shape)
    b1, b2 = (lax.reshape(b, shape + (1,)) for b in (b1, b2))
    return lax.concatenate([b1, b2], nd)


def fold_in(key, data) -> Array:
    """A new key from ``key`` and an integer ``data`` (taken modulo 2**32), e.g. a step count.

    Example:
        >>> import fnn
        >>> k = fnn.random.key(0)
        >>> bool((fnn.random.fold_in(k, 1) != fnn.random.fold_in(k, 2)).any())
        True
    """
    k0, k1 = key_words(key, "fold_in")
    if isinstance(data, int | np.integer) and not isinstance(data, bool | np.bool_):
        d = np.asarray(int(data) & _MASK32, _U32)
    else:
        if not is_array(data):
            data = asarray(data)
        aval = core.get_aval(data)
        if aval.shape != () or not np.issubdtype(aval.dtype, np.integer):
            raise FnnTypeError(f"fold_in: data must be an integer scalar, got {aval.str_short()}")
        d = lax.convert_element_type(data, _U32)
    o1, o2 = threefry2x32_p.bind(k0, k1, np.zeros((), _U32), d)
    return lax.concatenate([lax.reshape(o, (1,)) for o in (o1, o2)], 0)


def bits(key, shape: int | tuple[int, ...] = (), dtype=None) -> Array:
    """Uniform random bits: unsigned integers of ``dtype`` (default uint32).

    Example:
        >>> import fnn
        >>> fnn.random.bits(fnn.random.key(0), (3,))
        Array([4070199207, 4202968722, 1427181096], dtype=uint32)
    """
    dt = _U32 if dtype is None else canonical_dtype(dtype)
    if not np.issubdtype(dt, np.unsignedinteger):
        raise FnnTypeError(f"bits: dtype must be an unsigned integer dtype, got {dt}")
    return random_bits(key, dt.itemsize * 8, canonical_shape(shape, "bits"), "bits")


def key_data(keys) -> Array:
    """The uint32 data of keys: the keys themselves (fnn keys are raw), for porting JAX code."""
    return keys if is_array(keys) else asarray(keys)


def wrap_key_data(key_bits_array, *, impl=None) -> Array:
    """Keys from their uint32 data: the data itself (fnn keys are raw), for porting JAX code."""
    del impl
    return key_data(key_bits_array)
