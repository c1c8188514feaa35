"""fnn.data: data set loaders and minibatch iterators.

Loaders return numpy arrays ``(x_train, y_train), (x_test, y_test)`` with images in
NHWC uint8 and labels uint8. They look in ``data_dir``, then ``$FNN_DATA_DIR``, then
``~/.cache/fnn`` (or ``$XDG_CACHE_HOME/fnn``), and otherwise download from public
mirrors with checksum verification. Nothing is cached in memory between calls.

Example:
    >>> import fnn
    >>> from fnn.data import mnist, batches
    >>> (x_train, y_train), _ = mnist()  # doctest: +SKIP
    >>> for xb, yb in batches((x_train, y_train), 128, key=fnn.random.key(0)):  # doctest: +SKIP
    ...     pass
"""

from .batching import Batches, batches
from .burgers import burgers_solution, load_burgers_reference
from .cifar import cifar10
from .errors import DatasetError, DatasetNotFoundError, DownloadError
from .idx_datasets import fashion_mnist, mnist

__all__ = [
    "Batches",
    "DatasetError",
    "DatasetNotFoundError",
    "DownloadError",
    "batches",
    "burgers_solution",
    "cifar10",
    "fashion_mnist",
    "load_burgers_reference",
    "mnist",
]
