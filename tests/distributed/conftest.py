"""Launch ``tests/distributed/programs.py`` under ``mpiexec`` with a timeout.

The tests skip when mpi4py (the ``[mpi]`` extra) or an ``mpiexec`` is missing.
``FNN_TEST_MPIEXEC`` names another launcher (e.g. a site's ``mpirun``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _mpiexec() -> str | None:
    if os.environ.get("FNN_TEST_MPIEXEC"):
        return os.environ["FNN_TEST_MPIEXEC"]
    # The mpich wheel puts its mpiexec beside the interpreter; prefer it to a PATH one
    # of another MPI, which could not start this mpi4py's processes.
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and mpiexec: pip install -e '.[mpi]'",
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    ended: float  # time.time() when mpiexec returned


def launch(n: int, *args: str, timeout: float = 120) -> Run:
    """``mpiexec -n n python -m tests.distributed.programs *args`` from the repository."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", FNN_JIT_THREADS="1", PYTHONUNBUFFERED="1")
    command = [MPIEXEC, "-n", str(n), sys.executable, "-m", "tests.distributed.programs", *args]
    start = time.monotonic()
    # A session of its own: on a timeout the whole group (mpiexec and the processes it
    # started) is killed, not only mpiexec.
    p = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(
            f"mpiexec {' '.join(args)} hung for {timeout} s\nstdout:\n{out}\nstderr:\n{err}"
        ) from None
    return Run(p.returncode, out, err, time.monotonic() - start, time.time())
