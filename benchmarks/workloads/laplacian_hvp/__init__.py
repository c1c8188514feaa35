"""laplacian_hvp: the MLP's Laplacian from d Hessian-vector products (data and loss: benchmarks.workloads.laplacian)."""

from benchmarks.workloads.laplacian import SIZES, make_data

__all__ = ["SIZES", "make_data"]
