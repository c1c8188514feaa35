"""laplacian_forward: the MLP's Laplacian by the forward Laplacian, per point (data and loss: benchmarks.workloads.laplacian)."""

from benchmarks.workloads.laplacian import SIZES, make_data

__all__ = ["SIZES", "make_data"]
