"""The GAN example's networks, latent codes and the pieces of its variants.

``gan_mnist.py`` builds its generator and discriminator here, draws its latent vectors
here and samples its averaged generator here; its training step (the losses and the
two updates) and the loop stay in the script. The variants that are off by default
(spectral normalisation, PacGAN's packing, the R1 penalty, a mixture prior, minibatch
standard deviation) live here too, and the flags (:func:`add_gan_flags`); what each
variant did is recorded in docs/experiments/gan_mnist.md.

Example:
    >>> gen, disc = make_generator(8), make_discriminator(8)
    >>> z = make_latent_sampler(100)(fnn.random.key(0), 5)
    >>> images = gen.apply(gen.init(fnn.random.key(1), z.shape), z,
    ...                    state=gen.init_state(z.shape), train=True)[0]
    >>> discriminate(disc, disc.init(fnn.random.key(2), images.shape), images).shape
    (5, 1)
"""

from __future__ import annotations

import argparse

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn import nn

# -- the two networks --------------------------------------------------------------------


def make_generator(
    width: int = 64,
    batch_norm: bool = True,
    bn_momentum: float = 0.9,
    mlp: tuple[int, ...] = (),
    refine: int = 0,
) -> nn.Sequential:
    """Latent vectors ``(N, latent_dim)`` -> images ``(N, 28, 28, 1)`` in [-1, 1].

    ``mlp`` puts Dense-BatchNorm-ReLU layers of those widths on z before the 7x7
    projection (a "mapping" network, as in StyleGAN). ``refine > 0`` upsamples to
    ``refine`` channels at 28x28 (then batch norm and ReLU) and draws the image with a
    3x3 convolution, instead of a transposed convolution straight to one channel.

    ``bn_momentum=0`` makes the batch-norm state the last batch's statistics (used to
    recalibrate them for sampling); params are named the same for every momentum.

    Example:
        >>> gen = make_generator(8)
        >>> gen.output_shape((5, 100))
        (5, 28, 28, 1)
    """
    c = 2 * width

    def to_7x7(x):
        return fnp.reshape(x, (x.shape[0], 7, 7, c))

    def norm():
        return [nn.BatchNorm(momentum=bn_momentum)] if batch_norm else []

    head = [layer for h in mlp for layer in (nn.Dense(h), *norm(), nn.relu)]
    return nn.Sequential(
        [
            *head,
            nn.Dense(7 * 7 * c),
            *norm(),
            nn.relu,
            nn.Lambda(to_7x7, name="reshape"),
            nn.ConvTranspose(width, (4, 4), strides=2),
            *norm(),
            nn.relu,
            *(
                [nn.ConvTranspose(refine, (4, 4), strides=2), *norm(), nn.relu, nn.Conv(1, (3, 3))]
                if refine
                else [nn.ConvTranspose(1, (4, 4), strides=2)]
            ),
            nn.tanh,
        ]
    )


def leaky_relu_02(x):
    """Leaky ReLU with DCGAN's slope 0.2, as ``x * slope(x)``.

    Same values and derivative as ``nn.leaky_relu(x, 0.2)``, but cheaper to
    differentiate: the slope is piecewise constant, so the backward pass is one
    multiply, where the ``where(x >= 0, x, 0.2 * x)`` form transposes into two selects,
    a multiply and an add.
    """
    return x * fnp.where(x >= 0, 1.0, 0.2)


def minibatch_stddev(x):
    """``x`` (N, H, W, C) with one more channel: the batch's mean standard deviation.

    Karras et al. (2018, ProGAN): the discriminator sees how varied the batch is, so a
    generator that puts out few kinds of digits is told apart from the data.
    """
    spread = fnp.mean(fnp.sqrt(fnp.var(x, axis=0) + 1e-8))
    return fnp.concatenate([x, fnp.broadcast_to(spread, (*x.shape[:-1], 1))], axis=-1)


def make_discriminator(
    width: int = 64,
    batch_norm: bool = False,
    mbstd: bool = False,
    hidden: int = 0,
    info_codes: int = 0,
) -> nn.Sequential:
    """Images ``(N, 28, 28, 1)`` in [-1, 1] -> logits ``(N, 1 + info_codes)``.

    Column 0 is the logit of "real"; with ``info_codes = K > 0`` the other K columns are
    InfoGAN's recognition head Q (Chen et al. 2016): logits over the categorical latent
    code that generated an image, sharing every layer but the last with the
    discriminator. With C continuous codes as well pass ``info_codes = K + C``: Q's
    guesses of them follow the K logits. With PacGAN's packs of m images
    (``make_train_step(pack=m)``) pass ``m * (K + C)``: one such group per packed image.

    Batch norm after the second convolution only (DCGAN: not on the input layer);
    ``mbstd`` appends :func:`minibatch_stddev` before the last layer; ``hidden > 0``
    puts a Dense layer of that many units with leaky ReLU before the logit (InfoGAN's
    MNIST discriminator has 1024). Apply it with :func:`discriminate`.

    Example:
        >>> make_discriminator(8).output_shape((5, 28, 28, 1))
        (5, 1)
    """
    norm = [nn.BatchNorm()] if batch_norm else []
    return nn.Sequential(
        [
            nn.Conv(width, (4, 4), strides=2),
            leaky_relu_02,
            nn.Conv(2 * width, (4, 4), strides=2),
            *norm,
            leaky_relu_02,
            *([nn.Lambda(minibatch_stddev, name="mbstd")] if mbstd else []),
            nn.Flatten(),
            *([nn.Dense(hidden), leaky_relu_02] if hidden else []),
            nn.Dense(1 + info_codes),
        ]
    )


def discriminate(disc: nn.Sequential, params, images):
    """The discriminator's logits, batch norm (if any) on this batch's statistics.

    The discriminator only ever runs in training mode, so its running statistics would
    never be read: they are not kept. Real and generated images go in as separate
    batches, so that each is normalised with its own statistics (as in DCGAN).
    """
    if disc.stateful:
        logits, _ = disc.apply(params, images, state=disc.init_state(images.shape), train=True)
        return logits
    return disc.apply(params, images)


def pack_images(images, pack: int):
    """``(N, H, W, 1)`` images -> ``(N / pack, H, W, pack)``: each run of ``pack``
    consecutive images stacked as channels (PacGAN's packing; ``pack = 1`` is a no-op).

    Example:
        >>> pack_images(fnp.zeros((6, 28, 28, 1)), 2).shape
        (3, 28, 28, 2)
    """
    if pack == 1:
        return images
    n, h, w, _ = images.shape
    if n % pack:
        raise ValueError(f"pack_images: batch of {n} images does not divide into packs of {pack}")
    return fnp.transpose(fnp.reshape(images, (n // pack, pack, h, w)), (0, 2, 3, 1))


def make_d_apply(disc: nn.Sequential, spectral_norm: bool = False, pack: int = 1):
    """``d_apply(params, us, images) -> (logits, us)``: :func:`discriminate` on
    ``images`` packed ``pack`` at a time (:func:`pack_images`), the weights first
    divided by their spectral norms if ``spectral_norm`` (``us``: the power-iteration
    vectors, see :func:`spectral_normalize`; ignored otherwise)."""

    def d_apply(params, us, images):
        if spectral_norm:
            params, us = spectral_normalize(params, us)
        return discriminate(disc, params, pack_images(images, pack)), us

    return d_apply


def r1_penalty(d_apply, params, us, images):
    """Mescheder et al. (2018): the mean squared gradient of D's "real" logit at
    ``images`` (``d_apply`` from :func:`make_d_apply`)."""

    def total_logit(x):
        return fnp.sum(d_apply(params, us, x)[0][:, 0])

    g = fnn.grad(total_logit)(images)
    return fnp.mean(fnp.sum(g * g, axis=(1, 2, 3)))


def adversarial_losses(loss: str = "ns"):
    """``(d_loss(real_logits, fake_logits), g_loss(fake_logits))``, both to minimise.

    ``"ns"``: the discriminator's binary cross-entropy (real -> 1, fake -> 0) and the
    generator's non-saturating ``-log D(G(z))``; ``"hinge"``: the hinge loss (Lim & Ye
    2017).
    """
    bce = nn.sigmoid_binary_cross_entropy

    def d_loss(real_logits, fake_logits):
        if loss == "hinge":
            return fnp.mean(nn.relu(1.0 - real_logits)) + fnp.mean(nn.relu(1.0 + fake_logits))
        return fnp.mean(bce(real_logits, 1.0)) + fnp.mean(bce(fake_logits, 0.0))

    def g_loss(fake_logits):
        if loss == "hinge":
            return -fnp.mean(fake_logits)
        return fnp.mean(bce(fake_logits, 1.0))

    return d_loss, g_loss


# -- latent vectors ----------------------------------------------------------------------


def make_latent_sampler(
    latent_dim: int,
    modes: int = 0,
    spread: float = 1.0,
    key=None,
    codes: int = 0,
    continuous: int = 0,
):
    """``draw(key, n) -> (n, latent_dim + continuous + codes)`` latent vectors.

    With ``codes = K > 0`` the last K entries are a one-hot categorical code drawn
    uniformly (InfoGAN's c; see ``make_train_step``), and with ``continuous = C > 0``
    the C entries before them are continuous codes drawn uniformly from [-1, 1]
    (InfoGAN's c2, c3: slant and width on MNIST). The first ``latent_dim`` are
    N(0, I), or with ``modes > 0``
    a mixture of that many unit Gaussians with equal weights and fixed random centres
    ``spread * N(0, I)`` (drawn from ``key``), in the manner of DeLiGAN (Gurumurthy et
    al. 2017): the generator can give each mode a digit, with low-density gaps between
    them where a single Gaussian makes in-between shapes.

    Example:
        >>> draw = make_latent_sampler(4, modes=3, key=fnn.random.key(0))
        >>> draw(fnn.random.key(1), 5).shape
        (5, 4)
    """
    centres = spread * fnn.random.normal(key, (modes, latent_dim)) if modes > 0 else None

    def draw(k, n):
        if codes:
            k, k_code = fnn.random.split(k)
        if continuous:
            k, k_cont = fnn.random.split(k)
        if centres is None:
            z = fnn.random.normal(k, (n, latent_dim))
        else:
            k_mode, k_noise = fnn.random.split(k)
            which = fnn.random.randint(k_mode, (n,), 0, modes)
            z = centres[which] + fnn.random.normal(k_noise, (n, latent_dim))
        if continuous:
            cont = fnn.random.uniform(k_cont, (n, continuous), minval=-1.0, maxval=1.0)
            z = fnp.concatenate([z, cont.astype(z.dtype)], axis=1)
        if codes:
            code = fnn.random.randint(k_code, (n,), 0, codes)
            z = fnp.concatenate([z, nn.one_hot(code, codes, dtype=z.dtype)], axis=1)
        return z

    return draw


def balanced_codes(z, codes: int):
    """``z`` with its one-hot code columns set to ``i % codes`` for row i.

    The evaluation latents give each code the same share, so coverage measures what the
    generator makes of each code, not the luck of the draw; in the 10 x 10 sample grid a
    column holds one code when ``codes`` divides 10.
    """
    z = np.array(z)
    if codes:
        z[:, -codes:] = np.eye(codes, dtype=z.dtype)[np.arange(len(z)) % codes]
    return z


# -- the averaged generator and its samples -------------------------------------------------


def ema_decay(step, max_decay: float):
    """The averaging rate at ``step``: ``min(max_decay, (1 + step) / (10 + step))``.

    The warm-up (TensorFlow's ExponentialMovingAverage with num_updates) keeps the early
    average from being dominated by the random initialisation.
    """
    return fnp.minimum(max_decay, (1.0 + step) / (10.0 + step))


def make_sampler(width: int, batch_norm: bool, **arch):
    """Jitted ``sample(params, z) -> (images in [0, 1], bn_state)``.

    Batch norm uses the statistics of this very batch of latent vectors (its running
    averages were measured on the live generator, not on the averaged params sampled
    here): with the fixed 1,000 evaluation vectors in one batch, the samples are a
    deterministic function of the params. The returned state holds those statistics,
    so that ``gen.apply(params, z, state=bn_state)`` reproduces the samples.
    """
    gen = make_generator(width, batch_norm, bn_momentum=0.0, **arch)

    @fnn.jit
    def sample(params, z):
        state = gen.init_state(z.shape)
        images, state = gen.apply(params, z, state=state, train=True)
        return (images + 1.0) * 0.5, state

    return sample


# -- spectral normalisation ----------------------------------------------------------------


def spectral_norm_init(params, key) -> dict:
    """One random unit vector per weight matrix ("kernel" leaves): power-iteration state."""
    us = {}
    for name, leaf in params.items():
        if isinstance(leaf, dict):
            key, sub = fnn.random.split(key)
            inner = spectral_norm_init(leaf, sub)
            if inner:
                us[name] = inner
        elif name == "kernel":
            u = np.asarray(fnn.random.normal(key, (leaf.shape[-1],)))
            us[name] = fnp.asarray(u / np.linalg.norm(u))
    return us


def spectral_normalize(params, us):
    """``params`` with every weight matrix divided by its largest singular value.

    Miyato et al. (2018): one power iteration per step, its vectors carried from step
    to step (``us``) and held constant in the gradient. Returns (params, new us).
    """
    out, new_us = dict(params), {}
    for name, u in us.items():
        if isinstance(u, dict):
            out[name], new_us[name] = spectral_normalize(params[name], u)
            continue
        w = params[name]
        mat = fnp.reshape(w, (-1, w.shape[-1]))
        u = fnn.lax.stop_gradient(u)
        v = fnn.lax.stop_gradient(mat) @ u
        v = v / (fnp.linalg.norm(v) + 1e-12)
        u = fnn.lax.stop_gradient(mat).T @ v
        u = u / (fnp.linalg.norm(u) + 1e-12)
        sigma = v @ (mat @ u)
        out[name] = w / sigma
        new_us[name] = u
    return out, new_us


# -- the flags ----------------------------------------------------------------------------


def add_gan_flags(parser: argparse.ArgumentParser) -> None:
    """The GAN's own flags, besides those of ``example_args``: the model and the judge,
    then the variants the defaults were chosen among (each measured against the
    defaults; what it did: docs/experiments/gan_mnist.md)."""
    g = parser.add_argument_group("model and judge")
    g.add_argument("--latent-dim", type=int, default=100, help="size of z")
    g.add_argument(
        "--g-width", type=int, default=32, help="generator channels at 14x14 (2x at 7x7)"
    )
    g.add_argument(
        "--g-mlp",
        type=lambda s: tuple(int(h) for h in s.split(",") if h),
        default=(1024,),
        help="hidden Dense layers on z, comma-separated (empty: plain DCGAN)",
    )
    g.add_argument(
        "--d-width", type=int, default=32, help="discriminator channels at 14x14 (2x at 7x7)"
    )
    g.add_argument(
        "--d-hidden",
        type=int,
        default=128,
        help="Dense units before the discriminator's logit and Q (0: none)",
    )
    g.add_argument(
        "--info-codes",
        type=int,
        default=20,
        help="InfoGAN: size of a categorical latent code that Q must recognise (0: off)",
    )
    g.add_argument(
        "--info-continuous",
        type=int,
        default=2,
        help="InfoGAN: continuous codes, uniform in [-1, 1] (needs --info-codes > 0)",
    )
    g.add_argument(
        "--ema",
        type=float,
        default=0.999,
        help="decay of the generator's params average that is sampled (0: sample the live params)",
    )
    g.add_argument(
        "--judge-epochs", type=int, default=2, help="epochs of the judge ConvNet on real MNIST"
    )
    g.add_argument(
        "--judge",
        default=None,
        help="judge params (.npz): loaded if the file exists, else trained and saved there",
    )
    g.add_argument(
        "--judge-process",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="train the judge in a second process, alongside the GAN (run with "
        "OPENBLAS_NUM_THREADS=1 then: the two would oversubscribe the cores)",
    )

    g = parser.add_argument_group("variants (see docs/experiments/gan_mnist.md)")
    g.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="batch norm in the generator",
    )
    g.add_argument(
        "--d-batch-norm",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="batch norm in the discriminator (after its second convolution)",
    )
    g.add_argument(
        "--latent-modes",
        type=int,
        default=0,
        help="latent prior: a mixture of this many Gaussians (0: one standard Gaussian)",
    )
    g.add_argument(
        "--latent-spread", type=float, default=1.0, help="scale of the mixture's centres"
    )
    g.add_argument(
        "--info-weight", type=float, default=1.0, help="InfoGAN: weight of Q's cross-entropy"
    )
    g.add_argument(
        "--info-continuous-weight",
        type=float,
        default=0.1,
        help="InfoGAN: weight of Q's squared error on the continuous codes",
    )
    g.add_argument(
        "--pack",
        type=int,
        default=1,
        help="PacGAN: images the discriminator judges at once (1: one at a time)",
    )
    g.add_argument(
        "--r1", type=float, default=0.0, help="R1 gradient penalty weight gamma (0: off)"
    )
    g.add_argument(
        "--g-refine",
        type=int,
        default=0,
        help="channels of a last 28x28 layer before a 3x3 convolution to the image (0: none)",
    )
    g.add_argument(
        "--mbstd",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="minibatch standard deviation channel in the discriminator (ProGAN)",
    )
    g.add_argument("--b1", type=float, default=0.5, help="Adam's b1 for both networks")
    g.add_argument("--b2", type=float, default=0.999, help="Adam's b2 for both networks")
    g.add_argument(
        "--d-lr", type=float, default=None, help="discriminator lr (default: --lr; TTUR)"
    )
    g.add_argument("--loss", choices=("ns", "hinge"), default="ns", help="non-saturating or hinge")
    g.add_argument(
        "--spectral-norm",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="spectral normalisation of the discriminator's weights",
    )
