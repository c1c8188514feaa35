"""param_count and summary."""

import fnn.numpy as fnp
import fnn.random
from fnn import nn
from fnn.nn.summary import named_leaves


def test_param_count_of_mlp():
    model = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(10)])
    params = model.init(fnn.random.key(0), (1, 784))
    assert nn.param_count(params) == 784 * 32 + 32 + 32 * 10 + 10
    assert nn.param_count({}) == 0


def test_summary_table():
    model = nn.Sequential([nn.Dense(3)] * 11)
    params = model.init(fnn.random.key(0), (1, 2))
    lines = nn.summary(params).splitlines()
    assert lines[0].split() == ["name", "shape", "dtype", "params"]
    body = [line.split() for line in lines[2:-2]]
    assert body[0] == ["dense_0/kernel", "(2,", "3)", "float32", "6"]
    assert body[1] == ["dense_0/bias", "(3,)", "float32", "3"]
    names = [row[0] for row in body]
    assert names.index("dense_2/kernel") < names.index("dense_10/kernel")  # numeric order
    assert lines[-1].split() == ["total", f"{nn.param_count(params):,}"]


def test_named_leaves_of_mixed_trees():
    tree = {"b": [fnp.ones(2), {"x": fnp.ones(3)}], "a": fnp.zeros(())}
    assert [n for n, _ in named_leaves(tree)] == ["b/0", "b/1/x", "a"]
    assert "total" in nn.summary(tree) and nn.param_count(tree) == 6
