"""Convolutions as sliding-window patches (im2col) followed by one BLAS contraction.

Two linear primitives carry the sliding windows; everything else is existing lax:

- ``conv_patches_p``: ``(N, *spatial, C) -> (N, *out, prod(window) * C)``, every window
  of an already padded input flattened in (window..., C) order. Linear, so its JVP is
  itself on the tangent and its transpose is ``col2im_p``.
- ``col2im_p``: the transpose, adding each patch column back to the position it was
  read from (one strided in-place add per kernel offset, vectorized over everything
  else). Its transpose is ``conv_patches_p``.

``conv_general_dilated`` pads (and dilates the input) with ``pad``, takes the patches
and contracts them with the kernel by ``dot_general``, so input and kernel gradients,
second derivatives, vmap and jit all come from existing rules. ``conv_transpose`` with a
stride above 1 runs the other way round, without the zeros of the dilated input: one
matmul gives every input pixel's kernel-sized block of outputs, and ``col2im`` adds the
blocks at stride spacing.

Example:
    >>> import fnn.numpy as fnp
    >>> from fnn.lax import conv_general_dilated
    >>> x, w = fnp.ones((1, 5, 5, 1)), fnp.ones((3, 3, 1, 2))
    >>> conv_general_dilated(x, w, (1, 1), "SAME").shape
    (1, 5, 5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from fnn import core, lowering
from fnn.core import FnnTypeError, ShapedArray
from fnn.lax import split_rules
from fnn.lax.base import batching_rules, defprim, jvp_rules
from fnn.lax.dot import dot_general
from fnn.lax.slicing import pad, rev
from fnn.lax.structural import instantiate, linear_jet, moveaxis, reshape, transpose
from fnn.lowering import FRESH, VIEW, Lowering
from fnn.rules import Zero, jet_rules, transpose_rules

__all__ = [
    "conv_general_dilated",
    "conv_transpose",
    "conv_patches",
    "padtype_to_pads",
    "conv_dimension_numbers",
]

Padding = str | Sequence[tuple[int, int]]


# ---- the patches primitive (im2col) ----------------------------------------------------------


def _out_size(size: int, k: int, stride: int, dilation: int) -> int:
    return (size - (k - 1) * dilation - 1) // stride + 1


def _window_view(x: np.ndarray, window, strides, dilation) -> np.ndarray:
    """Read-only strided view ``(N, *out, *window, C)`` of ``x`` (no copy)."""
    n = len(window)
    spatial = x.shape[1 : 1 + n]
    out = tuple(_out_size(*a) for a in zip(spatial, window, strides, dilation, strict=True))
    st = x.strides
    shape = (x.shape[0], *out, *window, x.shape[-1])
    step = tuple(st[1 + i] * strides[i] for i in range(n))
    dil = tuple(st[1 + i] * dilation[i] for i in range(n))
    return as_strided(x, shape, (st[0], *step, *dil, st[-1]), writeable=False)


def _patches_impl(x, *, window, strides, dilation):
    v = _window_view(x, window, strides, dilation)
    n = len(window)
    if _offsets_outermost(v.shape, n):
        return _patches_into(x, v.shape, v.strides, (*v.shape[: 1 + n], math.prod(window)))
    # The reshape copies the windows into one contiguous (N, *out, K*C) block.
    return v.reshape(v.shape[: 1 + n] + (-1,))


def _offsets_outermost(shape, n: int) -> bool:
    """Whether the patch matrix of the window view ``shape`` = ``(N, *out, *window, C)``
    is laid out ``(K, N, *out)`` (:func:`_patch_buffer`): one input channel, a window of
    several elements and several output positions per image."""
    return shape[-1] == 1 and math.prod(shape[1 + n : -1]) > 1 and math.prod(shape[1 : 1 + n]) > 1


def _patch_buffer(out_shape, shape, dtype) -> np.ndarray:
    """An empty ``out_shape`` patch matrix for the window view ``shape``.

    With one input channel (a grayscale image) each window row is a run of a few
    elements, which numpy copies one element at a time: laid out (K, N, *out) instead,
    the copy runs along the image rows, several times faster on MNIST images with 5x5
    windows, and it still reshapes to the ``(N * out, K)`` and ``(K, N * out)`` matrices
    of the convolution's products without a copy. From three channels up the C-ordered
    copy is as fast or faster; with one output position per image the window rows are
    the long runs (measurements in benchmarks/README.md).
    """
    if not _offsets_outermost(shape, len(out_shape) - 2):
        return np.empty(out_shape, dtype)
    return np.moveaxis(np.empty((out_shape[-1], *out_shape[:-1]), dtype), 0, -1)


def _patches_abstract(x, *, window, strides, dilation):
    n = len(window)
    if x.ndim != n + 2:
        raise FnnTypeError(
            f"conv_patches: expected an input of rank {n + 2} (N, {n} spatial, C) for a "
            f"{n}-d window {window}, got shape {x.shape}"
        )
    out = []
    for size, k, s, d in zip(x.shape[1 : 1 + n], window, strides, dilation, strict=True):
        if k < 1 or s < 1 or d < 1:
            raise FnnTypeError(
                f"conv_patches: window {window}, strides {strides} and dilation {dilation} "
                "must be positive"
            )
        if (k - 1) * d + 1 > size:
            raise FnnTypeError(
                f"conv_patches: the (dilated) window {window} (dilation {dilation}) is larger "
                f"than the padded input's spatial shape {x.shape[1 : 1 + n]}; pad more or "
                "use a smaller kernel"
            )
        out.append(_out_size(size, k, s, d))
    return ShapedArray((x.shape[0], *out, math.prod(window) * x.shape[-1]), x.dtype)


conv_patches_p = defprim("conv_patches", _patches_impl, _patches_abstract)


def conv_patches(x, window, strides, dilation=None):
    """All windows of a padded channels-last input, flattened: ``(N, *out, prod(window)*C)``.

    Patch features are ordered (window offsets..., channel), so a ``(*window, C, O)``
    kernel reshaped to ``(prod(window)*C, O)`` contracts with them directly.

    Example:
        >>> import fnn.numpy as fnp
        >>> conv_patches(fnp.ones((2, 5, 5, 3)), (3, 3), (2, 2)).shape
        (2, 2, 2, 27)
    """
    n = len(window)
    params = {
        "window": tuple(int(k) for k in window),
        "strides": tuple(int(s) for s in strides),
        "dilation": (1,) * n if dilation is None else tuple(int(d) for d in dilation),
    }
    _patches_abstract(core.get_aval(x), **params)  # eager binds skip abstract_eval
    return conv_patches_p.bind(x, **params)


def _window_is_one(eqn) -> bool:
    """A one-element window: the patches are the (strided) input itself, maybe a view."""
    return math.prod(eqn.params["window"]) == 1


def _patches_into(x, shape, strides, out_shape, out=None):
    """The windows of ``x`` (``as_strided(x, shape, strides)``) copied into ``out``, a
    C-contiguous ``out_shape`` buffer (fresh if None, see :func:`_patch_buffer`): an
    arena slot in ``jit`` saves the page faults of a fresh patch matrix (80 MB for the
    benchmark cnn's second convolution)."""
    if out is None:
        out = _patch_buffer(out_shape, shape, x.dtype)
    np.copyto(out.reshape(shape), as_strided(x, shape, strides, writeable=False))
    return out


def _patches_codegen(args, eqn, out=None):
    """The window view built inline (strides are read from the runtime array), then
    copied: by ``reshape`` for a one-element window (maybe a view), else into ``out``."""
    p = eqn.params
    (x,) = args
    n = len(p["window"])
    in_shape = eqn.inputs[0].aval.shape
    out_shape = eqn.out_binders[0].aval.shape
    shape = (in_shape[0], *out_shape[1 : 1 + n], *p["window"], in_shape[-1])
    steps = ", ".join(f"{x}.strides[{1 + i}] * {p['strides'][i]}" for i in range(n))
    dils = ", ".join(f"{x}.strides[{1 + i}] * {p['dilation'][i]}" for i in range(n))
    strides = f"({x}.strides[0], {steps}, {dils}, {x}.strides[-1])"
    if _window_is_one(eqn):
        if out is not None:
            return None
        return (
            f"np.lib.stride_tricks.as_strided({x}, {shape}, {strides}, writeable=False)"
            f".reshape({out_shape})"
        )
    if out is not None and _offsets_outermost(shape, n):
        return None  # a fresh patch matrix in its own layout (_patch_buffer), not a slot
    out_kw = f", out={out}" if out else ""
    return f"_patches_into({x}, {shape}, {strides}, {out_shape}{out_kw})"


lowering.register(
    conv_patches_p,
    Lowering(
        emit=_patches_codegen,
        # A one-element window's reshape can be a (read-only) view of the input. Larger
        # windows always copy (into a fresh array or an arena slot).
        memory=lambda eqn: VIEW if _window_is_one(eqn) else FRESH,
        split=split_rules.leading_axis_rule,
        helpers={"_patches_into": _patches_into},
    ),
)


# ---- its transpose: col2im ---------------------------------------------------------------------


def _col2im_impl(cols, *, window, strides, dilation, spatial):
    n = len(window)
    out = cols.shape[1 : 1 + n]
    c = cols.shape[-1] // math.prod(window)
    cols = cols.reshape(cols.shape[: 1 + n] + tuple(window) + (c,))
    res = np.zeros((cols.shape[0], *spatial, c), cols.dtype)
    lead = (slice(None),) * (1 + n)
    # One strided in-place add per kernel offset: vectorized over batch, pixels, channels.
    for offs in np.ndindex(*window):
        idx = tuple(
            slice(o * d, o * d + (m - 1) * s + 1, s)
            for o, d, m, s in zip(offs, dilation, out, strides, strict=True)
        )
        res[(slice(None), *idx)] += cols[(*lead, *offs)]
    return res


def _col2im_abstract(cols, *, window, strides, dilation, spatial):
    n = len(window)
    k = math.prod(window)
    if cols.ndim != n + 2 or cols.shape[-1] % k:
        raise FnnTypeError(
            f"col2im: expected (N, {n} spatial, K*C) columns with K={k}, got {cols.shape}"
        )
    out = tuple(_out_size(*a) for a in zip(spatial, window, strides, dilation, strict=True))
    if out != tuple(cols.shape[1 : 1 + n]):
        raise FnnTypeError(
            f"col2im: columns of spatial shape {cols.shape[1 : 1 + n]} do not come from an "
            f"input of spatial shape {spatial} with window {window}, strides {strides}, "
            f"dilation {dilation} (expected {out})"
        )
    return ShapedArray((cols.shape[0], *spatial, cols.shape[-1] // k), cols.dtype)


col2im_p = defprim("col2im", _col2im_impl, _col2im_abstract)
lowering.register(col2im_p, Lowering(memory=FRESH, split=split_rules.leading_axis_rule))


# ---- col2im of a matmul, fused (only in optimized programs) ------------------------------


def _col2im_dot_impl(ct, w, *, window, strides, dilation, spatial, kernel_layout="kc_f", crop=None):
    """``col2im`` of the product of ``ct`` with a kernel, without the patch matrix.

    ``ct``: (N, *out, F). The kernel ``w`` is either (prod(window) * C, F), contracted
    over its last axis (a convolution's input gradient, ``kernel_layout="kc_f"``), or
    (*window, F, C) (a strided transposed convolution's forward pass, ``"window_f_c"``).
    ``crop`` (one ``(start, stop)`` per spatial axis, or None for all of ``spatial``) is
    the part of the result kept: a SAME convolution's input gradient drops its padding.

    A stride-1, undilated ``kc_f`` kernel goes through :func:`_col2im_dot_rows`. Other
    cases run one (N*out, F) @ (F, C) product per kernel offset, added straight into
    place: faster than the (N*out, prod(window)*C) patch matrix followed by strided
    adds, which does not fit in cache (benchmarks/README.md).
    """
    n = len(window)
    if kernel_layout == "kc_f" and all(s == 1 for s in strides) and all(d == 1 for d in dilation):
        crop = crop or tuple((0, m) for m in spatial)
        return _col2im_dot_rows(ct, w, tuple(window), tuple(crop))
    out = ct.shape[1 : 1 + n]
    f = ct.shape[-1]
    if kernel_layout == "kc_f":
        c = w.shape[0] // math.prod(window)
        w = np.swapaxes(w.reshape(*window, c, f), -1, -2)  # (*window, F, C) view
    c = w.shape[-1]
    rows = ct.reshape(-1, f)
    res = np.zeros((ct.shape[0], *spatial, c), ct.dtype)
    buf = np.empty((rows.shape[0], c), ct.dtype)
    for offs in np.ndindex(*window):
        idx = tuple(
            slice(o * d, o * d + (m - 1) * s + 1, s)
            for o, d, m, s in zip(offs, dilation, out, strides, strict=True)
        )
        np.matmul(rows, w[offs], out=buf)
        res[(slice(None), *idx)] += buf.reshape(ct.shape[: 1 + n] + (c,))
    if crop is None:
        return res
    return res[(slice(None), *(slice(a, b) for a, b in crop))].copy()


# Images per block of _col2im_dot_rows: its row-window copy of a block stays near this
# size, so that the copy, the product and the adds of a block run in cache. Smaller
# blocks are slower, larger ones no faster (benchmarks/README.md).
_ROWS_BLOCK_BYTES = 1024 * 1024


def _col2im_dot_rows(ct, w, window, crop):
    """A stride-1 convolution's input gradient (``kc_f`` kernel) on the ``crop`` region.

    The last spatial axis is done by im2col on ``ct``: each result pixel's window of
    ``ct`` pixels along that axis (zero beyond the edges), times the kernel flipped
    along it, gives in one product the contributions for every offset of the other
    axes; one shifted add per such offset places them. Against one product per kernel
    offset with C output columns, the product has prod(window[:-1]) * C columns and
    window[-1] * F terms, which BLAS runs far nearer its peak, and there are window[-1]
    times fewer adds. benchmarks/README.md has the gain on the benchmark cnn's second
    convolution.
    """
    n, f = len(window), ct.shape[-1]
    k_last, lead = window[-1], window[:-1]
    c = w.shape[0] // math.prod(window)
    # (k_last * F, prod(lead) * C): rows by (flipped last-axis offset, F), columns by
    # (leading offsets, C).
    kern = w.reshape(*lead, k_last, c, f)[..., ::-1, :, :]
    kern = np.moveaxis(kern, (n - 1, n + 1), (0, 1)).reshape(k_last * f, -1)
    kern = np.ascontiguousarray(kern)
    out = ct.shape[1 : 1 + n]
    (x0, x1) = crop[-1]
    # Result column X reads ct columns X - j (j < k_last): pad ct so all are in range.
    pad_lo = max(0, k_last - 1 - x0)
    pad_hi = max(0, x1 - out[-1])
    base = x0 - (k_last - 1) + pad_lo
    lead_crop = crop[:-1]
    res = np.zeros((ct.shape[0], *(b - a for a, b in crop), c), ct.dtype)
    row_bytes = math.prod(out[:-1]) * (x1 - x0) * k_last * f * ct.itemsize
    block = max(1, min(ct.shape[0], _ROWS_BLOCK_BYTES // max(1, row_bytes)))
    padded = np.zeros((block, *out[:-1], pad_lo + out[-1] + pad_hi, f), ct.dtype)
    cols = np.empty((block, *out[:-1], x1 - x0, k_last, f), ct.dtype)
    prod = np.empty((cols[..., 0, 0].size, kern.shape[1]), ct.dtype)
    for start in range(0, ct.shape[0], block):
        b = min(block, ct.shape[0] - start)
        padded[:b, ..., pad_lo : pad_lo + out[-1], :] = ct[start : start + b]
        s = padded.strides
        windows = as_strided(
            padded[:b, ..., base:, :],
            (b, *out[:-1], x1 - x0, k_last, f),
            (*s[:-1], s[-2], s[-1]),
        )
        np.copyto(cols[:b], windows)
        rows = b * math.prod(out[:-1]) * (x1 - x0)
        np.matmul(cols[:b].reshape(rows, -1), kern, out=prod[:rows])
        parts = prod[:rows].reshape(b, *out[:-1], x1 - x0, *lead, c)
        for offs in np.ndindex(*lead):
            # ct position y feeds result position y + o; keep those inside the crop.
            src, dst = [], []
            for o, m, (a, e) in zip(offs, out[:-1], lead_crop, strict=True):
                lo, hi = max(0, a - o), min(m, e - o)
                src.append(slice(lo, max(lo, hi)))
                dst.append(slice(lo + o - a, max(lo, hi) + o - a))
            res[(slice(start, start + b), *dst)] += parts[(slice(None), *src, slice(None), *offs)]
    return res


def _col2im_dot_abstract(
    ct, w, *, window, strides, dilation, spatial, kernel_layout="kc_f", crop=None
):
    k, n, f = math.prod(window), len(window), ct.shape[-1]
    if kernel_layout == "kc_f":
        ok = w.ndim == 2 and w.shape[0] % k == 0 and w.shape[1] == f
        c = w.shape[0] // k if ok else 0
        expected = f"a ({k}*C, {f}) kernel matrix"
    else:
        ok = w.ndim == n + 2 and tuple(w.shape[:n]) == tuple(window) and w.shape[n] == f
        c = w.shape[-1]
        expected = f"a {(*window, f, 'C')} kernel"
    if not ok:
        raise FnnTypeError(f"col2im_dot: expected {expected}, got {w.shape}")
    cols = ShapedArray((*ct.shape[:-1], k * c), ct.dtype)
    full = _col2im_abstract(
        cols, window=window, strides=strides, dilation=dilation, spatial=spatial
    )
    if crop is None:
        return full
    if len(crop) != n or any(not 0 <= a <= b <= m for (a, b), m in zip(crop, spatial)):
        raise FnnTypeError(f"col2im_dot: crop {crop} does not fit spatial shape {spatial}")
    return ShapedArray((ct.shape[0], *(b - a for a, b in crop), c), ct.dtype)


col2im_dot_p = defprim("col2im_dot", _col2im_dot_impl, _col2im_dot_abstract)
lowering.register(col2im_dot_p, Lowering(memory=FRESH, split=split_rules.col2im_dot_rule))


def _col2im(cols, window, strides, dilation, spatial):
    return col2im_p.bind(
        cols, window=window, strides=strides, dilation=dilation, spatial=tuple(spatial)
    )


def _linear_jvp(prim):
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        (t,) = tangents
        if type(t) is Zero:
            return out, Zero(core.get_aval(out))
        return out, prim.bind(instantiate(t), **params)

    jvp_rules[prim] = rule


_linear_jvp(conv_patches_p)
_linear_jvp(col2im_p)
jet_rules[conv_patches_p] = linear_jet(conv_patches_p)
jet_rules[col2im_p] = linear_jet(col2im_p)


def _patches_transpose(ct, x, *, window, strides, dilation):
    spatial = x.aval.shape[1 : 1 + len(window)]
    return [_col2im(instantiate(ct), window, strides, dilation, spatial)]


def _col2im_transpose(ct, cols, *, window, strides, dilation, spatial):
    return [conv_patches_p.bind(instantiate(ct), window=window, strides=strides, dilation=dilation)]


transpose_rules[conv_patches_p] = _patches_transpose
transpose_rules[col2im_p] = _col2im_transpose


def _merge_batch(prim):
    """vmap: fold the vmapped axis into N, apply, and split it out again."""

    def rule(vals, dims, **params):
        (x,), (d,) = vals, dims
        x = moveaxis(x, d, 0)
        shape = core.get_aval(x).shape
        out = prim.bind(reshape(x, (shape[0] * shape[1],) + shape[2:]), **params)
        out_shape = core.get_aval(out).shape
        return reshape(out, (shape[0], shape[1]) + out_shape[1:]), 0

    batching_rules[prim] = rule


_merge_batch(conv_patches_p)
_merge_batch(col2im_p)


# ---- dimension numbers and padding ---------------------------------------------------------


def conv_dimension_numbers(ndim: int, dimension_numbers) -> tuple[tuple[int, ...], ...]:
    """Permutations taking lhs, rhs to ``(N, *spatial, C)``, ``(*spatial, I, O)`` and
    ``(N, *spatial, C)`` back to the output layout.

    Spatial axes are matched by letter and ordered as they appear in the rhs spec (as in
    jax.lax). ``None`` means jax.lax's default: ``NC<spatial>``, ``OI<spatial>``.

    Example:
        >>> conv_dimension_numbers(4, ("NCHW", "OIHW", "NCHW"))
        ((0, 2, 3, 1), (2, 3, 1, 0), (0, 3, 1, 2))
    """
    if dimension_numbers is None:
        sp = "".join("HWDXYZ"[i] for i in range(ndim - 2))
        dimension_numbers = ("NC" + sp, "OI" + sp, "NC" + sp)
    if isinstance(dimension_numbers, str) or len(dimension_numbers) != 3:
        raise ValueError(
            "conv: dimension_numbers must be three strings such as ('NHWC', 'HWIO', 'NHWC'), "
            f"got {dimension_numbers!r}"
        )
    lhs, rhs, out = (str(s) for s in dimension_numbers)
    for spec, special in ((lhs, "NC"), (rhs, "OI"), (out, "NC")):
        if len(spec) != ndim or len(set(spec)) != ndim or any(c not in spec for c in special):
            raise ValueError(
                f"conv: dimension spec {spec!r} must name {ndim} distinct axes including "
                f"{special[0]!r} and {special[1]!r} for rank-{ndim} operands "
                f"(dimension_numbers={dimension_numbers!r})"
            )
    spatial = [c for c in rhs if c not in "OI"]
    if sorted(c for c in lhs if c not in "NC") != sorted(spatial) or sorted(
        c for c in out if c not in "NC"
    ) != sorted(spatial):
        raise ValueError(f"conv: spatial letters of {dimension_numbers!r} do not match")
    lhs_perm = tuple(lhs.index(c) for c in ["N", *spatial, "C"])
    rhs_perm = tuple(rhs.index(c) for c in [*spatial, "I", "O"])
    canonical = ["N", *spatial, "C"]
    out_perm = tuple(canonical.index(c) for c in out)
    return lhs_perm, rhs_perm, out_perm


def padtype_to_pads(
    in_shape: Sequence[int], window_shape: Sequence[int], strides: Sequence[int], padding: str
) -> list[tuple[int, int]]:
    """Explicit (low, high) pads for ``"SAME"``, ``"SAME_LOWER"`` or ``"VALID"`` (jax.lax's).

    ``"SAME"`` gives ``ceil(in / stride)`` outputs, with the odd pad at the end.

    Example:
        >>> padtype_to_pads((28, 28), (5, 5), (1, 1), "SAME")
        [(2, 2), (2, 2)]
    """
    kind = padding.upper()
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"conv: unknown padding {padding!r}; use 'SAME', 'SAME_LOWER', 'VALID'")
    pads = []
    for size, k, s in zip(in_shape, window_shape, strides, strict=True):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        lo = total // 2 if kind == "SAME" else total - total // 2
        pads.append((lo, total - lo))
    return pads


def _tuple(name, v, n, default=1):
    if v is None:
        return (default,) * n
    if isinstance(v, int | np.integer):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"conv: {name} {v} needs {n} entries (one per spatial dimension)")
    return v


# ---- conv_general_dilated ---------------------------------------------------------------------


def conv_general_dilated(
    lhs,
    rhs,
    window_strides: Sequence[int],
    padding: Padding,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers=("NHWC", "HWIO", "NHWC"),
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision=None,
    preferred_element_type=None,
):
    """General dilated convolution, as ``jax.lax.conv_general_dilated``.

    ``padding`` is ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` or ``[(lo, hi), ...]`` per
    spatial dimension (negative values crop). ``lhs_dilation`` inserts ``d - 1`` zeros
    between input elements (a transposed convolution); ``rhs_dilation`` spreads the
    kernel (atrous). ``feature_group_count = G`` splits input and output features into
    G groups (``G == C_in``: depthwise); the kernel's I axis is then ``C_in / G``.

    Differences from jax.lax: the default layout is fnn's channels-last
    ``("NHWC", "HWIO", "NHWC")``; pass ``("NWC", "WIO", "NWC")`` for 1-D, or ``None`` for
    jax's default ``NCHW``/``OIHW``. ``batch_group_count`` must be 1; ``precision`` and
    ``preferred_element_type`` are accepted and ignored.

    Example:
        >>> import fnn.numpy as fnp
        >>> x, w = fnp.ones((2, 8, 8, 3)), fnp.ones((3, 3, 3, 4))
        >>> conv_general_dilated(x, w, (2, 2), "SAME").shape
        (2, 4, 4, 4)
        >>> conv_general_dilated(fnp.ones((2, 10, 3)), fnp.ones((3, 3, 4)), (1,), "VALID",
        ...                      dimension_numbers=("NWC", "WIO", "NWC")).shape
        (2, 8, 4)
    """
    del precision, preferred_element_type
    if batch_group_count != 1:
        raise NotImplementedError("conv_general_dilated: batch_group_count != 1")
    la, ra = core.get_aval(lhs), core.get_aval(rhs)
    if la.ndim != ra.ndim or la.ndim < 3:
        raise FnnTypeError(
            f"conv_general_dilated: lhs and rhs need the same rank >= 3 (batch, spatial..., "
            f"features), got shapes {la.shape} and {ra.shape}"
        )
    if la.dtype != ra.dtype:
        raise FnnTypeError(f"conv_general_dilated: dtypes differ: {la.dtype} and {ra.dtype}")
    n = la.ndim - 2
    lhs_perm, rhs_perm, out_perm = conv_dimension_numbers(la.ndim, dimension_numbers)
    x, w = transpose(lhs, lhs_perm), transpose(rhs, rhs_perm)
    xs = tuple(la.shape[p] for p in lhs_perm)
    ws = tuple(ra.shape[p] for p in rhs_perm)
    strides = _tuple("window_strides", window_strides, n)
    lhs_dil = _tuple("lhs_dilation", lhs_dilation, n)
    rhs_dil = _tuple("rhs_dilation", rhs_dilation, n)
    window = ws[:n]
    g = int(feature_group_count)
    cin, wi, cout = xs[-1], ws[n], ws[n + 1]
    if g < 1 or cin % g or cout % g or cin // g != wi:
        raise FnnTypeError(
            f"conv_general_dilated: input features {cin} with feature_group_count={g} need a "
            f"kernel with {cin} / {g} input features and a multiple of {g} output features; "
            f"the kernel has {wi} input and {cout} output features (shape {ra.shape})"
        )
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dil):
            raise ValueError(
                "conv_general_dilated: string padding is not implemented with lhs_dilation "
                "(as in jax.lax); give explicit (low, high) pads or use conv_transpose"
            )
        eff = [(k - 1) * d + 1 for k, d in zip(window, rhs_dil, strict=True)]
        pads = padtype_to_pads(xs[1 : 1 + n], eff, strides, padding)
    else:
        pads = [(int(lo), int(hi)) for lo, hi in padding]
        if len(pads) != n:
            raise ValueError(f"conv_general_dilated: need {n} (low, high) pads, got {padding!r}")
    config = (
        [(0, 0, 0)]
        + [(lo, hi, d - 1) for (lo, hi), d in zip(pads, lhs_dil, strict=True)]
        + [(0, 0, 0)]
    )
    x = pad(x, np.zeros((), la.dtype), config)
    patches = conv_patches(x, window, strides, rhs_dil)
    k = math.prod(window)
    if g == 1:
        out = dot_general(patches, reshape(w, (k * wi, cout)), (((n + 1,), (0,)), ((), ())))
    else:
        # Batched over groups: (G, M, K*Cg) @ (G, K*Cg, Og), then features back in G-major order.
        ps = core.get_aval(patches).shape
        p = reshape(patches, ps[:-1] + (k, g, wi))
        wg = reshape(w, (k, wi, g, cout // g))
        dn = (((n + 1, n + 3), (0, 1)), ((n + 2,), (2,)))
        out = dot_general(p, wg, dn)  # (G, N, *out, Og)
        out = moveaxis(out, 0, n + 1)
        os = core.get_aval(out).shape
        out = reshape(out, os[: n + 1] + (cout,))
    return transpose(out, out_perm)


# ---- conv_transpose -------------------------------------------------------------------------


def _conv_transpose_padding(k: int, s: int, padding: str) -> tuple[int, int]:
    # jax.lax's choice: 'SAME' gives in * s outputs, 'VALID' gives in * s + max(k - s, 0).
    if padding == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        lo = k - 1
    else:
        raise ValueError(
            f"conv_transpose: padding must be 'SAME', 'VALID' or pairs, got {padding!r}"
        )
    return lo, total - lo


def conv_transpose(
    lhs,
    rhs,
    strides: Sequence[int],
    padding: Padding,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers=None,
    transpose_kernel: bool = False,
    precision=None,
    preferred_element_type=None,
):
    """Transposed ("fractionally strided") convolution, as ``jax.lax.conv_transpose``.

    The input is dilated by ``strides`` and convolved with stride 1, so ``strides=(2, 2)``
    with ``"SAME"`` doubles each spatial size (what a GAN generator upsamples with).
    With ``transpose_kernel=True`` the kernel is flipped and its I/O axes swapped, which
    makes this the exact gradient of ``conv_general_dilated`` with the same kernel.
    ``dimension_numbers=None`` means channels-last (``NWC``/``NHWC`` with ``WIO``/``HWIO``).

    Example:
        >>> import fnn.numpy as fnp
        >>> conv_transpose(fnp.ones((1, 7, 7, 8)), fnp.ones((5, 5, 8, 4)), (2, 2), "SAME").shape
        (1, 14, 14, 4)
    """
    ndim = core.get_aval(lhs).ndim
    n = ndim - 2
    if dimension_numbers is None:
        sp = "HWDXYZ"[:n]
        dimension_numbers = ("N" + sp + "C", sp + "IO", "N" + sp + "C")
    _, rhs_perm, _ = conv_dimension_numbers(ndim, dimension_numbers)
    rshape = core.get_aval(rhs).shape
    window = tuple(rshape[p] for p in rhs_perm[:n])
    strides = _tuple("strides", strides, n)
    rhs_dil = _tuple("rhs_dilation", rhs_dilation, n)
    if isinstance(padding, str):
        eff = [(k - 1) * d + 1 for k, d in zip(window, rhs_dil, strict=True)]
        pads = [
            _conv_transpose_padding(k, s, padding.upper())
            for k, s in zip(eff, strides, strict=True)
        ]
    else:
        pads = padding
    if any(s > 1 for s in strides):
        return _conv_transpose_by_scatter(
            lhs, rhs, strides, pads, rhs_dil, dimension_numbers, transpose_kernel
        )
    if transpose_kernel:
        spatial_axes = rhs_perm[:n]
        rhs = rev(rhs, spatial_axes)
        i_ax, o_ax = rhs_perm[n], rhs_perm[n + 1]
        perm = list(range(ndim))
        perm[i_ax], perm[o_ax] = o_ax, i_ax
        rhs = transpose(rhs, perm)
    return conv_general_dilated(
        lhs,
        rhs,
        (1,) * n,
        pads,
        lhs_dilation=strides,
        rhs_dilation=rhs_dil,
        dimension_numbers=dimension_numbers,
    )


def _conv_transpose_by_scatter(
    lhs, rhs, strides, pads, rhs_dil, dimension_numbers, transpose_kernel
):
    """conv_transpose without the zeros of the dilated input: ``stride**n`` times fewer flops.

    Each input pixel times the kernel gives a block of output columns; ``col2im`` adds
    the blocks at ``stride`` spacing (the transpose of a strided conv's patches), and the
    jax.lax padding becomes a final pad or crop of that full output.
    """
    ndim = core.get_aval(lhs).ndim
    n = ndim - 2
    lhs_perm, rhs_perm, out_perm = conv_dimension_numbers(ndim, dimension_numbers)
    x, w = transpose(lhs, lhs_perm), transpose(rhs, rhs_perm)  # (N, *S, C), (*K, I, O)
    xs, ws = core.get_aval(x).shape, core.get_aval(w).shape
    window = ws[:n]
    # Scattering input pixel i to output s*i + d*k reads the kernel back to front; with
    # transpose_kernel the kernel was flipped already, so only its I/O axes swap.
    w = moveaxis(w, n, n + 1) if transpose_kernel else rev(w, tuple(range(n)))
    cin, cout = core.get_aval(w).shape[n:]
    if cin != xs[-1]:
        raise FnnTypeError(
            f"conv_transpose: the input has {xs[-1]} features but the kernel of shape "
            f"{core.get_aval(rhs).shape} expects {cin}"
        )
    cols = dot_general(x, w, (((n + 1,), (n,)), ((), ())))  # (N, *S, *K, O)
    cols = reshape(cols, xs[:-1] + (math.prod(window) * cout,))
    eff = [(k - 1) * d + 1 for k, d in zip(window, rhs_dil, strict=True)]
    full = [(h - 1) * s + e for h, s, e in zip(xs[1:-1], strides, eff, strict=True)]
    y = _col2im(cols, tuple(window), tuple(strides), tuple(rhs_dil), full)
    crop = [(int(lo) - e + 1, int(hi) - e + 1, 0) for (lo, hi), e in zip(pads, eff, strict=True)]
    y = pad(y, np.zeros((), core.get_aval(y).dtype), [(0, 0, 0), *crop, (0, 0, 0)])
    return transpose(y, out_perm)
