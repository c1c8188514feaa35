"""laplacian_jet: the MLP's Laplacian from d second-order Taylor series (data and loss: benchmarks.workloads.laplacian)."""

from benchmarks.workloads.laplacian import SIZES, make_data

__all__ = ["SIZES", "make_data"]
