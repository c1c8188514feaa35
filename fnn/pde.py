"""Partial derivatives of a pointwise network, for physics-informed losses.

A PINN's residual is a plain expression in ``u`` and its partial derivatives at a batch
of points. :func:`derivatives` computes them with forward mode over the whole batch:
the network maps each row of ``points`` (N, d) to its own output, so its Jacobian with
respect to the points is block-diagonal, and one ``jvp`` with the tangent "ones in
column k, zeros elsewhere" gives du/dx_k at every point at once. Higher and mixed
orders nest ``jvp``; under ``jit`` the forward pass that the nested calls share is
computed once (common-subexpression elimination merges the copies). Pass the points as
arguments of the jitted function rather than closing over them: closed-over points are
constants, and constant folding currently gives each copy its own constant, which keeps
the copies apart (one extra forward pass per derivative nesting).

The heat equation u_t = alpha u_xx, checked on its exact solution exp(-alpha t) sin(x):

    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import pde
    >>> alpha = 0.5
    >>> def u(params, tx):  # any pointwise function of the rows (t, x); a network in practice
    ...     return fnp.exp(-params["alpha"] * tx[:, 0]) * fnp.sin(tx[:, 1])
    >>> tx = fnp.stack([fnp.linspace(0.0, 1.0, 7), fnp.linspace(-3.0, 3.0, 7)], axis=1)
    >>> d = pde.derivatives(u, {"alpha": alpha}, tx, {"t": 1, "x": 2}, coords=("t", "x"))
    >>> sorted(d)
    ['u', 'u_t', 'u_x', 'u_xx']
    >>> residual = d["u_t"] - alpha * d["u_xx"]
    >>> bool(fnp.max(fnp.abs(residual)) < 1e-5)
    True

The same with a network, as a training loss (``mlp`` is any ``(params, tx) -> (N,)``):

    >>> def heat_loss(params, tx):  # doctest: +SKIP
    ...     d = pde.derivatives(mlp, params, tx, {"t": 1, "x": 2}, coords=("t", "x"))
    ...     return fnp.mean((d["u_t"] - alpha * d["u_xx"]) ** 2)
    >>> value_and_grad = fnn.jit(fnn.value_and_grad(heat_loss))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import fnn
import fnn.numpy as fnp

__all__ = ["derivatives", "partial"]

# A derivative request: a coordinate name, a string of one-letter names ("xt"), or a
# tuple of names (("x1", "x1")).
Spec = str | Sequence[str]


def derivatives(
    u: Callable[[Any, Any], Any],
    params: Any,
    points: Any,
    orders: Mapping[str, int] | Sequence[Spec],
    *,
    coords: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``u`` and the requested partial derivatives at every point, in a dict.

    ``u(params, X)`` maps points ``X`` of shape (N, d) to values of shape (N,) or (N, m),
    each row depending only on its own point (any MLP does). ``points`` is that (N, d)
    array with ``coords`` naming its columns, or a dict ``{name: (N,) array}`` whose
    columns are stacked in the dict's order (then ``coords`` is not needed).

    ``orders`` is either ``{name: highest order}`` (``{"t": 1, "x": 2}`` gives ``u_t``,
    ``u_x``, ``u_xx``) or a list of derivatives, each a string of one-letter names or a
    tuple of names (``["t", "xx", "xt"]`` gives ``u_t``, ``u_xx``, ``u_xt`` and, as
    by-products of the nesting, ``u_x``). Keys are ``"u_"`` followed by the names.

    Example:
        >>> import fnn.numpy as fnp
        >>> u = lambda p, X: X[:, 0] ** 2 * X[:, 1]  # u = x^2 y
        >>> X = fnp.array([[1.0, 2.0], [3.0, 4.0]])
        >>> d = derivatives(u, None, X, ["x", "xx", "xy"], coords=("x", "y"))
        >>> d["u_x"], d["u_xx"], d["u_xy"]  # 2xy, 2y, 2x
        (Array([ 4., 24.], dtype=float32), Array([4., 8.], dtype=float32), Array([2., 6.], dtype=float32))
    """
    X, names = _as_matrix(points, coords)
    paths = _paths(orders, names)
    # One direction array per coordinate, shared by every nested jvp: equal inputs let
    # CSE merge the tangent computations the nestings have in common.
    directions: dict[int, Any] = {}
    for path in paths:
        for k in path:
            if k not in directions:
                directions[k] = _direction(X, k)
    out: dict[str, Any] = {}
    for path in paths:
        values = _nested(lambda X_: u(params, X_), [directions[k] for k in path])(X)
        for subset, value in values.items():
            out.setdefault(_name(names, [path[i] for i in subset]), value)
    return out


def partial(u: Callable[[Any, Any], Any], wrt: int, order: int = 1) -> Callable[[Any, Any], Any]:
    """The function ``(params, X) -> d^order u / dX[:, wrt]^order`` at every row of X.

    ``u(params, X)`` must be pointwise in the rows of X, as in :func:`derivatives`.
    Compose for mixed derivatives: ``partial(partial(u, 0), 1)`` is u_xy. Prefer
    :func:`derivatives` when a loss needs several derivatives: it shares their work.

    Example:
        >>> import fnn.numpy as fnp
        >>> u = lambda p, X: fnp.sin(X[:, 0]) * X[:, 1]
        >>> X = fnp.array([[0.0, 2.0]])
        >>> partial(u, wrt=0)(None, X), partial(partial(u, wrt=0), wrt=1)(None, X)
        (Array([2.], dtype=float32), Array([1.], dtype=float32))
    """
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"partial: order must be an integer >= 0, got {order!r}")

    def d(params, X):
        X = fnp.asarray(X)
        if X.ndim != 2 or not -X.shape[1] <= wrt < X.shape[1]:
            raise ValueError(
                f"partial: expected points of shape (N, d) with 0 <= wrt < d, got shape "
                f"{X.shape} and wrt={wrt}"
            )
        e = _direction(X, wrt % X.shape[1])
        values = _nested(lambda X_: u(params, X_), [e] * order)(X)
        return values[tuple(range(order))]

    return d


def _nested(f: Callable, directions: list) -> Callable[[Any], dict[tuple[int, ...], Any]]:
    """X -> {subset of positions in ``directions``: that mixed derivative of f}.

    Each level is one jvp of the level below, whose primal and tangent outputs are the
    derivatives without and with the new direction: k levels give all 2^k subsets.
    """
    if not directions:
        return lambda X: {(): f(X)}
    inner = _nested(f, directions[:-1])
    last = len(directions) - 1

    def g(X):
        primal, tangent = fnn.jvp(inner, (X,), (directions[-1],))
        return {**primal, **{s + (last,): v for s, v in tangent.items()}}

    return g


def _direction(X, k: int):
    """Ones in column k, zeros elsewhere: the tangent that picks d/dX[:, k] at every row."""
    column = fnp.arange(X.shape[1]) == k
    return fnp.broadcast_to(column.astype(X.dtype), X.shape)


def _as_matrix(points, coords) -> tuple[Any, tuple[str, ...]]:
    if isinstance(points, Mapping):
        names = tuple(points)
        if coords is not None and tuple(coords) != names:
            raise ValueError(
                f"derivatives: coords {tuple(coords)} differ from the keys of points {names}; "
                "leave coords out when points is a dict"
            )
        columns = [fnp.asarray(points[n]) for n in names]
        if not columns or any(c.ndim != 1 or c.shape != columns[0].shape for c in columns):
            shapes = {n: c.shape for n, c in zip(names, columns)}
            raise ValueError(f"derivatives: expected a dict of equal (N,) arrays, got {shapes}")
        return fnp.stack(columns, axis=1), names
    X = fnp.asarray(points)
    if X.ndim != 2:
        raise ValueError(
            f"derivatives: expected points of shape (N, d) (one row per point), got {X.shape}"
        )
    if coords is None:
        raise ValueError(
            f"derivatives: name the {X.shape[1]} columns of points, e.g. coords=('t', 'x')"
        )
    names = tuple(coords)
    if len(names) != X.shape[1] or len(set(names)) != len(names):
        raise ValueError(
            f"derivatives: coords must name the {X.shape[1]} columns of points once each, "
            f"got {names}"
        )
    return X, names


def _paths(orders, names: tuple[str, ...]) -> list[tuple[int, ...]]:
    """The requested derivatives as tuples of column indices."""
    index = {n: i for i, n in enumerate(names)}

    def column(name):
        if name not in index:
            raise ValueError(f"derivatives: unknown coordinate {name!r}; coords are {names}")
        return index[name]

    if isinstance(orders, Mapping):
        for name, n in orders.items():
            if not isinstance(n, int) or n < 0:
                raise ValueError(
                    f"derivatives: order of {name!r} must be an integer >= 0, got {n!r}"
                )
        return [(column(name),) * n for name, n in orders.items() if n > 0]
    paths = []
    for spec in orders:
        if isinstance(spec, str):
            spec = (spec,) if spec in index else tuple(spec)
        paths.append(tuple(column(name) for name in spec))
    return paths


def _name(names: tuple[str, ...], path: list[int]) -> str:
    return "u_" + "".join(names[k] for k in path) if path else "u"
