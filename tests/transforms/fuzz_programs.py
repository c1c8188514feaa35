"""Random fnn programs for the differential fuzz test (``test_fuzz_programs.py``).

A program is a random DAG over fnn's primitives: 2-3 input arrays of small shapes, then
4-12 statements, each applying one building block (an elementwise op, a reduction, an
index or ``.at[]`` update, concatenate/split/stack, a contraction, a where/minimum/
maximum, a reshape or transpose, a broadcast) to values defined earlier, so that one
value feeds several later statements, and a scalar loss that sums a smooth function of
every value nothing else reads (and of a few others). ``programs()`` is the hypothesis
strategy; a drawn :class:`Program` prints as Python source that pastes into a
regression test:

    def f(x0, x1):
        v2 = x0.at[..., -1].add(x0[..., 0])
        v3 = fnp.minimum(x1, v2 - 0.05)
        ...
        return fnp.sum(fnp.tanh(v5)) + 0.1 * fnp.sum(v2 ** 2)

    r = np.random.default_rng(285)
    x0 = fnp.asarray(r.standard_normal((4, 4)) * 0.8)
    ...

The program is compiled from that very source, so what is printed is what ran.

Magnitudes are kept moderate by construction: each value carries a rough bound, and a
statement whose bound exceeds ``MAG_LIMIT`` is divided by a power of two. Divisions are
by expressions bounded away from zero, powers have positive bases, ``exp`` sees bounded
arguments. The points where a program is not smooth (``minimum``/``maximum``, ``where``,
``max``/``min`` reductions) are recorded as *kinks*; ``Program.margin`` measures how far
given inputs are from the nearest one, so that tests can skip inputs too close to a kink
for finite differences, or where float32 rounding could flip a branch.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import permutations

import numpy as np
from hypothesis import strategies as st

import fnn.numpy as fnp

__all__ = ["Kink", "Program", "programs", "INPUT_SCALE"]

MAX_SIZE = 192  # elements in any value
MAX_RANK = 4
MAG_LIMIT = 8.0  # a statement whose magnitude bound exceeds this is scaled down
INPUT_SCALE = 0.8  # inputs are standard normal times this
INPUT_MAG = 3.0  # a bound on |input| that holds for these sizes in practice


@dataclass(frozen=True)
class Kink:
    """A point where the program is not smooth.

    ``kind`` is ``"pair"`` (``exprs`` are the two operands of a minimum/maximum or of a
    where's comparison: the program is smooth while they differ) or ``"max"``/``"min"``
    (``exprs`` is the reduced operand, ``axes`` the reduced axes: smooth while the
    extreme value is unique).
    """

    kind: str
    exprs: tuple[str, ...]
    axes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Program:
    input_shapes: tuple[tuple[int, ...], ...]
    body: tuple[str, ...]
    loss_terms: tuple[str, ...]  # the loss is their sum
    sinks: tuple[str, ...]  # values nothing else reads (all are in the loss)
    kinks: tuple[Kink, ...]
    seed: int  # of the inputs
    argnums: int | tuple[int, ...]
    in_axes: tuple[int | None, ...]  # for the vmap check
    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()  # of every value, by numpy's rules

    @property
    def n_inputs(self) -> int:
        return len(self.input_shapes)

    @property
    def loss(self) -> str:
        return " + ".join(self.loss_terms)

    def source(self, returns: str | None = None, name: str = "f") -> str:
        """``def f(x0, ...)``: the body, then ``return <loss>`` (or ``returns``)."""
        args = ", ".join(f"x{i}" for i in range(self.n_inputs))
        lines = [f"def {name}({args}):"]
        lines += [f"    {line}" for line in self.body]
        if returns is None and len(self.loss_terms) > 1:
            lines.append("    return (")
            lines.append(f"        {self.loss_terms[0]}")
            lines += [f"        + {t}" for t in self.loss_terms[1:]]
            lines.append("    )")
        else:
            lines.append(f"    return {self.loss if returns is None else returns}")
        return "\n".join(lines)

    def inputs_source(self) -> str:
        lines = [f"r = np.random.default_rng({self.seed})"]
        lines += [
            f"x{i} = fnp.asarray(r.standard_normal({s}) * {INPUT_SCALE})"
            for i, s in enumerate(self.input_shapes)
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"\n{self.source()}\n\n{self.inputs_source()}\n"
            f"# grad argnums={self.argnums!r}, vmap in_axes={self.in_axes!r}\n"
        )

    def _repr_pretty_(self, printer, cycle):  # how hypothesis prints a falsifying example
        printer.text(repr(self))

    def function(self, returns: str | None = None):
        """The program as a Python function, compiled from ``source(returns)``."""
        namespace = {"fnp": fnp, "np": np}
        exec(compile(self.source(returns), "<fuzz program>", "exec"), namespace)
        return namespace["f"]

    def function_with_sinks(self):
        """The program returning ``(loss, (sink, ...))``: jit's outputs then include
        arrays, not only a scalar."""
        return self.function(f"{self.loss}, ({''.join(s + ', ' for s in self.sinks)})")

    def inputs(self, seed: int | None = None) -> list:
        r = np.random.default_rng(self.seed if seed is None else seed)
        return [fnp.asarray(r.standard_normal(s) * INPUT_SCALE) for s in self.input_shapes]

    def values(self, xs) -> dict:
        """Every named value of the program at ``xs``, computed eagerly."""
        return self.function("dict(locals())")(*xs)

    def margin(self, xs) -> tuple[float, float]:
        """``(distance to the nearest kink, largest |value|)`` at ``xs``: the smallest
        gap between a minimum's or a where's operands, or between the largest and
        second-largest entry of a max reduction, over the whole program.

        Also checks that every value has the shape the generator derived from numpy's
        rules (a wrong one is a bug of the generator or of fnn's eager shapes)."""
        values = self.values(xs)
        for name, shape in self.shapes:
            got = np.shape(values[name])
            assert got == shape, f"{name}: eager shape {got}, numpy's rules give {shape}"
        largest = max(float(np.max(np.abs(np.asarray(v)), initial=0.0)) for v in values.values())
        namespace = {"fnp": fnp, "np": np}
        gap = math.inf
        for kink in self.kinks:
            ops = [np.asarray(eval(e, namespace, values), np.float64) for e in kink.exprs]
            if kink.kind == "pair":
                gap = min(gap, float(np.min(np.abs(ops[0] - ops[1]))))
                continue
            a = np.moveaxis(ops[0], kink.axes, tuple(range(-len(kink.axes), 0)))
            a = a.reshape(a.shape[: a.ndim - len(kink.axes)] + (-1,))
            if a.shape[-1] < 2 or a.size == 0:
                continue
            s = np.sort(a, axis=-1)
            top = s[..., -1] - s[..., -2] if kink.kind == "max" else s[..., 1] - s[..., 0]
            gap = min(gap, float(np.min(top)))
        return gap, largest


# ---------------------------------------------------------------------------------------
# The generator


@dataclass
class _Value:
    name: str
    shape: tuple[int, ...]
    mag: float  # rough bound on |value|


def _size(shape) -> int:
    return math.prod(shape)


def _fits(shape) -> bool:
    return len(shape) <= MAX_RANK and 0 < _size(shape) <= MAX_SIZE


def _broadcast(*shapes):
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        return None
    return out if _fits(out) else None


def _fmt(c: float) -> str:
    return repr(float(c))


def _index_forms(shape, *, for_update=False, add=False):
    """``[(index source, indexed shape)]`` for an array of ``shape``: integers,
    slices, ellipses, reversed and strided slices, integer arrays, new axes."""
    r = len(shape)
    forms = []
    if r == 0:
        return [("[...]", shape)] if for_update else []
    n0, nl = shape[0], shape[-1]
    forms += [(f"[{i}]", shape[1:]) for i in sorted({0, n0 - 1, -1})]
    forms += [(f"[..., {j}]", shape[:-1]) for j in sorted({0, -1, nl // 2})]
    if n0 >= 3:
        forms.append(("[1:3]", (2,) + shape[1:]))
        forms.append(("[::2]", ((n0 + 1) // 2,) + shape[1:]))
    if nl >= 2:
        forms.append(("[..., 1:]", shape[:-1] + (nl - 1,)))
        forms.append(("[..., :2]", shape[:-1] + (2,)))
    if r >= 2:
        n1 = shape[1]
        forms.append(("[:, 0]", shape[:1] + shape[2:]))
        forms.append((f"[{n0 - 1}, {n1 // 2}]", shape[2:]))
        if n1 >= 2:
            forms.append(("[:, 1:]", (n0, n1 - 1) + shape[2:]))
    if not for_update:
        forms.append(("[::-1]", shape))
        forms.append(("[..., ::-1]", shape))
        forms.append(("[..., None]", shape + (1,)))
        forms.append(("[None]", (1,) + shape))
        if r >= 2:
            forms.append(("[:, None]", shape[:1] + (1,) + shape[1:]))
    gathers = [list(dict.fromkeys([n0 - 1, 0]))]
    if not for_update or add:  # repeated indices: gathers, and scatter-adds only
        gathers.append([n0 - 1, 0, n0 - 1])
    for g in gathers:
        forms.append((f"[np.array({g})]", (len(g),) + shape[1:]))
    return [(src, s) for src, s in forms if _fits(s)]


_UNARY = [
    # (template, magnitude bound from the operand's bound m)
    ("fnp.sin({a})", lambda m: 1.0),
    ("fnp.cos({a})", lambda m: 1.0),
    ("fnp.tanh({a})", lambda m: 1.0),
    ("fnp.square({a})", lambda m: m * m),
    ("{a} * {a}", lambda m: m * m),
    ("fnp.exp(fnp.tanh({a}))", lambda m: math.e),
    ("fnp.exp(-fnp.square({a}))", lambda m: 1.0),
    ("fnp.exp({a} * {c})", lambda m: math.e),  # c = 1 / bound: a bounded exponent
    ("({a} * {a} + 0.5) ** {p}", None),
    ("fnp.power(fnp.exp(fnp.sin({a})), {p})", None),
    ("fnp.sqrt({a} * {a} + 1.0)", lambda m: m + 1.0),
    ("-{a}", lambda m: m),
    ("{a} * 0.5 + 0.25", lambda m: 0.5 * m + 0.25),
    ("2.0 - {a}", lambda m: m + 2.0),
    ("1.0 / (1.0 + {a} * {a})", lambda m: 1.0),
    ("fnp.log1p({a} * {a})", lambda m: math.log1p(m * m)),
]

_BINARY = [
    ("{a} + {b}", lambda m, n: m + n),
    ("{a} - {b}", lambda m, n: m + n),
    ("{a} * {b}", lambda m, n: m * n),
    ("fnp.multiply({a}, {b})", lambda m, n: m * n),
    ("{a} / (1.0 + {b} * {b})", lambda m, n: m),
    ("{a} / (2.0 + fnp.sin({b}))", lambda m, n: m),
    ("fnp.subtract({b}, {a}) * 0.5", lambda m, n: (m + n) / 2),
]

_EINSUMS = [
    # (spec, the letters it sums over)
    ("...ij,...kj->...ik", "j"),
    ("...ij,...jk->...ik", "j"),
    ("...ij,...ij->...i", "j"),
    ("...ij,...ik->...jk", "i"),
    ("ij,jk->ik", "j"),
    ("ij,kj->ik", "j"),
    ("ij,ij->", "ij"),
    ("...ij->...ji", ""),
    ("...ii->...i", ""),
]


class _Builder:
    def __init__(self, draw, input_shapes):
        self.draw = draw
        self.values = [_Value(f"x{i}", s, INPUT_MAG) for i, s in enumerate(input_shapes)]
        self.counter = len(input_shapes)
        self.body: list[str] = []
        self.kinks: list[Kink] = []
        self.uses: Counter = Counter()

    # -- helpers --------------------------------------------------------------------

    def choose(self, options):
        return options[self.draw(st.integers(0, len(options) - 1))]

    def pick(self, pred=lambda v: True):
        """An earlier value satisfying ``pred``: half the time one of the latest three,
        so that chains grow deep, else any, so that early values are read again late."""
        cands = [v for v in self.values if pred(v)]
        if not cands:
            return None
        return self.choose(cands[-3:] if self.flag() else cands)

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def fresh(self) -> str:
        name = f"v{self.counter}"
        self.counter += 1
        return name

    def emit(self, expr, shape, mag, operands, kinks=()):
        name = self.fresh()
        if mag > MAG_LIMIT:
            div = 2.0 ** math.ceil(math.log2(mag / 2.0))
            expr, mag = f"({expr}) / {_fmt(div)}", mag / div
        self.body.append(f"{name} = {expr}")
        self.values.append(_Value(name, tuple(shape), mag))
        self.kinks += kinks
        for v in operands:
            self.uses[v.name] += 1
        return True

    # -- building blocks: each returns False when it does not apply ------------------

    def unary(self):
        a = self.pick()
        template, bound = self.choose(_UNARY)
        p = c = None
        if "{p}" in template:
            p = self.choose([0.5, 1.5, 2.0, 3.0, -0.5, -1.0])
            if template.startswith("("):
                bound = lambda m: (m * m + 0.5) ** p if p > 0 else 0.5**p  # noqa: E731
            else:
                bound = lambda m: math.e ** abs(p)  # noqa: E731
        if "{c}" in template:
            c = 2.0 ** -math.ceil(math.log2(max(a.mag, 1.0)))
        expr = template.format(a=a.name, p=_fmt(p) if p is not None else "", c=c)
        return self.emit(expr, a.shape, bound(a.mag), [a])

    def binary(self):
        a = self.pick()
        b = self.pick(lambda v: _broadcast(a.shape, v.shape) is not None)
        template, bound = self.choose(_BINARY)
        expr = template.format(a=a.name, b=b.name)
        return self.emit(expr, _broadcast(a.shape, b.shape), bound(a.mag, b.mag), [a, b])

    def scalar_op(self):
        a = self.pick()
        template, scale, shift = self.choose(
            [
                ("{a} * 1.5", 1.5, 0.0),
                ("-2.0 * {a}", 2.0, 0.0),
                ("{a} + 0.5", 1.0, 0.5),
                ("{a} - 2.0", 1.0, 2.0),
                ("3.0 - {a}", 1.0, 3.0),
                ("{a} / 2.0", 0.5, 0.0),
                ("0.5 + {a}", 1.0, 0.5),
            ]
        )
        return self.emit(template.format(a=a.name), a.shape, a.mag * scale + shift, [a])

    def minmax(self):
        a = self.pick()
        b = self.pick(lambda v: _broadcast(a.shape, v.shape) is not None)
        fn = self.choose(["minimum", "maximum"])
        offsets = [" - 0.05", " + 0.1"] if a is b else ["", " - 0.05", " + 0.1"]
        other = b.name + self.choose(offsets)
        expr = f"fnp.{fn}({a.name}, {other})"
        shape = _broadcast(a.shape, b.shape)
        return self.emit(
            expr, shape, max(a.mag, b.mag) + 0.1, [a, b], [Kink("pair", (a.name, other))]
        )

    def where(self):
        c = self.pick()
        d = self.pick(lambda v: v is not c and _broadcast(c.shape, v.shape) is not None)
        if d is None:
            return False
        s = _broadcast(c.shape, d.shape)
        a = self.pick(lambda v: _broadcast(s, v.shape) is not None)
        s = _broadcast(s, a.shape)
        kink = Kink("pair", (c.name, d.name))
        if self.flag():
            expr = f"fnp.where({c.name} > {d.name}, {a.name}, 0.0)"
            return self.emit(expr, s, a.mag, [c, d, a], [kink])
        b = self.pick(lambda v: _broadcast(s, v.shape) is not None)
        expr = f"fnp.where({c.name} > {d.name}, {a.name}, {b.name})"
        return self.emit(expr, _broadcast(s, b.shape), max(a.mag, b.mag), [c, d, a, b], [kink])

    def reduction(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        r = len(a.shape)
        fn = self.choose(["sum", "mean", "max", "min"])
        axis_options = [None, -1, 0, r - 1] + ([(0, r - 1), (-2, -1)] if r >= 2 else [])
        axis = self.choose(axis_options)
        axes = (
            tuple(range(r)) if axis is None else tuple(sorted({x % r for x in np.atleast_1d(axis)}))
        )
        keep = self.flag()
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape) if keep or i not in axes)
        args = ("" if axis is None else f", axis={axis}") + (", keepdims=True" if keep else "")
        style = self.flag()
        expr = f"{a.name}.{fn}({args[2:]})" if style else f"fnp.{fn}({a.name}{args})"
        count = math.prod(a.shape[i] for i in axes)
        mag = a.mag * count if fn == "sum" else a.mag
        kinks = [Kink(fn, (a.name,), axes)] if fn in ("max", "min") else []
        return self.emit(expr, shape, mag, [a], kinks)

    def index(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        src, shape = self.choose(_index_forms(a.shape))
        return self.emit(f"{a.name}{src}", shape, a.mag, [a])

    def at_update(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        method = self.choose(["add", "set", "multiply"])
        src, t = self.choose(_index_forms(a.shape, for_update=True, add=method == "add"))

        def into_t(v):
            return len(v.shape) <= len(t) and _broadcast(v.shape, t) == tuple(t)

        kind = self.choose(["value", "indexed", "constant"])
        operands = [a]
        if kind == "value" and (u := self.pick(into_t)) is not None:
            u_expr, u_mag = u.name, u.mag
            operands.append(u)
        elif kind in ("value", "indexed") and (
            w := self.pick(lambda v: v.shape == a.shape)  # a itself qualifies
        ):
            forms = [f for f, s in _index_forms(a.shape) if s == t and not f.startswith("[None")]
            u_expr, u_mag = f"{w.name}{self.choose(forms)}", w.mag
            operands.append(w)
        else:
            c = self.choose([1.5, -0.5, 2.0])
            u_expr, u_mag = _fmt(c), abs(c)
        mag = {"add": a.mag + u_mag, "set": max(a.mag, u_mag), "multiply": a.mag * max(u_mag, 1)}
        return self.emit(f"{a.name}.at{src}.{method}({u_expr})", a.shape, mag[method], operands)

    def concatenate(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        r = len(a.shape)
        k = self.choose(sorted({0, r - 1, -1}))
        kk = k % r

        def matches(v):
            return len(v.shape) == r and all(
                d == e for i, (d, e) in enumerate(zip(v.shape, a.shape)) if i != kk
            )

        b = self.pick(matches)
        shape = list(a.shape)
        shape[kk] += b.shape[kk]
        if not _fits(shape):
            return False
        expr = f"fnp.concatenate([{a.name}, {b.name}], axis={k})"
        if self.flag() and shape[kk] % 2 == 0:  # split it again, as in a known jit bug
            j = self.choose([0, 1])
            shape[kk] //= 2
            expr = f"fnp.split({expr}, 2, axis={k})[{j}]"
        return self.emit(expr, shape, max(a.mag, b.mag), [a, b])

    def split(self):
        a = self.pick(lambda v: any(d % 2 == 0 for d in v.shape))
        if a is None:
            return False
        r = len(a.shape)
        k = self.choose([i for i in range(-r, r) if a.shape[i] % 2 == 0])
        shape = list(a.shape)
        shape[k] //= 2
        if self.flag():  # both halves, as two values
            n1, n2 = self.fresh(), self.fresh()
            self.body.append(f"{n1}, {n2} = fnp.split({a.name}, 2, axis={k})")
            self.values += [_Value(n1, tuple(shape), a.mag), _Value(n2, tuple(shape), a.mag)]
            self.uses[a.name] += 1
            return True
        if a.shape[k] >= 4 and self.flag():
            j = self.choose([0, 1, 2])
            sizes = [1, 2, a.shape[k] - 3]
            shape[k] = sizes[j]
            return self.emit(f"fnp.split({a.name}, [1, 3], axis={k})[{j}]", shape, a.mag, [a])
        j = self.choose([0, 1])
        return self.emit(f"fnp.split({a.name}, 2, axis={k})[{j}]", shape, a.mag, [a])

    def stack(self):
        a = self.pick(lambda v: _size(v.shape) * 2 <= MAX_SIZE and len(v.shape) < MAX_RANK)
        if a is None:
            return False
        b = self.pick(lambda v: v.shape == a.shape)
        r = len(a.shape)
        k = self.choose(sorted({0, r, -1}))
        shape = list(a.shape)
        shape.insert(k % (r + 1), 2)
        expr = f"fnp.stack([{a.name}, {b.name}], axis={k})"
        return self.emit(expr, shape, max(a.mag, b.mag), [a, b])

    def contraction(self):
        style = self.choose(["matmul", "einsum", "einsum", "dot"])
        a = self.pick(lambda v: len(v.shape) >= (2 if style != "matmul" else 1))
        if a is None:
            return False
        if style == "einsum":
            spec, contracted = self.choose(_EINSUMS)
            ins, out = spec.split("->")
            terms = ins.split(",")
            if len(terms) == 1:
                b = None
            else:
                b = self.pick(lambda v: _einsum_shape(spec, a.shape, v.shape) is not None)
                if b is None:
                    return False
            shapes = [a.shape] + ([b.shape] if b is not None else [])
            shape = _einsum_shape(spec, *shapes)
            if shape is None:
                return False
            letters = dict(zip(terms[0][-2:], a.shape[-2:]))
            k = math.prod(letters.get(c, 1) for c in contracted) or 1
            names = ", ".join(v.name for v in [a, b] if v is not None)
            expr = f'fnp.einsum("{spec}", {names})'
            operands = [v for v in (a, b) if v is not None]
        else:
            fn = np.matmul if style == "matmul" else np.dot
            if style == "dot" and len(a.shape) > 2:
                return False

            def ok(v):
                if style == "dot" and len(v.shape) > 2 or len(v.shape) < 1:
                    return False
                return _try_shape(fn, a.shape, v.shape) is not None

            b = self.pick(ok)
            if b is None:
                return False
            shape = _try_shape(fn, a.shape, b.shape)
            k = a.shape[-1]
            expr = f"{a.name} @ {b.name}" if style == "matmul" else f"fnp.dot({a.name}, {b.name})"
            operands = [a, b]
        if len(operands) == 2:
            mag = operands[0].mag * operands[1].mag
            if k > 1:
                expr, mag = f"{expr} / {_fmt(k)}", mag
        else:
            mag = a.mag
        return self.emit(expr, shape, mag, operands)

    def layout(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        r = len(a.shape)
        kind = self.choose(["T", "transpose", "swapaxes", "mT", "reshape", "reshape_like"])
        if kind in ("T", "mT", "swapaxes") and r < 2:
            kind = "reshape"
        if kind == "T":
            return self.emit(f"{a.name}.T", a.shape[::-1], a.mag, [a])
        if kind == "mT":
            return self.emit(f"{a.name}.mT", a.shape[:-2] + a.shape[:-3:-1], a.mag, [a])
        if kind == "swapaxes":
            i, j = self.choose([(0, -1), (-1, -2), (0, 1)])
            shape = list(a.shape)
            shape[i], shape[j] = shape[j], shape[i]
            return self.emit(f"fnp.swapaxes({a.name}, {i}, {j})", shape, a.mag, [a])
        if kind == "transpose":
            if r < 2:
                return False
            perm = self.choose(list(permutations(range(r)))[1:])
            shape = tuple(a.shape[p] for p in perm)
            return self.emit(f"fnp.transpose({a.name}, {perm})", shape, a.mag, [a])
        n = _size(a.shape)
        like = sorted({v.shape for v in self.values if _size(v.shape) == n} - {a.shape})
        options = like if kind == "reshape_like" and like else _factorizations(n)
        options = [s for s in options if s != a.shape]
        if not options:
            return False
        shape = self.choose(options)
        if self.flag():
            return self.emit(f"{a.name}.reshape({shape})", shape, a.mag, [a])
        shown = list(shape)
        shown[self.choose(range(len(shown)))] = -1
        return self.emit(f"fnp.reshape({a.name}, {tuple(shown)})", shape, a.mag, [a])

    def broadcast(self):
        a = self.pick()
        targets = sorted(
            {v.shape for v in self.values if _broadcast(a.shape, v.shape) == v.shape} - {a.shape}
        )
        if targets:
            shape = self.choose(targets)
            return self.emit(f"fnp.broadcast_to({a.name}, {shape})", shape, a.mag, [a])
        # an outer product over the last axes, by new axes
        if len(a.shape) < 1 or len(a.shape) >= MAX_RANK:
            return False
        b = self.pick(lambda v: len(v.shape) == len(a.shape) and v.shape[:-1] == a.shape[:-1])
        shape = a.shape + b.shape[-1:]
        if not _fits(shape):
            return False
        expr = f"{a.name}[..., :, None] * {b.name}[..., None, :]"
        return self.emit(expr, shape, a.mag * b.mag, [a, b])

    BLOCKS = (
        "unary",
        "binary",
        "unary",
        "binary",
        "scalar_op",
        "minmax",
        "where",
        "reduction",
        "index",
        "at_update",
        "at_update",
        "concatenate",
        "split",
        "stack",
        "contraction",
        "contraction",
        "layout",
        "broadcast",
    )

    def step(self):
        for _ in range(8):
            if getattr(self, self.choose(self.BLOCKS))():
                return
        self.unary()  # always applies

    def loss(self):
        sinks = [v for v in self.values if v.name.startswith("v") and not self.uses[v.name]]
        extra = self.draw(st.lists(st.sampled_from(self.values), max_size=2, unique_by=id))
        chosen = sinks + [v for v in extra if v not in sinks]
        terms = []
        for v in chosen:
            template = self.choose(
                [
                    "fnp.sum(fnp.tanh({v}))",
                    "fnp.mean(fnp.sin({v}) * {v})",
                    "0.1 * fnp.sum({v} ** 2)",
                    "fnp.sum({v} * fnp.cos({v}))",
                    "fnp.sum(({v} * {v} + 1.0) ** 1.5)",
                ]
            )
            terms.append(template.format(v=v.name))
        return tuple(terms), tuple(v.name for v in sinks)


def _try_shape(fn, *shapes):
    try:
        out = fn(*(np.zeros(s) for s in shapes)).shape
    except ValueError:
        return None
    return out if _fits(out) or out == () else None


def _einsum_shape(spec, *shapes):
    return _try_shape(lambda *ops: np.einsum(spec, *ops), *shapes)


def _factorizations(n):
    """Shapes of 1-3 axes holding n elements, each axis longer than 1."""
    out = [(n,)]
    for d in range(2, n):
        if n % d == 0:
            out.append((d, n // d))
            m = n // d
            out += [(d, e, m // e) for e in range(2, m) if m % e == 0]
    return [s for s in out if len(s) <= MAX_RANK]


@st.composite
def programs(draw, min_ops: int = 4, max_ops: int = 12) -> Program:
    """A random :class:`Program` of ``min_ops`` to ``max_ops`` statements."""
    prefix = draw(st.sampled_from([(), (3,), (2,), (4,)]))
    full = prefix + (4, 4)
    n_inputs = draw(st.integers(2, 3))
    others = [full, full, full, (4, 4), full[:-1] + (1,), (4,), (1, 4)]
    shapes = [full] + [draw(st.sampled_from(others)) for _ in range(n_inputs - 1)]
    builder = _Builder(draw, shapes)
    for _ in range(draw(st.integers(min_ops, max_ops))):
        builder.step()
    loss_terms, sinks = builder.loss()
    diff = draw(st.lists(st.integers(0, n_inputs - 1), min_size=1, max_size=n_inputs, unique=True))
    argnums = diff[0] if len(diff) == 1 and draw(st.booleans()) else tuple(sorted(diff))
    in_axes = [draw(st.sampled_from([0, 0, None, 1])) for _ in range(n_inputs)]
    if all(a is None for a in in_axes):
        in_axes[0] = 0
    return Program(
        input_shapes=tuple(shapes),
        body=tuple(builder.body),
        loss_terms=loss_terms,
        sinks=sinks,
        kinks=tuple(builder.kinks),
        seed=draw(st.integers(0, 2**20)),
        argnums=argnums,
        in_axes=tuple(in_axes),
        shapes=tuple((v.name, tuple(v.shape)) for v in builder.values),
    )
