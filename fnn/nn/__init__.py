"""fnn.nn: layers as (init, apply) pairs over plain-dict params, with Flax's names.

A layer holds hyperparameters only; ``params = layer.init(key, input_shape)`` and
``y = layer.apply(params, x, *, key=None, train=False)``. See ``fnn.nn.base`` for the
full protocol (shapes, state for BatchNorm, how containers name params).

Example:
    >>> import fnn, fnn.random, fnn.numpy as fnp
    >>> from fnn import nn
    >>> model = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(10)])
    >>> params = model.init(fnn.random.key(0), (1, 784))
    >>> x, labels = fnp.zeros((8, 784)), fnp.zeros(8, dtype=fnp.int32)
    >>> def loss(params):
    ...     logits = model.apply(params, x)
    ...     return fnp.mean(nn.losses.softmax_cross_entropy_with_integer_labels(logits, labels))
    >>> grads = fnn.grad(loss)(params)
    >>> nn.param_count(params)
    25450
"""

from fnn.nn import initializers, losses
from fnn.nn.activations import (
    elu,
    gelu,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    one_hot,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swish,
    tanh,
)
from fnn.nn.attention import (
    MultiHeadAttention,
    combine_masks,
    dot_product_attention,
    dot_product_attention_weights,
    make_attention_mask,
    make_causal_mask,
    make_padding_mask,
)
from fnn.nn.base import Flatten, Lambda, Layer, Module, Sequential
from fnn.nn.conv import Conv, ConvTranspose
from fnn.nn.dropout import Dropout, dropout
from fnn.nn.linear import Dense, Embedding
from fnn.nn.losses import (
    l2_loss,
    mean_squared_error,
    sigmoid_binary_cross_entropy,
    smooth_labels,
    softmax_cross_entropy,
    softmax_cross_entropy_with_integer_labels,
    squared_error,
)
from fnn.nn.normalization import BatchNorm, LayerNorm
from fnn.nn.pooling import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool, avg_pool, max_pool
from fnn.nn.positional import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEncoding,
    sinusoidal_positions,
)
from fnn.nn.summary import param_count, summary
from fnn.nn.transformer import (
    FeedForward,
    Transformer,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
