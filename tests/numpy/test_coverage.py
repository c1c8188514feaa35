"""How much of numpy's and jax.numpy's API fnn.numpy covers, held exactly.

The name lists are data (tests/numpy/numpy_names.py, generated once from numpy 2.4.6
and jax 0.10.2). ``NOT_PROVIDED`` names every listed function fnn.numpy lacks, with the
reason; the tests check both directions, so adding a function means taking it off the
list, and removing one means putting it back with a reason. At this commit fnn.numpy
provides 348 of numpy's 390 functions (89%) and 343 of jax.numpy's 344 (99.7%), all of
numpy.linalg's but ``test`` and all of jax.numpy.linalg's, and the six index tricks.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fnn.numpy as fnp
from tests.numpy.numpy_names import (
    INDEX_TRICKS,
    JAX_NUMPY_FUNCTIONS,
    JAX_NUMPY_LINALG_FUNCTIONS,
    NUMPY_FUNCTIONS,
    NUMPY_LINALG_FUNCTIONS,
)

_REASONS = {
    "dates and times: fnn arrays hold numbers and booleans only": """
        busday_count busday_offset datetime_as_string datetime_data is_busday isnat
    """,
    "memory layout, in-place writes and buffers, which immutable fnn arrays do not have": """
        asfortranarray copyto isfortran may_share_memory putmask require shares_memory
        getbufsize setbufsize nested_iters
    """,
    "numpy.matrix (deprecated in numpy itself)": "asmatrix bmat",
    "numpy's own floating-point error state and runtime introspection": """
        geterr seterr geterrcall seterrcall show_config show_runtime get_include info test
    """,
    "text files and string formatting: numpy's work on numpy arrays (np.asarray first)": """
        loadtxt savetxt genfromtxt fromregex base_repr binary_repr
        format_float_positional format_float_scientific
    """,
    "numpy's dtype-code helpers (the dtype questions fnn answers: promote_types, "
    "can_cast, result_type, isdtype)": "common_type mintypecode min_scalar_type typename",
    "an output dtype that depends on the values, which a traced program cannot know": (
        "real_if_close"
    ),
    "deprecated in numpy 2 (vstack)": "row_stack",
    "makes a ufunc object from a Python function (use fnn.numpy.vectorize)": "frompyfunc",
}
NOT_PROVIDED = {name: why for why, names in _REASONS.items() for name in names.split()}
NOT_PROVIDED_LINALG = {"test": "numpy's test runner"}

LISTED = sorted(set(NUMPY_FUNCTIONS) | set(JAX_NUMPY_FUNCTIONS))
LISTED_LINALG = sorted(set(NUMPY_LINALG_FUNCTIONS) | set(JAX_NUMPY_LINALG_FUNCTIONS))


def share(names: list[str], missing) -> float:
    return sum(name not in missing for name in names) / len(names)


@pytest.mark.parametrize("name", [n for n in LISTED if n not in NOT_PROVIDED])
def test_fnn_numpy_provides(name):
    assert callable(getattr(fnp, name, None)), f"fnn.numpy.{name} is missing or not callable"


@pytest.mark.parametrize("name", sorted(NOT_PROVIDED))
def test_the_list_of_what_is_not_provided_is_true(name):
    assert name in LISTED, f"{name} is in neither list: drop it from NOT_PROVIDED"
    assert not hasattr(fnp, name), f"fnn.numpy.{name} exists now: drop it from NOT_PROVIDED"


@pytest.mark.parametrize("name", [n for n in LISTED_LINALG if n not in NOT_PROVIDED_LINALG])
def test_fnn_numpy_linalg_provides(name):
    assert callable(getattr(fnp.linalg, name, None)), f"fnn.numpy.linalg.{name} is missing"


@pytest.mark.parametrize("name", INDEX_TRICKS)
def test_index_tricks_are_there(name):
    assert hasattr(getattr(fnp, name), "__getitem__")


def test_the_shares_covered():
    assert share(JAX_NUMPY_FUNCTIONS, NOT_PROVIDED) > 0.99
    assert share(NUMPY_FUNCTIONS, NOT_PROVIDED) > 0.89
    assert share(JAX_NUMPY_LINALG_FUNCTIONS, NOT_PROVIDED_LINALG) == 1.0
    assert len(NUMPY_FUNCTIONS) == 390 and len(JAX_NUMPY_FUNCTIONS) == 344


# ---- the issue's list: numpy's signature, keyword arguments included -------------------------

ISSUE_FUNCTIONS = """
append diagonal diff gradient kron cross rollaxis rot90 select partition argpartition
vsplit hsplit dsplit logaddexp2 real imag
""".split()
# numpy's ufunc machinery, which jax.numpy leaves out as well.
_UFUNC_KEYWORDS = {"out", "where", "casting", "order", "dtype", "subok", "signature"}


def _names(f) -> list[str]:
    return [
        p.name
        for p in inspect.signature(f).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


@pytest.mark.parametrize("name", ISSUE_FUNCTIONS)
def test_numpys_parameters_are_accepted(name):
    ours, theirs = _names(getattr(fnp, name)), _names(getattr(np, name))
    if isinstance(getattr(np, name), np.ufunc):
        theirs = [p for p in theirs if p not in _UFUNC_KEYWORDS]
    assert [p for p in theirs if p not in ours] == []
    # Positional parameters come in numpy's order.
    assert ours[: len(theirs)] == theirs or set(theirs) <= set(ours)


def test_linalg_pinv_eig_and_flatten_signatures():
    assert {"a", "rcond", "hermitian", "rtol"} <= set(_names(fnp.linalg.pinv))
    assert _names(fnp.linalg.eig) == ["a"] and _names(fnp.linalg.eigvals) == ["a"]
    assert _names(fnp.ones(2).flatten) == ["order"]
    assert fnp.r_ is not None and fnp.c_ is not None
