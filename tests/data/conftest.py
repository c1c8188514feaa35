"""Fixtures for the fnn.data tests: an isolated environment and the real data sets."""

import io
import os
import urllib.error
from pathlib import Path

import pytest

import fnn.data.download

# Read before any test runs: the autouse fixture below hides it from the loaders.
REAL_DATA_DIR = os.environ.get("FNN_DATA_DIR") or None


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test sees the user's cache or $FNN_DATA_DIR unless it sets them itself."""
    monkeypatch.delenv("FNN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def real_data_dir() -> Path:
    if REAL_DATA_DIR is None:
        pytest.skip("FNN_DATA_DIR is not set: real-data tests need the shared data sets")
    return Path(REAL_DATA_DIR)


class FakeResponse(io.BytesIO):
    """What urlopen returns, enough for fnn.data.download: read(), headers, a context."""

    def __init__(self, data: bytes, on_read=None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self._on_read = on_read

    def read(self, *args):
        if self._on_read is not None:
            self._on_read()
        return super().read(*args)


class FakeWeb:
    """Replaces the URL opener: serves registered bytes, fails like an offline machine."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        self.requests: list[tuple[str, float]] = []
        self.on_read = None

    def serve(self, url: str, data: bytes) -> None:
        self.pages[url] = data

    def urlopen(self, url, timeout=None):
        self.requests.append((url, timeout))
        if url not in self.pages:
            raise urllib.error.URLError(OSError(-2, "Name or service not known"))
        return FakeResponse(self.pages[url], self.on_read)


@pytest.fixture
def fake_web(monkeypatch) -> FakeWeb:
    web = FakeWeb()
    monkeypatch.setattr(fnn.data.download, "_urlopen", web.urlopen)
    return web
