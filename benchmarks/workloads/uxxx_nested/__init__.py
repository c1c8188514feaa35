"""uxxx_nested: the Burgers network's u_xxx by three nested derivatives (data and loss: benchmarks.workloads.uxxx)."""

from benchmarks.workloads.uxxx import SIZES, make_data

__all__ = ["SIZES", "make_data"]
