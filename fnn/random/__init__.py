"""fnn.random: stateless, reproducible random numbers from explicit keys.

A key is a uint32 array of shape (2,). Every sampler is a pure function of its key:
the same key gives the same numbers on every run and machine (the counter-based
Threefry-2x32 generator, computed in numpy uint32 arithmetic). There is no hidden
state, so **use each key once**: to draw again, ``split`` the key and use the new
keys, never the old one (reusing a key repeats its numbers, and samples drawn from
one key with different samplers are correlated).

Example:
    >>> import fnn
    >>> key = fnn.random.key(0)
    >>> key, sub = fnn.random.split(key)        # keep `key` for later, spend `sub`
    >>> x = fnn.random.normal(sub, (3,))
    >>> key, sub = fnn.random.split(key)        # a fresh key for the next draw
    >>> w = fnn.random.uniform(sub, (2, 2), minval=-1.0, maxval=1.0)
    >>> keys = fnn.random.split(key, 4)         # one key per example...
    >>> fnn.vmap(lambda k: fnn.random.normal(k, (2,)))(keys).shape   # ...under vmap
    (4, 2)
    >>> step_key = fnn.random.fold_in(key, 7)   # a key per step number, without a chain

Samplers work inside ``fnn.jit`` and ``fnn.vmap`` (keys may be traced); ``shape`` is
an int or a tuple of ints and must be static. Keys, bits and uniform floats agree
with JAX (``jax_threefry_partitionable=True``, JAX's default since 0.5) bit for bit.
"""

from fnn.random.continuous import (
    exponential,
    gumbel,
    laplace,
    normal,
    orthogonal,
    truncated_normal,
    uniform,
)
from fnn.random.discrete import bernoulli, categorical, choice, permutation, randint
from fnn.random.keys import PRNGKey, bits, fold_in, key, key_data, split, wrap_key_data

__all__ = [
    "key",
    "PRNGKey",
    "split",
    "fold_in",
    "bits",
    "key_data",
    "wrap_key_data",
    "uniform",
    "normal",
    "truncated_normal",
    "gumbel",
    "exponential",
    "laplace",
    "orthogonal",
    "bernoulli",
    "categorical",
    "randint",
    "permutation",
    "choice",
]
