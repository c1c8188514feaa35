"""Progress bars for training loops: tqdm's bars, one line per bar in a log.

:func:`progress` returns a :class:`Progress`, which is a ``tqdm.tqdm`` (so ``update``,
``set_postfix``, ``set_description``, ``write``, ``reset``, ``format_dict`` ... are
tqdm's) with the defaults a training loop wants:

- **On a terminal** it is tqdm's bar, redrawn in place at most every ``mininterval``
  seconds; a closed bar stays on screen, so an epoch leaves one line.
- **Not on a terminal** (a log file, CI, a pipe, pytest's capture) nothing is written
  while the loop runs, so a log never fills with carriage-return frames. When the bar
  closes it writes one line: the bar's final statistics without the bar itself (tqdm's
  ``ncols=0`` form), as Keras writes one line per epoch when its output is not
  interactive. ``disable=None`` (tqdm's meaning) writes nothing at all there instead,
  and ``force=True`` draws the live bar anyway (a notebook's output, which is not a
  terminal but redraws a line on ``\\r``, shows it well).
- ``disable=True`` writes nothing anywhere (the examples pass their ``--quiet`` flag).
- ``set_postfix`` takes fnn and numpy scalars, and by default does not redraw by itself
  (tqdm's default redraws at every call, which would bypass ``mininterval`` in a loop
  that sets the loss at every step): the next ``update`` shows it.
- It starts no monitor thread and creates no multiprocessing lock. A plain tqdm bar does
  both, and the lock fixes the process's multiprocessing start method, after which a
  user's ``multiprocessing.set_start_method("spawn")`` fails. Without the monitor
  thread ``miniters`` defaults to 1 (the time is checked at every update), so a loop
  that slows down is still redrawn on time.

Example:
    >>> import io
    >>> log = io.StringIO()  # not a terminal: one line when the epoch ends
    >>> bar = progress(range(50), desc="epoch 1/2", file=log)
    >>> for step in bar:
    ...     bar.set_postfix(loss=0.25)
    >>> log.getvalue().startswith("epoch 1/2: 100% 50/50 [00:00<00:00, ")
    True
    >>> log.getvalue().endswith("it/s, loss=0.25]\\n")
    True
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Generic, TypeVar

import numpy as np
from tqdm.std import TqdmDefaultWriteLock, tqdm

__all__ = ["Progress", "progress"]

T = TypeVar("T")


class _Sink:
    """Where a bar draws when its frames must not reach the user's stream."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _is_terminal(file: Any) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _plain(value: Any) -> Any:
    """A postfix value as tqdm formats it: a size-1 numeric array (an fnn or numpy scalar,
    a 0-d array) becomes a Python number, which tqdm shortens; anything else is unchanged."""
    if isinstance(value, (str, int, float)):
        return value
    try:
        x = np.asarray(value)
    except Exception:
        return value
    if x.size == 1 and x.dtype.kind in "iuf":
        return x.reshape(()).item()
    return value


class Progress(tqdm, Generic[T]):
    """A tqdm bar that writes one summary line when its output is not a terminal.

    Arguments are tqdm's (same order: ``iterable``, ``desc``, ``total``, then keywords)
    plus ``force``; see :func:`progress` for the differences from tqdm.

    Example:
        >>> import io
        >>> log = io.StringIO()
        >>> with Progress(total=4, desc="steps", file=log) as bar:
        ...     bar.update(4)
        >>> log.getvalue().startswith("steps: 100% 4/4 [")
        True
    """

    # No thread at call time: tqdm's monitor thread only corrects `miniters`, which is
    # 1 here by default.
    monitor_interval = 0
    # tqdm's default lock also creates a multiprocessing lock, which fixes the
    # process's start method; these bars take only tqdm's thread lock, which plain tqdm
    # bars take too, so bars of both kinds in several threads still draw in turn.
    _lock = getattr(TqdmDefaultWriteLock, "th_lock", None) or threading.RLock()

    def __init__(
        self,
        iterable: Iterable[T] | None = None,
        desc: str | None = None,
        total: float | None = None,
        *,
        file: IO[str] | None = None,
        disable: bool | None = False,
        force: bool = False,
        **tqdm_kwargs: Any,
    ):
        # Resolved now, not at import, so redirection (capsys, contextlib) is honoured.
        file = sys.stderr if file is None else file
        live = force or _is_terminal(file)
        if disable is None:
            disable = not live
        # Not live: tqdm draws into a sink, and close() writes one line to `file`.
        self._summary_file: IO[str] | None = None if disable or live else file
        tqdm_kwargs.setdefault("miniters", 1)
        super().__init__(
            iterable,
            desc,
            total,
            file=file if live or disable else _Sink(),
            disable=bool(disable),
            **tqdm_kwargs,
        )

    def __iter__(self) -> Iterator[T]:
        return super().__iter__()

    def set_postfix(
        self,
        ordered_dict: Mapping[str, Any] | None = None,
        refresh: bool = False,
        **kwargs: Any,
    ) -> None:
        """Show ``key=value`` pairs after the bar, e.g. ``set_postfix(loss=0.12)``.

        As tqdm's, except that values may be fnn or numpy scalars and ``refresh``
        defaults to False: the pairs appear at the next redraw, which ``update`` does at
        most every ``mininterval`` seconds. Pairs given as keywords are sorted by name.

        Example:
            >>> import io
            >>> bar = progress(total=2, file=io.StringIO())
            >>> bar.set_postfix(loss=np.float32(0.5), acc=0.75)
            >>> bar.postfix
            'acc=0.75, loss=0.5'
        """
        ordered = None if ordered_dict is None else {k: _plain(v) for k, v in ordered_dict.items()}
        plain = {k: _plain(v) for k, v in kwargs.items()}
        super().set_postfix(ordered, refresh=refresh, **plain)

    def summary(self) -> str:
        """The one line written when not on a terminal: tqdm's statistics without the bar,
        with the mean rate over the whole run.

        Example:
            >>> import io
            >>> bar = progress(total=3, desc="epoch 1", file=io.StringIO())
            >>> bar.summary().startswith("epoch 1:   0% 0/3 [00:00<?, ?it/s")
            True
        """
        return self.format_meter(**{**self.format_dict, "ncols": 0, "rate": None})

    def close(self) -> None:
        """End the bar: on a terminal its last frame stays; otherwise one summary line is
        written (unless ``leave=False``). Closing twice does nothing."""
        if getattr(self, "disable", True):  # closed already, or disabled
            return
        out = self._summary_file
        pos = abs(self.pos)
        keep = pos == 0 if self.leave is None else self.leave
        super().close()
        if out is not None and keep:
            out.write(self.summary() + "\n")
            out.flush()


def progress(
    iterable: Iterable[T] | None = None,
    total: float | None = None,
    desc: str | None = None,
    *,
    file: IO[str] | None = None,
    disable: bool | None = False,
    force: bool = False,
    **tqdm_kwargs: Any,
) -> Progress[T]:
    """Wrap an iterable (or count by hand) with a tqdm progress bar.

    - ``total`` defaults to ``len(iterable)``; unknown (None), the bar shows the count
      and rate only.
    - On a terminal: tqdm's bar, redrawn at most every ``mininterval`` (0.1) seconds.
    - Not a terminal: nothing while running, one summary line when the bar closes, e.g.
      ``epoch 1/2: 100% 50/50 [00:01<00:00, 48.68it/s, loss=0.432]``.
    - ``disable=True``: nothing at all. ``disable=None``: nothing when not a terminal.
    - ``force=True``: the live bar even when ``file`` is not a terminal.
    - ``file`` defaults to ``sys.stderr``; other keywords (``unit``, ``leave``,
      ``mininterval``, ``position``, ...) are tqdm's.

    Use one bar per epoch to get one line per epoch; iterating to the end (or ``close()``,
    or a ``with`` block) ends the bar.

    Example:
        >>> import io
        >>> log = io.StringIO()
        >>> bar = progress(total=3, desc="Adam", file=log)
        >>> for step in range(3):
        ...     bar.set_postfix(loss=1.0 / (step + 1))
        ...     bar.update()
        >>> bar.close()
        >>> print(log.getvalue().split("[")[0] + "..." + log.getvalue().split(",")[-1], end="")
        Adam: 100% 3/3 ... loss=0.333]
    """
    return Progress(iterable, desc, total, file=file, disable=disable, force=force, **tqdm_kwargs)
