"""Every test starts and ends in fnn's default precision (float32/int32)."""

import pytest

import fnn


@pytest.fixture(autouse=True)
def _default_precision():
    fnn.config.update("enable_x64", False)
    yield
    fnn.config.update("enable_x64", False)
