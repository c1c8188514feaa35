"""Sorting: sort and argsort (placeholder module filled in by the sorting work)."""

from __future__ import annotations

__all__: list[str] = []
