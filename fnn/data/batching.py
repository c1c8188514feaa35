"""Minibatches of a pytree of arrays that share a leading (example) dimension.

Under several processes (``fnn.distributed.initialize()``), each process gets its
share of every batch: batch ``i`` of the one-process epoch (``batch_size`` examples,
the *global* batch) is cut into ``process_count()`` consecutive parts and process
``k`` gets part ``k``. The union over processes is exactly the one-process epoch, and
every process yields the same number of batches (so they call their collectives the
same number of times). ``shard=(index, count)`` chooses the share by hand.

Example:
    >>> import numpy as np
    >>> from fnn.data import batches
    >>> data = {"x": np.arange(10).reshape(5, 2), "y": np.arange(5)}
    >>> [b["y"].tolist() for b in batches(data, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> [b["y"].tolist() for b in batches(data, 2, shuffle=False, shard=(1, 2))]
    [[1], [3], []]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from fnn import random
from fnn.distributed import runtime
from fnn.tree_util import tree_flatten, tree_unflatten


class Batches:
    """An iterable of minibatches with a length; built by :func:`batches`.

    Iterating again replays the same order: the permutation comes from the key, so a
    new epoch needs a new key (``fnn.random.split``). ``batches[i]`` is batch ``i``
    (this process's share of it), so a resumed run can start at any step.
    """

    def __init__(self, leaves, treedef, order, batch_size: int, drop_last: bool, shard=(0, 1)):
        self._leaves, self._treedef, self._order = leaves, treedef, order
        self.global_batch_size, self.drop_last = batch_size, drop_last
        self.shard = shard
        # The size of the batches this process gets (the last one may be smaller).
        self.batch_size = batch_size // shard[1]
        self.num_examples = len(leaves[0])

    def __len__(self) -> int:
        full, rest = divmod(self.num_examples, self.global_batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __getitem__(self, i: int) -> Any:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"Batches: batch {i} of {n}")
        i %= n
        start = i * self.global_batch_size
        size = min(self.global_batch_size, self.num_examples - start)
        # This process's consecutive part of the global batch; parts of a short last
        # batch differ by at most one example.
        index, count = self.shard
        base, extra = divmod(size, count)
        start += index * base + min(index, extra)
        stop = start + base + (1 if index < extra else 0)
        # Without shuffling, basic slices are views: no copy of the data set.
        rows = slice(start, stop) if self._order is None else self._order[start:stop]
        return tree_unflatten(self._treedef, [leaf[rows] for leaf in self._leaves])

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]


def batches(
    data: Any,
    batch_size: int | None = None,
    *,
    key: Any = None,
    shuffle: bool = True,
    drop_last: bool = False,
    shard: tuple[int, int] | None = None,
    per_process_batch_size: int | None = None,
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
    shard = _shard(shard)
    if (batch_size is None) == (per_process_batch_size is None):
        raise TypeError(
            "batches: give exactly one of batch_size (the global batch, all processes "
            f"together) and per_process_batch_size, got {batch_size!r} and "
            f"{per_process_batch_size!r}"
        )
    if per_process_batch_size is not None:
        _check_size("per_process_batch_size", per_process_batch_size)
        batch_size = int(per_process_batch_size) * shard[1]
    _check_size("batch_size", batch_size)
    if batch_size % shard[1]:
        raise ValueError(
            f"batches: batch_size {batch_size} (the global batch) is not a multiple of the "
            f"{shard[1]} processes; use a multiple of {shard[1]}, or per_process_batch_size"
        )
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
    return Batches(leaves, treedef, order, int(batch_size), drop_last, shard)


def _check_size(name: str, size: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise TypeError(f"batches: {name} must be an int, got {size!r}")
    if size < 1:
        raise ValueError(f"batches: {name} must be at least 1, got {size}")


def _shard(shard: Any) -> tuple[int, int]:
    if shard is None:
        return runtime.process_index(), runtime.process_count()
    ok = (
        isinstance(shard, tuple | list)
        and len(shard) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in shard)
        and 0 <= shard[0] < shard[1]
    )
    if not ok:
        raise ValueError(
            f"batches: shard must be (index, count) with 0 <= index < count, got {shard!r}"
        )
    return int(shard[0]), int(shard[1])
