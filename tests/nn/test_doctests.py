"""The examples in fnn.nn's docstrings run and print what they claim."""

import doctest
import importlib

import pytest

import fnn
import fnn.numpy as fnp
import fnn.random

MODULES = [
    "fnn.nn",
    "fnn.nn.activations",
    "fnn.nn.attention",
    "fnn.nn.base",
    "fnn.nn.dropout",
    "fnn.nn.initializers",
    "fnn.nn.linear",
    "fnn.nn.losses",
    "fnn.nn.normalization",
    "fnn.nn.positional",
    "fnn.nn.summary",
    "fnn.nn.transformer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        extraglobs={"fnn": fnn, "fnp": fnp},
        optionflags=doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.failed == 0
