"""jit: stage a function to a jaxpr once per input signature, optimize it, and run it as
generated straight-line numpy code. Also ``make_jaxpr``.

Rules a user should know (as in JAX):

* The function must be pure: Python side effects such as ``print`` run once, while
  tracing, not on every call. Use the returned values instead.
* Python control flow cannot depend on traced values; use ``fnn.lax.cond``,
  ``fnn.lax.while_loop`` or mark the argument static with ``static_argnums``.
* The cache key is the pytree structure, shapes and dtypes of the arguments and the
  values of static arguments; a new key traces again.
* Inside another transform (grad, vmap, or an outer jit), a jitted function is inlined.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from fnn import core
from fnn.backend import batch_split, codegen, passes
from fnn.backend.profile import format_profile, profile_program
from fnn.backend.program import Program
from fnn.core import ShapedArray
from fnn.jaxpr import ClosedJaxpr, pp_jaxpr, trace_to_jaxpr
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["jit", "make_jaxpr", "Jitted", "Lowered"]


def _leaf_value(x, where: str):
    if type(x) is core.Array:
        return x._value
    try:
        return core.canonical_value(x)
    except core.FnnTypeError:
        raise TypeError(
            f"{where}: expected arrays, numbers or pytrees of them, got {type(x).__name__}: "
            f"{x!r:.60}. Mark non-array arguments static with static_argnums / static_argnames."
        ) from None


_NO_STATICS: frozenset = frozenset()


class Lowered:
    """A jitted function compiled for one input signature: what ``jit(f).lower(*args)``
    returns, to read and to time.

    ``jaxpr`` is the optimized program, ``source`` the generated numpy code (each line
    ends with the user's line it came from), ``fn`` the compiled
    :class:`~fnn.backend.program.Program`.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> lowered = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2)).lower(fnp.ones(3))
        >>> "np.tanh" in lowered.source
        True
    """

    __slots__ = ("fn", "jaxpr", "consts", "raw_jaxpr", "out_tree", "_args")

    def __init__(self, fn, jaxpr, consts, raw_jaxpr, out_tree):
        self.fn = fn
        self.jaxpr = jaxpr
        self.consts = consts
        self.raw_jaxpr = raw_jaxpr
        self.out_tree = out_tree
        self._args = None

    @property
    def source(self) -> str:
        return self.fn.source

    def as_text(self) -> str:
        """The optimized jaxpr, then the generated source."""
        return f"{pp_jaxpr(self.jaxpr)}\n\n{self.source}"

    def __str__(self) -> str:
        return self.as_text()

    def profile(self, repeats: int = 10, top: int = 15, print_report: bool = True):
        """Run the program on the arguments given to ``lower`` and report the time of
        each generated line and of each of the user's lines, slowest first. The whole
        program is timed, unsplit. Returns the rows
        (:class:`~fnn.backend.profile.LineTime`).

        Example:
            >>> import fnn, fnn.numpy as fnp
            >>> f = fnn.jit(lambda x: fnp.sum(fnp.tanh(x) ** 2))
            >>> rows = f.lower(fnp.ones(3)).profile(repeats=2, print_report=False)
            >>> rows[0].seconds >= 0
            True
        """
        whole = self.fn
        if whole.split is not None:
            whole = codegen.compile_jaxpr(self.jaxpr, self.consts, "whole")
        vals = self._args
        rows = profile_program(whole, vals, repeats=repeats)
        if print_report:
            print(format_profile(rows, top))
        return rows


class Jitted:
    """A jit-compiled function; call it like the original."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), optimize=True):
        self.fun = fun
        self.static_argnums = (
            (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        )
        self.static_argnames = (
            (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        )
        self.optimize = optimize
        self._cache: dict[Any, Lowered] = {}
        self.trace_count = 0
        self._name = getattr(fun, "__name__", type(fun).__name__)
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None
        functools.update_wrapper(self, fun, updated=())

    def __repr__(self):
        return f"<fnn.jit of {self._name}>"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def _split(self, args, kwargs):
        nargs = len(args)
        static_pos = {n % nargs if nargs else n for n in self.static_argnums if -nargs <= n < nargs}
        statics = []
        for n in sorted(static_pos):
            statics.append(("arg", n, _check_hashable(args[n], f"static argument {n}", self._name)))
        for name in sorted(kwargs):
            if name in self.static_argnames:
                statics.append(
                    (
                        "kw",
                        name,
                        _check_hashable(kwargs[name], f"static argument '{name}'", self._name),
                    )
                )
        dyn_args = [a for i, a in enumerate(args) if i not in static_pos]
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return static_pos, tuple(statics), dyn_args, dyn_kwargs

    def __call__(self, *args, **kwargs):
        if core.is_tracing():
            return self.fun(*args, **kwargs)
        if kwargs or self.static_argnums:
            static_pos, statics, dyn_args, dyn_kwargs = self._split(args, kwargs)
        else:  # the common call: positional arrays only, nothing static
            static_pos, statics, dyn_args, dyn_kwargs = _NO_STATICS, (), list(args), {}
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        # fnn Arrays (the usual leaves) hold read-only buffers: only other leaves can be
        # writeable numpy arrays that an output might alias (own_result copies those).
        array_type = core.Array
        vals, writeable = [], []
        for x in leaves:
            if type(x) is array_type:
                vals.append(x._value)
            else:
                v = _leaf_value(x, f"jit of `{self._name}`")
                vals.append(v)
                if v.flags.writeable:
                    writeable.append(v)
        key = (in_tree, tuple([(v.shape, v.dtype) for v in vals]), statics)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._compile(args, kwargs, static_pos, in_tree, vals)
            self._cache[key] = entry
        outs = entry.fn(*vals)
        if writeable:
            outs = [core.own_result(o, writeable) for o in outs]
        wrap = core.wrap_array
        return tree_unflatten(entry.out_tree, [wrap(o) for o in outs])

    def _compile(self, args, kwargs, static_pos, in_tree, vals):
        self.trace_count += 1
        in_avals = [ShapedArray(v.shape, v.dtype) for v in vals]
        out_store = {}

        def flat_fun(*leaves):
            dyn_args, dyn_kwargs = tree_unflatten(in_tree, leaves)
            it = iter(dyn_args)
            full = [args[i] if i in static_pos else next(it) for i in range(len(args))]
            kw = {k: v for k, v in kwargs.items() if k in self.static_argnames}
            kw.update(dyn_kwargs)
            out = self.fun(*full, **kw)
            out_leaves, out_store["tree"] = tree_flatten(out)
            return out_leaves

        jaxpr, consts, _ = trace_to_jaxpr(flat_fun, in_avals, self._name)
        raw = jaxpr
        if self.optimize:
            jaxpr, consts = passes.optimize(jaxpr, consts)
        name = _py_name(self._name)
        split = batch_split.plan_split(jaxpr, consts, codegen.compile_jaxpr, name)
        if split is None:
            fn = codegen.compile_jaxpr(jaxpr, consts, name)
        else:
            fn = Program(split.run, split.source, split=split)
        return Lowered(fn, jaxpr, consts, raw, out_store["tree"])

    def lower(self, *args, **kwargs) -> Lowered:
        """The compiled entry for these arguments: its ``.jaxpr``, and ``.fn``, the
        :class:`~fnn.backend.program.Program` (``.fn.source`` is the generated code)."""
        static_pos, statics, dyn_args, dyn_kwargs = self._split(args, kwargs)
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        vals = [_leaf_value(x, f"jit of `{self._name}`") for x in leaves]
        key = (in_tree, tuple((v.shape, v.dtype) for v in vals), statics)
        if key not in self._cache:
            self._cache[key] = self._compile(args, kwargs, static_pos, in_tree, vals)
        lowered = self._cache[key]
        lowered._args = vals
        return lowered


def _py_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"f_{cleaned}"


def _check_hashable(value, what, fun_name):
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"jit of `{fun_name}`: {what} must be hashable (it is part of the cache key), got "
            f"{type(value).__name__}: {value!r:.60}. Pass a tuple instead of a list, or make "
            "it a traced (non-static) argument."
        ) from None
    return value


def jit(
    fun: Callable | None = None,
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    optimize: bool = True,
):
    """Compile ``fun`` to straight-line numpy, traced once per input signature.

    Usable as ``jit(f)``, ``@jit`` or ``@jit(static_argnums=1)``.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> @fnn.jit
        ... def f(x):
        ...     return fnp.sum(fnp.tanh(x) ** 2)
        >>> f(fnp.ones(3))
        Array(1.7399405, dtype=float32)
    """
    if fun is None:
        return lambda f: Jitted(f, static_argnums, static_argnames, optimize)
    return Jitted(fun, static_argnums, static_argnames, optimize)


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (), optimize: bool = False):
    """A function returning the jaxpr of ``fun`` for example arguments.

    With ``optimize=True`` it shows the program jit actually runs (after the passes).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> print(fnn.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(1.0))
        { lambda ; a:f32[]. let
            b:f32[] = sin a
            c:f32[] = mul b 2.0
          in (c) }
    """
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def make(*args, **kwargs):
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_flatten((dyn, kwargs))
        avals = [core.get_aval(x) for x in leaves]

        def flat_fun(*flat):
            d, kw = tree_unflatten(in_tree, flat)
            it = iter(d)
            full = [args[i] if i in static else next(it) for i in range(len(args))]
            return tree_flatten(fun(*full, **kw))[0]

        name = getattr(fun, "__name__", "fun")
        jaxpr, consts, _ = trace_to_jaxpr(flat_fun, avals, name)
        if optimize:
            jaxpr, consts = passes.optimize(jaxpr, consts)
        return ClosedJaxpr(jaxpr, consts)

    return make
