"""A ConvNet on MNIST: conv32-pool-BN-conv64-pool-BN-dense128-dense10, Adam + cosine decay.

The network, training step and outputs are those of ``cnn_classify.py`` (the same
code for any image set); this script fixes the data set to MNIST and the defaults
to a run that reaches 99 % test accuracy (the target; what the runs reached and how
long they took: docs/experiments/cnn_mnist.md).

Usage:
    python examples/cnn_mnist.py                          # full run: >= 99 % test accuracy
    python examples/cnn_mnist.py --quick --out /tmp/cnn   # a seconds-long smoke run

Outputs in --out (default runs/cnn_mnist/): metrics.json, loss.png, predictions.png.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One BLAS thread unless the caller sets it (why: see cnn_classify.py). Set before
# anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for cnn_classify, _shared

from _shared import example_args  # noqa: E402
from cnn_classify import add_model_flags, run  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = example_args(
        "cnn_mnist",
        "Train a conv-pool-conv-pool-dense network on MNIST.",
        epochs=2,
        batch_size=128,
        lr=2e-3,
    )
    add_model_flags(parser, arch="small")
    return run(parser.parse_args(argv), "mnist", "cnn_mnist")


if __name__ == "__main__":
    main()
