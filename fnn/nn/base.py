"""The layer protocol, and layers that hold no weights: Sequential, Flatten, Lambda.

The protocol
------------
A layer is a small immutable object (a frozen dataclass) holding hyperparameters
only. Weights live outside it, in *params*: nested dicts of arrays with readable
names, Flax's (``{"kernel": ..., "bias": ...}`` for Dense; ``{}`` for a layer without
weights). Every layer has

``params = layer.init(key, input_shape)``
    ``input_shape`` is the full shape of an example input batch, batch axis included,
    e.g. ``(1, 784)`` or ``(1, 28, 28, 1)``. ``key`` is an ``fnn.random`` key.
``y = layer.apply(params, x, *, key=None, train=False)``
    Pure. ``key`` feeds randomness (dropout) and is only needed when ``train=True``;
    ``train`` switches training behaviour (dropout, batch statistics). Layers that use
    neither accept and ignore both, so containers can pass them to every layer.
``layer.output_shape(input_shape) -> tuple``
    The output shape for an input shape, computed without running the layer, so that
    ``Sequential.init`` can chain shapes.

Stateful layers (``BatchNorm``) set the class attribute ``stateful = True`` and keep
their running statistics out of params, in a separate *state* pytree:
``state = layer.init_state(input_shape)`` and
``y, new_state = layer.apply(params, x, state=state, train=True)``. In eval mode
(``train=False``) they use the running statistics and return the state unchanged.
Nothing mutates: the caller threads the new state into the next step.

Activations are plain functions (``fnn.nn.relu``). To use one as a layer, pass it to
``Sequential`` as it is, or wrap it yourself: ``Lambda(relu)``. ``Lambda`` turns any
parameter-free function of one array into a layer.

Subclassing :class:`Module` gives the defaults (no params, shape-preserving); any
object with the three methods is a layer (duck typing), as is any frozen dataclass.

Example:
    >>> import fnn.random
    >>> from fnn.nn import Dense, Sequential, relu
    >>> model = Sequential([Dense(32), relu, Dense(10)])
    >>> params = model.init(fnn.random.key(0), (1, 784))
    >>> list(params)
    ['dense_0', 'dense_2']
    >>> model.apply(params, fnn.numpy.zeros((5, 784))).shape
    (5, 10)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn import config, random

__all__ = [
    "Layer",
    "Module",
    "Sequential",
    "Lambda",
    "Flatten",
    "layer_name",
    "split_key",
    "Params",
]

Params = dict[str, Any]


@runtime_checkable
class Layer(Protocol):
    """What every layer provides (see the module docstring)."""

    def init(self, key: Any, input_shape: Sequence[int]) -> Params: ...

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any: ...

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]: ...


class Module:
    """Defaults for the protocol: no parameters, no state, shape-preserving.

    Subclasses are frozen dataclasses that override what differs.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Double(Module):
        ...     def apply(self, params, x, *, key=None, train=False):
        ...         return 2 * x
        >>> Double().apply({}, fnn.numpy.ones(2))
        Array([2., 2.], dtype=float32)
    """

    stateful: ClassVar[bool] = False

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        return {}

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(input_shape)

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.apply")


def layer_name(layer: Any) -> str:
    """The name a container gives a layer: its ``name`` if set, else its class, lowercased.

    Example:
        >>> layer_name(Flatten())
        'flatten'
    """
    name = getattr(layer, "name", None)
    return name if isinstance(name, str) and name else type(layer).__name__.lower()


def _abstract_output_shape(fn: Callable, input_shape: Sequence[int]) -> tuple[int, ...]:
    # Trace, don't run: the shape comes from the jaxpr's output type. A broadcast zero is
    # a zero-byte example input.
    example = np.broadcast_to(np.zeros((), config.default_float()), tuple(input_shape))
    (aval,) = fnn.make_jaxpr(fn)(example).out_avals
    return tuple(aval.shape)


@dataclass(frozen=True)
class Lambda(Module):
    """A parameter-free layer applying ``fn(x)``; ``name`` defaults to ``fn.__name__``.

    Example:
        >>> from fnn.nn import relu
        >>> Lambda(relu).apply({}, fnn.numpy.asarray([-1.0, 1.0]))
        Array([0., 1.], dtype=float32)
    """

    fn: Callable[[Any], Any]
    name: str | None = None

    def __post_init__(self):
        if self.name is None:
            fn_name = getattr(self.fn, "__name__", "lambda").strip("<>")
            object.__setattr__(self, "name", fn_name or "lambda")

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        return self.fn(x)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return _abstract_output_shape(self.fn, input_shape)


@dataclass(frozen=True)
class Flatten(Module):
    """Flattens all axes but the batch axis: ``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``.

    Example:
        >>> Flatten().apply({}, fnn.numpy.zeros((2, 3, 4))).shape
        (2, 12)
    """

    def apply(self, params: Params, x: Any, *, key: Any = None, train: bool = False) -> Any:
        return fnp.reshape(x, (x.shape[0], -1))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return (input_shape[0], math.prod(input_shape[1:]))


def split_key(key: Any, n: int) -> list[Any]:
    """``n`` independent keys from ``key`` as a list (``n`` Nones if ``key`` is None).

    Example:
        >>> k1, k2 = split_key(fnn.random.key(0), 2)
        >>> split_key(None, 2)
        [None, None]
    """
    if key is None:
        return [None] * n
    keys = random.split(key, n)
    return [keys[i] for i in range(n)]


@dataclass(frozen=True)
class Sequential(Module):
    """Layers applied one after the other.

    Params (and state) are dicts keyed ``f"{layer_name(layer)}_{i}"`` (``dense_0``,
    ``batchnorm_1``, ...) in layer order; layers without params are left out, as in
    Flax. Plain functions in ``layers`` are wrapped in :class:`Lambda`. ``apply``
    gives each layer its own key (split from ``key``) and the same ``train`` flag.

    If any layer is stateful, so is the Sequential: ``state = model.init_state(shape)``
    and ``y, state = model.apply(params, x, state=state, train=True)``. Whenever
    ``state`` is given, ``apply`` returns ``(y, new_state)``.

    Example:
        >>> import fnn.random
        >>> from fnn.nn import BatchNorm, Dense, relu
        >>> model = Sequential([Dense(16), BatchNorm(), relu, Dense(1)])
        >>> params = model.init(fnn.random.key(0), (1, 8))
        >>> state = model.init_state((1, 8))
        >>> y, state = model.apply(params, fnn.numpy.ones((4, 8)), state=state, train=True)
        >>> y.shape, list(state)
        ((4, 1), ['batchnorm_1'])
    """

    layers: Sequence[Any] = field(default_factory=tuple)

    def __post_init__(self):
        layers = tuple(layer if _is_layer(layer) else Lambda(layer) for layer in self.layers)
        object.__setattr__(self, "layers", layers)

    @property
    def names(self) -> list[str]:
        """The params/state key of each layer, in order."""
        return [f"{layer_name(layer)}_{i}" for i, layer in enumerate(self.layers)]

    @property
    def stateful(self) -> bool:  # type: ignore[override]
        return any(getattr(layer, "stateful", False) for layer in self.layers)

    def init(self, key: Any, input_shape: Sequence[int]) -> Params:
        params: Params = {}
        shape = tuple(input_shape)
        for name, layer, k in zip(
            self.names, self.layers, split_key(key, len(self.layers)), strict=True
        ):
            p = layer.init(k, shape)
            if p:
                params[name] = p
            shape = tuple(layer.output_shape(shape))
        return params

    def init_state(self, input_shape: Sequence[int]) -> Params:
        """Initial state of the stateful layers (an empty dict if there are none)."""
        state: Params = {}
        shape = tuple(input_shape)
        for name, layer in zip(self.names, self.layers, strict=True):
            if getattr(layer, "stateful", False):
                state[name] = layer.init_state(shape)
            shape = tuple(layer.output_shape(shape))
        return state

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        return shape

    def apply(
        self,
        params: Params,
        x: Any,
        *,
        key: Any = None,
        train: bool = False,
        state: Params | None = None,
    ) -> Any:
        if state is None and self.stateful:
            stateful = [
                n
                for n, l in zip(self.names, self.layers, strict=True)
                if getattr(l, "stateful", False)
            ]
            raise ValueError(
                f"Sequential.apply: layers {stateful} keep state (e.g. batch statistics); pass "
                "state=model.init_state(input_shape) and use the returned (y, new_state)."
            )
        new_state: Params = {}
        keys = split_key(key, len(self.layers))
        for name, layer, k in zip(self.names, self.layers, keys, strict=True):
            p = params.get(name, {})
            if getattr(layer, "stateful", False):
                x, new_state[name] = layer.apply(p, x, state=state[name], key=k, train=train)
            else:
                x = layer.apply(p, x, key=k, train=train)
        return x if state is None else (x, new_state)


def _is_layer(obj: Any) -> bool:
    return all(callable(getattr(obj, m, None)) for m in ("init", "apply", "output_shape"))
