"""uxxx_pde: the Burgers network's u_xxx from fnn.pde.derivatives (data and loss: benchmarks.workloads.uxxx)."""

from benchmarks.workloads.uxxx import SIZES, make_data

__all__ = ["SIZES", "make_data"]
