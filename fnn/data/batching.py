"""Minibatches of a pytree of arrays that share a leading (example) dimension.

Example:
    >>> import numpy as np
    >>> from fnn.data import batches
    >>> data = {"x": np.arange(10).reshape(5, 2), "y": np.arange(5)}
    >>> [b["y"].tolist() for b in batches(data, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from fnn import random
from fnn.tree_util import tree_flatten, tree_unflatten


class Batches:
    """An iterable of minibatches with a length; built by :func:`batches`.

    Iterating again replays the same order: the permutation comes from the key, so a
    new epoch needs a new key (``fnn.random.split``).
    """

    def __init__(self, leaves, treedef, order, batch_size: int, drop_last: bool):
        self._leaves, self._treedef, self._order = leaves, treedef, order
        self.batch_size, self.drop_last = batch_size, drop_last
        self.num_examples = len(leaves[0])

    def __len__(self) -> int:
        full, rest = divmod(self.num_examples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[Any]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            # Without shuffling, basic slices are views: no copy of the data set.
            index = slice(start, stop) if self._order is None else self._order[start:stop]
            yield tree_unflatten(self._treedef, [leaf[index] for leaf in self._leaves])


def batches(
    data: Any,
    batch_size: int,
    *,
    key: Any = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Batches:
    """Split a pytree of arrays into minibatches along the leading axis.

    Every leaf must have the same leading size N. Each batch is a pytree of the same
    structure whose leaves hold ``batch_size`` examples (the last may hold fewer, unless
    ``drop_last=True`` drops it). With ``shuffle=True`` (the default) the order is the
    permutation ``fnn.random.permutation(key, N)``, so the same key gives the same
    order; ``key`` is then required. Errors are raised here, not at the first batch.

    Example:
        >>> import fnn
        >>> x, y = np.zeros((100, 3)), np.arange(100)
        >>> for xb, yb in batches((x, y), 32, key=fnn.random.key(0)):  # doctest: +SKIP
        ...     print(xb.shape, yb.shape)
        (32, 3) (32,)
        (32, 3) (32,)
        (32, 3) (32,)
        (4, 3) (4,)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"batches: batch_size must be an int, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}")
    leaves, treedef = tree_flatten(data)
    if not leaves:
        raise ValueError("batches: data has no arrays (an empty pytree)")
    # np.asarray: fnn arrays become numpy views (no copy), so indexing is plain numpy.
    leaves = [np.asarray(leaf) for leaf in leaves]
    if any(leaf.ndim == 0 for leaf in leaves):
        shapes = [leaf.shape for leaf in leaves]
        raise ValueError(f"batches: every leaf needs a leading axis; leaf shapes are {shapes}")
    sizes = [leaf.shape[0] for leaf in leaves]
    if len(set(sizes)) > 1:
        raise ValueError(
            f"batches: all leaves must have the same leading size, got sizes {sizes} "
            f"(in the order of tree_leaves(data))"
        )
    order = None
    if shuffle:
        if key is None:
            raise ValueError(
                "batches: shuffle=True needs a PRNG key, e.g. key=fnn.random.key(0); "
                "or pass shuffle=False to keep the original order"
            )
        order = np.asarray(random.permutation(key, sizes[0]))
    return Batches(leaves, treedef, order, int(batch_size), drop_last)
