"""The examples in fnn.optim's docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "base",
    "transforms",
    "clipping",
    "wrappers",
    "alias",
    "schedules",
    "linesearch",
    "zoom_linesearch",
    "backtracking_linesearch",
    "lbfgs",
    "minimize",
]


@pytest.mark.parametrize("name", ["fnn.optim", *(f"fnn.optim.{m}" for m in MODULES)])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
