"""The table: one row per way of reaching each lax primitive (see harness.Case)."""

from tests.lax import cases_dot, cases_elementwise, cases_slicing, cases_structural

CASES = cases_elementwise.CASES + cases_structural.CASES + cases_slicing.CASES + cases_dot.CASES

names = [c.name for c in CASES]
assert len(names) == len(set(names)), "case names must be unique"
