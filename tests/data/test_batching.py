import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn.data.batching
from fnn.data import Batches, batches
from fnn.tree_util import tree_structure


def _data(n):
    return {"x": np.arange(n * 2).reshape(n, 2), "y": (np.arange(n), np.arange(n) * 10.0)}


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), drop_last=st.booleans())
def test_unshuffled_batches_cover_data_in_order(n, batch_size, drop_last):
    data = _data(n)
    out = list(batches(data, batch_size, shuffle=False, drop_last=drop_last))
    sizes = [len(b["y"][0]) for b in out]
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    assert len(batches(data, batch_size, shuffle=False, drop_last=drop_last)) == len(out)
    seen = np.concatenate([b["y"][0] for b in out]) if out else np.zeros(0, int)
    np.testing.assert_array_equal(seen, np.arange(len(seen)))
    for b in out:
        assert tree_structure(b) == tree_structure(data)
        np.testing.assert_array_equal(b["x"][:, 0], 2 * b["y"][0])  # rows stay aligned
        np.testing.assert_array_equal(b["y"][1], 10.0 * b["y"][0])


def test_example_sizes_and_views():
    x = np.arange(10)
    out = list(batches(x, 4, shuffle=False))
    assert [b.tolist() for b in out] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert np.shares_memory(out[0], x)  # slices, not copies
    assert [b.tolist() for b in batches(x, 4, shuffle=False, drop_last=True)] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]


def test_structures_kept():
    for tree in [(np.zeros((5, 3)), np.ones(5)), [np.zeros(5)], {"a": {"b": np.zeros((5, 1))}}]:
        b = next(iter(batches(tree, 2, shuffle=False)))
        assert tree_structure(b) == tree_structure(tree)


def test_mismatched_leading_sizes_named():
    with pytest.raises(ValueError, match=r"same leading size, got sizes \[5, 4\]"):
        batches((np.zeros(5), np.zeros((4, 2))), 2, shuffle=False)


def test_key_required_for_shuffle():
    with pytest.raises(ValueError, match="shuffle=True needs a PRNG key.*shuffle=False"):
        batches(np.zeros(5), 2)


@pytest.mark.parametrize(
    ("data", "size", "err", "pattern"),
    [
        (np.zeros(5), 0, ValueError, "batch_size must be at least 1, got 0"),
        (np.zeros(5), 2.0, TypeError, "batch_size must be an int, got 2.0"),
        ({}, 2, ValueError, "data has no arrays"),
        (
            (np.zeros(3), np.float32(1.0)),
            2,
            ValueError,
            r"leading axis; leaf shapes are \[\(3,\), \(\)\]",
        ),
    ],
)
def test_bad_arguments(data, size, err, pattern):
    with pytest.raises(err, match=pattern):
        batches(data, size, shuffle=False)


# --- shuffling with a stand-in fnn.random (tests this module's logic alone) ----------


@pytest.fixture
def fake_random(monkeypatch):
    calls = []

    def permutation(key, n):
        calls.append((key, n))
        return np.random.default_rng(key).permutation(n).astype(np.int32)

    module = types.ModuleType("fnn.random")
    module.permutation = permutation
    monkeypatch.setattr(fnn.data.batching, "random", module)
    return calls


def test_shuffle_uses_the_keys_permutation(fake_random):
    data = _data(10)
    out = list(batches(data, 3, key=7))
    perm = np.random.default_rng(7).permutation(10)
    np.testing.assert_array_equal(np.concatenate([b["y"][0] for b in out]), perm)
    np.testing.assert_array_equal(out[0]["x"], data["x"][perm[:3]])
    assert fake_random == [(7, 10)]


def test_shuffle_drop_last_and_replay(fake_random):
    it = batches(np.arange(10), 4, key=1, drop_last=True)
    assert isinstance(it, Batches) and len(it) == 2
    first, again = [b.tolist() for b in it], [b.tolist() for b in it]
    assert first == again and [len(b) for b in first] == [4, 4]
    assert len(set(sum(first, []))) == 8


# --- shuffling with the real fnn.random ------------------------------------------------


def _random():
    return pytest.importorskip("fnn.random", reason="fnn.random is not written yet")


def test_real_key_every_example_once_per_epoch():
    random = _random()
    n = 103
    out = list(batches({"i": np.arange(n)}, 10, key=random.key(0)))
    order = np.concatenate([b["i"] for b in out])
    assert sorted(order.tolist()) == list(range(n))
    assert not np.array_equal(order, np.arange(n))
    assert [len(b["i"]) for b in out] == [10] * 10 + [3]


def test_real_key_same_key_same_order_other_key_other_order():
    random = _random()
    x = np.arange(50)

    def order(key):
        return np.concatenate(list(batches(x, 8, key=key)))

    np.testing.assert_array_equal(order(random.key(3)), order(random.key(3)))
    assert not np.array_equal(order(random.key(3)), order(random.key(4)))
