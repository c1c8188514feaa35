"""Helpers shared by the example scripts: flags, output folder, metrics, plots, data.

Each example imports what it needs::

    from _shared import example_args, prepare_out, write_metrics, load_image_dataset, timer

(the examples are run as ``python examples/NAME.py``, so ``examples/`` is on
``sys.path``). Nothing here trains a model: these are the chores around training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Sizes of the ``--quick`` slice: enough examples for a seconds-long run whose
# accuracy is still visibly above chance, small enough for CI.
QUICK_TRAIN = 2000
QUICK_TEST = 500

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": (
        "T-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "boot",
    ),  # fmt: skip
    "cifar10": (
        "plane",
        "car",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),  # fmt: skip
}


# -- command line ----------------------------------------------------------------------


def example_args(name: str, description: str, **defaults: Any) -> argparse.ArgumentParser:
    """An argparse parser with the flags every example takes.

    Flags: ``--epochs``, ``--batch-size``, ``--lr``, ``--seed``, ``--data-dir``,
    ``--out`` (default ``runs/NAME/``), ``--quick`` and ``--quiet`` (no progress
    bars: pass ``disable=args.quiet`` to ``fnn.train.progress``). ``defaults`` sets the
    example's own defaults (``epochs=10, batch_size=128, lr=1e-3``; ``epochs=None``
    when the example picks it later; ``out=...``); add more flags to the returned
    parser as needed.

    Example:
        >>> p = example_args("demo", "A demo.", epochs=3)
        >>> a = p.parse_args(["--quick"])
        >>> a.epochs, a.quick, a.out
        (3, True, 'runs/demo')
    """
    d = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "seed": 0, **defaults}
    p = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    # Defaults are written into each help text (not ArgumentDefaultsHelpFormatter),
    # so that a default chosen later, like epochs per data set, reads naturally.
    epochs_default = "set by the example" if d["epochs"] is None else "%(default)s"
    p.add_argument(
        "--epochs",
        type=int,
        default=d["epochs"],
        help=f"passes over the training set (default: {epochs_default})",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=d["batch_size"],
        help="examples per step (default: %(default)s)",
    )
    p.add_argument(
        "--lr", type=float, default=d["lr"], help="peak learning rate (default: %(default)s)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=d["seed"],
        help="seed of the fnn.random keys (default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder holding the data set (default: $FNN_DATA_DIR, then ~/.cache/fnn)",
    )
    p.add_argument(
        "--out",
        default=d.get("out", f"runs/{name}"),
        help="folder for metrics.json and the PNGs (default: %(default)s)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run on {QUICK_TRAIN} train / {QUICK_TEST} test examples, for CI",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (on a terminal, a live bar per epoch; in a log, one line "
        "per epoch); the example's own report still prints",
    )
    return p


# -- outputs -----------------------------------------------------------------------------


def prepare_out(path: str | os.PathLike) -> Path:
    """Create the output folder (and parents) if needed; return it as a Path.

    Example:
        >>> import tempfile
        >>> prepare_out(Path(tempfile.mkdtemp()) / "a" / "b").is_dir()
        True
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _jsonable(value: Any) -> Any:
    """Plain Python values for json: numpy/fnn scalars and arrays become numbers/lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    arr = np.asarray(value)
    return arr.item() if arr.ndim == 0 else arr.tolist()


def write_metrics(path: str | os.PathLike, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics`` as indented JSON, atomically (readers never see half a file).

    numpy and fnn scalars/arrays are converted to plain numbers and lists.

    Example:
        >>> import tempfile
        >>> p = write_metrics(Path(tempfile.mkdtemp()) / "m.json", {"acc": np.float32(0.5)})
        >>> json.loads(p.read_text())
        {'acc': 0.5}
    """
    path = Path(path)
    text = json.dumps(_jsonable(metrics), indent=1) + "\n"
    # Temporary file in the same folder: os.replace is atomic only within a filesystem.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- plots -------------------------------------------------------------------------------


def choose_examples(
    predicted: np.ndarray, true: np.ndarray, n: int = 32, *, seed: int = 0
) -> np.ndarray:
    """Indices of ``n`` test examples to show: up to half mistakes, the rest correct.

    A random sample of a 99 %-accurate model would show no mistakes at all; the
    mistakes are the interesting part of the picture.

    Example:
        >>> idx = choose_examples(np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3]), n=2)
        >>> 2 in idx
        True
    """
    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(np.asarray(predicted) != np.asarray(true))
    right = np.flatnonzero(np.asarray(predicted) == np.asarray(true))
    n = min(n, len(wrong) + len(right))
    n_wrong = min(len(wrong), n // 2)
    picked = np.concatenate(
        [
            rng.choice(wrong, n_wrong, replace=False),
            rng.choice(right, min(len(right), n - n_wrong), replace=False),
        ]
    )
    return np.sort(picked.astype(int))


def plot_predictions(
    images: np.ndarray,
    predicted: Sequence[int],
    true: Sequence[int],
    path: str | os.PathLike,
    title: str = "",
    *,
    class_names: Sequence[str] | None = None,
    cols: int = 8,
) -> Path:
    """A grid of images, each captioned "predicted (true)"; mistakes in red with a red frame.

    ``images`` is NHWC (or NHW) in [0, 1] or uint8; one or three channels.

    Example:
        >>> import tempfile
        >>> p = plot_predictions(np.zeros((3, 8, 8, 1)), [1, 2, 3], [1, 2, 0],
        ...                      Path(tempfile.mkdtemp()) / "p.png", "demo")
        >>> p.read_bytes()[:4]
        b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    names = (lambda i: class_names[i]) if class_names else str

    # The Figure API with an Agg canvas leaves pyplot's global state alone.
    fig = Figure(figsize=(1.25 * cols, 1.45 * rows + 0.5))
    FigureCanvasAgg(fig)
    n_wrong = 0
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        p, t = int(predicted[i]), int(true[i])
        wrong = p != t
        n_wrong += wrong
        gray = images[i].ndim == 2
        ax.imshow(images[i], cmap="gray" if gray else None, vmin=0, vmax=images[i].max() or 1)
        color = "red" if wrong else "black"
        ax.set_title(f"{names(p)} ({names(t)})", fontsize=8, color=color)
        for spine in ax.spines.values():
            spine.set_edgecolor("red" if wrong else "lightgray")
            spine.set_linewidth(2.5 if wrong else 0.5)
    caption = f"{title}\n" if title else ""
    caption += (
        f"each labelled predicted (true); {n_wrong} mistakes (red) and {n - n_wrong} "
        "correct predictions shown"
    )
    fig.suptitle(caption, fontsize=10)
    fig.tight_layout()

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- data --------------------------------------------------------------------------------


def load_image_dataset(
    name: str, data_dir: str | os.PathLike | None = None, quick: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load ``mnist``, ``fashion_mnist`` or ``cifar10`` for training.

    Returns ``(x_train, y_train), (x_test, y_test)``: float32 NHWC images in [0, 1] and
    int32 labels. With ``quick`` only the first ``QUICK_TRAIN`` training and
    ``QUICK_TEST`` test examples are kept (converted after slicing, so cheap).

    Example:
        >>> (x, y), (xt, yt) = load_image_dataset("mnist", quick=True)  # doctest: +SKIP
        >>> x.shape, x.dtype, y.dtype  # doctest: +SKIP
        ((2000, 28, 28, 1), dtype('float32'), dtype('int32'))
    """
    import fnn.data

    loaders = {
        "mnist": fnn.data.mnist,
        "fashion_mnist": fnn.data.fashion_mnist,
        "cifar10": fnn.data.cifar10,
    }
    if name not in loaders:
        raise ValueError(f"unknown data set {name!r}; expected one of {sorted(loaders)}")
    (x_train, y_train), (x_test, y_test) = loaders[name](data_dir)
    if quick:
        x_train, y_train = x_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]

    def images(x):
        return np.asarray(x, np.float32) * np.float32(1 / 255)

    def labels(y):
        return np.asarray(y, np.int32)

    return (images(x_train), labels(y_train)), (images(x_test), labels(y_test))


# -- machine and timing ------------------------------------------------------------------


_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def machine_info() -> dict[str, Any]:
    """What a timing depends on: CPUs, CPU model, load average, versions, BLAS threads.

    The BLAS thread variables (``OPENBLAS_NUM_THREADS``, ...) are included when set:
    on a busy machine they change matmul times many times over.

    Example:
        >>> {"cpus", "cpu_model", "load_average", "numpy", "python"} <= set(machine_info())
        True
    """
    import platform

    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model
            )
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "cpus": cpus,
        "cpu_model": model,
        "load_average": load,
        "numpy": np.__version__,
        "python": platform.python_version(),
        **{name: os.environ[name] for name in _BLAS_THREAD_VARS if name in os.environ},
    }


class timer:  # noqa: N801 (used like a function: ``with timer() as t``)
    """Wall-clock and CPU seconds of a ``with`` block; live inside it too.

    ``cpu_seconds`` counts this process's CPU time (all threads): on a shared, busy
    machine it shows what the run costs apart from waiting for a core.

    Example:
        >>> with timer() as t:
        ...     _ = sum(range(1000))
        >>> t.seconds >= 0 and t.cpu_seconds >= 0
        True
    """

    def __init__(self) -> None:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.end: float | None = None
        self.cpu_end: float | None = None

    def __enter__(self) -> timer:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.end = self.cpu_end = None
        return self

    def __exit__(self, *exc: Any) -> None:
        self.end, self.cpu_end = time.perf_counter(), time.process_time()

    @property
    def seconds(self) -> float:
        """Elapsed wall-clock seconds: up to now while running, the block's length after it."""
        return (self.end if self.end is not None else time.perf_counter()) - self.start

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of this process over the same span."""
        end = self.cpu_end if self.cpu_end is not None else time.process_time()
        return end - self.cpu_start


# -- classifier evaluation ------------------------------------------------------------------


def make_eval_step(model):
    """A jitted ``eval_step(params, x, y) -> (summed loss, number correct, predicted labels)``
    for a classifier ``model`` (an ``fnn.nn`` module with integer labels ``y``).

    Example:
        >>> from fnn import nn
        >>> step = make_eval_step(nn.Sequential([nn.Dense(3)]))  # doctest: +SKIP
    """
    import fnn
    import fnn.numpy as fnp
    from fnn import nn

    @fnn.jit
    def eval_step(params, x, y):
        logits = model.apply(params, x)
        losses = nn.losses.softmax_cross_entropy_with_integer_labels(logits, y)
        predicted = fnp.argmax(logits, axis=-1)
        return fnp.sum(losses), fnp.sum(predicted == y), predicted

    return eval_step


def evaluate(eval_step, params, x, y, batch_size: int = 2000) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predicted labels over a whole data set, in batches.

    Example:
        >>> loss, accuracy, predicted = evaluate(eval_step, params, x_test, y_test)  # doctest: +SKIP
    """
    from fnn.data import batches

    total_loss, correct, predicted = 0.0, 0, []
    # shard=(0, 1): every process evaluates the whole set (under fnn.distributed,
    # batches would otherwise give each process its share).
    for xb, yb in batches((x, y), batch_size, shuffle=False, shard=(0, 1)):
        loss_sum, n_correct, pred = eval_step(params, xb, yb)
        total_loss += float(loss_sum)
        correct += int(n_correct)
        predicted.append(np.asarray(pred))
    return total_loss / len(y), correct / len(y), np.concatenate(predicted)
