"""Collectives over processes as primitives: ``psum``, ``pmean``, ``all_gather``, ``pvary``.

Each works on a pytree: its leaves are the operands of ONE equation, so a gradient
pytree is one header exchange and one ``Allreduce`` per dtype, eagerly and under
``jit`` (where the equation runs its impl: the program calls MPI in place).

**What the derivatives mean.** Every process runs the same program on its own data.
A value is either *per-process* (it depends on this process's data: a local loss, a
local gradient) or *replicated* (the same on every process: the parameters, and every
result of ``psum``, ``pmean`` and ``all_gather``). A replicated value is ONE value held
in P copies, so its cotangent is one cotangent, the same on every process. Then:

- ``psum``: ``y = sum_q x_q``, so ``dy/dx_p = 1`` and the cotangent of this process's
  ``x`` is the cotangent of ``y`` itself: the transpose is the identity, with no
  communication. (JAX's ``pmap`` transposes ``psum`` to ``psum``: it treats the P
  copies of ``y`` as P outputs whose cotangents add up, which counts the loss P times.)
- ``all_gather``: the transpose takes this process's row of the cotangent.
- ``pvary`` (JAX's name): the identity on values that marks a replicated value (the
  parameters) as used by per-process computation. Its transpose is ``psum``: the
  gradient with respect to a replicated input is the sum of every process's part.

So ``grad(lambda p: pmean(local_loss(pvary(p), x_local)))`` is the gradient of the
mean loss over all processes' data, the same on every process: what one process with
all the data computes. Without ``pvary``, ``grad`` gives this process's part of that
gradient; averaging per-process gradients with ``pmean`` (Horovod's pattern) gives
the same result. Forward mode needs no marker: ``jvp`` of a replicated tangent
through ``pmean`` is already the global directional derivative.

With one process (no MPI, or before :func:`fnn.distributed.initialize`), the
functions here return their input and bind nothing, so a single-process program is
exactly what it was without them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnn import core, lax, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.distributed import protocol, runtime
from fnn.lax.base import Zero, batching_rules, defprim, jvp_rules, transpose_rules
from fnn.lax.structural import linear_jet
from fnn.lowering import FRESH, INTERPRETED, Lowering
from fnn.rules import is_zero, jet_rules, not_mapped
from fnn.tree_util import tree_flatten, tree_unflatten

__all__ = ["psum", "pmean", "all_gather", "pvary", "broadcast", "psum_p", "all_gather_p", "pvary_p"]


def _numeric(name: str, avals) -> None:
    for a in avals:
        if a.dtype.kind not in "iufc" or a.dtype == np.float16:
            raise FnnTypeError(
                f"{name}: expected arrays of int, float32/64 or complex dtype, got "
                f"{np.dtype(a.dtype).name}{list(a.shape)}"
            )


def _signature(arrays, tree: str) -> str:
    return f"{tree} with leaves {protocol.describe_leaves(arrays)}"


# ---- psum ------------------------------------------------------------------------------


def _psum_impl(*xs, tree: str):
    _numeric("psum", xs)  # eager calls skip abstract_eval; MPI would fail less clearly
    b = runtime.backend()
    if b is None:
        return [np.array(x, copy=True) for x in xs]
    b.agree("psum", _signature(xs, tree))
    return b.allreduce_sum(xs)


def _psum_abstract(*avals, tree: str):
    _numeric("psum", avals)
    return list(avals)


psum_p = defprim("psum", _psum_impl, _psum_abstract, multiple_results=True)


def _nonzero_bind(prim, tangents, tree: str):
    """``prim`` on the non-zero tangents only (zeros are zeros on every process: the
    program, hence which tangents are symbolic zeros, is the same everywhere)."""
    idx = [i for i, t in enumerate(tangents) if not is_zero(t)]
    outs: list = [Zero(t.aval) if is_zero(t) else None for t in tangents]
    if idx:
        for i, o in zip(
            idx, prim.bind(*[tangents[i] for i in idx], tree=f"{tree} (tangents {idx})")
        ):
            outs[i] = o
    return outs


def _psum_jvp(primals, tangents, *, tree):
    return psum_p.bind(*primals, tree=tree), _nonzero_bind(psum_p, tangents, tree)


def _psum_transpose(cts, *xs, tree):
    # psum's output is replicated: one cotangent, which is this process's input's own.
    return list(cts)


jvp_rules[psum_p] = _psum_jvp
transpose_rules[psum_p] = _psum_transpose
batching_rules[psum_p] = lambda vals, dims, *, tree: (psum_p.bind(*vals, tree=tree), list(dims))
jet_rules[psum_p] = linear_jet(psum_p)
# The impl calls MPI; its results are new buffers. No split rule: chunks run on threads
# in any order, and every process must call its collectives in the same order, so a
# program with psum runs its batch split only around it (psum of the chunks' summed
# gradients sits in a global segment, run once).
lowering.register(psum_p, Lowering(memory=FRESH, collective=True))


# ---- all_gather ------------------------------------------------------------------------


def _all_gather_impl(*xs, tree: str, count: int):
    _numeric("all_gather", xs)
    b = runtime.backend()
    if (1 if b is None else b.size) != count:
        raise protocol.DistributedError(
            f"all_gather was traced for {count} processes but runs on "
            f"{runtime.process_count()}: call fnn.distributed.initialize() before jit"
        )
    if b is None:
        return [np.array(x, copy=True)[None] for x in xs]
    b.agree("all_gather", _signature(xs, tree))
    return b.allgather(xs)


def _all_gather_abstract(*avals, tree: str, count: int):
    _numeric("all_gather", avals)
    return [ShapedArray((count, *a.shape), a.dtype) for a in avals]


all_gather_p = defprim("all_gather", _all_gather_impl, _all_gather_abstract, multiple_results=True)


def _all_gather_jvp(primals, tangents, *, tree, count):
    out = all_gather_p.bind(*primals, tree=tree, count=count)
    idx = [i for i, t in enumerate(tangents) if not is_zero(t)]
    outs: list = [Zero(o.aval) if is_zero(t) else None for t, o in zip(tangents, _avals(out))]
    if idx:
        got = all_gather_p.bind(
            *[tangents[i] for i in idx], tree=f"{tree} (tangents {idx})", count=count
        )
        for i, o in zip(idx, got):
            outs[i] = o
    return out, outs


def _avals(xs):
    return [ShapedArray(core.get_aval(x).shape, core.get_aval(x).dtype) for x in xs]


def _all_gather_transpose(cts, *xs, tree, count):
    # The gathered value is replicated: this process's input is its own row.
    r = runtime.process_index()
    out = []
    for ct in cts:
        shape = core.get_aval(ct).shape
        row = lax.slice(ct, (r,) + (0,) * (len(shape) - 1), (r + 1, *shape[1:]))
        out.append(lax.reshape(row, shape[1:]))
    return out


def _all_gather_batch(vals, dims, *, tree, count):
    outs = all_gather_p.bind(*vals, tree=tree, count=count)
    return outs, [not_mapped if d is not_mapped else d + 1 for d in dims]


jvp_rules[all_gather_p] = _all_gather_jvp
transpose_rules[all_gather_p] = _all_gather_transpose
batching_rules[all_gather_p] = _all_gather_batch
jet_rules[all_gather_p] = linear_jet(all_gather_p)
lowering.register(all_gather_p, Lowering(memory=FRESH, collective=True))


# ---- pvary -----------------------------------------------------------------------------

pvary_p = defprim(
    "pvary",
    lambda *xs, tree: list(xs),
    lambda *a, tree: list(a),
    multiple_results=True,
    silent=True,
)


def _pvary_jvp(primals, tangents, *, tree):
    return pvary_p.bind(*primals, tree=tree), _nonzero_bind(pvary_p, tangents, tree)


def _pvary_transpose(cts, *xs, tree):
    # A replicated value used by every process: its cotangent is the sum of theirs.
    idx = [i for i, ct in enumerate(cts) if not is_zero(ct)]
    out: list = [Zero(x.aval) for x in xs]
    if idx:
        for i, s in zip(idx, psum_p.bind(*[cts[i] for i in idx], tree=f"{tree} (cotangents)")):
            out[i] = s
    return out


jvp_rules[pvary_p] = _pvary_jvp
transpose_rules[pvary_p] = _pvary_transpose
batching_rules[pvary_p] = lambda vals, dims, *, tree: (pvary_p.bind(*vals, tree=tree), list(dims))
jet_rules[pvary_p] = linear_jet(pvary_p)
# The identity: its results are its inputs' buffers (an impl call that may alias).
lowering.register(pvary_p, INTERPRETED)


# ---- the pytree functions --------------------------------------------------------------


def _flat(name: str, tree: Any):
    leaves, treedef = tree_flatten(tree)
    for leaf in leaves:
        if not isinstance(
            leaf, core.Array | core.Tracer | np.ndarray | np.generic | int | float | complex
        ):
            raise FnnTypeError(
                f"{name}: expected a pytree of arrays, got a leaf of type {type(leaf).__name__}"
            )
    return leaves, treedef


def psum(tree: Any) -> Any:
    """The sum over processes of every leaf of ``tree``, on every process.

    Works eagerly, under ``jit``, ``grad`` (its transpose is the identity: the
    module docstring says why), ``jvp`` and ``vmap``. Every process must call it at
    the same point with a pytree of the same structure, shapes and dtypes; otherwise
    every process raises :class:`~fnn.distributed.CollectiveMismatchError`.

    Example:
        >>> import fnn.numpy as fnp
        >>> psum({"n": fnp.array(3)})  # one process: the input
        {'n': Array(3, dtype=int32)}
    """
    if runtime.process_count() == 1:
        return tree
    leaves, treedef = _flat("psum", tree)
    if not leaves:
        return tree
    return tree_unflatten(treedef, psum_p.bind(*leaves, tree=repr(treedef)))


def pmean(tree: Any) -> Any:
    """The mean over processes of every leaf of ``tree`` (``psum(tree) / P``).

    Example:
        >>> import fnn.numpy as fnp
        >>> pmean((fnp.array(2.0), fnp.ones(2)))  # one process: the input
        (Array(2., dtype=float32), Array([1., 1.], dtype=float32))
    """
    n = runtime.process_count()
    if n == 1:
        return tree
    leaves, treedef = _flat("pmean", tree)
    sums = psum_p.bind(*leaves, tree=repr(treedef)) if leaves else []
    return tree_unflatten(treedef, [_divide(s, n) for s in sums])


def _divide(x, n: int):
    dtype = core.get_aval(x).dtype
    if dtype.kind in "iu":
        raise FnnTypeError(
            f"pmean: expected float or complex leaves, got {dtype.name}; use psum and divide"
        )
    return lax.div(x, np.asarray(n, dtype))


def all_gather(tree: Any, *, tiled: bool = False) -> Any:
    """Every process's leaves stacked on a new leading axis of size P, in rank order
    (``tiled=True``: concatenated along the leading axis instead), on every process.

    Example:
        >>> import fnn.numpy as fnp
        >>> all_gather(fnp.arange(3)).shape  # one process: a leading axis of 1
        (1, 3)
    """
    n = runtime.process_count()
    leaves, treedef = _flat("all_gather", tree)
    if tiled and any(core.get_aval(x).ndim == 0 for x in leaves):
        raise FnnTypeError(
            "all_gather(tiled=True): expected leaves with a leading axis, got a scalar"
        )
    if n == 1:
        outs = [lax.expand_dims(x, 0) for x in leaves]
    else:
        outs = all_gather_p.bind(*leaves, tree=repr(treedef), count=n) if leaves else []
    if tiled:
        shapes = [core.get_aval(o).shape for o in outs]
        outs = [lax.reshape(o, (s[0] * s[1], *s[2:])) for o, s in zip(outs, shapes, strict=True)]
    return tree_unflatten(treedef, outs)


def pvary(tree: Any) -> Any:
    """Mark replicated values (parameters) as used by this process's computation:
    the identity on values, whose transpose sums the cotangents over processes.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> loss = lambda w, x: pmean(fnp.mean((pvary(w) * x) ** 2))
        >>> fnn.grad(loss)(2.0, fnp.arange(3.0))  # with P processes: the global gradient
        Array(6.666667, dtype=float32)
    """
    if runtime.process_count() == 1:
        return tree
    leaves, treedef = _flat("pvary", tree)
    if not leaves:
        return tree
    return tree_unflatten(treedef, pvary_p.bind(*leaves, tree=repr(treedef)))


def broadcast(tree: Any, root: int = 0) -> Any:
    """Process ``root``'s ``tree`` on every process (eager: the initial parameters).

    Every process passes a pytree of the same structure, shapes and dtypes (e.g. its
    own initialization); leaves come back as the types given (numpy or fnn arrays).

    Example:
        >>> import numpy as np
        >>> broadcast({"w": np.ones(2)})  # one process: the input
        {'w': array([1., 1.])}
    """
    n = runtime.process_count()
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or not 0 <= root < n:
        raise ValueError(f"broadcast: root must be a process index in [0, {n}), got {root!r}")
    if n == 1:
        return tree
    leaves, treedef = _flat("broadcast", tree)
    if any(isinstance(x, core.Tracer) for x in leaves):
        raise FnnTypeError(
            "broadcast: runs eagerly (it is for the initial parameters); call it outside "
            "jit, grad and vmap"
        )
    arrays = [np.asarray(core._to_numpy(x) if isinstance(x, core.Array) else x) for x in leaves]
    b = runtime.backend()
    b.agree("broadcast", f"{_signature(arrays, repr(treedef))} from process {root}")
    got = b.bcast(arrays, root) if arrays else []
    out = [
        core.wrap_array(g) if isinstance(x, core.Array) else g
        for x, g in zip(leaves, got, strict=True)
    ]
    return tree_unflatten(treedef, out)
