"""The tracing core: abstract values, primitives, traces, tracers and the trace stack.

Every operation in fnn ends in ``bind(prim, *args, **params)``. ``bind`` finds the
innermost active transform among its arguments (the trace with the highest level),
lifts every argument into that trace and lets the trace interpret the primitive.
Transforms nest because each trace's rules call ``bind`` again on the values one
level down. This follows JAX's autodidax closely.

Example:
    >>> from fnn.core import Primitive
    >>> twice_p = Primitive("twice")   # then define twice_p.impl, abstract_eval, rules
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fnn import config

__all__ = [
    "ShapedArray",
    "Array",
    "wrap_array",
    "Primitive",
    "Trace",
    "Tracer",
    "MainTrace",
    "EvalTrace",
    "bind",
    "new_main",
    "new_dynamic",
    "full_raise",
    "full_lower",
    "get_aval",
    "ConcretizationTypeError",
    "UnexpectedTracerError",
    "FnnTypeError",
]


class FnnTypeError(TypeError):
    """Wrong shapes or dtypes given to an fnn operation."""


class ConcretizationTypeError(TypeError):
    """A traced value was used where Python needs a concrete one (bool, int, if, while)."""


class UnexpectedTracerError(RuntimeError):
    """A tracer escaped the transform that created it (it leaked)."""


# ----------------------------------------------------------------------------------------
# Abstract values


class ShapedArray:
    """The abstract value of an array: its shape and dtype, no data."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(map(int, shape))  # numpy ints -> Python ints (hashing, printing)
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __eq__(self, other):
        return (
            isinstance(other, ShapedArray)
            and self.shape == other.shape
            and self.dtype == other.dtype
        )

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def str_short(self) -> str:
        return f"{_dtype_short(self.dtype)}[{','.join(map(str, self.shape))}]"

    __repr__ = str_short


_SHORT = {"float": "f", "int": "i", "uint": "u", "bool": "bool", "complex": "c"}


def _dtype_short(dtype: np.dtype) -> str:
    if dtype == np.bool_:
        return "bool"
    kind = dtype.name.rstrip("0123456789")
    return _SHORT.get(kind, kind) + str(dtype.itemsize * 8)


def canonical_value(x) -> np.ndarray:
    """A numpy array of a concrete value with fnn's canonical dtype."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            raise FnnTypeError(f"expected a numeric array, got one of dtype {x.dtype}")
        dt = config.canonicalize_dtype(x.dtype)
        return x if dt == x.dtype else x.astype(dt)
    if isinstance(x, bool | np.bool_):
        return np.asarray(x, np.bool_)
    if isinstance(x, int) and not isinstance(x, np.integer):
        return np.asarray(x, config.default_int())
    if isinstance(x, float):
        return np.asarray(x, config.default_float())
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":  # strings, objects, datetimes are not arrays here
        raise FnnTypeError(f"expected an array or a number, got {type(x).__name__}: {x!r}")
    return canonical_value(arr)


def get_aval(x) -> ShapedArray:
    """The abstract value (shape, dtype) of an array, tracer or Python scalar."""
    if isinstance(x, Tracer):
        return x.aval
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    v = canonical_value(x)
    return ShapedArray(v.shape, v.dtype)


# ----------------------------------------------------------------------------------------
# Concrete arrays


class Array:
    """An immutable n-dimensional array backed by a read-only numpy buffer.

    ``np.asarray(x)`` returns the buffer without a copy; updates are functional
    (``x.at[0].set(1.0)``). The numpy-style operators and methods (``+``, ``x.sum()``,
    ``x.at``, ...) are fnn.numpy functions, installed on ``Array`` and ``Tracer`` by
    ``fnn.numpy.array_methods`` (as jax.numpy installs them on jax.Array).

    Example:
        >>> import fnn.numpy as fnp
        >>> x = fnp.arange(3.0)
        >>> x.at[1].set(10.0)
        Array([ 0., 10.,  2.], dtype=float32)
    """

    __slots__ = ("_value", "_aval", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value: np.ndarray):
        value.setflags(write=False)  # cheaper than the flags-object setter
        self._value = value
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        aval = self._aval
        if aval is None:  # computed once: transforms ask for it many times per array
            aval = self._aval = ShapedArray(self._value.shape, self._value.dtype)
        return aval

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    nbytes = property(lambda self: self._value.nbytes)

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype)
        if dtype is None or np.dtype(dtype) == self._value.dtype:
            return self._value
        return self._value.astype(dtype)

    def __setitem__(self, idx, value):
        raise TypeError(
            "fnn arrays are immutable: `x[idx] = v` is not supported. "
            "Use the functional update `x = x.at[idx].set(v)` instead."
        )

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", prefix="Array(")
        return f"Array({body}, dtype={self._value.dtype.name})"

    def __str__(self):
        return str(self._value)

    def __bool__(self):
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        return int(self._value.__index__())

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (wrap_array(v) for v in self._value)

    __hash__ = None  # type: ignore[assignment]

    def __format__(self, spec):
        if self._value.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def block_until_ready(self):
        return self

    def __reduce__(self):
        return (wrap_array, (np.array(self._value),))


def wrap_array(value) -> Array:
    """Wrap a numpy result (array or numpy scalar) into an Array without copying."""
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    return Array(value)


# ----------------------------------------------------------------------------------------
# Primitives


class Primitive:
    """An operation every transform understands.

    ``impl`` evaluates on numpy arrays; ``abstract_eval`` maps input ShapedArrays to
    output ShapedArrays (raising a clear error on bad input); transforms register their
    rules in their own tables keyed by the primitive.
    """

    __slots__ = ("name", "multiple_results", "impl", "abstract_eval", "silent")

    def __init__(self, name: str, multiple_results: bool = False, silent: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        # ``silent``: the impl moves or selects values and never computes, so it cannot
        # raise numpy's floating-point warnings (eager code skips np.errstate for it).
        self.silent = silent
        self.impl: Callable[..., Any] | None = None
        self.abstract_eval: Callable[..., Any] | None = None

    def __repr__(self):
        return self.name

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def def_impl(self, f):
        self.impl = f
        return f

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f


# ----------------------------------------------------------------------------------------
# Traces and the trace stack


class MainTrace:
    """One active transform: its level in the stack, its Trace class, shared data."""

    __slots__ = ("level", "trace_type", "global_data", "alive")

    def __init__(self, level: int, trace_type: type, global_data: Any):
        self.level = level
        self.trace_type = trace_type
        self.global_data = global_data
        self.alive = True

    def __repr__(self):
        return f"MainTrace({self.level}, {self.trace_type.__name__})"


class Trace:
    """Interprets primitives for one transform level."""

    __slots__ = ("main",)

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val):
        raise NotImplementedError

    lift = pure

    def process_primitive(self, primitive: Primitive, tracers, params):
        raise NotImplementedError

    def process_custom_jvp_call(self, fun, jvp, tracers):
        del jvp
        return fun(*tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_holder):
        del fwd, bwd, out_tree_holder
        return fun(*tracers)


class Tracer:
    """A value seen by a transform. Its numpy-style methods are installed by
    ``fnn.numpy.array_methods``, as on ``Array``."""

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)

    def full_lower(self):
        return self

    def concrete_value(self):
        """The concrete numpy value behind this tracer, or None when there is none."""
        return None

    def _concrete_or_raise(self, what: str):
        val = self.concrete_value()
        if val is None:
            raise ConcretizationTypeError(_concretization_message(self, what))
        return val

    def __bool__(self):
        return bool(self._concrete_or_raise("bool()"))

    def __int__(self):
        return int(self._concrete_or_raise("int()"))

    def __float__(self):
        return float(self._concrete_or_raise("float()"))

    def __index__(self):
        return int(self._concrete_or_raise("an index (__index__)"))

    def __complex__(self):
        return complex(self._concrete_or_raise("complex()"))

    def __array__(self, dtype=None, copy=None):
        val = self._concrete_or_raise("numpy.asarray()")
        return np.asarray(val, dtype=dtype)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self):
        raise TypeError(
            f"unhashable type: traced array of shape {self.shape}; a traced value cannot "
            "be a dict key or a static argument"
        )

    def __repr__(self):
        return f"Traced<{self.aval.str_short()}>with<{type(self._trace).__name__}>"


def _concretization_message(tracer: Tracer, what: str) -> str:
    where = _tracing_context(tracer)
    return (
        f"{what} was called on a traced value of shape {tracer.shape} and dtype "
        f"{tracer.dtype}{where}. Its value is not known while tracing, so Python control "
        "flow cannot depend on it. Use fnn.lax.cond / fnn.lax.switch for branches, "
        "fnn.lax.while_loop / fnn.lax.fori_loop for loops, fnn.numpy.where for elementwise "
        "choices, or mark the argument static with jit's static_argnums / static_argnames."
    )


def _tracing_context(tracer: Tracer) -> str:
    # grad/jvp levels carry no name: report the innermost enclosing named function
    # (jit's or vmap's), e.g. `f` in jit(grad(f)).
    stack = _state.stack
    mains = [tracer._trace.main] + [m for m in reversed(stack) if m is not tracer._trace.main]
    for main in mains:
        name = getattr(main.global_data, "fun_name", None)
        if name:
            return f" while tracing the function `{name}` ({main.trace_type.__name__})"
    return f" inside a transform ({tracer._trace.main.trace_type.__name__})"


class EvalTrace(Trace):
    """The bottom of the stack: evaluate primitives with numpy."""

    __slots__ = ()

    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        return eval_primitive(primitive, tracers, params)


class _TraceState(threading.local):
    """The transform levels active in this thread (per thread, as in JAX: two threads
    may trace or run jitted functions at once)."""

    def __init__(self):
        self.stack: list[MainTrace] = [MainTrace(0, EvalTrace, None)]
        self.dynamic: MainTrace | None = None


_state = _TraceState()


def eval_primitive(prim: Primitive, args, params):
    """Run ``prim.impl`` on concrete values and wrap the results as Arrays."""
    vals = [_to_numpy(a) for a in args]
    try:
        if prim.silent:
            out = prim.impl(*vals, **params)
        else:
            # Overflow to inf and 0/0 to nan are results, not warnings (as in JAX and jit).
            with np.errstate(all="ignore"):
                out = prim.impl(*vals, **params)
    except Exception:
        # Eager code skips shape checking; on failure, let abstract_eval explain in
        # fnn's terms (which operation, which shapes) instead of numpy's.
        explained = _explain_failure(prim, vals, params)
        if explained is None:
            raise
        raise explained from None
    if prim.multiple_results:
        return [wrap_array(own_result(o, vals)) for o in out]
    return wrap_array(own_result(out, vals))


def _explain_failure(prim: Primitive, vals, params) -> Exception | None:
    if prim.abstract_eval is None:
        return None
    try:
        prim.abstract_eval(*[ShapedArray(v.shape, v.dtype) for v in vals], **params)
    except Exception as e:
        return e
    return None


def own_result(out, vals):
    """``out``, copied if it aliases a caller's writeable numpy input.

    Impls may return views of their inputs (reshape, stop_gradient). Wrapping such a
    view into an Array would freeze the caller's array, or let later writes to it
    change an "immutable" Array; fnn buffers are read-only and never need the copy.
    """
    for v in vals:
        if type(v) is np.ndarray and v.flags.writeable and np.may_share_memory(out, v):
            return np.array(out, copy=True)
    return out


def _to_numpy(x) -> np.ndarray:
    if type(x) is Array:
        return x._value
    if isinstance(x, Tracer):
        raise UnexpectedTracerError(_leak_message(x))
    return canonical_value(x)


@contextlib.contextmanager
def new_main(trace_type: type, global_data: Any = None) -> Iterator[MainTrace]:
    """Push a new transform level for the duration of the block."""
    stack = _state.stack
    main = MainTrace(len(stack), trace_type, global_data)
    stack.append(main)
    try:
        yield main
    finally:
        stack.pop()
        main.alive = False


@contextlib.contextmanager
def new_dynamic(main: MainTrace) -> Iterator[None]:
    """Make ``main`` catch every primitive, even those on constants (for staging)."""
    state = _state
    prev, state.dynamic = state.dynamic, main
    try:
        yield
    finally:
        state.dynamic = prev


def bind(prim: Primitive, *args, **params):
    """Apply a primitive to arguments through the innermost active transform."""
    state = _state
    if state.dynamic is None and len(state.stack) == 1:
        # Fast path for eager code: no transform is active.
        return eval_primitive(prim, args, params)
    trace = find_top_trace(args)
    tracers = [full_raise(trace, a) for a in args]
    out = trace.process_primitive(prim, tracers, params)
    if prim.multiple_results:
        return [full_lower(o) for o in out]
    return full_lower(out)


def find_top_trace(xs) -> Trace:
    state = _state
    top_main = state.stack[0]
    for x in xs:
        if isinstance(x, Tracer):
            main = x._trace.main
            if main.level > top_main.level:
                top_main = main
    if state.dynamic is not None and state.dynamic.level > top_main.level:
        top_main = state.dynamic
    _check_alive(top_main, xs)
    return top_main.trace_type(top_main)


def _check_alive(main: MainTrace, xs):
    stack = _state.stack
    if not main.alive or main.level >= len(stack) or stack[main.level] is not main:
        leaked = next(x for x in xs if isinstance(x, Tracer) and x._trace.main is main)
        raise UnexpectedTracerError(_leak_message(leaked))


def _leak_message(t: Tracer) -> str:
    name = getattr(t._trace.main.global_data, "fun_name", None)
    where = f" (made while tracing `{name}`)" if name else ""
    return (
        f"a traced value of shape {t.shape} and dtype {t.dtype} from a "
        f"{t._trace.main.trace_type.__name__}{where} escaped the transform that created it (a "
        "leaked tracer). This happens when a function under grad/jit/vmap stores an intermediate "
        "value in a global, a closure or an object attribute and it is used afterwards. "
        "Return the value from the function instead."
    )


def full_raise(trace: Trace, val):
    if not isinstance(val, Tracer):
        return trace.pure(val)
    main = val._trace.main
    if main is trace.main:
        return val
    if not main.alive:
        raise UnexpectedTracerError(_leak_message(val))
    if main.level < trace.main.level:
        return trace.lift(val)
    raise UnexpectedTracerError(_leak_message(val))


def ensure_array(x):
    """Tracers and Arrays as they are; other concrete values (numpy arrays, Python
    scalars, from literals, constants or symbolic zeros) as fnn Arrays, so that what a
    transform returns has one type. Numpy values are copied unless read-only and owning
    their data: they may be someone's buffer, or a view of one (np.broadcast_to)."""
    if isinstance(x, Tracer) or type(x) is Array:
        return x
    v = canonical_value(x)
    private = not v.flags.writeable and v.flags.owndata
    return wrap_array(v if private else np.array(v))


def full_lower(val):
    if isinstance(val, Tracer):
        return val.full_lower()
    return val


def is_tracing() -> bool:
    state = _state
    return state.dynamic is not None or len(state.stack) > 1
