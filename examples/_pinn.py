"""Helpers of the PINN examples: the two Burgers examples, ``pinn_burgers.py`` and
``pinn_burgers_identify.py``, and the two that also use them, ``pinn_kdv.py`` and
``pinn_poisson_highdim.py``.

The Burgers problem's constants and reference grid, the training points, the plots and
the command line the examples share. The networks, the losses and the training loop are
in ``pinn_burgers.py``; what was measured with them is in docs/experiments/.

Example:
    >>> initial_boundary_points(10, np.random.default_rng(0))[0].shape
    (10, 2)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fnn.data import burgers_solution
from fnn.train import History

NU = 0.01 / np.pi
LOWER = np.array([0.0, -1.0])  # (t, x)
UPPER = np.array([1.0, 1.0])
# The reference grid of burgers_shock.mat: 256 x-values, t = 0, 0.01, ..., 0.99.
GRID_X = np.linspace(-1.0, 1.0, 256)
GRID_T = np.linspace(0.0, 0.99, 100)


# -- data ----------------------------------------------------------------------------


def boundary_candidates() -> np.ndarray:
    """The candidate data points (t, x) of the reference grid, in order along the boundary
    of the domain: down the left edge x = -1 (t = 0.99 ... 0.01), along the initial line
    t = 0 (the grid's 256 x), up the right edge x = 1 (t = 0.01 ... 0.99). These are the
    paper's 456 candidates without the two corners it lists twice."""
    left = np.stack([GRID_T[:0:-1], np.full(99, -1.0)], axis=1)
    initial = np.stack([np.zeros_like(GRID_X), GRID_X], axis=1)
    right = np.stack([GRID_T[1:], np.full(99, 1.0)], axis=1)
    return np.concatenate([left, initial, right])


def initial_boundary_points(
    n_u: int, rng: np.random.Generator, stratified: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``n_u`` of the 454 candidates of :func:`boundary_candidates` and u there.

    ``stratified`` (the default): the candidates, in their order along the boundary, are
    cut into ``n_u`` runs of consecutive points and one point is drawn from each run, so
    the data cover the initial line without gaps (a Latin-hypercube-like draw along the
    boundary). Otherwise ``n_u`` candidates are drawn uniformly without replacement, as
    in the paper's code, which can leave gaps of 0.2 on the initial line (seed 0 leaves
    one from x = -0.47 to -0.24): the initial condition in such a gap is fitted only by
    interpolation, its error changes the integral of u (which the PDE conserves), and
    that moves the shock off x = 0 (docs/experiments/pinn_burgers.md measures it).
    """
    candidates = boundary_candidates()
    if stratified:
        edges = np.linspace(0, len(candidates), n_u + 1).round().astype(int)
        idx = np.array([rng.integers(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])])
    else:
        idx = rng.choice(len(candidates), n_u, replace=False)
    tx = candidates[idx]
    u = np.array([burgers_solution([x], [t], NU)[0, 0] for t, x in tx])
    return tx, u


def collocation_points(n_f: int, seed: int, lower=LOWER, upper=UPPER) -> np.ndarray:
    """A seeded Latin hypercube of ``n_f`` points in the box [lower, upper]."""
    from scipy.stats import qmc

    return qmc.scale(qmc.LatinHypercube(d=len(lower), seed=seed).random(n_f), lower, upper)


# -- plots ----------------------------------------------------------------------------


def figure(figsize):
    """A matplotlib Figure on the Agg canvas (no display, pyplot's state untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


LABELS = {
    "loss": "loss (sum)",
    "data_loss": "data loss: MSE of u at the data points",
    "residual_loss": "residual loss: MSE of the PDE residual",
    "relative_l2_error": "relative L2 error vs the exact solution",
}


def plot_losses(history: History, path: Path, title: str, keys: Sequence[str]) -> None:
    """Each loss term against iteration, log scale, the Adam/L-BFGS switch marked."""
    fig = figure((7, 4.2))
    ax = fig.add_subplot()
    records = history.records
    for key in keys:
        its = [r["iteration"] for r in records if key in r]
        style = {"ls": "--", "color": "k"} if "error" in key else {}
        label = LABELS.get(key, key.replace("_", " "))
        ax.semilogy(its, [r[key] for r in records if key in r], label=label, **style)
    switch = [r["iteration"] for r in records if r["phase"] == "adam"][-1]
    ax.axvline(switch, color="gray", ls="--", lw=1)
    ax.text(switch, 1.0, " L-BFGS ->", transform=ax.get_xaxis_transform(), va="top", color="gray")
    ax.set_xlabel("iteration (Adam steps, then L-BFGS iterations)")
    ax.set_ylabel(
        "mean squared error" + (" / relative error" if any("error" in k for k in keys) else "")
    )
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path)


def plot_solution(
    u_pred: np.ndarray, u_exact: np.ndarray, tx_u: np.ndarray, error: float, path: Path
) -> None:
    """The paper's Figure 1: predicted u(t, x) with the training data, and three slices."""
    fig = figure((10, 6.2))
    grid = fig.add_gridspec(2, 3, height_ratios=[1.1, 1])
    ax = fig.add_subplot(grid[0, :])
    image = ax.imshow(
        u_pred, cmap="rainbow", aspect="auto", origin="lower",
        extent=[GRID_T[0], GRID_T[-1], GRID_X[0], GRID_X[-1]],
    )  # fmt: skip
    fig.colorbar(image, ax=ax, label="u(t, x)")
    ax.plot(tx_u[:, 0], tx_u[:, 1], "kx", ms=4, clip_on=False, label=f"data ({len(tx_u)} points)")
    for t in (0.25, 0.5, 0.75):
        ax.axvline(t, color="white", lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("x")
    ax.set_title(f"predicted u(t, x); relative L2 error {error:.2e}")
    ax.legend(loc="upper right", framealpha=0.8)
    for i, t in enumerate((0.25, 0.5, 0.75)):
        j = int(np.argmin(abs(GRID_T - t)))
        ax = fig.add_subplot(grid[1, i])
        ax.plot(GRID_X, u_exact[:, j], "b-", lw=2, label="exact")
        ax.plot(GRID_X, u_pred[:, j], "r--", lw=2, label="prediction")
        ax.set_xlabel("x")
        ax.set_ylabel("u(t, x)")
        ax.set_title(f"t = {GRID_T[j]:.2f}")
        ax.set_ylim(-1.1, 1.1)
        ax.grid(alpha=0.3)
        if i == 1:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.savefig(path)


# -- the command line ------------------------------------------------------------------


def parse_args(
    argv: Sequence[str] | None,
    description: str,
    defaults: dict,
    extra: Callable[[argparse.ArgumentParser], Any] | None = None,
    *,
    burgers_data: bool = True,
) -> argparse.Namespace:
    """The flags the PINN examples share; ``defaults`` sets per-example values and
    ``extra(parser)`` adds an example's own flags. ``burgers_data=False`` leaves out
    ``--data-dir`` (the Burgers reference file), for examples with no data set."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--adam-steps",
        "--epochs",
        type=int,
        default=None,
        dest="adam_steps",
        help=f"Adam warm-up steps (default {defaults['adam_steps']}; 300 with --quick)",
    )
    p.add_argument(
        "--lbfgs-iters",
        type=int,
        default=None,
        help=f"L-BFGS-B iterations (default {defaults['lbfgs_iters']}; 200 with --quick)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(defaults["out"]))
    p.add_argument(
        "--quick",
        action="store_true",
        help="a seconds-long smoke run: a small net, few points and iterations",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (on a terminal, a live bar per phase; in a log, one line "
        "per phase); the example's own report still prints",
    )
    if burgers_data:
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="folder holding burgers/burgers_shock.mat, to cross-check the exact "
            "solution (default $FNN_DATA_DIR; skipped when absent)",
        )
    p.add_argument(
        "--precision",
        choices=["mixed", "float32", "float64"],
        default=defaults.get("precision", "float64"),
        help="float32, float64, or mixed: float32 until L-BFGS-B stalls on float32 "
        f"rounding, then float64 (default {defaults.get('precision', 'float64')})",
    )
    p.add_argument(
        "--float32",
        action="store_const",
        const="float32",
        dest="precision",
        help="--precision float32",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=defaults.get("max_minutes"),
        help="stop training after this many minutes of wall time (default: "
        f"{defaults.get('max_minutes') or 'no limit'}; none with --quick)",
    )
    if extra is not None:
        extra(p)
    args = p.parse_args(argv)  # fmt: skip
    if args.adam_steps is None:
        args.adam_steps = 300 if args.quick else defaults["adam_steps"]
    if args.lbfgs_iters is None:
        args.lbfgs_iters = 200 if args.quick else defaults["lbfgs_iters"]
    if args.quick and args.max_minutes == defaults.get("max_minutes"):
        args.max_minutes = None
    return args


def check_reference(data_dir: Path | None, u_exact: np.ndarray) -> float | None:
    """Max |burgers_solution - burgers_shock.mat| on the grid, or None without the file."""
    from fnn.data import load_burgers_reference

    if data_dir is None and not os.environ.get("FNN_DATA_DIR"):
        return None
    try:
        _, _, usol = load_burgers_reference(data_dir)
    except Exception:  # the file is optional: the reference is computed exactly
        return None
    return float(np.abs(usol - u_exact).max())
