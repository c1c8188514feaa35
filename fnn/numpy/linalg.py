"""fnn.numpy.linalg (filled in by the linear-algebra work)."""

from __future__ import annotations

__all__: list[str] = []
