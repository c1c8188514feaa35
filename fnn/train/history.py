"""History: per-epoch training metrics, JSON round trip.

A History is a list of records, one per ``append`` call (usually one per epoch).
Values are stored as plain Python numbers so the history serialises to JSON as is.

Example:
    >>> h = History()
    >>> h.append(epoch=1, train_loss=0.9, test_loss=1.0)
    >>> h.append(epoch=2, train_loss=0.5, test_loss=0.7)
    >>> h["train_loss"]
    [0.9, 0.5]
    >>> h.best("test_loss")["epoch"]
    2
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from fnn.distributed import runtime
from fnn.train._atomic import atomic_write

__all__ = ["History"]

Scalar = int | float | bool | str | None


def _to_scalar(name: str, value: Any) -> Scalar:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    # numpy scalars, 0-d or size-1 arrays, fnn Arrays (via __array__): one Python number.
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.hasobject:
        raise TypeError(
            f"History.append: metric {name!r} must be a scalar (a number or a size-1 array), "
            f"got {type(value).__name__} with shape {arr.shape}; reduce it first, e.g. with .mean()"
        )
    return arr.reshape(()).item()


class History:
    """Per-epoch metrics: ``append`` a record, read a metric as a list with ``h[key]``.

    A record may leave out keys (e.g. a test loss measured every 5 epochs); ``h[key]``
    then holds ``None`` for those records and :meth:`series` skips them.

    Example:
        >>> h = History()
        >>> h.append(epoch=1, train_loss=0.5)
        >>> h.append(epoch=2, train_loss=0.25, test_accuracy=0.9)
        >>> h["test_accuracy"], h.last("train_loss"), len(h)
        ([None, 0.9], 0.25, 2)
    """

    def __init__(self, records: list[Mapping[str, Any]] | None = None):
        self._records: list[dict[str, Scalar]] = []
        for r in records or ():
            self.append(**r)

    # -- building --------------------------------------------------------------

    def append(self, **metrics: Any) -> None:
        """Add one record, e.g. ``h.append(epoch=3, train_loss=0.1, time=2.5)``.

        Example:
            >>> h = History(); h.append(epoch=1, loss=np.float32(0.5)); h["loss"]
            [0.5]
        """
        if not metrics:
            raise ValueError("History.append: give at least one metric, e.g. append(loss=0.1)")
        self._records.append({k: _to_scalar(k, v) for k, v in metrics.items()})

    # -- reading ---------------------------------------------------------------

    def keys(self) -> list[str]:
        """All metric names, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self._records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    @property
    def records(self) -> list[dict[str, Scalar]]:
        """A copy of the records, one dict per ``append``."""
        return [dict(r) for r in self._records]

    def __getitem__(self, key: str) -> list[Scalar]:
        if key not in self:
            raise KeyError(f"History has no metric {key!r}; it has {self.keys()}")
        return [r.get(key) for r in self._records]

    def __contains__(self, key: object) -> bool:
        return any(key in r for r in self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[dict[str, Scalar]]:
        return iter(self.records)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self._records == other._records

    def __repr__(self) -> str:
        return f"History({len(self)} records, keys={self.keys()})"

    def series(self, key: str) -> tuple[list[Scalar], list[Scalar]]:
        """``(epochs, values)`` of the records holding ``key``.

        The x value is the record's ``epoch`` when it has one, else its 1-based position.

        Example:
            >>> h = History([{"epoch": 1, "a": 1.0}, {"epoch": 2}, {"epoch": 3, "a": 0.5}])
            >>> h.series("a")
            ([1, 3], [1.0, 0.5])
        """
        if key not in self:
            raise KeyError(f"History has no metric {key!r}; it has {self.keys()}")
        xs, ys = [], []
        for i, r in enumerate(self._records):
            if r.get(key) is not None:
                xs.append(r.get("epoch", i + 1))
                ys.append(r[key])
        return xs, ys

    def last(self, key: str | None = None) -> Any:
        """The latest value of ``key`` (skipping records without it), or the last record.

        Example:
            >>> History([{"loss": 2.0}, {"loss": 1.0}]).last("loss")
            1.0
        """
        if not self._records:
            raise IndexError("History.last: the history is empty")
        if key is None:
            return dict(self._records[-1])
        return self.series(key)[1][-1]

    def best(self, key: str, mode: str | None = None) -> dict[str, Scalar]:
        """The record with the best value of ``key``; the earliest one on ties.

        ``mode`` is ``"min"`` or ``"max"``; by default ``"max"`` for keys containing
        ``acc`` and ``"min"`` otherwise (losses, errors, times). NaN never wins.

        Example:
            >>> h = History([{"epoch": 1, "acc": 0.7}, {"epoch": 2, "acc": 0.9}])
            >>> h.best("acc")
            {'epoch': 2, 'acc': 0.9}
        """
        if mode is None:
            mode = "max" if "acc" in key else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        sign = 1.0 if mode == "min" else -1.0
        candidates = [
            r for r in self._records if isinstance(r.get(key), (int, float)) and not _isnan(r[key])
        ]
        if not candidates:
            raise KeyError(f"History.best: no numeric values of {key!r}; keys are {self.keys()}")
        return dict(min(candidates, key=lambda r: sign * r[key]))

    # -- serialising -----------------------------------------------------------

    def to_dict(self) -> dict[str, list[Scalar]]:
        """Columns: ``{metric: [value per record, None where absent]}``.

        Example:
            >>> History([{"epoch": 1, "loss": 0.5}]).to_dict()
            {'epoch': [1], 'loss': [0.5]}
        """
        return {k: self[k] for k in self.keys()}

    @classmethod
    def from_dict(cls, columns: Mapping[str, list[Any]]) -> History:
        """Inverse of :meth:`to_dict` (``None`` cells become absent keys).

        Example:
            >>> History.from_dict({"epoch": [1, 2], "loss": [0.5, None]}).records
            [{'epoch': 1, 'loss': 0.5}, {'epoch': 2}]
        """
        if not isinstance(columns, Mapping) or not all(
            isinstance(v, list) for v in columns.values()
        ):
            raise ValueError(
                "History.from_dict: expected a dict of lists {metric: [values]}, "
                f"got {type(columns).__name__}"
            )
        lengths = {k: len(v) for k, v in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"History.from_dict: columns differ in length: {lengths}")
        n = next(iter(lengths.values()), 0)
        records = [{k: v[i] for k, v in columns.items() if v[i] is not None} for i in range(n)]
        h = cls()
        for r in records:
            if r:
                h.append(**r)
            else:  # a record whose every cell was None still counts as a record
                h._records.append({})
        return h

    def save_json(self, path: str | os.PathLike, *, all_processes: bool = False) -> None:
        """Write :meth:`to_dict` as JSON, atomically (an existing file survives a crash).

        NaN and infinities are written as ``NaN``/``Infinity``, which Python's json reads.
        Under several processes (``fnn.distributed``) only the main process writes,
        unless ``all_processes=True``.

        Example:
            >>> import tempfile, os
            >>> p = os.path.join(tempfile.mkdtemp(), "history.json")
            >>> h = History([{"epoch": 1, "loss": 0.5}]); h.save_json(p)
            >>> History.load_json(p) == h
            True
        """
        if not (all_processes or runtime.is_main_process()):
            return
        with atomic_write(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> History:
        """Read a file written by :meth:`save_json`."""
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"History.load_json: {os.fspath(path)!r} is not JSON: {e}") from e
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError) as e:
            raise ValueError(f"History.load_json: {os.fspath(path)!r}: {e}") from e


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
