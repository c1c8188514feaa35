"""vmap: run a function over a batch axis by rewriting each primitive as a batched one.

A ``BatchTracer`` carries a value and the axis of it that is the batch (``None`` when
the value is the same for every example). ``fnn.rules.batching_rules[prim](vals, dims, **params)
-> (out, out_dim)`` turns a primitive on batched inputs into primitives on whole
arrays, so a vmapped function costs one vectorized numpy call per primitive.
"""

from __future__ import annotations

from fnn import core
from fnn.core import Trace, Tracer
from fnn.lax.structural import broadcast_axis, moveaxis
from fnn.rules import batching_rules, not_mapped
from fnn.tree_util import _node_type, leaf_paths, tree_flatten, tree_structure, tree_unflatten

__all__ = ["BatchTracer", "BatchTrace", "vmap_flat", "move_batch_axis"]


class BatchTracer(Tracer):
    __slots__ = ("val", "batch_dim")

    def __init__(self, trace, val, batch_dim):
        self._trace = trace
        self.val = val
        self.batch_dim = batch_dim

    @property
    def aval(self):
        aval = core.get_aval(self.val)
        if self.batch_dim is None:
            return aval
        shape = list(aval.shape)
        del shape[self.batch_dim]
        return core.ShapedArray(shape, aval.dtype)

    def full_lower(self):
        if self.batch_dim is None:
            return core.full_lower(self.val)
        return self


class BatchTrace(Trace):
    __slots__ = ()

    @property
    def axis_size(self) -> int:
        return self.main.global_data.axis_size

    def pure(self, val):
        return BatchTracer(self, val, not_mapped)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.batch_dim for t in tracers]
        if all(d is None for d in dims):
            out = primitive.bind(*vals, **params)
            if primitive.multiple_results:
                return [BatchTracer(self, o, None) for o in out]
            return BatchTracer(self, out, None)
        rule = batching_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(f"vmap of '{primitive}'")
        out, out_dim = rule(vals, dims, **params)
        if primitive.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, out_dim, strict=True)]
        return BatchTracer(self, out, out_dim)


class _VmapData:
    __slots__ = ("axis_size", "fun_name")

    def __init__(self, axis_size, fun_name):
        self.axis_size = axis_size
        self.fun_name = fun_name


def vmap_flat(fun, axis_size: int, in_dims, out_dims, args, fun_name=None):
    """Batched ``fun`` on flat lists: ``in_dims``/``out_dims`` hold ints or None."""
    with core.new_main(BatchTrace, _VmapData(axis_size, fun_name)) as main:
        trace = BatchTrace(main)
        tracers_in = [
            BatchTracer(trace, x, d) if d is not None else x
            for x, d in zip(args, in_dims, strict=True)
        ]
        outs = fun(*tracers_in)
        tracers_out = [core.full_raise(trace, o) for o in outs]
        vals = [(t.val, t.batch_dim) for t in tracers_out]
    results = []
    for (val, dim), out_dim in zip(vals, out_dims, strict=True):
        results.append(move_batch_axis(axis_size, dim, out_dim, val))
    return results


def move_batch_axis(axis_size: int, src, dst, x):
    """Put the batch axis of ``x`` (at ``src``, or absent when None) at ``dst``."""
    if dst is None:
        if src is not None:
            raise ValueError(
                "vmap: out_axes=None requires the output not to depend on the batch axis"
            )
        return x
    if src is None:
        return broadcast_axis(x, axis_size, dst)
    ndim = core.get_aval(x).ndim
    dst = dst % ndim
    if src == dst:
        return x
    return moveaxis(x, src, dst)


# ----------------------------------------------------------------------------------------
# The public vmap on pytrees


def _broadcast_prefix(prefix, tree, name):
    """Expand an in_axes/out_axes prefix (int/None or a pytree of them) to tree's leaves."""

    leaves, treedef = tree_flatten(tree)
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(leaves)
    out = []

    def walk(p, t):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tree_flatten(t)[0]))
            return
        # one level of both trees, with the same node rules as tree_flatten (dict key
        # order, namedtuples, registered classes); tuples and lists may stand for each other
        p_node, t_node = _node_type(p), _node_type(t)
        same_kind = (
            p_node is not None
            and t_node is not None
            and (
                p_node.name == t_node.name
                or (isinstance(p, tuple | list) and isinstance(t, tuple | list))
            )
        )
        if not same_kind:
            raise ValueError(
                f"vmap: {name} {prefix!r} does not match the argument structure "
                f"{tree_structure(tree)}"
            )
        p_children, p_aux = p_node.to_iterable(p)
        t_children, t_aux = t_node.to_iterable(t)
        if isinstance(p, dict) and p_aux != t_aux:
            raise ValueError(f"vmap: {name} keys {list(p_aux)} differ from {list(t_aux)}")
        if len(p_children) != len(t_children):
            raise ValueError(
                f"vmap: {name} has {len(p_children)} entries but the arguments have "
                f"{len(t_children)}"
            )
        for pi, ti in zip(p_children, t_children, strict=True):
            walk(pi, ti)

    walk(prefix, tree)
    return out


def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """Vectorize ``fun`` over an axis of its inputs.

    ``in_axes``/``out_axes``: an int (negative counts from the end), None (not mapped),
    or a pytree of those matching the arguments/outputs.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.vmap(lambda x, y: fnp.dot(x, y), in_axes=(0, None))(fnp.ones((4, 3)), fnp.ones(3))
        Array([3., 3., 3., 3.], dtype=float32)
    """
    import functools

    @functools.wraps(fun)
    def batched(*args, **kwargs):
        if kwargs:
            # As in JAX: keyword arguments are always mapped over their leading axis.
            spec = tuple(in_axes) if isinstance(in_axes, tuple | list) else (in_axes,) * len(args)
            return vmap(lambda *a: fun(*a[:-1], **a[-1]), spec + (0,), out_axes, axis_size)(
                *args, kwargs
            )

        if isinstance(in_axes, list):
            axes_spec = tuple(in_axes)
        else:
            axes_spec = in_axes
        if isinstance(axes_spec, tuple) and len(axes_spec) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(axes_spec)} entries but `{_name(fun)}` was called "
                f"with {len(args)} positional arguments"
            )
        leaves, in_tree = tree_flatten(args)
        dims = _broadcast_prefix(axes_spec, args, "in_axes")
        leaves = [
            core.ensure_array(x) if d is not None else x for x, d in zip(leaves, dims, strict=True)
        ]
        sizes = {}
        norm_dims = []
        for i, (x, d) in enumerate(zip(leaves, dims, strict=True)):
            if d is None:
                norm_dims.append(None)
                continue
            nd = core.get_aval(x).ndim
            if not -nd <= d < nd:
                raise ValueError(
                    f"vmap: in_axes={d} is out of range for input {i} of shape "
                    f"{core.get_aval(x).shape} (rank {nd})"
                )
            d = d % nd
            norm_dims.append(d)
            sizes[i] = core.get_aval(x).shape[d]
        distinct = set(sizes.values())
        if axis_size is not None:
            distinct.add(axis_size)
        if len(distinct) > 1:
            paths = [
                p.replace("args[", "argument ", 1).replace("]", "", 1)
                for p in leaf_paths(tuple(args), "args")
            ]
            detail = ", ".join(
                f"{paths[i]} of shape {core.get_aval(leaves[i]).shape} has size {s} on axis "
                f"{norm_dims[i]}"
                for i, s in sizes.items()
            )
            extra = f" (axis_size={axis_size})" if axis_size is not None else ""
            raise ValueError(
                f"vmap of `{_name(fun)}` got inconsistent sizes for the mapped axes{extra}: "
                f"{detail}. Every mapped axis must have the same size; use in_axes=None for "
                "arguments that are not batched."
            )
        if not distinct:
            raise ValueError("vmap: no mapped inputs (all in_axes are None) and no axis_size")
        size = distinct.pop()
        out_store = {}

        def flat_fun(*flat):
            out = fun(*tree_unflatten(in_tree, flat))
            out_leaves, out_store["tree"] = tree_flatten(out)
            out_store["out"] = out
            return out_leaves

        # Trace first with out dims resolved after the function ran.
        results = _vmap_with_out_axes(
            flat_fun, size, norm_dims, leaves, out_axes, out_store, _name(fun)
        )
        return tree_unflatten(out_store["tree"], results)

    return batched


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _vmap_with_out_axes(flat_fun, size, in_dims, args, out_axes, out_store, fun_name=None):
    with core.new_main(BatchTrace, _VmapData(size, fun_name)) as main:
        trace = BatchTrace(main)
        tracers_in = [
            BatchTracer(trace, x, d) if d is not None else x
            for x, d in zip(args, in_dims, strict=True)
        ]
        outs = flat_fun(*tracers_in)
        tracers_out = [core.full_raise(trace, o) for o in outs]
        vals = [(t.val, t.batch_dim) for t in tracers_out]
    out_dims = _broadcast_prefix(out_axes, _dims_tree(out_store), "out_axes")
    return [move_batch_axis(size, d, od, v) for (v, d), od in zip(vals, out_dims, strict=True)]


def _dims_tree(out_store):

    tree = out_store["tree"]
    return tree_unflatten(tree, [0] * tree.num_leaves)
