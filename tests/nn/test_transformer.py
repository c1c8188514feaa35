"""Transformer blocks against a numpy composition, causality, gradients, KV-cache decoding."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from fnn.tree_util import tree_map
from tests.nn.gradcheck import check_grads, project
from tests.nn.test_attention import _np_mha

KEY = fnn.random.key(0)


def _randomize(params, rng, scale=0.3):
    return tree_map(
        lambda p: fnp.asarray(rng.standard_normal(p.shape).astype(np.asarray(p).dtype) * scale),
        params,
    )


def np_layer_norm(p, x, eps=1e-6):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * np.asarray(p["scale"]) + np.asarray(p["bias"])


def np_mlp(p, x):
    h = np.maximum(x @ np.asarray(p["hidden"]["kernel"]) + np.asarray(p["hidden"]["bias"]), 0)
    return h @ np.asarray(p["output"]["kernel"]) + np.asarray(p["output"]["bias"])


def np_sublayer(pre_norm, norm_params, x, fn):
    if pre_norm:
        return x + fn(np_layer_norm(norm_params, x))
    return np_layer_norm(norm_params, x + fn(x))


@pytest.mark.parametrize("pre_norm", [False, True])
def test_encoder_block_matches_numpy(pre_norm, rng):
    block = nn.TransformerEncoderBlock(num_heads=2, mlp_dim=12, pre_norm=pre_norm)
    params = _randomize(block.init(KEY, (1, 5, 8)), rng)
    x = rng.standard_normal((2, 5, 8)).astype(np.float32)
    mask = np.ones((2, 1, 1, 5), bool)
    mask[0, ..., 3:] = False
    got = block.apply(params, fnp.asarray(x), fnp.asarray(mask))  # train=False: no dropout
    y = np_sublayer(
        pre_norm, params["attention_norm"], x, lambda h: _np_mha(params["attention"], h, h, mask)[0]
    )
    y = np_sublayer(pre_norm, params["mlp_norm"], y, lambda h: np_mlp(params["mlp"], h))
    np.testing.assert_allclose(np.asarray(got), y, rtol=1e-4, atol=1e-4)
    assert block.output_shape((2, 5, 8)) == (2, 5, 8)


@pytest.mark.parametrize("pre_norm", [False, True])
def test_decoder_block_matches_numpy(pre_norm, rng):
    block = nn.TransformerDecoderBlock(num_heads=2, mlp_dim=12, pre_norm=pre_norm)
    params = _randomize(block.init(KEY, (1, 4, 8), memory_shape=(1, 6, 8)), rng)
    assert set(params) == {
        "self_attention", "self_attention_norm", "cross_attention", "cross_attention_norm", "mlp", "mlp_norm",
    }  # fmt: skip
    x = rng.standard_normal((2, 4, 8)).astype(np.float32)
    memory = rng.standard_normal((2, 6, 8)).astype(np.float32)
    causal = np.tril(np.ones((4, 4), bool))[None, None]
    cross = np.ones((2, 1, 1, 6), bool)
    cross[1, ..., 4:] = False
    got = block.apply(
        params, fnp.asarray(x), fnp.asarray(memory), fnp.asarray(causal), fnp.asarray(cross)
    )
    y = np_sublayer(
        pre_norm,
        params["self_attention_norm"],
        x,
        lambda h: _np_mha(params["self_attention"], h, h, causal)[0],
    )
    y = np_sublayer(
        pre_norm,
        params["cross_attention_norm"],
        y,
        lambda h: _np_mha(params["cross_attention"], h, memory, cross)[0],
    )
    y = np_sublayer(pre_norm, params["mlp_norm"], y, lambda h: np_mlp(params["mlp"], h))
    np.testing.assert_allclose(np.asarray(got), y, rtol=1e-4, atol=1e-4)


def test_block_gradients(x64, rng):
    enc = nn.TransformerEncoderBlock(num_heads=2, mlp_dim=6, pre_norm=True)
    params = _randomize(enc.init(KEY, (1, 3, 4)), rng)
    x = fnp.asarray(rng.standard_normal((2, 3, 4)))
    check_grads(project(enc.apply, (2, 3, 4)), (params, x), argnums=(0, 1), directions=2)

    dec = nn.TransformerDecoderBlock(num_heads=2, mlp_dim=6)
    params = _randomize(dec.init(KEY, (1, 3, 4), memory_shape=(1, 2, 4)), rng)
    memory = fnp.asarray(rng.standard_normal((2, 2, 4)))
    causal = nn.make_causal_mask(fnp.zeros((2, 3)))
    f = project(lambda p, x, m: dec.apply(p, x, m, causal), (2, 3, 4))
    check_grads(f, (params, x, memory), argnums=(0, 1, 2), directions=2)


def test_dropout_in_blocks_needs_key_and_is_off_in_eval(rng):
    block = nn.TransformerEncoderBlock(num_heads=2, mlp_dim=8, dropout_rate=0.5)
    params = block.init(KEY, (1, 3, 4))
    x = fnp.asarray(rng.standard_normal((2, 3, 4)).astype(np.float32))
    with pytest.raises(ValueError, match="key"):
        block.apply(params, x, train=True)
    a = block.apply(params, x, key=fnn.random.key(1), train=True)
    b = block.apply(params, x, key=fnn.random.key(2), train=True)
    assert not np.allclose(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(
        np.asarray(block.apply(params, x)), np.asarray(block.apply(params, x))
    )


def test_causal_decoder_block_ignores_later_tokens(rng):
    """Decoder-only use: a block without cross-attention and a causal mask."""
    block = nn.TransformerDecoderBlock(num_heads=2, mlp_dim=8)
    params = _randomize(block.init(KEY, (1, 6, 4)), rng)
    assert "cross_attention" not in params
    x = rng.standard_normal((1, 6, 4)).astype(np.float32)
    changed = x.copy()
    changed[:, 4:] += 1.0
    mask = nn.make_causal_mask(fnp.zeros((1, 6)))
    a = np.asarray(block.apply(params, fnp.asarray(x), self_mask=mask))
    b = np.asarray(block.apply(params, fnp.asarray(changed), self_mask=mask))
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])
    with pytest.raises(ValueError, match="memory"):
        block.apply(params, fnp.asarray(x), fnp.asarray(x))


def test_decoder_block_cache_equals_full_causal(rng):
    block = nn.TransformerDecoderBlock(num_heads=2, mlp_dim=8, pre_norm=True)
    params = _randomize(block.init(KEY, (1, 5, 4), memory_shape=(1, 3, 4)), rng)
    x = fnp.asarray(rng.standard_normal((2, 5, 4)).astype(np.float32))
    memory = fnp.asarray(rng.standard_normal((2, 3, 4)).astype(np.float32))
    full = np.asarray(block.apply(params, x, memory, nn.make_causal_mask(fnp.zeros((2, 5)))))
    cache = block.init_cache((2, 1, 4), max_length=5)
    steps = []
    for t in range(5):
        y, cache = block.apply(params, x[:, t : t + 1], memory, cache=cache, decode=True)
        steps.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(steps, 1), full, rtol=1e-5, atol=1e-5)


def _small_model(**kw):
    cfg = dict(
        d_model=16,
        num_heads=2,
        num_encoder_layers=2,
        num_decoder_layers=2,
        mlp_dim=24,
        max_length=12,
    )
    return nn.Transformer(src_vocab_size=9, tgt_vocab_size=7, **{**cfg, **kw})


def test_transformer_params_and_shapes():
    model = _small_model(positional="learned", pre_norm=True)
    params = model.init(KEY, (1, 6), (1, 5))
    assert set(params) == {
        "src_embedding", "tgt_embedding", "src_positions", "tgt_positions", "encoder", "decoder",
        "encoder_norm", "decoder_norm", "logits",
    }  # fmt: skip
    assert list(params["encoder"]) == ["block_0", "block_1"]
    assert params["logits"]["kernel"].shape == (16, 7)
    src = fnp.asarray(np.random.default_rng(0).integers(1, 9, size=(3, 6)))
    tgt = fnp.asarray(np.random.default_rng(1).integers(1, 7, size=(3, 5)))
    assert model.apply(params, src, tgt).shape == (3, 5, 7) == model.output_shape((3, 6), (3, 5))
    with pytest.raises(ValueError, match="positional"):
        _small_model(positional="rotary")


def test_transformer_padding_is_ignored(rng):
    model = _small_model()
    params = model.init(KEY, (1, 6), (1, 4))
    src = rng.integers(1, 9, size=(2, 6))
    src[:, 4:] = 0  # padding
    tgt = fnp.asarray(rng.integers(1, 7, size=(2, 4)))
    a = np.asarray(model.apply(params, fnp.asarray(src), tgt))
    # Padding (id 0) never reaches a non-padded position: the same prefix with a longer
    # pad gives the same logits.
    longer = np.concatenate([src, np.zeros((2, 3), src.dtype)], axis=1)
    b = np.asarray(model.apply(params, fnp.asarray(longer), tgt))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("positional, pre_norm", [("sinusoidal", False), ("learned", True)])
def test_transformer_cached_decoding_equals_full_decoding(positional, pre_norm, rng):
    model = _small_model(positional=positional, pre_norm=pre_norm)
    params = _randomize(model.init(KEY, (1, 6), (1, 7)), rng, scale=0.2)
    src = fnp.asarray(rng.integers(1, 9, size=(2, 6)))
    tgt = fnp.asarray(rng.integers(1, 7, size=(2, 7)))
    memory = model.encode(params, src)
    full = np.asarray(model.decode(params, tgt, memory, src))
    step = fnn.jit(lambda p, m, s, c, t: model.decode(p, t, m, s, cache=c, decode=True))
    cache = model.init_cache(batch_size=2, max_length=8)
    outs = []
    for t in range(7):
        logits, cache = step(params, memory, src, cache, tgt[:, t : t + 1])
        outs.append(np.asarray(logits))
    assert int(cache["index"]) == 7
    np.testing.assert_allclose(np.concatenate(outs, 1), full, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="decode=True"):
        model.decode(params, tgt, memory, src, cache=cache)


def test_greedy_decode_matches_recomputing_the_prefix(rng):
    model = _small_model()
    params = _randomize(model.init(KEY, (1, 5), (1, 4)), rng, scale=0.3)
    src = fnp.asarray(rng.integers(1, 9, size=(2, 5)))
    got = np.asarray(model.greedy_decode(params, src, bos_id=1, length=4))
    memory = model.encode(params, src)
    tokens = np.ones((2, 1), np.int32)
    for _ in range(4):
        logits = model.decode(params, fnp.asarray(tokens), memory, src)
        tokens = np.concatenate([tokens, np.argmax(np.asarray(logits)[:, -1], -1)[:, None]], 1)
    np.testing.assert_array_equal(got, tokens[:, 1:])
    # A second call (new params, same shapes) reuses the compiled step: no new trace.
    from fnn.nn.transformer import _greedy_step

    traces = _greedy_step(model).trace_count
    again = model.greedy_decode(_randomize(params, rng, scale=0.3), src, bos_id=1, length=4)
    assert np.asarray(again).shape == (2, 4) and _greedy_step(model).trace_count == traces


def test_transformer_learns_to_copy():
    """A jitted training step on a copy task: the loss falls."""
    model = _small_model(
        num_encoder_layers=1, num_decoder_layers=1, dropout_rate=0.0, pre_norm=True
    )
    r = np.random.default_rng(0)
    src = r.integers(2, 7, size=(32, 5))
    tgt_in = np.concatenate([np.ones((32, 1), int), src[:, :-1]], 1)  # BOS = 1
    src, tgt_in, tgt_out = fnp.asarray(src), fnp.asarray(tgt_in), fnp.asarray(src)
    params = model.init(KEY, (1, 5), (1, 5))

    def loss_fn(params):
        logits = model.apply(params, src, tgt_in, train=True)
        return fnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, tgt_out))

    @fnn.jit
    def step(params):
        loss, grads = fnn.value_and_grad(loss_fn)(params)
        return tree_map(lambda p, g: p - 0.1 * g, params, grads), loss

    losses = []
    for _ in range(60):
        params, loss = step(params)
        losses.append(float(loss))
    assert losses[-1] < 0.6 * losses[0]
