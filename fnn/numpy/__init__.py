"""fnn.numpy: numpy's API on fnn arrays, differentiable and traceable.

Example:
    >>> import fnn.numpy as fnp
    >>> fnp.sum(fnp.arange(4.0) ** 2)
    Array(14., dtype=float32)
"""

import numpy as _np

from fnn.core import Array as ndarray
from fnn.numpy import array_methods as _array_methods  # noqa: F401 - x + y, x.sum(), x.at
from fnn.numpy import fft, linalg
from fnn.numpy._core import array, asarray, result_type
from fnn.numpy.arithmetic import *
from fnn.numpy.array_api import *
from fnn.numpy.assembly import *
from fnn.numpy.calculus import *
from fnn.numpy.contraction import *
from fnn.numpy.conversion import *
from fnn.numpy.creation import *
from fnn.numpy.functional import *
from fnn.numpy.histograms import *
from fnn.numpy.index_arrays import *
from fnn.numpy.index_tricks import *
from fnn.numpy.indexing import *
from fnn.numpy.indexing import _getitem, _index_update
from fnn.numpy.math import *
from fnn.numpy.nanfunctions import *
from fnn.numpy.polynomial import *
from fnn.numpy.reductions import *
from fnn.numpy.selection import *
from fnn.numpy.sets import *
from fnn.numpy.shape import *
from fnn.numpy.sorting import *
from fnn.numpy.statistics import *
from fnn.numpy.utilities import *
from fnn.numpy.windows import *

# dtypes and constants, as numpy spells them
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
bool_ = _np.bool_
complex64, complex128 = _np.complex64, _np.complex128
dtype, finfo, iinfo = _np.dtype, _np.finfo, _np.iinfo
issubdtype, floating, integer, inexact, number = (
    _np.issubdtype,
    _np.floating,
    _np.integer,
    _np.inexact,
    _np.number,
)
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
