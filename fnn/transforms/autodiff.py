"""The public autodiff API on pytrees: grad, value_and_grad, jvp, vjp, linearize, jacfwd,
jacrev, hessian. Each flattens its arguments, calls the flat transform and rebuilds the
output structure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from fnn import core
from fnn.jaxpr import eval_jaxpr
from fnn.lax.structural import moveaxis
from fnn.transforms.batching import BatchTrace, BatchTracer, _VmapData, move_batch_axis
from fnn.transforms.jvp import Zero, jvp_flat
from fnn.transforms.vjp import linearize_flat, vjp_flat
from fnn.tree_util import leaf_paths, tree_flatten, tree_map, tree_structure, tree_unflatten

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "linearize", "jacfwd", "jacrev", "hessian"]


def _asarray(x):
    return core.ensure_array(x)


def _flatten_fun(fun, in_tree):
    """``fun`` on pytrees as a function of flat leaves; records the output tree."""
    store = {}

    def flat_fun(*leaves):
        args = tree_unflatten(in_tree, leaves)
        out = fun(*args)
        out_leaves, out_tree = tree_flatten(out)
        store["tree"] = out_tree
        return out_leaves

    return flat_fun, store


def _flatten_fun_aux(fun, in_tree, has_aux):
    """Like ``_flatten_fun``; with ``has_aux`` the traced leaves of aux become extra outputs.

    Returning aux through the transform (rather than storing it from inside) lets the
    transform lower it to concrete values; a stored tracer would leak out of its trace.
    ``store["n_out"]`` counts the real outputs; rebuild aux with ``_rebuild_aux``.
    """
    store = {}

    def flat_fun(*leaves):
        out = fun(*tree_unflatten(in_tree, leaves))
        extra = []
        if has_aux:
            out, aux = _split_aux(out)
            aux_leaves, store["aux_tree"] = tree_flatten(aux)
            store["aux_leaves"] = aux_leaves
            store["aux_pos"] = [i for i, a in enumerate(aux_leaves) if isinstance(a, core.Tracer)]
            extra = [aux_leaves[i] for i in store["aux_pos"]]
        out_leaves, store["tree"] = tree_flatten(out)
        store["n_out"] = len(out_leaves)
        return out_leaves + extra

    return flat_fun, store


def _rebuild_aux(store, values):
    leaves = list(store["aux_leaves"])
    for i, v in zip(store["aux_pos"], values, strict=True):
        leaves[i] = v
    return tree_unflatten(store["aux_tree"], leaves)


def _argnums_tuple(argnums, nargs, name):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(
                f"{name}: argnums={argnums!r} is out of range for a function called with "
                f"{nargs} positional argument(s)"
            )
    return tuple(n % nargs for n in nums)


def _check_float_inputs(name, arg, argnum, holomorphic=False, real_only=False):
    """Differentiated arguments must be floats (complex with ``holomorphic``; real
    floats for forward-mode Jacobians, ``real_only``, as in JAX); name the offending leaf
    of ``arg``."""
    leaves = tree_flatten(arg)[0]
    for i, x in enumerate(leaves):
        aval = core.get_aval(x)
        where = leaf_paths(arg, f"argument {argnum}")[i]
        if holomorphic:
            if aval.dtype.kind != "c":
                raise TypeError(
                    f"{name} with holomorphic=True requires inputs with complex dtype, but "
                    f"{where} has dtype {aval.dtype} (shape {aval.shape})."
                )
        elif not np.issubdtype(aval.dtype, np.inexact):
            raise TypeError(
                f"{name} requires real- or complex-valued inputs (float dtypes), but {where} "
                f"has dtype {aval.dtype} (shape {aval.shape}). Convert it with .astype(float) "
                "or exclude it with argnums."
            )
        elif real_only and aval.dtype.kind == "c":
            raise TypeError(
                f"{name} requires real-valued inputs (a floating dtype), but {where} has dtype "
                f"{aval.dtype}. For holomorphic differentiation, pass holomorphic=True. For "
                "differentiation of non-holomorphic functions involving complex inputs, use "
                "fnn.jvp directly."
            )


def _check_output_dtype(name, out, fun, holomorphic):
    """Reverse-mode outputs are real floats, or complex with ``holomorphic`` (as in JAX):
    the cotangent seeds 1 of a complex output would pick out only its real part."""
    for leaf in tree_flatten(out)[0]:
        dt = core.get_aval(leaf).dtype
        if holomorphic:
            if dt.kind != "c":
                raise TypeError(
                    f"{name} with holomorphic=True requires outputs with complex dtype, but "
                    f"`{_fun_name(fun)}` returned dtype {dt}."
                )
        elif dt.kind != "f":
            hint = (
                " For holomorphic differentiation, pass holomorphic=True. For differentiation "
                "of non-holomorphic functions involving complex outputs, use fnn.vjp directly."
                if dt.kind == "c"
                else " Differentiable outputs must be floats."
            )
            raise TypeError(
                f"{name} requires real-valued outputs (a floating dtype), but "
                f"`{_fun_name(fun)}` returned dtype {dt}.{hint}"
            )


def _split_args(fun, args, argnums):
    """A function of the differentiated args only, with the others closed over."""

    def partial_fun(*diff_args):
        full = list(args)
        for n, a in zip(argnums, diff_args, strict=True):
            full[n] = a
        return fun(*full)

    return partial_fun, tuple(args[n] for n in argnums)


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Reverse mode: ``out, f_vjp = vjp(f, *primals)``; ``f_vjp(ct)`` returns input cotangents.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> out, f_vjp = fnn.vjp(fnp.sin, 0.0)
        >>> f_vjp(fnp.asarray(1.0))
        (Array(1., dtype=float32),)
    """
    primals = tree_map(_asarray, primals)
    leaves, in_tree = tree_flatten(primals)
    flat_fun, store = _flatten_fun_aux(fun, in_tree, has_aux)
    all_out, f_vjp_all, _ = vjp_flat(flat_fun, leaves)
    out_tree, n_out = store["tree"], store["n_out"]
    out_flat, aux_flat = all_out[:n_out], all_out[n_out:]
    f_vjp_flat = _ignore_aux_cts(f_vjp_all, aux_flat)

    def f_vjp(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(
                f"vjp: the cotangent's structure {ct_tree} differs from the output's {out_tree}"
            )
        ct_leaves = _check_cotangents(ct_leaves, out_flat, out_tree)
        return tree_unflatten(in_tree, f_vjp_flat(ct_leaves))

    out = tree_unflatten(out_tree, out_flat)
    if has_aux:
        return out, f_vjp, _rebuild_aux(store, aux_flat)
    return out, f_vjp


def _check_cotangents(ct_leaves, out_flat, out_tree):
    """Cotangents as arrays of their outputs' shapes and dtypes (Python scalars adapt)."""
    checked = []
    for i, (c, o) in enumerate(zip(ct_leaves, out_flat, strict=True)):
        oa = core.get_aval(o)
        if type(c) in (int, float):
            c = np.asarray(c, oa.dtype)
        ca = core.get_aval(c)
        bad_dtype = np.issubdtype(oa.dtype, np.inexact) and ca.dtype != oa.dtype
        if ca.shape != oa.shape or bad_dtype:
            where = leaf_paths(tree_unflatten(out_tree, out_flat), "output")[i]
            raise (TypeError if ca.shape == oa.shape else ValueError)(
                f"vjp: the cotangent of {where} has shape {ca.shape} and dtype {ca.dtype}, "
                f"but that output has shape {oa.shape} and dtype {oa.dtype}; a cotangent "
                "must match its output's shape and dtype"
            )
        checked.append(_asarray(c))
    return checked


def _ignore_aux_cts(f_vjp_flat, aux_flat):
    """``f_vjp_flat`` of the real outputs only: aux outputs get symbolic zero cotangents."""
    if not aux_flat:
        return f_vjp_flat
    zeros = [Zero(core.get_aval(a)) for a in aux_flat]
    return lambda cts: f_vjp_flat(list(cts) + zeros)


def _split_aux(out):
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise TypeError(
            "has_aux=True requires the function to return a pair (output, aux), got "
            f"{type(out).__name__}"
        )
    return out[0], out[1]


def value_and_grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """A function returning ``(fun(*args), grad)`` (``((value, aux), grad)`` with has_aux).

    See :func:`grad` for ``holomorphic`` and complex inputs.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.value_and_grad(lambda w: fnp.sum(w ** 2))(fnp.ones(2))
        (Array(2., dtype=float32), Array([2., 2.], dtype=float32))
    """

    @functools.wraps(fun)
    def vg_fun(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "grad")
        f = functools.partial(fun, **kwargs) if kwargs else fun
        partial_fun, diff_args = _split_args(f, args, nums)
        for n, a in zip(nums, diff_args, strict=True):
            _check_float_inputs("grad", a, n, holomorphic=holomorphic)
        if has_aux:
            out, f_vjp, aux = vjp(partial_fun, *diff_args, has_aux=True)
        else:
            out, f_vjp = vjp(partial_fun, *diff_args)
        _check_scalar_output(out, fun)
        _check_output_dtype("grad", out, fun, holomorphic)
        g = f_vjp(_ones_like(out))
        g = g[0] if isinstance(argnums, int) else tuple(g)
        return ((out, aux), g) if has_aux else (out, g)

    return vg_fun


def _fun_name(fun) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _check_scalar_output(out, fun):
    leaves = tree_flatten(out)[0]
    if len(leaves) != 1 or core.get_aval(leaves[0]).shape != ():
        shape = (
            core.get_aval(leaves[0]).shape
            if len(leaves) == 1
            else f"a pytree {tree_structure(out)}"
        )
        raise TypeError(
            f"grad requires a scalar output, but `{_fun_name(fun)}` returned {shape}. Reduce it "
            "(e.g. fnn.numpy.sum or mean), or use fnn.vjp / fnn.jacrev for non-scalar outputs."
        )


def _ones_like(x):
    aval = core.get_aval(x)
    return np.ones(aval.shape, aval.dtype)


def grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The gradient of a scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    Complex numbers follow JAX. For a real-valued ``fun`` of a complex ``z = x + iy`` the
    result is ``df/dx - i df/dy``, the conjugate of ``df/dx + i df/dy`` (step along its
    conjugate to descend). With ``holomorphic=True`` (complex inputs and output) it is the
    complex derivative ``f'(z)``. A complex output without ``holomorphic`` is an error.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> params = {"w": fnp.ones(3), "b": fnp.asarray(0.5)}
        >>> loss = lambda p: fnp.sum((p["w"] * 2.0 + p["b"]) ** 2)
        >>> fnn.grad(loss)(params)["b"]
        Array(15., dtype=float32)
        >>> fnn.grad(lambda z: fnp.abs(z) ** 2)(fnp.asarray(1 + 2j))
        Array(2.-4.j, dtype=complex64)
        >>> fnn.grad(lambda z: z * z, holomorphic=True)(fnp.asarray(1 + 2j))
        Array(2.+4.j, dtype=complex64)
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    return grad_fun


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: ``(fun(*primals), J @ tangents)``.

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.jvp(fnp.sin, (0.0,), (1.0,))
        (Array(0., dtype=float32), Array(1., dtype=float32))
    """
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError(
            "jvp: primals and tangents must be tuples or lists of arguments, got "
            f"{type(primals).__name__} and {type(tangents).__name__}"
        )
    primals = tree_map(_asarray, tuple(primals))
    tangents = tree_map(_asarray, tuple(tangents))
    p_leaves, p_tree = tree_flatten(primals)
    t_leaves, t_tree = tree_flatten(tangents)
    if p_tree != t_tree:
        raise ValueError(f"jvp: primals {p_tree} and tangents {t_tree} differ in structure")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves, strict=True)):
        pa, ta = core.get_aval(p), core.get_aval(t)
        bad_dtype = pa.dtype != ta.dtype and np.issubdtype(pa.dtype, np.inexact)
        if pa.shape != ta.shape or bad_dtype:
            where = leaf_paths(tangents, "tangents")[i]
            raise (TypeError if pa.shape == ta.shape else ValueError)(
                f"jvp: {where} has shape {ta.shape} and dtype {ta.dtype}, but its primal has "
                f"shape {pa.shape} and dtype {pa.dtype}; tangents must match their primals"
            )
    flat_fun, store = _flatten_fun_aux(fun, p_tree, has_aux)
    out_p, out_t = jvp_flat(flat_fun, p_leaves, t_leaves)
    tree, n_out = store["tree"], store["n_out"]
    result = tree_unflatten(tree, out_p[:n_out]), tree_unflatten(tree, out_t[:n_out])
    return (*result, _rebuild_aux(store, out_p[n_out:])) if has_aux else result


def linearize(fun: Callable, *primals):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` applies the Jacobian, reusing
    the linearization (the residuals are computed once)."""
    primals = tree_map(_asarray, primals)
    leaves, in_tree = tree_flatten(primals)
    flat_fun, store = _flatten_fun(fun, in_tree)
    out_flat, jaxpr, consts = linearize_flat(flat_fun, leaves)
    out_tree = store["tree"]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tree_map(_asarray, tangents))
        if t_tree != in_tree:
            raise ValueError(f"linearize: tangents {t_tree} differ from primals {in_tree}")
        for i, (t, p) in enumerate(zip(t_leaves, leaves, strict=True)):
            ta, pa = core.get_aval(t), core.get_aval(p)
            if ta.shape != pa.shape:
                where = leaf_paths(primals, "primal")[i]
                raise ValueError(
                    f"linearize: the tangent of {where} has shape {ta.shape}, but the primal "
                    f"has shape {pa.shape}; tangents must match their primals' shapes"
                )
        return tree_unflatten(out_tree, eval_jaxpr(jaxpr, consts, *t_leaves))

    return tree_unflatten(out_tree, out_flat), f_jvp


def _std_basis(leaves):
    """Identity matrix rows for the flattened inputs: (n, *shape) per leaf."""
    sizes = [core.get_aval(x).size for x in leaves]
    n = sum(sizes)
    dtype = np.result_type(*[core.get_aval(x).dtype for x in leaves])
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for x, s in zip(leaves, sizes, strict=True):
        aval = core.get_aval(x)
        out.append(eye[:, start : start + s].reshape((n,) + aval.shape).astype(aval.dtype))
        start += s
    return out, n


def jacfwd(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian by forward mode (vmap of jvp over the input basis).

    The result has shape ``out.shape + in.shape`` for each output/input leaf pair.
    Inputs must be real floats, or complex with ``holomorphic=True`` (and then the
    outputs too), where the result is the complex derivative (as JAX).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.jacfwd(lambda x: x ** 2)(fnp.asarray([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    @functools.wraps(fun)
    def jac_fun(*args):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        partial_fun, diff_args = _split_args(fun, args, nums)
        diff_args = tree_map(_asarray, diff_args)
        leaves, in_tree = tree_flatten(diff_args)
        for n, a in zip(nums, diff_args, strict=True):
            _check_float_inputs("jacfwd", a, n, holomorphic=holomorphic, real_only=True)
        flat_fun, store = _flatten_fun_aux(partial_fun, in_tree, has_aux)
        basis, n = _std_basis(leaves)

        def push(*tangents):
            # aux primals do not depend on the tangents: unbatched, returned as they are
            primals_out, tangents_out = jvp_flat(flat_fun, leaves, list(tangents))
            if holomorphic:
                _check_output_dtype("jacfwd", primals_out[: store["n_out"]], fun, True)
            return tangents_out[: store["n_out"]], primals_out[store["n_out"] :]

        outs, aux_flat = _vmap_flat_auto(push, n, basis, with_aux=True)
        out_tree = store["tree"]
        # outs[k] has shape (n, *out_shape); split n into the input leaves and move last.
        result = []
        for o in outs:
            per_in, start = [], 0
            for x in leaves:
                aval = core.get_aval(x)
                s = aval.size
                block = o[start : start + s]
                out_shape = tuple(core.get_aval(block).shape[1:])
                block = block.reshape((s,) + out_shape)

                block = moveaxis(block, 0, -1).reshape(out_shape + aval.shape)
                per_in.append(block)
                start += s
            result.append(tree_unflatten(in_tree, per_in))
        jac = tree_unflatten(out_tree, [_select_argnums(r, argnums) for r in result])
        return (jac, _rebuild_aux(store, aux_flat)) if has_aux else jac

    return jac_fun


def _select_argnums(tree, argnums):
    return tree[0] if isinstance(argnums, int) else tree


def _vmap_flat_auto(f, n, args, with_aux=False):
    """vmap over axis 0 of every arg, with every output's batch axis first.

    With ``with_aux``, ``f`` returns ``(outs, aux)``; aux must not depend on the batch
    and comes back unbatched: ``(outs, aux)``.
    """

    with core.new_main(BatchTrace, _VmapData(n, None)) as main:
        trace = BatchTrace(main)
        tracers = [BatchTracer(trace, x, 0) for x in args]
        outs = f(*tracers)
        outs, aux = outs if with_aux else (outs, [])
        outs = [core.full_raise(trace, o) for o in outs]
        vals = [(t.val, t.batch_dim) for t in outs]
        aux = [core.full_raise(trace, a) for a in aux]
        aux_vals = [(t.val, t.batch_dim) for t in aux]
    batched = [move_batch_axis(n, d, 0, v) for v, d in vals]
    if not with_aux:
        return batched
    return batched, [move_batch_axis(n, d, None, v) for v, d in aux_vals]


def jacrev(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian by reverse mode (vmap of vjp over the output basis).

    The result has shape ``out.shape + in.shape`` for each output/input leaf pair.
    Outputs must be real floats (complex inputs then give JAX's conjugate convention, as
    :func:`grad`), or complex with ``holomorphic=True`` (and then the inputs too).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.jacrev(lambda x: x ** 2)(fnp.asarray([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    @functools.wraps(fun)
    def jac_fun(*args):
        nums = _argnums_tuple(argnums, len(args), "jacrev")
        partial_fun, diff_args = _split_args(fun, args, nums)
        diff_args = tree_map(_asarray, diff_args)
        for n, a in zip(nums, diff_args, strict=True):
            _check_float_inputs("jacrev", a, n, holomorphic=holomorphic)
        leaves, in_tree = tree_flatten(diff_args)
        flat_fun, store = _flatten_fun_aux(partial_fun, in_tree, has_aux)
        all_out, f_vjp_all, _ = vjp_flat(flat_fun, leaves)
        out_tree, n_out = store["tree"], store["n_out"]
        out_flat, aux_flat = all_out[:n_out], all_out[n_out:]
        _check_output_dtype("jacrev", out_flat, fun, holomorphic)
        f_vjp_flat = _ignore_aux_cts(f_vjp_all, aux_flat)
        basis, n = _std_basis(out_flat)
        cts = _vmap_flat_auto(lambda *c: f_vjp_flat(list(c)), n, basis)
        # cts[j] has shape (n, *in_shape_j); split n into the output leaves.
        result = []
        start = 0
        for o in out_flat:
            oa = core.get_aval(o)
            per_in = []
            for c, x in zip(cts, leaves, strict=True):
                xa = core.get_aval(x)
                per_in.append(c[start : start + oa.size].reshape(oa.shape + xa.shape))
            result.append(_select_argnums(tree_unflatten(in_tree, per_in), argnums))
            start += oa.size
        jac = tree_unflatten(out_tree, result)
        return (jac, _rebuild_aux(store, aux_flat)) if has_aux else jac

    return jac_fun


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, holomorphic: bool = False) -> Callable:
    """The Hessian, as ``jacfwd(jacrev(fun))`` (forward-over-reverse).

    Example:
        >>> import fnn, fnn.numpy as fnp
        >>> fnn.hessian(lambda x: fnp.sum(x ** 3))(fnp.ones(2))
        Array([[6., 0.],
               [0., 6.]], dtype=float32)
    """
    return jacfwd(jacrev(fun, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)
