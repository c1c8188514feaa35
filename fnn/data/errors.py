"""The errors raised by the data loaders.

Example:
    >>> from fnn.data import DatasetError
    >>> from fnn.data.idx import LABELS, parse_idx
    >>> try:
    ...     parse_idx(bytes([0, 0, 8, 3]), LABELS, name="labels.idx")
    ... except DatasetError as e:
    ...     print(str(e).split(";")[0])
    labels.idx: expected magic 2049 (labels), found 2051 (images)
"""

from __future__ import annotations


class DatasetError(ValueError):
    """A data file is missing, truncated, corrupt or not the file it claims to be.

    The message names the file and what was wrong with it.
    """


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """No local copy was found and none could be downloaded.

    Also a FileNotFoundError, so ``except FileNotFoundError`` catches it too. The
    message lists the files needed and the folders searched.
    """


class DownloadError(DatasetError):
    """Every mirror of a file failed (network error or checksum mismatch)."""
