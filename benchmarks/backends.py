"""The array namespaces that the shared functional workload code is written against.

fnn and JAX run the *same* model code (``workloads/<name>/functional.py``); an ``Ops``
bundles what differs between them: the numpy-like module, the autodiff transforms, the
convolution and the compiler. Hand-written numpy and PyTorch have their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ops:
    """One functional array system: ``np``-like module plus transforms."""

    name: str
    np: Any
    stop_gradient: Callable
    conv: Callable  # conv_general_dilated(lhs, rhs, strides, padding, dimension_numbers=...)
    relu: Callable
    jvp: Callable
    value_and_grad: Callable
    hessian: Callable
    tree_map: Callable
    jit: Callable  # identity for eager execution
    block: Callable  # wait until the outputs are computed (JAX dispatches asynchronously)
    to_numpy: Callable
    # Transforms of the differential-operator workloads (laplacian*, uxxx*); None where
    # the system has no such transform (a workload that NEEDS it is then skipped).
    vmap: Callable | None = None
    grad: Callable | None = None
    jet: Callable | None = None  # jax.experimental.jet's signature and convention
    laplacian: Callable | None = None  # forward Laplacian of a function of one point
    directional_laplacian: Callable | None = None
    derivatives: Callable | None = None  # fnn.pde.derivatives


def _identity(f):
    return f


def fnn_ops(jit: bool = True) -> Ops:
    """fnn, compiled with ``fnn.jit`` or run eagerly (primitive by primitive)."""
    import numpy as np

    import fnn
    import fnn.numpy as fnp

    return Ops(
        name="fnn-jit" if jit else "fnn-eager",
        np=fnp,
        stop_gradient=fnn.lax.stop_gradient,
        conv=getattr(fnn.lax, "conv_general_dilated", None),
        # fnn.nn.relu's formulation: derivative 0 at 0, one select in the backward pass.
        relu=lambda x: fnp.where(x > 0, x, fnp.zeros_like(x)),
        jvp=fnn.jvp,
        value_and_grad=fnn.value_and_grad,
        hessian=fnn.hessian,
        tree_map=fnn.tree_util.tree_map,
        jit=fnn.jit if jit else _identity,
        block=_identity,
        to_numpy=np.asarray,
        vmap=fnn.vmap,
        grad=fnn.grad,
        jet=fnn.jet,
        laplacian=fnn.laplacian,
        directional_laplacian=fnn.directional_laplacian,
        derivatives=fnn.pde.derivatives,
    )


def jax_ops() -> Ops:
    """JAX on its CPU backend, every step under ``jax.jit``."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.experimental import jet

    return Ops(
        name="jax",
        np=jnp,
        stop_gradient=jax.lax.stop_gradient,
        conv=jax.lax.conv_general_dilated,
        relu=jax.nn.relu,
        jvp=jax.jvp,
        value_and_grad=jax.value_and_grad,
        hessian=jax.hessian,
        tree_map=jax.tree_util.tree_map,
        jit=jax.jit,
        block=jax.block_until_ready,
        to_numpy=np.asarray,
        vmap=jax.vmap,
        grad=jax.grad,
        jet=jet.jet,
    )
