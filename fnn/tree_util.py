"""Pytrees: nested containers whose leaves are arrays.

A pytree is a leaf or a registered container (tuple, list, dict, namedtuple, None,
or a class registered with :func:`register_pytree_node`) of pytrees. Transforms
flatten their inputs to a list of leaves plus a :class:`PyTreeDef`, work on the
leaves, and unflatten the results.

Example:
    >>> from fnn.tree_util import tree_map
    >>> tree_map(lambda x: x * 2, {"a": 1, "b": (2, 3)})
    {'a': 2, 'b': (4, 6)}
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_structure",
    "tree_map",
    "tree_reduce",
    "tree_all",
    "treedef_is_leaf",
]


class _NodeType(NamedTuple):
    name: str
    to_iterable: Callable[[Any], tuple[tuple, Hashable]]
    from_iterable: Callable[[Hashable, tuple], Any]


_registry: dict[type, _NodeType] = {}


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Any, Hashable]],
    unflatten_func: Callable[[Hashable, Any], Any],
) -> None:
    """Register a container class as a pytree node.

    ``flatten_func(x) -> (children, aux_data)`` where aux_data is hashable static
    data; ``unflatten_func(aux_data, children) -> x``.

    Example:
        >>> class Point:
        ...     def __init__(self, x, y): self.x, self.y = x, y
        >>> register_pytree_node(Point, lambda p: ((p.x, p.y), None),
        ...                      lambda aux, ch: Point(*ch))
    """
    _registry[nodetype] = _NodeType(
        nodetype.__name__, lambda x: _as_tuple(flatten_func(x)), unflatten_func
    )


def _as_tuple(pair):
    children, aux = pair
    return tuple(children), aux


def _dict_flatten(d):
    keys = list(d)
    # String keys (the usual case) sort the same with and without _sort_key, faster without.
    if all(type(k) is str for k in keys):
        keys.sort()
    else:
        keys.sort(key=_sort_key)
    return tuple([d[k] for k in keys]), tuple(keys)


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, str) else ("", k)


# The built-in containers return (tuple children, aux) themselves: registered without
# register_pytree_node's converting wrapper, one Python call less per node on every flatten.
_registry[tuple] = _NodeType("tuple", lambda t: (t, None), lambda _, ch: tuple(ch))
_registry[list] = _NodeType("list", lambda x: (tuple(x), None), lambda _, ch: list(ch))
_registry[dict] = _NodeType(
    "dict", _dict_flatten, lambda keys, ch: dict(zip(keys, ch, strict=True))
)
_registry[type(None)] = _NodeType("NoneType", lambda _: ((), None), lambda _, ch: None)


def _node_type(x) -> _NodeType | None:
    nt = _registry.get(type(x))
    if nt is None and isinstance(x, tuple) and hasattr(x, "_fields"):
        # namedtuples: every subclass of tuple with _fields, rebuilt by its own class.
        return _NodeType(type(x).__name__, lambda t: (tuple(t), type(t)), lambda cls, ch: cls(*ch))
    return nt


class PyTreeDef:
    """The structure of a pytree: node types, static data and child structures."""

    __slots__ = ("node", "aux", "children", "num_leaves", "_sig", "_hash")

    def __init__(self, node: _NodeType | None, aux: Hashable, children: tuple[PyTreeDef, ...]):
        self.node = node
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if node is None else sum(c.num_leaves for c in children)
        # The structure as nested plain tuples, built once from the children's: jit hashes
        # and compares a new treedef on every call, and tuples do that in C.
        name = None if node is None else node.name
        self._sig = (name, aux, tuple([c._sig for c in children]))
        self._hash = None

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._sig == other._sig

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self._sig)
        return self._hash

    def __repr__(self):
        return f"PyTreeDef({self._pretty()})"

    def _pretty(self) -> str:
        if self.node is None:
            return "*"
        kids = [c._pretty() for c in self.children]
        name = self.node.name
        if name == "NoneType":
            return "None"
        if name == "tuple":
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if name == "list":
            return "[" + ", ".join(kids) + "]"
        if name == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, kids, strict=True)) + "}"
        return f"{name}(" + ", ".join(kids) + ")"

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)


_LEAF = PyTreeDef(None, None, ())


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.node is None


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None):
    """Flatten a pytree into ``(leaves, treedef)``.

    Example:
        >>> leaves, treedef = tree_flatten({"b": 2, "a": [1, None]})
        >>> leaves
        [1, 2]
    """
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def _flatten(x, leaves, is_leaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    nt = _node_type(x)
    if nt is None:
        leaves.append(x)
        return _LEAF
    children, aux = nt.to_iterable(x)
    return PyTreeDef(nt, aux, tuple([_flatten(c, leaves, is_leaf) for c in children]))


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a pytree from a treedef and its leaves (inverse of tree_flatten)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef} has {treedef.num_leaves} leaves, "
            f"but {len(leaves)} leaves were given"
        )
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(treedef: PyTreeDef, it):
    if treedef.node is None:
        return next(it)
    children = tuple([_unflatten(c, it) for c in treedef.children])
    return treedef.node.from_iterable(treedef.aux, children)


def leaf_paths(tree: Any, prefix: str = "") -> list[str]:
    """A readable path for each leaf of ``tree``, in flattening order (for error messages).

    Example:
        >>> leaf_paths({"w": [1, 2], "b": 3}, "params")
        ["params['b']", "params['w'][0]", "params['w'][1]"]
    """
    nt = _node_type(tree)
    if nt is None:
        return [prefix]
    children, aux = nt.to_iterable(tree)
    if isinstance(tree, dict):
        keys = [f"[{k!r}]" for k in aux]
    elif isinstance(tree, tuple) and hasattr(tree, "_fields"):
        keys = [f".{name}" for name in tree._fields]
    else:
        keys = [f"[{i}]" for i in range(len(children))]
    return [p for c, k in zip(children, keys, strict=True) for p in leaf_paths(c, prefix + k)]


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of a pytree, in flattening order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The treedef of a pytree."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf=None) -> Any:
    """Apply ``f`` leafwise to one or more pytrees of the same structure.

    Example:
        >>> tree_map(lambda a, b: a + b, {"w": 1, "b": 2}, {"w": 10, "b": 20})
        {'b': 22, 'w': 11}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    all_leaves = [leaves]
    for i, r in enumerate(rest):
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise ValueError(
                "tree_map: all trees must have the same structure, but tree 0 is "
                f"{treedef} and tree {i + 1} is {r_def}"
            )
        all_leaves.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(*all_leaves, strict=True)])


def tree_reduce(f: Callable[[Any, Any], Any], tree: Any, initializer: Any = None) -> Any:
    """Fold ``f`` over the leaves of a pytree."""
    import functools

    leaves = tree_leaves(tree)
    if initializer is None:
        return functools.reduce(f, leaves)
    return functools.reduce(f, leaves, initializer)


def tree_all(tree: Any) -> bool:
    """True when every leaf is truthy."""
    return all(bool(x) for x in tree_leaves(tree))
