"""``masked``: apply a transformation to a subset of the parameters only.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn import optim
    >>> params = {"w": fnp.ones(2), "b": fnp.ones(2)}
    >>> decay = optim.masked(optim.add_decayed_weights(0.5), {"w": True, "b": False})
    >>> grads = {"w": fnp.zeros(2), "b": fnp.zeros(2)}
    >>> decay.update(grads, decay.init(params), params)[0]
    {'b': Array([0., 0.], dtype=float32), 'w': Array([0.5, 0.5], dtype=float32)}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from fnn.optim.base import GradientTransformation, _takes_extra_args
from fnn.tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["masked", "MaskedState"]


class MaskedState(NamedTuple):
    """The inner transformation's state, built on the selected leaves only."""

    inner_state: Any


def _broadcast_mask(mask: Any, tree: Any) -> Any:
    """Expand a mask that is a prefix of ``tree`` (a bool may stand for a whole subtree)."""
    if isinstance(mask, bool):
        return tree_map(lambda _: mask, tree)
    if isinstance(mask, dict) and isinstance(tree, dict):
        if set(mask) != set(tree):
            raise ValueError(
                f"masked: the mask's keys {sorted(mask, key=str)} differ from the params' keys "
                f"{sorted(tree, key=str)}; give a mask with the same structure as params"
            )
        return {k: _broadcast_mask(mask[k], tree[k]) for k in tree}
    if isinstance(mask, list | tuple) and isinstance(tree, list | tuple):
        if len(mask) != len(tree):
            raise ValueError(
                f"masked: the mask has {len(mask)} entries where params have {len(tree)}"
            )
        kids = [_broadcast_mask(m, t) for m, t in zip(mask, tree, strict=True)]
        return type(tree)(*kids) if hasattr(tree, "_fields") else type(tree)(kids)
    raise TypeError(
        f"masked: expected a mask of Python bools with the structure of params (or a prefix "
        f"of it), got {type(mask).__name__} where params have {type(tree).__name__}"
    )


def _select(tree: Any, flags: list[bool]):
    """``tree`` with unselected leaves replaced by None (an empty subtree)."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [x if f else None for x, f in zip(leaves, flags, strict=True)])


def masked(
    inner: GradientTransformation, mask: Any | Callable[[Any], Any]
) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is True; others pass through unchanged.

    ``mask`` is a pytree of Python bools with the structure of params (or a prefix of
    it), or a function of params returning one. The inner transformation never sees the
    masked-out leaves, so e.g. a masked ``clip_by_global_norm`` measures only its own.

    Example:
        >>> import fnn.numpy as fnp
        >>> from fnn.optim import scale
        >>> opt = masked(scale(10.0), lambda p: {k: k == "w" for k in p})
        >>> g = {"w": fnp.ones(1), "b": fnp.ones(1)}
        >>> opt.update(g, opt.init(g), g)[0]
        {'b': Array([1.], dtype=float32), 'w': Array([10.], dtype=float32)}
    """

    takes_extra = _takes_extra_args(inner.update)

    def flags_for(tree):
        m = mask(tree) if callable(mask) else mask
        full = _broadcast_mask(m, tree)
        return [bool(f) for f in tree_flatten(full)[0]]

    def init(params):
        return MaskedState(inner.init(_select(params, flags_for(params))))

    def update(updates, state, params=None, **extra_args):
        flags = flags_for(updates if params is None else params)
        sel_params = None if params is None else _select(params, flags)
        kwargs = extra_args if takes_extra else {}
        new_sel, inner_state = inner.update(
            _select(updates, flags), state.inner_state, sel_params, **kwargs
        )
        old, treedef = tree_flatten(updates)
        new = iter(tree_flatten(new_sel)[0])
        merged = [next(new) if f else u for u, f in zip(old, flags, strict=True)]
        return tree_unflatten(treedef, merged), MaskedState(inner_state)

    return GradientTransformation(init, update)
