"""Judging generated MNIST digits with a ConvNet classifier (the "judge").

A small ConvNet (``cnn_classify.make_convnet("small", 10, batch_norm=False)``) is trained on real MNIST
for a short time; it then labels generated digits. Three numbers come out:

- **quality**: the fraction of samples whose top class has probability >= 0.9;
- **coverage**: the fraction of samples given to each digit 0-9 (ideally 10 % each);
- **Fréchet distance** between the Gaussians fitted to the judge's penultimate-layer
  features (the 128 ReLU units before the last Dense layer) of real test images and
  of samples: ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``, the FID recipe with
  this judge in place of Inception.

Images are NHWC floats in [0, 1], as ``load_image_dataset`` returns them.

Example:
    >>> (x, y), (xt, yt) = load_image_dataset("mnist", quick=True)  # doctest: +SKIP
    >>> judge = train_judge(x, y, key=fnn.random.key(0))  # doctest: +SKIP
    >>> real = feature_stats(judge.features_and_probs(xt)[0])  # doctest: +SKIP
    >>> judge_samples(judge, xt, real)["quality"]  # doctest: +SKIP
    0.93
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for cnn_classify, _shared

from _gan_plots import save_grid  # noqa: E402
from cnn_classify import make_convnet  # noqa: E402

import fnn  # noqa: E402
import fnn.numpy as fnp  # noqa: E402
from fnn import nn, optim  # noqa: E402
from fnn.data import batches  # noqa: E402
from fnn.train import History, load, save  # noqa: E402

NUM_CLASSES = 10
CONFIDENCE = 0.9  # a sample counts towards quality if its top probability reaches this
COVERAGE_RANGE = (0.05, 0.15)  # every digit's share of the samples should fall in here
EVAL_BATCH = 500


@dataclass(frozen=True)
class Judge:
    """A trained MNIST classifier split into a feature extractor and its last layer.

    Example:
        >>> judge = Judge.untrained(fnn.random.key(0))
        >>> feats, probs = judge.features_and_probs(np.zeros((3, 28, 28, 1), np.float32))
        >>> feats.shape, probs.shape
        ((3, 128), (3, 10))
    """

    model: nn.Sequential
    params: dict

    @classmethod
    def untrained(cls, key: Any) -> Judge:
        model = make_convnet("small", NUM_CLASSES, batch_norm=False)
        return cls(model, model.init(key, (1, 28, 28, 1)))

    def features_and_probs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate-layer features (float64) and class probabilities of ``images``."""
        forward = _forward_fn(self.model)
        feats, probs = [], []
        for (xb,) in batches((np.asarray(images, np.float32),), EVAL_BATCH, shuffle=False):
            f, p = forward(self.params, xb)
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(p, np.float64))
        return np.concatenate(feats), np.concatenate(probs)

    def save(self, path: str | os.PathLike) -> None:
        save(path, self.params)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Judge:
        model = make_convnet("small", NUM_CLASSES, batch_norm=False)
        params = fnn.tree_util.tree_map(fnp.asarray, load(path))
        return cls(model, params)


@functools.cache
def _forward_fn(model: nn.Sequential):
    """The jitted (features, softmax) function of ``model``, built once per model."""
    # Sequential names params by layer index, so the first n-1 layers applied to the
    # same params dict are the feature extractor.
    body = nn.Sequential(model.layers[:-1])
    head, head_name = model.layers[-1], model.names[-1]

    @fnn.jit
    def forward(params, x):
        feats = body.apply(params, x)
        return feats, nn.softmax(head.apply(params[head_name], feats))

    return forward


def train_judge(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    key: Any,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
) -> Judge:
    """Train the judge ConvNet on real images in [0, 1] (Adam, cosine decay).

    Its accuracy after one or two epochs on MNIST: docs/experiments/gan_mnist.md.

    Example:
        >>> judge = train_judge(np.zeros((8, 28, 28, 1), np.float32),
        ...                     np.zeros(8, np.int32), key=fnn.random.key(0), batch_size=4)
        >>> judge.features_and_probs(np.zeros((2, 28, 28, 1), np.float32))[1].shape
        (2, 10)
    """
    init_key, data_key = fnn.random.split(key)
    judge = Judge.untrained(init_key)
    model = judge.model
    batch_size = min(batch_size, len(images))
    steps = len(images) // batch_size
    opt = optim.adam(optim.cosine_decay_schedule(lr, max(1, steps * epochs)))

    def loss_fn(params, x, y):
        logits = model.apply(params, x)
        return fnp.mean(nn.losses.softmax_cross_entropy_with_integer_labels(logits, y))

    @fnn.jit
    def train_step(params, opt_state, x, y):
        grads = fnn.grad(loss_fn)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state

    params, opt_state = judge.params, opt.init(judge.params)
    for epoch in range(epochs):
        data = batches(
            (images, labels), batch_size, key=fnn.random.fold_in(data_key, epoch), drop_last=True
        )
        for xb, yb in data:
            params, opt_state = train_step(params, opt_state, xb, yb)
    return Judge(model, params)


def judge_key(seed: int) -> Any:
    """The judge's PRNG key: its own stream of ``seed``, the same in any process."""
    return fnn.random.fold_in(fnn.random.key(seed), 0x4A554447)  # "JUDG"


def _judge_job(data_dir, quick: bool, seed: int, epochs: int, lr: float) -> dict:
    """Load MNIST and train the judge; params as numpy arrays (picklable), and timings."""
    from _shared import load_image_dataset, timer

    with timer() as t:
        (x, y), _ = load_image_dataset("mnist", data_dir, quick)
        judge = train_judge(x, y, key=judge_key(seed), epochs=epochs, lr=lr)
    params = fnn.tree_util.tree_map(np.asarray, judge.params)
    return {"params": params, "seconds": t.seconds, "cpu_seconds": t.cpu_seconds}


class JudgeSource:
    """The judge: loaded from ``path`` if that file exists, else trained (and saved there).

    With ``background=True`` the training runs in a second process from the start, so
    that it shares the machine's second core with the GAN's training instead of
    delaying it; :meth:`get` waits for it. ``info`` tells how the judge was obtained
    (``trained``, and the training's ``seconds`` and ``cpu_seconds``).

    Example:
        >>> source = JudgeSource(data_dir=None, quick=True, seed=0)  # doctest: +SKIP
        >>> judge = source.get()  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        data_dir: Any,
        quick: bool,
        seed: int,
        epochs: int = 2,
        lr: float = 2e-3,
        path: str | os.PathLike | None = None,
        background: bool = False,
    ):
        self._job = (data_dir, quick, seed, epochs, lr)
        self._path = path
        self._judge: Judge | None = None
        self._future = self._pool = None
        self.info: dict[str, Any] = {"trained": False, "seconds": 0.0, "cpu_seconds": 0.0}
        if path and Path(path).exists():
            self._judge = Judge.load(path)
        elif background:
            # spawn, not fork: a forked child would inherit BLAS threads and locks.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(1, mp_context=ctx)
            self._future = self._pool.submit(_judge_job, *self._job)

    def get(self) -> Judge:
        """The trained judge (waits for the background training, or trains now)."""
        if self._judge is None:
            if self._future is not None:
                result = self._future.result()
                self._pool.shutdown()
                self.info["background"] = True
            else:
                result = _judge_job(*self._job)
            params = fnn.tree_util.tree_map(fnp.asarray, result["params"])
            model = make_convnet("small", NUM_CLASSES, batch_norm=False)
            self._judge = Judge(model, params)
            self.info.update(trained=True, seconds=result["seconds"])
            self.info["cpu_seconds"] = result["cpu_seconds"]
            if self._path:
                self._judge.save(self._path)
        return self._judge


# -- the three measures --------------------------------------------------------------------


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (float64) of a set of feature vectors, one per row.

    Example:
        >>> mu, cov = feature_stats(np.array([[0.0, 1.0], [2.0, 3.0]]))
        >>> mu.tolist(), cov.tolist()
        ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (eigenvalues >= 0)."""
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
    stats_a: tuple[np.ndarray, np.ndarray], stats_b: tuple[np.ndarray, np.ndarray]
) -> float:
    """Fréchet distance between the Gaussians N(mu_a, S_a) and N(mu_b, S_b).

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``; zero for equal statistics.
    The trace of ``(S_a S_b)^(1/2)`` (``scipy.linalg.sqrtm`` in the FID recipe) is
    computed as the sum of square roots of the eigenvalues of the symmetric matrix
    ``S_a^(1/2) S_b S_a^(1/2)``, which has the same eigenvalues: exact and free of
    warnings when the covariances are singular, as they are here (dead ReLU features).

    Example:
        >>> mu, cov = np.zeros(2), np.eye(2)
        >>> round(frechet_distance((mu, cov), (mu + 1.0, 4.0 * cov)), 6)
        4.0
    """
    (mu_a, cov_a), (mu_b, cov_b) = stats_a, stats_b
    root_a = _sqrt_psd(cov_a)
    eigenvalues = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    tr_covmean = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_covmean)


def quality(probs: np.ndarray, threshold: float = CONFIDENCE) -> float:
    """Fraction of samples whose most likely class has probability >= ``threshold``.

    Example:
        >>> quality(np.array([[0.95, 0.05], [0.6, 0.4]]))
        0.5
    """
    return float(np.mean(np.max(probs, axis=1) >= threshold))


def coverage(probs: np.ndarray) -> list[float]:
    """Fraction of samples labelled as each class (argmax), for classes 0..9.

    Example:
        >>> coverage(np.eye(10)[[0, 0, 1, 9]])[:2]
        [0.5, 0.25]
    """
    counts = np.bincount(np.argmax(probs, axis=1), minlength=probs.shape[1])
    return (counts / len(probs)).tolist()


def judge_samples(
    judge: Judge,
    images: np.ndarray,
    real_stats: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """Quality, coverage and Fréchet distance of ``images`` (NHWC in [0, 1]).

    ``real_stats`` is ``feature_stats`` of the judge's features of real images.
    ``coverage_ok`` is true when every digit's share lies in ``COVERAGE_RANGE``;
    ``labels`` and ``confidences`` are per sample (the judge's top class and its
    probability).
    """
    feats, probs = judge.features_and_probs(images)
    cov = coverage(probs)
    lo, hi = COVERAGE_RANGE
    return {
        "quality": quality(probs),
        "coverage": cov,
        "coverage_ok": all(lo <= c <= hi for c in cov),
        "frechet_distance": frechet_distance(feature_stats(feats), real_stats),
        "mean_confidence": float(np.mean(np.max(probs, axis=1))),
        "labels": np.argmax(probs, axis=1),
        "confidences": np.max(probs, axis=1),
    }


# -- judging a run, epoch by epoch ---------------------------------------------------------


class EpochJudge:
    """Each epoch's samples, judged once the judge is ready: history, grids, printed lines.

    The test digits are split (by ``seed``) into ``num_reference`` reference digits and
    the rest (``x_test``, ``y_test``), whose judge's features are the real statistics
    the samples are compared with. ``add(epoch, images, train_stats)`` queues an epoch's
    samples (NHWC in [0, 1]) and its training statistics. :meth:`judge_pending` gets
    the judge from ``judges`` (a :class:`JudgeSource`: trained at the first call unless
    it trains in a second process), the first time judges the real digits (``real``:
    the judge's test accuracy, the quality and coverage of the test digits, and
    ``reference``: the reference digits judged like samples, what a perfect generator
    would score), then every queued epoch: a row of ``history``,
    ``samples_epoch_NN.png`` in ``out`` (the first ``num_grid`` samples) and a printed
    line.
    """

    def __init__(self, judges: JudgeSource, x_test, y_test, *, num_reference: int, seed: int,
                 out: str | os.PathLike, num_grid: int):  # fmt: skip
        order = np.random.default_rng(seed).permutation(len(x_test))
        self.x_reference = x_test[order[:num_reference]]
        self.x_test, self.y_test = x_test[order[num_reference:]], y_test[order[num_reference:]]
        self.judges, self.out, self.num_grid = judges, Path(out), num_grid
        self.history = History()
        self.real: dict[str, Any] = {}
        self.pending: list[tuple[int, np.ndarray, dict]] = []

    def add(self, epoch: int, images: np.ndarray, train_stats: dict) -> None:
        self.pending.append((epoch, images, train_stats))

    def _judge_real(self, judge: Judge) -> None:
        real = self.real
        feats, probs = judge.features_and_probs(self.x_test)
        real["stats"] = feature_stats(feats)
        real["accuracy"] = float(np.mean(np.argmax(probs, axis=1) == self.y_test))
        real["quality"], real["coverage"] = quality(probs), coverage(probs)
        ref = judge_samples(judge, self.x_reference, real["stats"])
        real["reference"] = {k: ref[k] for k in ("quality", "coverage", "frechet_distance")}
        if self.judges.info["trained"]:
            info = self.judges.info
            how = f"trained in {info['seconds']:.0f} s, {info['cpu_seconds']:.0f} s CPU"
        else:
            how = "loaded"
        print(
            f"judge ConvNet ({how}): test accuracy {100 * real['accuracy']:.2f} %, "
            f"quality of real test digits {100 * real['quality']:.1f} %; "
            f"{len(self.x_reference)} other real test digits: quality "
            f"{100 * ref['quality']:.1f} %, Fréchet distance {ref['frechet_distance']:.2f}"
        )

    def judge_pending(self) -> dict[str, Any]:
        """Judge the samples waiting for the judge; return the last judgement (with its
        ``images``)."""
        judge = self.judges.get()
        if not self.real:
            self._judge_real(judge)
        while self.pending:
            epoch, images, train_stats = self.pending.pop(0)
            judged = judge_samples(judge, images, self.real["stats"])
            self.history.append(
                epoch=epoch,
                **train_stats,
                quality=judged["quality"],
                coverage_ok=judged["coverage_ok"],
                frechet_distance=judged["frechet_distance"],
                mean_confidence=judged["mean_confidence"],
            )
            save_grid(
                images[: self.num_grid],
                self.out / f"samples_epoch_{epoch:02d}.png",
                f"epoch {epoch}: quality {100 * judged['quality']:.1f} %, "
                f"Fréchet distance {judged['frechet_distance']:.1f}",
                labels=judged["labels"][: self.num_grid],
                confidences=judged["confidences"][: self.num_grid],
            )
            print(
                f"epoch {epoch}: quality {100 * judged['quality']:.1f} %, Fréchet distance "
                f"{judged['frechet_distance']:.2f}, coverage "
                f"{' '.join(f'{c:.2f}' for c in judged['coverage'])}"
            )
        return {**judged, "images": images}

    def summary(self) -> dict[str, Any]:
        """The judge's part of metrics.json: how it was obtained, its test accuracy, the
        real test digits' quality and coverage, and the reference digits' judgement."""
        return {
            "judge": {
                **self.judges.info,
                "test_accuracy": self.real["accuracy"],
                "real_test_quality": self.real["quality"],
                "real_test_coverage": self.real["coverage"],
            },
            # Real test digits judged like the samples: what a perfect generator scores.
            "real_reference": self.real["reference"],
        }
