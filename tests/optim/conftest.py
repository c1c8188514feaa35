import pytest

import fnn


@pytest.fixture
def x64():
    """float64 arrays for the duration of one test (restored afterwards)."""
    before = fnn.config.x64_enabled
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", before)
