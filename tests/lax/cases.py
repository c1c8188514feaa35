"""The table: every lax primitive of elementwise, structural, reductions, slicing, dot,
misc, complex_ops and fft, reached through the fnn.numpy function that binds it (fnn.lax where numpy has
none). See harness.Case for the columns.

To add a primitive: add a row to the matching cases_*.py with the numpy function that
binds it, its numpy reference, a spec strategy (shapes and parameters), a value domain
that keeps away from poles, branch cuts and kinks, whether it is differentiable, and
``prims=("name",)``. test_table_declares_every_primitive fails until some row does.
"""

from tests.lax import (
    cases_complex,
    cases_dot,
    cases_elementwise,
    cases_slicing,
    cases_structural,
)

CASES = (
    cases_elementwise.CASES
    + cases_structural.CASES
    + cases_slicing.CASES
    + cases_dot.CASES
    + cases_complex.CASES
)

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "case names must be unique"
