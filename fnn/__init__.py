"""fnn: a functional, JAX-style array library on numpy.

Pure functions on immutable arrays are traced into jaxprs and transformed with
``grad``, ``jvp``/``vjp``, ``vmap`` and ``jit``. Every part of the library is an
attribute of this module: ``fnn.numpy``, ``fnn.lax``, ``fnn.random``, ``fnn.scipy``,
``fnn.pde``, ``fnn.nn``, ``fnn.optim``, ``fnn.data``, ``fnn.train`` and
``fnn.distributed`` (data-parallel training over MPI processes).

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> fnn.grad(lambda x: fnp.sum(x ** 2))(fnp.arange(3.0))
    Array([0., 2., 4.], dtype=float32)
"""

import importlib as _importlib

from fnn import config, lax, numpy, random, scipy, tree_util
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
from fnn.transforms.jet import jet
from fnn.transforms.laplacian import (
    directional_laplacian,
    forward_laplacian,
    hessian_diagonal,
    laplacian,
    second_order_operator,
)

__version__ = "0.1.0"
from fnn import pde  # noqa: E402  (last: fnn.pde uses the names above)

# The layers above fnn.numpy (nn, optim, data, train) load on first use, as PEP 562
# allows: fnn.optim pulls in scipy.optimize and fnn.data the download machinery, which
# a user of grad/jit/numpy alone should not wait for at every `import fnn` (the import
# times are in the commit that made this lazy). This is not a hook into another
# module: `fnn.nn` is an ordinary import of the submodule, done the first time the
# attribute is read, after which the import system has bound it and this is not called.
_LAZY = frozenset({"nn", "optim", "data", "train", "distributed"})


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f"fnn.{name}")
    raise AttributeError(f"module 'fnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
