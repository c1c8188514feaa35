"""Partial derivatives of a pointwise network, for physics-informed losses.

A PINN's residual is a plain expression in ``u`` and its partial derivatives at a batch
of points. :func:`derivatives` computes them with forward-mode methods over the whole
batch: the network maps each row of ``points`` (N, d) to its own output, so its Jacobian
with respect to the points is block-diagonal, and the direction "ones in column k, zeros
elsewhere" gives d/dx_k at every point at once. It picks a method per request:

- a derivative along one axis (``u_x``, ``u_xxx``): Taylor mode (``fnn.jet``), one pass
  of k + 1 arrays for order k where nesting k ``jvp`` repeats work 2**k times;
- a Laplacian over some coordinates (``"laplacian"``): the forward Laplacian
  (``fnn.directional_laplacian``), one pass instead of d second derivatives;
- a mixed derivative (``u_xt``): nested ``jvp``.

``method="nested"`` (or ``"taylor"``) forces one. Under ``jit`` the forward pass that
the requests share is computed once (common-subexpression elimination merges the copies). Pass the points as
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

import numpy as np

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
    method: str = "auto",
) -> dict[str, Any]:
    """``u`` and the requested partial derivatives at every point, in a dict.

    ``u(params, X)`` maps points ``X`` of shape (N, d) to values of shape (N,) or (N, m),
    each row depending only on its own point (any MLP does). ``points`` is that (N, d)
    array with ``coords`` naming its columns, or a dict ``{name: (N,) array}`` whose
    columns are stacked in the dict's order (then ``coords`` is not needed).

    ``orders`` is either ``{name: highest order}`` (``{"t": 1, "x": 2}`` gives ``u_t``,
    ``u_x``, ``u_xx``) or a list of derivatives, each a string of one-letter names or a
    tuple of names (``["t", "xx", "xt"]`` gives ``u_t``, ``u_xx``, ``u_xt`` and, as
    by-products, ``u_x``). Keys are ``"u_"`` followed by the names. The request
    ``"laplacian"`` adds the Laplacian over every coordinate (key ``"laplacian"``),
    ``("laplacian", "x", "y")`` over some (key ``"laplacian_xy"``).

    ``method``: ``"auto"`` (Taylor mode along one axis, the forward Laplacian for
    Laplacians, nested ``jvp`` for mixed derivatives), ``"taylor"`` (the same, which is
    the default's choice), or ``"nested"`` (nested ``jvp`` for everything, the Laplacian
    as a sum of second derivatives). All agree to round-off.

    Example:
        >>> import fnn.numpy as fnp
        >>> u = lambda p, X: X[:, 0] ** 2 * X[:, 1]  # u = x^2 y
        >>> X = fnp.array([[1.0, 2.0], [3.0, 4.0]])
        >>> d = derivatives(u, None, X, ["x", "xx", "xy"], coords=("x", "y"))
        >>> d["u_x"], d["u_xx"], d["u_xy"]  # 2xy, 2y, 2x
        (Array([ 4., 24.], dtype=float32), Array([4., 8.], dtype=float32), Array([2., 6.], dtype=float32))
    """
    if method not in _METHODS:
        raise ValueError(f"derivatives: method must be one of {_METHODS}, got {method!r}")
    X, names = _as_matrix(points, coords)
    paths, laplacians = _requests(orders, names)
    f = lambda X_: u(params, X_)  # noqa: E731
    # One direction array per coordinate, shared by every request: equal inputs let CSE
    # merge the computations the requests have in common.
    directions: dict[int, Any] = {}
    for k in sorted({k for path in paths for k in path} | {k for c in laplacians for k in c}):
        directions[k] = _direction(X, k)
    out: dict[str, Any] = {}
    for path in paths:
        if method != "nested" and len(path) >= 2 and len(set(path)) == 1:
            values = _along_axis(f, X, directions[path[0]], len(path))
        else:
            values = _nested(f, [directions[k] for k in path])(X)
        for subset, value in values.items():
            out.setdefault(_name(names, [path[i] for i in subset]), value)
    for columns in laplacians:
        key = (
            "laplacian"
            if len(columns) == len(names)
            else "laplacian_" + "".join(names[k] for k in columns)
        )
        if method == "nested":
            second = [_nested(f, [directions[k]] * 2)(X)[(0, 1)] for k in columns]
            out[key] = sum(second[1:], second[0])
        else:
            out[key] = fnn.directional_laplacian(f, _coordinate_basis(X.shape, columns))(X)
    if "u" not in out:
        out["u"] = f(X)
    return out


_METHODS = ("auto", "taylor", "nested")


def _along_axis(f: Callable, X, direction, order: int) -> dict[tuple[int, ...], Any]:
    """{(): u, (0,): u_x, (0, 1): u_xx, ...} up to ``order`` by one Taylor-mode pass."""
    zero = fnp.zeros_like(direction)
    u0, derivs = fnn.jet(f, (X,), ([direction] + [zero] * (order - 1),))
    values = {(): u0}
    for k, d in enumerate(derivs, start=1):
        values[tuple(range(k))] = d
    return values


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


def _coordinate_basis(shape: tuple[int, ...], columns) -> np.ndarray:
    """Row k: ones in column ``columns[k]`` of every point (numpy: the shape is static, so
    this is a constant even when the points are traced under jit)."""
    basis = np.zeros((len(columns), *shape), dtype=np.float64)
    for row, k in enumerate(columns):
        basis[row, :, k] = 1.0
    return basis


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


def _requests(orders, names: tuple[str, ...]):
    """(derivatives as tuples of column indices, Laplacians as tuples of columns)."""
    if "laplacian" in names:
        raise ValueError("derivatives: 'laplacian' is a request, not a coordinate name")
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
        return [(column(name),) * n for name, n in orders.items() if n > 0], []
    paths, laplacians = [], []
    for spec in orders:
        if spec == "laplacian":
            laplacians.append(tuple(range(len(names))))
            continue
        if isinstance(spec, tuple | list) and spec and spec[0] == "laplacian":
            laplacians.append(tuple(column(name) for name in spec[1:]))
            continue
        if isinstance(spec, str):
            spec = (spec,) if spec in index else tuple(spec)
        paths.append(tuple(column(name) for name in spec))
    return paths, laplacians


def _name(names: tuple[str, ...], path: list[int]) -> str:
    return "u_" + "".join(names[k] for k in path) if path else "u"
