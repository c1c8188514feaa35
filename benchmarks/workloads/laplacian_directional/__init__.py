"""laplacian_directional: the MLP's Laplacian by the forward Laplacian on the batch (data and loss: benchmarks.workloads.laplacian)."""

from benchmarks.workloads.laplacian import SIZES, make_data

__all__ = ["SIZES", "make_data"]
