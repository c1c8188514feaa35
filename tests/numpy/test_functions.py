"""The fnn.numpy functions that are compositions of primitives (tests/numpy/cases.py),
against every property of the shared harness, and a check that the two tables together
cover the functions the core issue lists."""

from __future__ import annotations

from tests.lax.cases import CASES as PRIMITIVE_CASES
from tests.lax.properties import property_tests
from tests.numpy.cases import CASES

globals().update(property_tests(CASES))

ISSUE_FUNCTIONS = """
add subtract multiply divide true_divide floor_divide mod negative power square sqrt cbrt
reciprocal exp exp2 log log2 log10 log1p expm1 sin cos tan arcsin arccos arctan arctan2 sinh
cosh tanh arcsinh arccosh arctanh abs sign maximum minimum clip where floor ceil round equal
not_equal less less_equal greater greater_equal logical_and logical_or logical_not isfinite
isnan sum prod mean var std max min argmax argmin all any cumsum cumprod matmul dot vdot
tensordot einsum outer inner trace diag reshape ravel squeeze expand_dims transpose moveaxis
swapaxes broadcast_to concatenate stack hstack vstack split tile repeat pad flip roll take
take_along_axis triu tril
""".split()


def _covered() -> set[str]:
    names = set()
    for c in PRIMITIVE_CASES + CASES:
        names.update(c.api)
        if getattr(c.fn, "__module__", "").startswith("fnn.numpy"):
            names.add(c.fn.__name__)
    return names


def test_tables_cover_the_issue_functions():
    assert set(ISSUE_FUNCTIONS) - _covered() == set()
