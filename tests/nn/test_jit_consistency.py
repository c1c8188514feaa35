"""jit(value_and_grad(f)) equals the eager value and gradients for every layer and loss,
and a CNN built from the conv, pooling and normalization layers trains under jit."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
import fnn.random
from fnn import nn
from fnn.tree_util import tree_leaves, tree_map

KEY = fnn.random.key(0)
RNG = np.random.default_rng(0)
X = fnp.asarray(RNG.standard_normal((3, 4, 6)).astype(np.float32))
LABELS = fnp.asarray(RNG.integers(0, 6, size=(3, 4)))


def _cases():
    mha = nn.MultiHeadAttention(2)
    causal = nn.make_causal_mask(fnp.zeros((3, 4)))
    yield (
        "attention",
        lambda p, x: fnp.sum(mha.apply(p, x, mask=causal) ** 2),
        mha.init(KEY, (1, 4, 6)),
        X,
    )
    ln = nn.LayerNorm()
    yield "layer_norm", lambda p, x: fnp.sum(ln.apply(p, x) ** 3), ln.init(KEY, (1, 6)), X
    bn = nn.BatchNorm()
    state = bn.init_state((1, 6))
    yield (
        "batch_norm",
        lambda p, x: fnp.sum(bn.apply(p, x, state=state, train=True)[0] ** 3),
        bn.init(KEY, (1, 6)),
        X,
    )
    yield (
        "cross_entropy",
        lambda s, x: fnp.sum(
            nn.softmax_cross_entropy_with_integer_labels(x * s, LABELS, label_smoothing=0.1)
        ),
        fnp.asarray(2.0),
        X,
    )
    yield (
        "binary_cross_entropy",
        lambda s, x: fnp.sum(nn.sigmoid_binary_cross_entropy(x * s, x > 0)),
        fnp.asarray(2.0),
        X,
    )
    for name in ["gelu", "softplus", "elu", "silu", "log_softmax", "softmax", "log_sigmoid"]:
        fn = getattr(nn, name)
        yield name, lambda s, x, fn=fn: fnp.sum(fn(x * s) * fnp.arange(6.0)), fnp.asarray(1.5), X
    model = nn.Transformer(
        9, 7, d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, mlp_dim=12
    )
    src = fnp.asarray(RNG.integers(0, 9, (2, 5)))
    tgt = fnp.asarray(RNG.integers(1, 7, (2, 4)))

    def transformer_loss(p, key):
        logits = model.apply(p, src, tgt, key=key, train=True)  # with dropout
        return fnp.sum(nn.softmax_cross_entropy_with_integer_labels(logits, tgt))

    yield "transformer", transformer_loss, model.init(KEY, (1, 5), (1, 4)), fnn.random.key(3)


CASES = {name: rest for name, *rest in _cases()}


@pytest.mark.parametrize("name", CASES)
def test_jit_matches_eager(name):
    f, params, x = CASES[name]
    eager = fnn.value_and_grad(f)(params, x)
    jitted = fnn.jit(fnn.value_and_grad(f))(params, x)
    for a, b in zip(tree_leaves(eager), tree_leaves(jitted), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-5)


def test_per_example_gradients_with_vmap():
    model = nn.Sequential([nn.Dense(5), nn.relu, nn.Dense(2)])
    params = model.init(KEY, (1, 3))
    xs = fnp.asarray(RNG.standard_normal((4, 3)).astype(np.float32))
    per_example = fnn.vmap(
        fnn.grad(lambda p, x: fnp.sum(model.apply(p, x[None]))), in_axes=(None, 0)
    )(params, xs)
    assert per_example["dense_0"]["kernel"].shape == (4, 3, 5)
    total = fnn.grad(lambda p: fnp.sum(model.apply(p, xs)))(params)
    np.testing.assert_allclose(
        np.asarray(per_example["dense_0"]["kernel"]).sum(0),
        np.asarray(total["dense_0"]["kernel"]),
        atol=1e-5,
    )


def test_cnn_with_batch_norm_trains_under_jit():
    model = nn.Sequential(
        [
            nn.Conv(4, (3, 3)),
            nn.BatchNorm(momentum=0.9),
            nn.relu,
            nn.MaxPool((2, 2), strides=(2, 2)),
            nn.Flatten(),
            nn.Dense(2),
        ]
    )
    x = fnp.asarray(RNG.standard_normal((16, 6, 6, 1)).astype(np.float32))
    labels = fnp.asarray(
        (np.asarray(x)[:, :3].mean((1, 2, 3)) > np.asarray(x)[:, 3:].mean((1, 2, 3))).astype(
            np.int32
        )
    )
    params, state = model.init(KEY, (1, 6, 6, 1)), model.init_state((1, 6, 6, 1))
    assert list(params) == ["conv_0", "batchnorm_1", "dense_5"] and list(state) == ["batchnorm_1"]

    def loss_fn(params, state):
        logits, state = model.apply(params, x, state=state, train=True)
        return fnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, labels)), state

    @fnn.jit
    def step(params, state):
        (loss, state), grads = fnn.value_and_grad(loss_fn, has_aux=True)(params, state)
        return tree_map(lambda p, g: p - 0.2 * g, params, grads), state, loss

    losses = []
    for _ in range(40):
        params, state, loss = step(params, state)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    assert not np.allclose(np.asarray(state["batchnorm_1"]["mean"]), 0)
    logits, _ = model.apply(params, x, state=state, train=False)
    assert logits.shape == (16, 2)
