"""Training utilities: metric history, loss plots, progress bars, checkpoints.

Example:
    >>> from fnn.train import History, plot_history, progress, save, load
    >>> h = History(); h.append(epoch=1, train_loss=0.5)
    >>> h["train_loss"]
    [0.5]
"""

from fnn.train.checkpoint import CheckpointError, load, save
from fnn.train.history import History
from fnn.train.plotting import plot_history
from fnn.train.progress import Progress, progress

__all__ = [
    "History",
    "plot_history",
    "Progress",
    "progress",
    "save",
    "load",
    "CheckpointError",
]
