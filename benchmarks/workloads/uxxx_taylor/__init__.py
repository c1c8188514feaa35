"""uxxx_taylor: the Burgers network's u_xxx by one third-order Taylor series (data and loss: benchmarks.workloads.uxxx)."""

from benchmarks.workloads.uxxx import SIZES, make_data

__all__ = ["SIZES", "make_data"]
