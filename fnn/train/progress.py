"""A small progress bar for training loops, written to stderr.

On a terminal the bar redraws in place (``\\r``) at most ~10 times a second. When the
output is not a terminal (a log file, CI, pytest's capture) it stays quiet and prints
one summary line when the loop ends, so a log gets one line per epoch.

Example:
    >>> for epoch in range(1, 3):  # doctest: +SKIP
    ...     bar = progress(batches, desc=f"epoch {epoch}/2")
    ...     for batch in bar:
    ...         loss = step(batch)
    ...         bar.set_postfix(loss=loss)
    epoch 1/2: 100%|####################| 50/50 [00:01<00:00, 48.7 it/s] loss=0.4321
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Generic, TypeVar

import numpy as np

__all__ = ["Progress", "progress"]

T = TypeVar("T")


def _fmt_time(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    try:
        x = np.asarray(v)
    except Exception:
        return str(v)
    if x.size == 1 and x.dtype.kind in "biuf":
        x = x.reshape(()).item()
        return f"{x:.4g}" if isinstance(x, float) else str(x)
    return str(v)


class Progress(Generic[T]):
    """A progress bar over an iterable; see :func:`progress`."""

    def __init__(
        self,
        iterable: Iterable[T] | None = None,
        total: int | None = None,
        desc: str = "",
        *,
        file: IO[str] | None = None,
        disable: bool = False,
        force: bool = False,
        min_interval: float = 0.1,
        unit: str = "it",
        width: int = 20,
    ):
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.unit = unit
        self.width = width
        self.min_interval = min_interval
        # Resolve stderr now, not at import, so redirection (capsys, contextlib) is honoured.
        self.file = sys.stderr if file is None else file
        self.disable = disable
        isatty = getattr(self.file, "isatty", None)
        self.live = not disable and (force or bool(isatty and isatty()))
        self.n = 0
        self.postfix: dict[str, str] = {}
        self.start = time.perf_counter()
        self._last_draw = -float("inf")
        self._last_len = 0
        self._closed = False

    # -- the public surface ----------------------------------------------------

    def __iter__(self) -> Iterator[T]:
        if self.iterable is None:
            raise TypeError("Progress: no iterable given; call update() by hand instead")
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self) -> Progress[T]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps (redraws at most every ``min_interval`` seconds)."""
        self.n += n
        self._maybe_draw()

    def set_postfix(self, **values: Any) -> None:
        """Show ``key=value`` pairs after the bar, e.g. ``set_postfix(loss=0.12)``."""
        self.postfix.update({k: _fmt_value(v) for k, v in values.items()})
        self._maybe_draw()

    def set_description(self, desc: str) -> None:
        """Replace the text before the bar."""
        self.desc = desc
        self._maybe_draw()

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was created."""
        return time.perf_counter() - self.start

    def close(self) -> None:
        """Draw the final state and end the line (a summary line when not live)."""
        if self._closed:
            return
        self._closed = True
        if self.disable:
            return
        if self.live:
            self._draw()
            self.file.write("\n")
        else:
            self.file.write(self.summary() + "\n")
        self.file.flush()

    # -- rendering -------------------------------------------------------------

    def _rate(self) -> str:
        elapsed = self.elapsed
        if self.n == 0 or elapsed <= 0:
            return f"? {self.unit}/s"
        rate = self.n / elapsed
        return f"{rate:.3g} {self.unit}/s" if rate >= 1 else f"{1 / rate:.3g} s/{self.unit}"

    def _postfix(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.postfix.items())

    def line(self) -> str:
        """The bar as a string: ``desc: 40%|########            | 4/10 [00:01<00:01, 3.2 it/s]``."""
        head = f"{self.desc}: " if self.desc else ""
        elapsed = self.elapsed
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(frac * self.width)
            bar = "#" * filled + " " * (self.width - filled)
            eta = elapsed / self.n * (self.total - self.n) if self.n else 0.0
            text = (
                f"{head}{frac * 100:3.0f}%|{bar}| {self.n}/{self.total} "
                f"[{_fmt_time(elapsed)}<{_fmt_time(eta)}, {self._rate()}]"
            )
        else:
            text = f"{head}{self.n} {self.unit} [{_fmt_time(elapsed)}, {self._rate()}]"
        post = self._postfix()
        return f"{text} {post}" if post else text

    def summary(self) -> str:
        """One line for logs: ``desc: 10/10 it in 1.23s (8.1 it/s), loss=0.1``."""
        head = f"{self.desc}: " if self.desc else ""
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        post = self._postfix()
        text = f"{head}{count} {self.unit} in {self.elapsed:.2f}s ({self._rate()})"
        return f"{text}, {post}" if post else text

    def _maybe_draw(self) -> None:
        if not self.live or self._closed:
            return
        now = time.perf_counter()
        if now - self._last_draw >= self.min_interval:
            self._draw(now)

    def _draw(self, now: float | None = None) -> None:
        self._last_draw = time.perf_counter() if now is None else now
        text = self.line()
        # Pad with spaces so a shorter line fully covers the previous one.
        pad = " " * max(0, self._last_len - len(text))
        self._last_len = len(text)
        self.file.write("\r" + text + pad)
        self.file.flush()


def progress(
    iterable: Iterable[T] | None = None,
    total: int | None = None,
    desc: str = "",
    *,
    file: IO[str] | None = None,
    disable: bool = False,
    force: bool = False,
    min_interval: float = 0.1,
    unit: str = "it",
) -> Progress[T]:
    """Wrap an iterable in a progress bar showing count, speed, ETA and a postfix.

    - On a terminal: redrawn in place with ``\\r``, at most every ``min_interval`` s.
    - Not a terminal: quiet while running, one summary line when the loop ends.
    - ``force=True`` draws live updates even when ``file`` is not a terminal.
    - ``disable=True`` prints nothing at all.

    ``file`` defaults to ``sys.stderr``. Use one bar per epoch to get one line per epoch.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = progress(range(3), desc="epoch 1/1", file=out)
        >>> for _ in bar:
        ...     bar.set_postfix(loss=0.25)
        >>> out.getvalue().startswith("epoch 1/1: 3/3 it in ")
        True
    """
    return Progress(
        iterable,
        total,
        desc,
        file=file,
        disable=disable,
        force=force,
        min_interval=min_interval,
        unit=unit,
    )
