"""The optimizer protocol: ``GradientTransformation(init, update)``, ``chain``, ``apply_updates``.

An optimizer is a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

States are pytrees (NamedTuples of fnn arrays), so a whole training step can be
wrapped in ``fnn.jit``.

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import optim
    >>> params = {"w": fnp.ones(2)}
    >>> opt = optim.chain(optim.clip(1.0), optim.sgd(0.1))
    >>> state = opt.init(params)
    >>> grads = fnn.grad(lambda p: fnp.sum(p["w"] ** 2))(params)
    >>> updates, state = opt.update(grads, state, params)
    >>> optim.apply_updates(params, updates)["w"]      # grads 2, clipped to 1
    Array([0.9, 0.9], dtype=float32)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import fnn.numpy as fnp
from fnn.optim import _tree
from fnn.tree_util import tree_map

__all__ = [
    "GradientTransformation",
    "EmptyState",
    "Schedule",
    "ScalarOrSchedule",
    "identity",
    "set_to_zero",
    "chain",
    "apply_updates",
]

Params = Any
Updates = Any
OptState = Any
Schedule = Callable[[Any], Any]
"""A function of the step count (an int32 scalar) returning a scalar."""
ScalarOrSchedule = float | Schedule


class TransformInitFn(Protocol):
    def __call__(self, params: Params) -> OptState: ...


class TransformUpdateFn(Protocol):
    def __call__(
        self, updates: Updates, state: OptState, params: Params | None = None
    ) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """A pair of pure functions ``init(params) -> state`` and
    ``update(updates, state, params=None, **extra_args) -> (updates, state)``.

    Transforms that need more than the gradients (the line searches need ``value``,
    ``grad`` and ``value_fn``) accept them as keyword arguments; ``chain`` forwards
    keyword arguments only to the transforms whose ``update`` takes ``**kwargs``.

    Example:
        >>> import fnn.numpy as fnp
        >>> double = GradientTransformation(
        ...     lambda params: EmptyState(),
        ...     lambda updates, state, params=None: (updates * 2.0, state))
        >>> double.update(fnp.ones(2), double.init(None))[0]
        Array([2., 2.], dtype=float32)
    """

    init: TransformInitFn
    update: TransformUpdateFn


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


def _init_empty(params: Params) -> EmptyState:
    del params
    return EmptyState()


def identity() -> GradientTransformation:
    """Pass updates through unchanged.

    Example:
        >>> import fnn.numpy as fnp
        >>> identity().update(fnp.ones(2), EmptyState())[0]
        Array([1., 1.], dtype=float32)
    """

    def update(updates, state, params=None):
        del params
        return updates, state

    return GradientTransformation(_init_empty, update)


def set_to_zero() -> GradientTransformation:
    """Replace every update by zeros (freezes the parameters it is applied to).

    Example:
        >>> import fnn.numpy as fnp
        >>> set_to_zero().update(fnp.ones(2), EmptyState())[0]
        Array([0., 0.], dtype=float32)
    """

    def update(updates, state, params=None):
        del params
        return _tree.zeros_like(updates), state

    return GradientTransformation(_init_empty, update)


def _takes_extra_args(update: Callable) -> bool:
    try:
        params = inspect.signature(update).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations in order; the state is the tuple of their states.

    Keyword arguments given to the chained ``update`` (e.g. ``value=``, ``value_fn=``
    for a line search) reach only the transforms whose ``update`` accepts ``**kwargs``.

    Example:
        >>> import fnn.numpy as fnp
        >>> from fnn.optim import scale, clip
        >>> opt = chain(clip(1.0), scale(-0.5))   # clip first, then scale
        >>> opt.update(fnp.array([4.0, -0.5]), opt.init(None))[0]
        Array([-0.5 ,  0.25], dtype=float32)
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"chain: argument {i} must be a GradientTransformation (an optimizer such as "
                f"fnn.optim.adam(1e-3) or a transform such as clip(1.0)), got {type(t).__name__}"
            )
    takes_extra = [_takes_extra_args(t.update) for t in transforms]

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None, **extra_args):
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(
                f"chain.update: expected the state made by this chain's init (a tuple of "
                f"{len(transforms)} states), got {type(state).__name__}"
                + (f" of length {len(state)}" if isinstance(state, tuple) else "")
            )
        new_state = []
        for t, s, extra in zip(transforms, state, takes_extra, strict=True):
            if extra:
                updates, s = t.update(updates, s, params, **extra_args)
            else:
                updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates`` leafwise, keeping each parameter's dtype.

    Example:
        >>> import fnn.numpy as fnp
        >>> apply_updates({"w": fnp.ones(2)}, {"w": fnp.array([0.5, -1.0])})
        {'w': Array([1.5, 0. ], dtype=float32)}
    """

    def add(p, u):
        p = fnp.asarray(p)
        return (p + u).astype(p.dtype)

    return tree_map(add, params, updates)
