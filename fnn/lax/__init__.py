"""fnn.lax: the primitives and the functions that bind them (no dtype promotion).

Names follow jax.lax. fnn.numpy is written on top of these.
"""

from fnn.lax.complex_ops import complex, conj, imag, real
from fnn.lax.control_flow import cond, fori_loop, map, scan, switch, while_loop
from fnn.lax.conv import conv_general_dilated, conv_patches, conv_transpose
from fnn.lax.dot import dot_general
from fnn.lax.elementwise import (
    abs_ as abs,
)
from fnn.lax.elementwise import (
    acos,
    acosh,
    add,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cbrt,
    ceil,
    cos,
    cosh,
    digamma,
    div,
    eq,
    erf,
    erf_inv,
    erfc,
    exp,
    expm1,
    floor,
    ge,
    gt,
    integer_pow,
    is_finite,
    le,
    lgamma,
    log,
    log1p,
    logistic,
    lt,
    mul,
    ne,
    neg,
    polygamma,
    rem,
    select,
    shift_left,
    shift_right,
    sign,
    sin,
    sinh,
    sqrt,
    sub,
    tan,
    tanh,
)
from fnn.lax.elementwise import (
    and_ as bitwise_and,
)
from fnn.lax.elementwise import (
    max_ as max,
)
from fnn.lax.elementwise import (
    min_ as min,
)
from fnn.lax.elementwise import (
    not_ as bitwise_not,
)
from fnn.lax.elementwise import (
    or_ as bitwise_or,
)
from fnn.lax.elementwise import (
    pow_ as pow,
)
from fnn.lax.elementwise import (
    round_ as round,
)
from fnn.lax.elementwise import (
    xor as bitwise_xor,
)
from fnn.lax.fft import fft
from fnn.lax.misc import stop_gradient
from fnn.lax.reductions import argmax, argmin, cumprod, cumsum, reduce_max, reduce_min, reduce_prod
from fnn.lax.slicing import concatenate, gather, pad, rev, scatter, slice, slice_in_dim
from fnn.lax.structural import (
    broadcast_in_dim,
    broadcast_to,
    convert_element_type,
    expand_dims,
    reduce_sum,
    reshape,
    transpose,
)
