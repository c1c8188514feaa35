"""What the distributions of fnn.scipy.stats share: scipy's signatures promoted to
JAX's dtypes, and scipy's answer (NaN) for parameters outside their domain."""

from __future__ import annotations

import numpy as np

import fnn.numpy as fnp
from fnn.core import FnnTypeError
from fnn.numpy._core import asarray, promote_args

__all__ = ["promote", "nan_unless", "HALF_LOG_2PI"]

HALF_LOG_2PI = float(0.5 * np.log(2 * np.pi))  # a Python float: weakly typed


def promote(name: str, *args):
    """The arguments as arrays of one real floating dtype: integers and bools become the
    default float (float32, or float64 under ``enable_x64``), as in jax.scipy.stats."""
    out = [asarray(a) for a in promote_args(name, *args, to_float=True)]
    if out[0].dtype.kind != "f":
        raise FnnTypeError(f"{name}: expected real numbers, got {out[0].dtype}")
    return out


def nan_unless(valid, value):
    """``value`` where the parameters are ``valid``, NaN elsewhere (scipy's convention)."""
    return fnp.where(valid, value, np.nan)
