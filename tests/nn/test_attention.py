"""Attention against softmax(QK^T/sqrt(d) + mask) V, masks, MultiHeadAttention, KV cache."""

import numpy as np
import pytest
from scipy import special

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from tests.nn.gradcheck import check_grads, project

KEY = fnn.random.key(0)


def np_attention(q, k, v, mask=None):
    """The textbook formula on (batch, length, heads, dim) arrays, additive -inf mask."""
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits + np.where(mask, 0.0, -np.inf)
    weights = special.softmax(logits, axis=-1)
    return np.einsum("bhqk,bkhd->bqhd", weights, v), weights


def test_dot_product_attention_matches_formula(rng):
    q, k, v = (
        rng.standard_normal(s).astype(np.float32)
        for s in [(2, 3, 4, 5), (2, 6, 4, 5), (2, 6, 4, 7)]
    )
    mask = rng.uniform(size=(2, 1, 3, 6)) > 0.3
    mask[..., 0] = True  # every row keeps a key
    out, weights = nn.dot_product_attention(
        *map(fnp.asarray, (q, k, v)), mask=fnp.asarray(mask), return_weights=True
    )
    ref_out, ref_w = np_attention(q, k, v, mask)
    assert out.shape == (2, 3, 4, 7) and weights.shape == (2, 4, 3, 6)
    np.testing.assert_allclose(np.asarray(weights), ref_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), ref_out, rtol=1e-5, atol=1e-5)
    assert np.all(np.asarray(weights)[np.broadcast_to(~mask, weights.shape)] == 0)


def test_bias_is_added_to_logits(rng):
    q, k = rng.standard_normal((1, 2, 1, 3)), rng.standard_normal((1, 4, 1, 3))
    bias = rng.standard_normal((1, 1, 2, 4))
    w = nn.dot_product_attention_weights(fnp.asarray(q), fnp.asarray(k), fnp.asarray(bias))
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(3) + bias
    np.testing.assert_allclose(np.asarray(w), special.softmax(logits, -1), rtol=1e-5)


def test_fully_masked_row_is_finite():
    q = k = v = fnp.ones((1, 2, 1, 4))
    mask = fnp.asarray([[[[True, True], [False, False]]]])
    out, w = nn.dot_product_attention(q, k, v, mask=mask, return_weights=True)
    assert np.all(np.isfinite(np.asarray(out)))
    np.testing.assert_allclose(np.asarray(w)[0, 0, 1], [0.5, 0.5])  # uniform, as Flax
    g = fnn.grad(lambda q: fnp.sum(nn.dot_product_attention(q, k, v, mask=mask)))(q)
    assert np.all(np.isfinite(np.asarray(g)))


def test_masks():
    causal = np.asarray(nn.make_causal_mask(fnp.zeros((2, 4))))
    assert causal.shape == (2, 1, 4, 4) and causal.dtype == np.bool_
    np.testing.assert_array_equal(causal[1, 0], np.tril(np.ones((4, 4), bool)))
    pad = np.asarray(nn.make_padding_mask(fnp.asarray([[3, 4, 0], [0, 1, 2]])))
    assert pad.shape == (2, 1, 1, 3)
    np.testing.assert_array_equal(pad[:, 0, 0], [[True, True, False], [False, True, True]])
    att = np.asarray(
        nn.make_attention_mask(fnp.asarray([[True, False]]), fnp.asarray([[True, True, False]]))
    )
    np.testing.assert_array_equal(att[0, 0], [[True, True, False], [False, False, False]])
    combined = np.asarray(
        nn.combine_masks(nn.make_causal_mask(fnp.zeros((1, 3))), None, fnp.asarray(pad[:1]))
    )
    np.testing.assert_array_equal(
        combined[0, 0], np.tril(np.ones((3, 3), bool)) & [True, True, False]
    )
    assert nn.combine_masks(None, None) is None


def _np_mha(params, xq, xkv, mask=None):
    def proj(p, x):
        return np.einsum("bld,dhk->blhk", x, np.asarray(p["kernel"])) + np.asarray(p["bias"])

    out, w = np_attention(
        proj(params["query"], xq), proj(params["key"], xkv), proj(params["value"], xkv), mask
    )
    return np.einsum("blhk,hko->blo", out, np.asarray(params["out"]["kernel"])) + np.asarray(
        params["out"]["bias"]
    ), w


def _randomize(params, rng):
    return fnn.tree_util.tree_map(
        lambda p: fnp.asarray(rng.standard_normal(p.shape).astype(np.asarray(p).dtype) * 0.5),
        params,
    )


def test_multi_head_attention_params_and_values(rng):
    mha = nn.MultiHeadAttention(num_heads=3, qkv_features=12, out_features=5)
    params = mha.init(KEY, (1, 4, 6), kv_shape=(1, 7, 8))
    assert params["query"]["kernel"].shape == (6, 3, 4)
    assert params["key"]["kernel"].shape == (8, 3, 4) and params["value"]["bias"].shape == (3, 4)
    assert params["out"]["kernel"].shape == (3, 4, 5) and params["out"]["bias"].shape == (5,)
    params = _randomize(params, rng)
    xq = rng.standard_normal((2, 4, 6)).astype(np.float32)
    xkv = rng.standard_normal((2, 7, 8)).astype(np.float32)
    mask = np.ones((2, 1, 1, 7), bool)
    mask[1, ..., 5:] = False
    out, w = mha.apply(
        params, fnp.asarray(xq), fnp.asarray(xkv), mask=fnp.asarray(mask), return_weights=True
    )
    ref_out, ref_w = _np_mha(params, xq, xkv, mask)
    assert out.shape == (2, 4, 5) == mha.output_shape((2, 4, 6))
    np.testing.assert_allclose(np.asarray(w), ref_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), ref_out, rtol=1e-4, atol=1e-4)
    assert np.all(np.asarray(w)[1, :, :, 5:] == 0)  # padded keys get exactly zero weight


def test_heads_use_one_contraction():
    mha = nn.MultiHeadAttention(num_heads=8)
    params = mha.init(KEY, (1, 5, 16))
    jaxpr = fnn.make_jaxpr(lambda p, x: mha.apply(p, x))(params, fnp.ones((2, 5, 16)))
    dots = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "dot_general"]
    assert len(dots) == 6  # q, k, v projections, scores, weighted values, output: no per-head loop


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiHeadAttention(num_heads=3).init(KEY, (1, 2, 8))
    mha = nn.MultiHeadAttention(num_heads=2, dropout_rate=0.5)
    params = mha.init(KEY, (1, 2, 4))
    with pytest.raises(ValueError, match="key"):
        mha.apply(params, fnp.ones((1, 2, 4)), train=True)
    with pytest.raises(ValueError, match="cache"):
        mha.apply(params, fnp.ones((1, 2, 4)), decode=True)


def test_attention_dropout_only_in_training():
    mha = nn.MultiHeadAttention(num_heads=2, dropout_rate=0.5)
    params = mha.init(KEY, (1, 6, 4))
    x = fnp.asarray(np.random.default_rng(0).standard_normal((1, 6, 4)).astype(np.float32))
    _, w_eval = mha.apply(params, x, return_weights=True)
    np.testing.assert_allclose(np.asarray(w_eval).sum(-1), 1, rtol=1e-6)
    _, w_train = mha.apply(params, x, key=fnn.random.key(1), train=True, return_weights=True)
    w_train, w_eval = np.asarray(w_train), np.asarray(w_eval)
    assert np.any(w_train == 0)
    kept = w_train != 0
    np.testing.assert_allclose(w_train[kept], 2 * w_eval[kept], rtol=1e-5)


def test_mha_gradients(x64, rng):
    mha = nn.MultiHeadAttention(num_heads=2, qkv_features=4)
    params = _randomize(mha.init(KEY, (1, 3, 5), kv_shape=(1, 4, 3)), rng)
    xq = fnp.asarray(rng.standard_normal((2, 3, 5)))
    xkv = fnp.asarray(rng.standard_normal((2, 4, 3)))
    mask = fnp.asarray(np.array([True, True, True, False]))[None, None, None]
    f = project(lambda p, q, kv: mha.apply(p, q, kv, mask=mask), (2, 3, 5))
    check_grads(f, (params, xq, xkv), argnums=(0, 1, 2))


def test_causal_self_attention_ignores_the_future(rng):
    mha = nn.MultiHeadAttention(num_heads=2)
    params = _randomize(mha.init(KEY, (1, 6, 4)), rng)
    x = rng.standard_normal((1, 6, 4)).astype(np.float32)
    changed = x.copy()
    changed[:, 3:] = rng.standard_normal((1, 3, 4))
    mask = nn.make_causal_mask(fnp.zeros((1, 6)))
    a = np.asarray(mha.apply(params, fnp.asarray(x), mask=mask))
    b = np.asarray(mha.apply(params, fnp.asarray(changed), mask=mask))
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-6)
    assert not np.allclose(a[:, 3:], b[:, 3:])


@pytest.mark.parametrize("step", [1, 2])
def test_kv_cache_equals_causal_attention(step, rng):
    mha = nn.MultiHeadAttention(num_heads=2)
    params = _randomize(mha.init(KEY, (1, 6, 4)), rng)
    x = fnp.asarray(rng.standard_normal((3, 6, 4)).astype(np.float32))
    full = np.asarray(mha.apply(params, x, mask=nn.make_causal_mask(fnp.zeros((3, 6)))))
    cache = mha.init_cache((3, 1, 4), max_length=8)
    assert cache["key"].shape == (3, 8, 2, 2) and int(cache["index"]) == 0
    decode = fnn.jit(lambda p, c, x: mha.apply(p, x, cache=c, decode=True))
    outs = []
    for t in range(0, 6, step):
        y, cache = decode(params, cache, x[:, t : t + step])
        outs.append(np.asarray(y))
    assert int(cache["index"]) == 6
    np.testing.assert_allclose(np.concatenate(outs, axis=1), full, rtol=1e-5, atol=1e-6)


def test_kv_cache_overflow_is_an_error():
    mha = nn.MultiHeadAttention(num_heads=1)
    params = mha.init(KEY, (1, 1, 2))
    cache = mha.init_cache((1, 1, 2), max_length=2)
    for _ in range(2):
        _, cache = mha.apply(params, fnp.ones((1, 1, 2)), cache=cache, decode=True)
    with pytest.raises(ValueError, match="max_length"):
        mha.apply(params, fnp.ones((1, 1, 2)), cache=cache, decode=True)
