"""Fixtures for the fnn.nn tests: float64 mode and a seeded numpy generator."""

import numpy as np
import pytest

import fnn


@pytest.fixture
def x64():
    """float64 defaults for finite-difference checks, restored afterwards."""
    previous = fnn.config.x64_enabled
    fnn.config.update("enable_x64", True)
    try:
        yield
    finally:
        fnn.config.update("enable_x64", previous)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
