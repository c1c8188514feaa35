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
    return f"{info.get('name', '?')} {info.get('version', '?')} {config}".strip()


def version(module: str) -> str | None:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def describe() -> dict:
    """A JSON-able description of this machine and software stack, now."""
    env = {
        k: os.environ[k]
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        if k in os.environ
    }
    return {
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
