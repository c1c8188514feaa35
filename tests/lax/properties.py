"""Selecting the rows of a table that a property applies to, with their xfail marks."""

from __future__ import annotations

import pytest

from tests.lax.harness import Case

PROPERTIES = (
    "numpy32",
    "numpy64",
    "first",
    "second",
    "zero",
    "adjoint",
    "jit",
    "vmap",
    "vmap_unbatched",
)


def params_for(cases: list[Case], prop: str, diff=None, hvp=None, min_args=0) -> list:
    """pytest params for the cases ``prop`` applies to.

    ``diff``: keep cases whose ``diff`` is this value (or in this tuple); ``hvp``: keep
    cases with second derivatives on; ``min_args``: keep cases with at least this many
    array arguments (their spec's first shapes tell). A case's ``xfail[prop]`` becomes a
    strict xfail mark, so a fixed bug turns the test red until the mark is removed.
    """
    assert prop in PROPERTIES, prop
    wanted = diff if isinstance(diff, tuple) else (diff,)
    out = []
    for c in cases:
        if diff is not None and c.diff not in wanted:
            continue
        if hvp is not None and c.hvp != hvp:
            continue
        if min_args and c.nargs < min_args:
            continue
        marks = [pytest.mark.xfail(reason=c.xfail[prop], strict=True)] if prop in c.xfail else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out
