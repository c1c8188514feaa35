"""fnn.lax.conv: convolutions against a naive loop reference, and through the shared harness
(numpy agreement, first and second derivatives vs finite differences, <vjp(u), v> ==
<u, jvp(v)>, jit and vmap) for conv_general_dilated and conv_transpose."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn.core import FnnTypeError
from fnn.lax.conv import conv_general_dilated, conv_patches, conv_transpose
from tests.lax import harness as h
from tests.lax.harness import Case, Spec, args

# ---- references -------------------------------------------------------------------------------


def _same_pads(sizes, eff, strides):
    pads = []
    for n, k, s in zip(sizes, eff, strides, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pads(padding, sizes, ks, strides, rhs_dil):
    eff = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil, strict=True)]
    if padding == "VALID":
        return [(0, 0)] * len(ks)
    if padding == "SAME":
        return _same_pads(sizes, eff, strides)
    return [tuple(p) for p in padding]


def _dilate_and_pad(x, lhs_dil, pads):
    """x (N, *S, C): zeros between elements, then (possibly negative) padding."""
    n = x.ndim - 2
    shape = tuple((s - 1) * d + 1 for s, d in zip(x.shape[1:-1], lhs_dil, strict=True))
    xd = np.zeros((x.shape[0], *shape, x.shape[-1]), x.dtype)
    xd[(slice(None), *(slice(None, None, d) for d in lhs_dil))] = x
    width = [(0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads] + [(0, 0)]
    xp = np.pad(xd, width)
    crop = tuple(
        slice(max(-lo, 0), xp.shape[1 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads)
    )
    assert len(crop) == n
    return xp[(slice(None), *crop)]


def naive_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups):
    """Loops over every output element: the definition, for NHWC/HWIO (or NWC/WIO)."""
    n = x.ndim - 2
    ks, cg, o = w.shape[:n], w.shape[n], w.shape[-1]
    pads = _pads(padding, x.shape[1:-1], ks, strides, rhs_dil)
    xp = _dilate_and_pad(np.asarray(x, np.float64), lhs_dil, pads)
    out_sz = [
        (p - (k - 1) * d - 1) // s + 1
        for p, k, d, s in zip(xp.shape[1:-1], ks, rhs_dil, strides, strict=True)
    ]
    out = np.zeros((x.shape[0], *out_sz, o))
    og = o // groups
    for b, pos, oc in itertools.product(range(x.shape[0]), np.ndindex(*out_sz), range(o)):
        g = oc // og
        acc = 0.0
        for koff in np.ndindex(*ks):
            idx = tuple(
                p * s + k * d for p, s, k, d in zip(pos, strides, koff, rhs_dil, strict=True)
            )
            for c in range(cg):
                acc += xp[(b, *idx, g * cg + c)] * w[(*koff, c, oc)]
        out[(b, *pos, oc)] = acc
    return out


def ref_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups):
    """A vectorized reference (sliding_window_view + einsum), checked against naive_conv."""
    n = x.ndim - 2
    ks, cg, o = w.shape[:n], w.shape[n], w.shape[-1]
    pads = _pads(padding, x.shape[1:-1], ks, strides, rhs_dil)
    xp = _dilate_and_pad(np.asarray(x), lhs_dil, pads)
    eff = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil, strict=True)]
    v = np.lib.stride_tricks.sliding_window_view(xp, eff, axis=tuple(range(1, n + 1)))
    v = v[(slice(None), *(slice(None, None, s) for s in strides), slice(None))]
    v = v[(Ellipsis, *(slice(None, None, d) for d in rhs_dil))]  # (N, *out, C, *ks)
    v = v.reshape(v.shape[: n + 1] + (groups, cg) + tuple(ks))
    wg = w.reshape(tuple(ks) + (cg, groups, o // groups))
    sp = "hwd"[:n]
    y = np.einsum(f"n{'xyz'[:n]}gc{sp},{sp}cgo->n{'xyz'[:n]}go", v, wg)
    return y.reshape(y.shape[: n + 1] + (o,))


def ref_conv_transpose(x, w, strides, padding, rhs_dil, transpose_kernel):
    """Scatter form: input element i, kernel offset k add x[i] @ w[k] at s*i + lo - k*d."""
    n = x.ndim - 2
    if transpose_kernel:
        w = np.swapaxes(np.flip(w, tuple(range(n))), n, n + 1)
    ks = w.shape[:n]
    eff = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil, strict=True)]
    if padding == "SAME":  # jax.lax's conv_transpose padding: output in * stride
        pads = []
        for k, s in zip(eff, strides, strict=True):
            lo = k - 1 if s > k - 1 else -(-(k + s - 2) // 2)
            pads.append((lo, k + s - 2 - lo))
    elif padding == "VALID":
        pads = [(k - 1, s - 1 + max(k - s, 0)) for k, s in zip(eff, strides, strict=True)]
    else:
        pads = padding
    out_sz = [
        (m - 1) * s + 1 + lo + hi - e + 1
        for m, s, (lo, hi), e in zip(x.shape[1:-1], strides, pads, eff, strict=True)
    ]
    y = np.zeros((x.shape[0], *out_sz, w.shape[-1]), np.result_type(x, w))
    for i in np.ndindex(*x.shape[1:-1]):
        for k in np.ndindex(*ks):
            pos = [
                s * a + lo - b * d
                for s, a, (lo, _), b, d in zip(strides, i, pads, k, rhs_dil, strict=True)
            ]
            if all(0 <= p < m for p, m in zip(pos, out_sz, strict=True)):
                y[(slice(None), *pos)] += x[(slice(None), *i)] @ w[k]
    return y


# ---- direct checks against the loop reference -------------------------------------------------

CONFIGS = [
    # (x shape, w shape, strides, padding, lhs_dilation, rhs_dilation, groups)
    ((2, 6, 5, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1), (1, 1), 1),
    ((2, 6, 5, 3), (3, 2, 3, 4), (2, 2), "SAME", (1, 1), (1, 1), 1),
    ((1, 7, 7, 2), (3, 3, 2, 3), (2, 1), "VALID", (1, 1), (1, 1), 1),
    ((1, 6, 6, 2), (2, 3, 2, 2), (1, 2), [(1, 2), (0, 1)], (1, 1), (1, 1), 1),
    ((1, 6, 6, 2), (2, 2, 2, 2), (1, 1), [(-1, 1), (2, -1)], (1, 1), (1, 1), 1),
    ((2, 7, 6, 2), (3, 2, 2, 3), (1, 1), "SAME", (1, 1), (2, 2), 1),
    ((1, 4, 5, 2), (3, 3, 2, 2), (1, 1), [(2, 2), (1, 2)], (2, 2), (1, 1), 1),
    ((1, 4, 4, 2), (3, 3, 2, 2), (2, 1), [(1, 0), (2, 1)], (2, 3), (1, 2), 1),
    ((2, 5, 5, 4), (3, 3, 2, 6), (1, 1), "SAME", (1, 1), (1, 1), 2),
    ((2, 5, 5, 3), (3, 3, 1, 6), (2, 2), "SAME", (1, 1), (1, 1), 3),  # depthwise, multiplier 2
    ((2, 9, 3), (3, 3, 4), (1,), "SAME", (1,), (1,), 1),
    ((2, 9, 4), (2, 2, 4), (2,), "VALID", (1,), (2,), 2),
    ((1, 5, 2), (3, 2, 2), (1,), [(3, 1)], (2,), (1,), 1),
]


@pytest.mark.parametrize(
    "cfg", CONFIGS, ids=lambda c: f"{c[0]}*{c[1]} s{c[2]} {c[3]} l{c[4]} r{c[5]} g{c[6]}"
)
def test_conv_matches_naive_loops(cfg):
    xs, ws, strides, padding, lhs_dil, rhs_dil, g = cfg
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=xs), rng.normal(size=ws)
    expected = naive_conv(x, w, strides, padding, lhs_dil, rhs_dil, g)
    np.testing.assert_allclose(
        ref_conv(x, w, strides, padding, lhs_dil, rhs_dil, g), expected, atol=1e-12
    )
    sp = "HW"[: x.ndim - 2]
    got = conv_general_dilated(
        fnp.asarray(x, np.float32),
        fnp.asarray(w, np.float32),
        strides,
        padding,
        lhs_dilation=lhs_dil,
        rhs_dilation=rhs_dil,
        dimension_numbers=(f"N{sp}C", f"{sp}IO", f"N{sp}C"),
        feature_group_count=g,
    )
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-5)


def test_channels_first_dimension_numbers():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2))  # NCHW, OIHW
    expected = naive_conv(
        x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), (2, 1), "SAME", (1, 1), (1, 1), 1
    )
    got = conv_general_dilated(
        fnp.asarray(x), fnp.asarray(w), (2, 1), "SAME", dimension_numbers=None
    )
    np.testing.assert_allclose(
        np.asarray(got), expected.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5
    )
    got = conv_general_dilated(
        fnp.asarray(x), fnp.asarray(w), (2, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NHWC")
    )
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-5)


def test_conv_patches_layout():
    x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    p = np.asarray(conv_patches(fnp.asarray(x), (2, 3), (2, 1)))
    assert p.shape == (2, 2, 2, 18)
    np.testing.assert_array_equal(p[1, 1, 0], x[1, 2:4, 0:3, :].reshape(-1))


def test_one_channel_patches_keep_window_offsets_outermost():
    # A grayscale input's patches are laid out (K, N, *out) (a faster copy); values are
    # the C-ordered ones, and both product operands are views of them, eagerly and in jit.
    x = np.random.default_rng(1).standard_normal((3, 9, 8, 1)).astype(np.float32)
    expected = np.asarray(conv_patches(fnp.asarray(np.repeat(x, 2, -1)), (3, 2), (1, 2)))
    expected = expected[..., ::2]  # the first channel of each window offset
    p = np.asarray(conv_patches(fnp.asarray(x), (3, 2), (1, 2)))
    np.testing.assert_array_equal(p, expected)
    assert p.strides[-1] == p.itemsize * p[..., 0].size  # offsets outermost
    assert np.shares_memory(p.reshape(-1, 6), p) and np.shares_memory(
        np.moveaxis(p, -1, 0).reshape(6, -1), p
    )
    w = np.random.default_rng(2).standard_normal((3, 2, 1, 4)).astype(np.float32)
    f = lambda x, w: fnp.sum(conv_general_dilated(x, w, (1, 1), "SAME") ** 2)  # noqa: E731
    for got, want in zip(
        fnn.jit(fnn.grad(f, argnums=(0, 1)))(x, w),
        fnn.grad(f, argnums=(0, 1))(fnp.asarray(x), w),
        strict=True,
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    # Against the direct sum over window offsets.
    out = np.asarray(conv_general_dilated(fnp.asarray(x), fnp.asarray(w), (1, 1), "VALID"))
    direct = sum(x[:, i : i + 7, j : j + 7, :] @ w[i, j] for i in range(3) for j in range(2))
    np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_conv_transpose_gan_upsampling_shapes(k):
    rng = np.random.default_rng(2)
    x = fnp.asarray(rng.normal(size=(2, 7, 7, 8)), np.float32)
    w1 = fnp.asarray(rng.normal(size=(k, k, 8, 4)), np.float32)
    w2 = fnp.asarray(rng.normal(size=(k, k, 4, 1)), np.float32)
    y = conv_transpose(x, w1, (2, 2), "SAME")
    assert y.shape == (2, 14, 14, 4)
    z = conv_transpose(y, w2, (2, 2), "SAME")
    assert z.shape == (2, 28, 28, 1)
    expected = ref_conv_transpose(
        np.asarray(x, np.float64), np.asarray(w1, np.float64), (2, 2), "SAME", (1, 1), False
    )
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-4, atol=1e-4)
    assert conv_transpose(x, w1, (2, 2), "VALID").shape == (
        2,
        14 + max(k - 2, 0),
        14 + max(k - 2, 0),
        4,
    )


@pytest.mark.parametrize("n", [1, 2])
def test_conv_transpose_is_the_adjoint_of_conv(n):
    # <conv(x, w), y> == <x, conv_transpose(y, w, transpose_kernel=True)> for VALID
    # strided convolutions whose windows tile the input exactly.
    rng = np.random.default_rng(3)
    size, k, s = 9, 3, 2
    x = rng.normal(size=(2,) + (size,) * n + (3,))
    w = rng.normal(size=(k,) * n + (3, 4))
    sp = "HW"[:n]
    dn = (f"N{sp}C", f"{sp}IO", f"N{sp}C")
    y_shape = (2,) + ((size - k) // s + 1,) * n + (4,)
    y = rng.normal(size=y_shape)
    conv = np.asarray(
        conv_general_dilated(
            fnp.asarray(x), fnp.asarray(w), (s,) * n, "VALID", dimension_numbers=dn
        )
    )
    back = conv_transpose(
        fnp.asarray(y),
        fnp.asarray(w),
        (s,) * n,
        "VALID",
        dimension_numbers=dn,
        transpose_kernel=True,
    )
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(conv * y), np.sum(x * np.asarray(back)), rtol=1e-4)


def test_errors_name_the_problem():
    x, w = fnp.ones((1, 5, 5, 4)), fnp.ones((3, 3, 3, 2))
    with pytest.raises(FnnTypeError, match="feature_group_count"):
        conv_general_dilated(x, w, (1, 1), "SAME")
    with pytest.raises(ValueError, match="lhs_dilation"):
        conv_general_dilated(x, fnp.ones((3, 3, 4, 2)), (1, 1), "SAME", lhs_dilation=(2, 2))
    with pytest.raises(FnnTypeError, match="larger than the padded input"):
        conv_general_dilated(x, fnp.ones((7, 7, 4, 2)), (1, 1), "VALID")


# ---- transforms beyond the harness ----------------------------------------------------------


def _loss(x, w):
    y = conv_general_dilated(x, w, (2, 2), "SAME", rhs_dilation=(1, 2))
    return fnp.sum(fnp.tanh(y) * fnp.arange(y.size, dtype=y.dtype).reshape(y.shape) / y.size)


def test_per_example_gradients_vmap_and_jit():
    rng = np.random.default_rng(4)
    xs = fnp.asarray(rng.normal(size=(3, 2, 6, 6, 2)), np.float32)
    w = fnp.asarray(rng.normal(size=(3, 3, 2, 3)), np.float32)
    g = fnn.grad(_loss, argnums=(0, 1))
    loop = [g(x, w) for x in xs]
    for f in (fnn.vmap(g, in_axes=(0, None)), fnn.jit(fnn.vmap(g, in_axes=(0, None)))):
        gx, gw = f(xs, w)
        np.testing.assert_allclose(
            np.asarray(gx), np.stack([np.asarray(a) for a, _ in loop]), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            np.asarray(gw), np.stack([np.asarray(b) for _, b in loop]), rtol=1e-5, atol=1e-6
        )
    gx, gw = fnn.jit(g)(xs[0], w)
    np.testing.assert_allclose(np.asarray(gx), np.asarray(loop[0][0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(gw), np.asarray(loop[0][1]), rtol=1e-5, atol=1e-6)


def test_jit_emits_strided_patches_and_one_matmul():
    f = lambda x, w: conv_general_dilated(x, w, (1, 1), "SAME")  # noqa: E731
    jaxpr = fnn.make_jaxpr(f)(fnp.ones((2, 5, 5, 3)), fnp.ones((3, 3, 3, 4)))
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert names.count("conv_patches") == 1 and names.count("dot_general") == 1
    grads = fnn.make_jaxpr(fnn.grad(lambda x, w: fnp.sum(f(x, w)), argnums=(0, 1)))(
        fnp.ones((2, 5, 5, 3)), fnp.ones((3, 3, 3, 4))
    )
    assert "col2im" in [e.primitive.name for e in grads.jaxpr.eqns]


def test_jit_never_writes_into_a_patches_view():
    # A 1x1 window's patches are a read-only view of the input: no out= reuse of them.
    x = fnp.arange(8.0).reshape(1, 2, 2, 2)
    f = fnn.jit(lambda x: conv_patches(x * 1.0, (1, 1), (1, 1)) * 2.0)
    np.testing.assert_array_equal(np.asarray(f(x)), 2 * np.asarray(x))


# ---- the shared harness -----------------------------------------------------------------------


@st.composite
def _conv_spec(draw, channels_first=False):
    n = draw(st.sampled_from([1, 2]))
    g = draw(st.sampled_from([1, 1, 2]))
    cg, og, batch = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ks = tuple(draw(st.integers(1, 3)) for _ in range(n))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(n))
    rhs_dil = tuple(draw(st.integers(1, 2)) for _ in range(n))
    kind = draw(st.sampled_from(["SAME", "VALID", "explicit"]))
    lhs_dil, padding = (1,) * n, kind
    if kind == "explicit":
        lhs_dil = tuple(draw(st.integers(1, 2)) for _ in range(n))
        padding = tuple((draw(st.integers(-1, 2)), draw(st.integers(-1, 2))) for _ in range(n))
    sizes = []
    for i in range(n):
        eff = (ks[i] - 1) * rhs_dil[i] + 1
        lo, hi = padding[i] if kind == "explicit" else (0, 0)
        need = max(1, -(-(eff - 1 - lo - hi) // lhs_dil[i]) + 1, 2 if min(lo, hi) < 0 else 1)
        sizes.append(draw(st.integers(need, need + 3)))
    params = {
        "strides": strides,
        "padding": padding,
        "lhs_dil": lhs_dil,
        "rhs_dil": rhs_dil,
        "groups": g,
    }
    x = (batch, *sizes, g * cg)
    w = (*ks, cg, g * og)
    if channels_first:
        x = (x[0], x[-1], *x[1:-1])
        w = (w[-1], w[-2], *w[:-2])
    return Spec((x, w), params)


def _fnn_conv(x, w, *, strides, padding, lhs_dil, rhs_dil, groups):
    sp = "HW"[: np.ndim(x) - 2]
    return conv_general_dilated(
        x, w, strides, padding, lhs_dil, rhs_dil, (f"N{sp}C", f"{sp}IO", f"N{sp}C"), groups
    )


def _fnn_conv_nchw(x, w, *, strides, padding, lhs_dil, rhs_dil, groups):
    return conv_general_dilated(x, w, strides, padding, lhs_dil, rhs_dil, None, groups)


def _ref_conv_nchw(x, w, **p):
    n = np.ndim(x) - 2
    xl = np.moveaxis(x, 1, -1)
    wl = np.transpose(w, tuple(range(2, n + 2)) + (1, 0))
    return np.moveaxis(_ref_conv_kw(xl, wl, **p), -1, 1)


def _ref_conv_kw(x, w, *, strides, padding, lhs_dil, rhs_dil, groups):
    return ref_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups)


@st.composite
def _transpose_spec(draw):
    n = draw(st.sampled_from([1, 2]))
    ks = tuple(draw(st.integers(1, 4)) for _ in range(n))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(n))
    rhs_dil = tuple(draw(st.integers(1, 2)) for _ in range(n))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    tk = draw(st.booleans())
    cin, cout, batch = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(n))
    w = (*ks, cout, cin) if tk else (*ks, cin, cout)
    params = {"strides": strides, "padding": padding, "rhs_dil": rhs_dil, "transpose_kernel": tk}
    return Spec(((batch, *sizes, cin), w), params)


def _fnn_conv_transpose(x, w, *, strides, padding, rhs_dil, transpose_kernel):
    return conv_transpose(x, w, strides, padding, rhs_dil, transpose_kernel=transpose_kernel)


def _ref_conv_transpose_kw(x, w, *, strides, padding, rhs_dil, transpose_kernel):
    return ref_conv_transpose(x, w, strides, padding, rhs_dil, transpose_kernel)


CASES = [
    Case(
        "conv_general_dilated",
        _fnn_conv,
        _ref_conv_kw,
        _conv_spec(),
        args("real", "real"),
        prims=("conv_patches",),
        nargs=2,
    ),
    Case(
        "conv_general_dilated_nchw",
        _fnn_conv_nchw,
        _ref_conv_nchw,
        _conv_spec(channels_first=True),
        args("real", "real"),
        prims=("conv_patches",),
        nargs=2,
    ),
    Case(
        "conv_transpose",
        _fnn_conv_transpose,
        _ref_conv_transpose_kw,
        _transpose_spec(),
        args("real", "real"),
        prims=("conv_patches",),
        nargs=2,
    ),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("use_x64", [False, True], ids=["float32", "float64"])
@h.SETTINGS
@given(data=st.data())
def test_numpy_agreement(case, use_x64, data):
    spec, _, arrays = h.draw(data, case)
    h.check_numpy_agreement(case, spec, arrays, use_x64=use_x64)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@h.SETTINGS
@given(data=st.data())
def test_first_derivatives(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_first_derivatives(case, spec, arrays, rng)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@h.SETTINGS
@given(data=st.data())
def test_second_derivatives(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_second_derivatives(case, spec, arrays, rng)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@h.SETTINGS
@given(data=st.data())
def test_vjp_jvp_adjoint(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_vjp_jvp_adjoint(case, spec, arrays, rng)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@h.SETTINGS
@given(data=st.data())
def test_jit(case, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_jit(case, spec, arrays, rng)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("unbatched", [False, True], ids=["all_batched", "some_unbatched"])
@h.SETTINGS
@given(data=st.data())
def test_vmap(case, unbatched, data):
    spec, rng, arrays = h.draw(data, case)
    h.check_vmap(case, spec, arrays, rng, data, unbatched=unbatched)


# ---- the fused input gradient: col2im_dot ----------------------------------------------------


@pytest.mark.parametrize(
    "out,window,crop",
    [
        ((9,), (4,), None),  # 1-D, the whole result
        ((7, 6), (3, 2), ((1, 8), (0, 7))),  # 2-D, a SAME-like crop
        ((5, 5), (5, 5), ((2, 7), (2, 7))),  # the benchmark cnn's 5x5 SAME shape, smaller
        ((4, 6), (3, 3), ((0, 6), (3, 8))),  # a crop off one side only
        ((3, 4, 2), (2, 3, 2), ((1, 4), (0, 6), (1, 3))),  # 3-D
    ],
)
def test_col2im_dot_rows_equals_col2im_of_the_product(monkeypatch, out, window, crop):
    from fnn.lax import conv

    rng = np.random.default_rng(len(out))
    n_img, f, c = 5, 3, 4
    ct = rng.standard_normal((n_img, *out, f))
    w = rng.standard_normal((int(np.prod(window)) * c, f))
    spatial = tuple(m + k - 1 for m, k in zip(out, window, strict=True))
    ones = (1,) * len(out)
    kw = dict(window=window, strides=ones, dilation=ones, spatial=spatial)
    # The reference: the patch matrix ct @ w.T put back by col2im, then cropped.
    full = conv._col2im_impl(ct @ w.T, **kw)
    want = full if crop is None else full[(slice(None), *(slice(a, b) for a, b in crop))]
    # Blocks of 1, 2 (a short last block) and every image.
    for block_images in (1, 2, n_img):
        row_bytes = (
            np.prod(out) // out[-1] * (spatial[-1] if crop is None else crop[-1][1] - crop[-1][0])
        )
        monkeypatch.setattr(
            conv, "_ROWS_BLOCK_BYTES", int(block_images * row_bytes * window[-1] * f * 8)
        )
        got = conv._col2im_dot_impl(ct, w, kernel_layout="kc_f", crop=crop, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_col2im_dot_rejects_a_crop_outside_the_result():
    from fnn.core import ShapedArray
    from fnn.lax import conv

    ct, w = ShapedArray((2, 3, 3, 4), np.float32), ShapedArray((9 * 2, 4), np.float32)
    kw = dict(window=(3, 3), strides=(1, 1), dilation=(1, 1), spatial=(5, 5))
    assert conv._col2im_dot_abstract(ct, w, crop=((1, 4), (0, 5)), **kw).shape == (2, 3, 5, 2)
    with pytest.raises(FnnTypeError, match="crop"):
        conv._col2im_dot_abstract(ct, w, crop=((1, 6), (0, 5)), **kw)
