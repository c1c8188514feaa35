"""fnn.distributed: data-parallel training over processes, on MPI.

Every process runs the same program on its own share of the data; collectives combine
their results. JAX's names: :func:`initialize` (reads the MPI launch; a no-op in a
plain single process), :func:`process_index`, :func:`process_count`,
:func:`is_main_process`, :func:`broadcast` (the initial parameters), and the
collectives :func:`psum`, :func:`pmean`, :func:`all_gather` and :func:`pvary` on
pytrees, which work eagerly and inside ``jit``, ``grad``, ``jvp`` and ``vmap``
(``fnn/distributed/collectives.py`` says what their derivatives mean).

MPI comes from the optional extra (``pip install 'fnn[mpi]'``: mpi4py and the mpich
wheels); ``import fnn`` never imports mpi4py, :func:`initialize` does when an MPI
launcher started the process.

Example (``mpiexec -n 2 python train.py``):
    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import distributed as dist
    >>> dist.initialize()
    >>> def loss_fn(w, x):
    ...     return fnp.mean((x @ w) ** 2)
    >>> @fnn.jit
    ... def step(w, x):  # x: this process's share of the batch
    ...     loss, g = fnn.value_and_grad(loss_fn)(w, x)
    ...     loss, g = dist.pmean((loss, g))  # the global batch's loss and gradient
    ...     return w - 0.1 * g, loss
    >>> w, loss = step(fnp.ones(3), fnp.ones((4, 3)))
"""

from fnn.distributed.collectives import all_gather, broadcast, pmean, psum, pvary
from fnn.distributed.protocol import (
    CollectiveMismatchError,
    DistributedError,
    ProcessFailedError,
)
from fnn.distributed.runtime import (
    initialize,
    is_initialized,
    is_main_process,
    local_process_count,
    mpi_launcher,
    process_count,
    process_index,
    shutdown,
)

__all__ = [
    "initialize",
    "shutdown",
    "is_initialized",
    "process_index",
    "process_count",
    "local_process_count",
    "is_main_process",
    "mpi_launcher",
    "broadcast",
    "psum",
    "pmean",
    "all_gather",
    "pvary",
    "DistributedError",
    "ProcessFailedError",
    "CollectiveMismatchError",
]
