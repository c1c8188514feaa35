"""The counter-based generator behind fnn.random: the Threefry-2x32 block cipher.

``threefry2x32(k0, k1, x0, x1)`` encrypts the 64-bit counter ``(x0, x1)`` under the
64-bit key ``(k0, k1)`` with 20 rounds of Threefry (Salmon et al., "Parallel Random
Numbers: As Easy as 1, 2, 3", SC11; the Random123 rotation constants), exactly as
JAX's ``threefry2x32_p``. All four operands are uint32 arrays that broadcast together;
the two outputs have the broadcast shape. It is elementwise, so vmap only aligns
batch axes, and its outputs are integers, so its derivative is a symbolic zero.

``random_argsort`` is the stable argsort that fnn.random.permutation sorts random keys
with (its output is integer, so it needs no derivative either).

Example:
    >>> import numpy as np
    >>> from fnn.lax.random_bits import threefry2x32
    >>> z = np.uint32(0)
    >>> [hex(int(w)) for w in threefry2x32(z, z, z, z)]
    ['0x6b200159', '0x99ba4efe']
"""

from __future__ import annotations

import numpy as np

from fnn import config, core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax.base import (
    Zero,
    batching_rules,
    broadcast_shapes,
    defprim,
    jvp_rules,
    normalize_axis,
)
from fnn.lax.structural import moveaxis, reshape

__all__ = ["threefry2x32", "threefry2x32_p", "random_argsort", "random_argsort_p"]

_U32 = np.dtype(np.uint32)
# The Threefry-2x32 rotation distances: rounds alternate between the two groups of four.
_ROTATIONS = (
    tuple(np.uint32(r) for r in (13, 15, 26, 6)),
    tuple(np.uint32(r) for r in (17, 29, 16, 24)),
)
_PARITY = np.uint32(0x1BD11BDA)  # Skein's key-schedule parity constant


# ---- threefry2x32 ------------------------------------------------------------------------


def _threefry_impl(k0, k1, x0, x1):
    # uint32 arithmetic wraps modulo 2**32, which is what the cipher wants; numpy only
    # warns about it for 0-d operands, so silence that and keep every step vectorized.
    with np.errstate(over="ignore"):
        k0, k1, x0, x1 = (np.asarray(a, _U32) for a in np.broadcast_arrays(k0, k1, x0, x1))
        ks = (k0, k1, k0 ^ k1 ^ _PARITY)
        x0 = x0 + ks[0]
        x1 = x1 + ks[1]
        for i in range(5):  # 5 groups of 4 rounds = 20 rounds, a key injection after each
            for r in _ROTATIONS[i % 2]:
                x0 += x1
                x1 = (x1 << r) | (x1 >> (np.uint32(32) - r))
                x1 ^= x0
            x0 += ks[(i + 1) % 3]
            x1 += ks[(i + 2) % 3] + np.uint32(i + 1)
        return [np.asarray(x0, _U32), np.asarray(x1, _U32)]


def _threefry_abstract(k0, k1, x0, x1):
    avals = (k0, k1, x0, x1)
    if any(a.dtype != _U32 for a in avals):
        got = ", ".join(a.str_short() for a in avals)
        raise FnnTypeError(f"threefry2x32: expected four uint32 arrays, got {got}")
    shape = broadcast_shapes("threefry2x32", *(a.shape for a in avals))
    return [ShapedArray(shape, _U32), ShapedArray(shape, _U32)]


threefry2x32_p = defprim("threefry2x32", _threefry_impl, _threefry_abstract, multiple_results=True)


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 (20 rounds) of counter words ``(x0, x1)`` under key words ``(k0, k1)``.

    Operands are uint32 arrays (or numpy uint32 scalars) that broadcast together.

    Example:
        >>> import numpy as np
        >>> from fnn.lax.random_bits import threefry2x32
        >>> k = np.uint32([0x13198A2E, 0x03707344]); x = np.uint32([0x243F6A88, 0x85A308D3])
        >>> [hex(int(w)) for w in threefry2x32(k[0], k[1], x[0], x[1])]
        ['0xc4923a9c', '0x483df7a0']
    """
    _threefry_abstract(*map(core.get_aval, (k0, k1, x0, x1)))  # eager bind skips it
    return threefry2x32_p.bind(k0, k1, x0, x1)


def _threefry_batch(vals, dims):
    # Elementwise: batch axes go first, unbatched operands broadcast against them.
    out_rank = max(core.get_aval(v).ndim - (d is not None) for v, d in zip(vals, dims))
    moved = []
    for v, d in zip(vals, dims, strict=True):
        if d is not None:
            v = moveaxis(v, d, 0)
            shape = core.get_aval(v).shape
            v = reshape(v, shape[:1] + (1,) * (out_rank - len(shape) + 1) + shape[1:])
        moved.append(v)
    return threefry2x32_p.bind(*moved), [0, 0]


def _threefry_jvp(primals, tangents):
    outs = threefry2x32_p.bind(*primals)
    return outs, [Zero(core.get_aval(o)) for o in outs]


batching_rules[threefry2x32_p] = _threefry_batch
jvp_rules[threefry2x32_p] = _threefry_jvp


# ---- a stable argsort, for shuffling -----------------------------------------------------


def _argsort_impl(x, *, axis, index_dtype):
    return np.argsort(x, axis=axis, kind="stable").astype(index_dtype)


def _argsort_abstract(x, *, axis, index_dtype):
    if not 0 <= axis < x.ndim:
        raise FnnTypeError(f"random_argsort: axis {axis} out of bounds for shape {x.shape}")
    return ShapedArray(x.shape, index_dtype)


random_argsort_p = defprim("random_argsort", _argsort_impl, _argsort_abstract)


def random_argsort(x, axis: int = -1):
    """Indices that stably sort ``x`` along ``axis`` (ties keep their order).

    Example:
        >>> import numpy as np
        >>> from fnn.lax.random_bits import random_argsort
        >>> random_argsort(np.uint32([30, 10, 20]))
        Array([1, 2, 0], dtype=int32)
    """
    axis = normalize_axis("random_argsort", axis, core.get_aval(x).ndim)
    return random_argsort_p.bind(x, axis=axis, index_dtype=config.default_int())


def _argsort_batch(vals, dims, *, axis, index_dtype):
    x = moveaxis(vals[0], dims[0], 0)
    return random_argsort_p.bind(x, axis=axis + 1, index_dtype=index_dtype), 0


def _argsort_jvp(primals, tangents, **params):
    out = random_argsort_p.bind(*primals, **params)
    return out, Zero(core.get_aval(out))


batching_rules[random_argsort_p] = _argsort_batch
jvp_rules[random_argsort_p] = _argsort_jvp


# jit runs these by calling their impls.
for _p in (
    threefry2x32_p,
    random_argsort_p,
):
    lowering.register(_p, lowering.INTERPRETED)
