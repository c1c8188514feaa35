"""The rest of fnn.numpy's breadth (tests/numpy/cases_more.py) against every property of
the shared harness: numpy agreement in float32 and float64, first and second derivatives
against finite differences, the vjp/jvp adjoint identity, jit and vmap."""

from __future__ import annotations

from tests.lax.properties import property_tests
from tests.numpy.cases_more import CASES

globals().update(property_tests(CASES))
