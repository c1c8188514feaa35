"""What the benchmarks ran on: CPU, cores, library and BLAS versions, load, date."""

from __future__ import annotations

import datetime
import importlib
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas() -> str:
    """numpy's BLAS as numpy reports it (name, version and build configuration)."""
    import numpy as np

    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older numpy: no dict mode
        return "unknown"
    config = " ".join(str(info.get("openblas configuration", "")).split())
    described = f"{info.get('name', '?')} {info.get('version', '?')} {config}".strip()
    core = _openblas_core()
    # The build names its default kernel; DYNAMIC_ARCH picks the CPU's own at run time.
    return f"{described}; kernels for {core} at run time" if core else described


def _openblas_core() -> str | None:
    """The core type OpenBLAS chose at run time (e.g. SkylakeX), if it says."""
    import ctypes

    for lib in _loaded_openblas():
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                     "openblas_get_corename"):  # fmt: skip
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def _loaded_openblas() -> list:
    """The OpenBLAS libraries loaded in this process (numpy's first), opened by ctypes."""
    import ctypes

    import numpy  # noqa: F401  (loads its BLAS)

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return []
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs


def version(module: str) -> str | None:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def fnn_revision() -> str:
    """The git commit of the fnn measured, with "+dirty" if fnn/ has uncommitted edits."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fnn"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def describe() -> dict:
    """A JSON-able description of this machine and software stack, now."""
    env = {
        k: os.environ[k]
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        if k in os.environ
    }
    return {
        "fnn": fnn_revision(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "blas": blas(),
        "jax": version("jax"),
        "torch": version("torch"),
        "env": env,
        "loadavg_start": list(os.getloadavg()),
    }
