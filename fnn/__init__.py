"""fnn: a functional, JAX-style array library on numpy.

Pure functions on immutable arrays are traced into jaxprs and transformed with
``grad``, ``jvp``/``vjp``, ``vmap`` and ``jit``.

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> fnn.grad(lambda x: fnp.sum(x ** 2))(fnp.arange(3.0))
    Array([0., 2., 4.], dtype=float32)
"""

from fnn import config, lax, numpy, random, tree_util
from fnn import core as _core
from fnn._malloc import tune_malloc
from fnn.backend.jit import jit, make_jaxpr
from fnn.core import Array, ConcretizationTypeError, FnnTypeError, UnexpectedTracerError
from fnn.jaxpr import ClosedJaxpr
from fnn.lax import stop_gradient
from fnn.transforms.autodiff import (
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from fnn.transforms.batching import vmap
from fnn.transforms.custom import custom_jvp, custom_vjp

__version__ = "0.1.0"
from fnn import pde  # noqa: E402  (last: fnn.pde uses the names above)
