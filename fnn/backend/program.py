"""A compiled program: what the backend hands back to ``jit``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Program"]


@dataclass(frozen=True)
class Program:
    """A compiled program: ``program(*numpy_arrays) -> list of numpy arrays``.

    ``source`` is the generated code (every part's, for a split program); ``plan`` the
    buffer plan of a program generated whole (``buffers.BufferPlan``) and ``arena`` the
    buffers it keeps between calls; ``split`` the batch split it runs, if any
    (``batch_split.SplitProgram``); ``namespace`` the globals the generated code runs in.
    """

    run: Callable[..., list]
    source: str
    plan: Any = None
    arena: Any = None
    split: Any = None
    namespace: dict | None = None
    jaxpr: Any = None  # the program it computes

    def __call__(self, *args) -> list:
        return self.run(*args)
