"""Which process this is, and the one MPI backend of the process (or none).

Without :func:`initialize`, or when no MPI launcher started the process, fnn is one
process: ``process_index() == 0``, ``process_count() == 1``, and the collectives
return their input. :func:`initialize` finds an MPI launch from the environment the
launchers set, loads ``fnn/distributed/_mpi.py`` (which imports mpi4py, and so
initializes MPI) and keeps its backend here.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

from fnn import config

__all__ = [
    "initialize",
    "shutdown",
    "is_initialized",
    "process_index",
    "process_count",
    "local_process_count",
    "is_main_process",
    "mpi_launcher",
    "backend",
]

# Variables an MPI launcher sets in each process it starts (the first found names it).
LAUNCH_VARIABLES = (
    ("PMI_SIZE", "an MPICH-family mpiexec (MPICH/Hydra, Intel MPI, MVAPICH) or srun --mpi=pmi2"),
    ("PMIX_RANK", "a PMIx launcher (Open MPI 5 mpirun, srun --mpi=pmix)"),
    ("OMPI_COMM_WORLD_SIZE", "Open MPI's mpirun"),
    ("MV2_COMM_WORLD_SIZE", "MVAPICH2's launcher"),
)

_backend: Any = None  # an fnn.distributed._mpi.MPIBackend once initialized with MPI
_initialized = False
_previous_hook: Any = None
_error_timeout = 10.0


def mpi_launcher(environ=None) -> str | None:
    """Which MPI launcher started this process (from its environment), or None.

    Example:
        >>> mpi_launcher({"PMI_SIZE": "2", "PMI_RANK": "0"})
        'an MPICH-family mpiexec (MPICH/Hydra, Intel MPI, MVAPICH) or srun --mpi=pmi2'
        >>> mpi_launcher({}) is None
        True
    """
    env = os.environ if environ is None else environ
    for name, launcher in LAUNCH_VARIABLES:
        if name in env:
            return launcher
    return None


def initialize(
    mpi: bool | None = None, *, catch_errors: bool = True, error_timeout: float = 10.0
) -> None:
    """Join the other processes of an MPI launch; a no-op in a plain single process.

    ``mpi=None`` (the default) uses MPI when an MPI launcher started this process
    (``mpiexec``, ``mpirun``, ``srun`` with an MPI plugin: :func:`mpi_launcher`);
    ``mpi=True`` always uses MPI (``mpi4py`` must be installed:
    ``pip install 'fnn[mpi]'``); ``mpi=False`` stays one process. Calling it again
    does nothing.

    With MPI, ``initialize``:

    - imports mpi4py (which calls ``MPI_Init``) and duplicates ``COMM_WORLD`` for fnn;
    - divides the default ``fnn.config.jit_threads`` by the number of processes on
      this machine, unless ``FNN_JIT_THREADS`` is set (two processes of two threads
      each on two cores would wait for each other);
    - with ``catch_errors`` (the default), wraps ``sys.excepthook``: when an exception
      ends this process, the hook first runs the previous hook (the traceback), then
      tells the other processes, which raise
      :class:`~fnn.distributed.ProcessFailedError` naming this process at their next
      collective. If they do not reach one within ``error_timeout`` seconds, the hook
      ends the whole job with ``MPI_Abort``. Without it, an MPI job whose process
      raised would hang in the others' next collective. :func:`shutdown` restores
      the previous hook.

    Example:
        >>> import fnn.distributed as dist
        >>> dist.initialize()  # under `mpiexec -n 2`: process_count() == 2
        >>> dist.process_index(), dist.process_count()  # doctest: +SKIP
        (0, 1)
    """
    global _backend, _initialized, _previous_hook, _error_timeout
    if _initialized:
        return
    launcher = mpi_launcher()
    if mpi is None:
        mpi = launcher is not None
    if mpi:
        try:
            # Loaded by name, not imported at the top: importing mpi4py starts MPI,
            # which only an MPI launch (or a user who asks) should pay for.
            module = importlib.import_module("fnn.distributed._mpi")
        except ImportError as e:
            why = f"this process was started by {launcher}" if launcher else "mpi=True"
            raise ImportError(
                f"fnn.distributed.initialize: {why}, but mpi4py cannot be imported ({e}); "
                "install it with `pip install 'fnn[mpi]'` (mpi4py and the mpich wheels), or "
                "build mpi4py against your site's MPI (README: Scaling out with MPI)"
            ) from e
        b = module.MPIBackend()
        slurm_tasks = int(os.environ.get("SLURM_STEP_NUM_TASKS", "1") or 1)
        if b.size == 1 and slurm_tasks > 1:
            raise RuntimeError(
                f"fnn.distributed.initialize: srun started {slurm_tasks} tasks but MPI sees "
                "1 process: launch with `srun --mpi=pmi2` (or pmix, whichever your MPI "
                "supports; `srun --mpi=list` shows them)"
            )
        _backend = b
        if "FNN_JIT_THREADS" not in os.environ and b.local_size > 1:
            config.update("jit_threads", max(1, config.jit_threads // b.local_size))
        if catch_errors and b.size > 1:
            _error_timeout = float(error_timeout)
            _previous_hook = sys.excepthook
            sys.excepthook = _excepthook
    _initialized = True


def shutdown() -> None:
    """Undo :func:`initialize`'s changes to the process (the excepthook); MPI itself
    stays initialized until the process ends (mpi4py finalizes it at exit).

    Example:
        >>> shutdown()  # without initialize(), nothing to undo
    """
    global _backend, _initialized, _previous_hook
    if _previous_hook is not None and sys.excepthook is _excepthook:
        sys.excepthook = _previous_hook
    _previous_hook = None
    _backend = None
    _initialized = False


def _excepthook(exc_type, exc, tb) -> None:
    (_previous_hook or sys.__excepthook__)(exc_type, exc, tb)
    b = _backend
    if b is None or getattr(exc, "all_processes_know", False):
        return  # every process raised it together: no one is left waiting
    try:
        frames = traceback.extract_tb(tb)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        message = f"{exc_type.__name__}: {exc}{where}"
        print(
            f"fnn.distributed: process {b.rank} of {b.size} failed; telling the others",
            file=sys.stderr,
            flush=True,
        )
        told = b.report_failure(message, _error_timeout)
    except BaseException as e:  # the hook must end the job, whatever happened
        print(f"fnn.distributed: could not tell the others ({e!r})", file=sys.stderr)
        told = False
    if not told:
        print(
            f"fnn.distributed: the other processes did not reach a collective within "
            f"{_error_timeout:g} s; ending the whole job (MPI_Abort)",
            file=sys.stderr,
            flush=True,
        )
        b.abort(1)


def is_initialized() -> bool:
    """Whether :func:`initialize` has run (with or without MPI)."""
    return _initialized


def backend() -> Any:
    """The MPI backend, or None in a single process."""
    return _backend


def process_index() -> int:
    """This process's rank, 0 to ``process_count() - 1`` (0 without MPI).

    Example:
        >>> process_index()  # one process
        0
    """
    return 0 if _backend is None else _backend.rank


def process_count() -> int:
    """How many processes run this program (1 without MPI).

    Example:
        >>> process_count()
        1
    """
    return 1 if _backend is None else _backend.size


def local_process_count() -> int:
    """How many of them run on this machine (1 without MPI)."""
    return 1 if _backend is None else _backend.local_size


def is_main_process() -> bool:
    """Whether this is process 0, the one that writes logs, plots and checkpoints.

    Example:
        >>> is_main_process()
        True
    """
    return process_index() == 0
