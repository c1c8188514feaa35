"""laplacian_hessian: the MLP's Laplacian as the trace of its Hessian (data and loss: benchmarks.workloads.laplacian)."""

from benchmarks.workloads.laplacian import SIZES, make_data

__all__ = ["SIZES", "make_data"]
