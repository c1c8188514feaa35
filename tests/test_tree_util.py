"""Pytrees: flatten/unflatten round trips, tree_map over several trees, registered
classes, and the error for mismatched structures."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.tree_util import (
    register_pytree_node,
    tree_all,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_reduce,
    tree_structure,
    tree_unflatten,
)

Point = namedtuple("Point", ["x", "y"])


class Box:
    """A user container registered as a pytree node, with static metadata."""

    def __init__(self, value, label):
        self.value = value
        self.label = label

    def __eq__(self, other):
        return isinstance(other, Box) and self.label == other.label and self.value == other.value

    def __repr__(self):
        return f"Box({self.value!r}, {self.label!r})"


register_pytree_node(Box, lambda b: ((b.value,), b.label), lambda label, ch: Box(ch[0], label))


_EXAMPLES = [
    1,
    None,
    (),
    [],
    {},
    (1, 2),
    [1, [2, 3]],
    {"b": 1, "a": 2},
    {"w": [1, 2], "b": (3, None)},
    Point(1, (2, 3)),
    Box(7, "seven"),
    Box([1, {"k": 2}], "nested"),
    [None, (None,), {"a": None}],
    {"layer": Point(x=Box(1, "a"), y=[2, 3])},
]


@pytest.mark.parametrize("tree", _EXAMPLES, ids=repr)
def test_flatten_unflatten_round_trip(tree):
    leaves, treedef = tree_flatten(tree)
    assert treedef.num_leaves == len(leaves)
    assert tree_unflatten(treedef, leaves) == tree
    assert tree_leaves(tree) == leaves
    assert tree_structure(tree) == treedef
    assert treedef.unflatten(leaves) == tree


def test_leaf_order_sorts_dict_keys():
    assert tree_leaves({"b": 1, "a": 2, "c": [3, 4]}) == [2, 1, 3, 4]


def test_none_is_an_empty_node():
    assert tree_leaves([None, 1, None]) == [1]
    assert tree_map(lambda x: x + 1, (None, 1)) == (None, 2)


def test_namedtuple_rebuilt_with_its_class():
    out = tree_map(lambda v: v * 10, Point(1, 2))
    assert type(out) is Point and out == Point(10, 20)
    # a namedtuple differs from a plain tuple with the same leaves
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))


def test_user_class_static_data_is_part_of_the_structure():
    assert tree_structure(Box(1, "a")) == tree_structure(Box(2, "a"))
    assert tree_structure(Box(1, "a")) != tree_structure(Box(1, "b"))
    out = tree_map(lambda v: v + 1, Box([1, 2], "lbl"))
    assert out == Box([2, 3], "lbl")


def test_tree_map_over_several_trees():
    a = {"w": [1, 2], "b": 3}
    b = {"w": [10, 20], "b": 30}
    c = {"w": [100, 200], "b": 300}
    assert tree_map(lambda x, y, z: x + y + z, a, b, c) == {"w": [111, 222], "b": 333}


def test_tree_map_with_arrays():
    params = {"w": fnp.ones((2, 2)), "b": fnp.zeros(2)}
    out = tree_map(lambda p: p * 2.0, params)
    np.testing.assert_array_equal(np.asarray(out["w"]), 2 * np.ones((2, 2)))
    assert out["b"].dtype == np.float32


def test_tree_map_is_leaf():
    tree = {"a": (1, 2), "b": (3, 4)}
    out = tree_map(lambda t: sum(t), tree, is_leaf=lambda x: isinstance(x, tuple))
    assert out == {"a": 3, "b": 7}


def test_tree_map_structure_mismatch_prints_both_structures():
    with pytest.raises(ValueError) as e:
        tree_map(lambda x, y: x + y, {"a": 1, "b": 2}, {"a": 1, "c": 2})
    msg = str(e.value)
    assert "'b'" in msg and "'c'" in msg
    with pytest.raises(ValueError) as e:
        tree_map(lambda x, y: x + y, [1, 2], (1, 2))
    msg = str(e.value)
    assert "[*, *]" in msg and "(*, *)" in msg
    with pytest.raises(ValueError, match=r"\[\*, \*\].*\[\*, \*, \*\]"):
        tree_map(lambda x, y: x + y, [1, 2], [1, 2, 3])


def test_unflatten_with_wrong_leaf_count():
    treedef = tree_structure({"a": 1, "b": [2, 3]})
    with pytest.raises(ValueError, match="3 leaves.*2 leaves"):
        tree_unflatten(treedef, [1, 2])


def test_tree_reduce_and_all():
    assert tree_reduce(lambda a, b: a + b, {"x": [1, 2], "y": 3}) == 6
    assert tree_reduce(lambda a, b: a + b, [1, 2], 10) == 13
    assert tree_all([True, (1, {"a": True})])
    assert not tree_all([True, (0,)])


def test_treedef_repr_is_readable():
    r = repr(tree_structure({"a": [1, None], "b": (2,)}))
    assert r == "PyTreeDef({'a': [*, None], 'b': (*,)})"


def test_fnn_tree_util_is_public():
    assert fnn.tree_util.tree_map is tree_map


# ----------------------------------------------------------------------------------------
# Random nested structures

_leaf = st.integers(-5, 5)


def _trees(leaves):
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(st.text("abcd", min_size=1, max_size=2), children, max_size=3),
            st.tuples(children, children).map(lambda t: Point(*t)),
            st.tuples(children, st.sampled_from(["p", "q"])).map(lambda t: Box(*t)),
            st.none(),
        ),
        max_leaves=10,
    )


@settings(max_examples=60, deadline=None)
@given(_trees(_leaf))
def test_random_trees_round_trip(tree):
    leaves, treedef = tree_flatten(tree)
    assert all(isinstance(x, int) for x in leaves)
    assert tree_unflatten(treedef, leaves) == tree
    assert tree_map(lambda x: x, tree) == tree
    doubled = tree_map(lambda x: 2 * x, tree)
    assert tree_leaves(doubled) == [2 * x for x in leaves]
    assert tree_structure(doubled) == treedef
    assert hash(tree_structure(doubled)) == hash(treedef)
    summed = tree_map(lambda x, y: x + y, tree, doubled)
    assert tree_leaves(summed) == [3 * x for x in leaves]


@settings(max_examples=60, deadline=None)
@given(_trees(_leaf), _trees(_leaf))
def test_random_tree_pairs_map_iff_same_structure(t1, t2):
    same = tree_structure(t1) == tree_structure(t2)
    if same:
        tree_map(lambda a, b: a + b, t1, t2)
    else:
        with pytest.raises(ValueError) as e:
            tree_map(lambda a, b: a + b, t1, t2)
        assert repr(tree_structure(t1))[10:-1] in str(e.value)
        assert repr(tree_structure(t2))[10:-1] in str(e.value)


def test_leaf_paths_name_each_leaf():
    from fnn.tree_util import leaf_paths

    tree = {"w": [1, Point(2, 3)], "b": (4,), "n": None}
    assert leaf_paths(tree, "p") == ["p['b'][0]", "p['w'][0]", "p['w'][1].x", "p['w'][1].y"]
    assert len(leaf_paths(tree)) == len(tree_leaves(tree))
