"""Timing benchmarks of fnn against hand-written numpy, JAX and PyTorch (not pytest).

Run ``python benchmarks/run.py``; see benchmarks/README.md.
"""
