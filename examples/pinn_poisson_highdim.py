"""Physics-informed network for a Poisson equation in 10 dimensions.

    -Laplacian u = f  in the cube (0, 1)^10,   u = g  on its boundary,

with the exact solution u(x) = sum_i sin(pi x_i / 2), so f = (pi^2 / 4) sum_i sin(pi x_i / 2)
and g = u on the 20 faces. A tanh MLP u(x) (3 hidden layers of 64, inputs mapped to
[-1, 1]) is fitted to g at 1,000 boundary points (50 on each face, the other nine
coordinates uniform) and to a zero residual at 4,000 Latin-hypercube points inside.

The residual's Laplacian comes from ``fnn.pde.derivatives(..., ["laplacian"])``, which
uses the forward Laplacian (``fnn.directional_laplacian`` along the coordinate
directions E_k, ones in column k of the (N, 10) batch): one pass carrying the value,
ten directional derivatives and the running sum of second derivatives, where nesting
costs ten second derivatives of two jvp each. Training: 500 Adam steps,
then L-BFGS-B (``pinn_burgers.train``) until 5,000 iterations or 10 minutes, in
float32 (it reaches the target; ``--precision mixed`` or ``float64`` are there for
tighter ones). The error is measured on 10,000 uniform points drawn apart from the
training points.

Target: relative L2 error <= 1e-3 on the held-out points. What it reaches per seed and
how long it takes: docs/experiments/pinn_poisson_highdim.md.

Usage:
    python examples/pinn_poisson_highdim.py                         # trains <= 10 minutes
    python examples/pinn_poisson_highdim.py --quick --out /tmp/pois  # a seconds-long smoke run

Outputs in --out: metrics.json, history.json, params.npz, loss.png, solution.png.
"""

from __future__ import annotations

import json
import os
import sys
import time

# Single-threaded BLAS, set before numpy loads it (the matmuls are thin; see pinn_burgers.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import fnn
import fnn.numpy as fnp
from fnn import pde
from fnn.train import save

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _pinn, pinn_burgers
from _pinn import collocation_points, figure, parse_args, plot_losses  # noqa: E402
from pinn_burgers import make_mlp, make_u, train  # noqa: E402

D = 10
COORDS = tuple(f"x{i + 1}" for i in range(D))
LOWER, UPPER = np.zeros(D), np.ones(D)
TEST_SEED = 12345  # the held-out points are the same for every --seed


# -- the problem ---------------------------------------------------------------------


def exact(X: Any, xp: Any = np) -> Any:
    """u(x) = sum_i sin(pi x_i / 2) at the rows of X, computed with ``xp`` (numpy, in
    float64 for data and errors, or fnn.numpy, so that fnn can differentiate it)."""
    X = np.asarray(X, np.float64) if xp is np else X
    return xp.sum(xp.sin(np.pi / 2 * X), axis=1)


def source(X: Any, xp: Any = np) -> Any:
    """f = -Laplacian u = (pi^2 / 4) sum_i sin(pi x_i / 2) at the rows of X."""
    return np.pi**2 / 4 * exact(X, xp)


def boundary_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points on the cube's faces, the same number (+-1) on each of the 2 D faces:
    point k lies on face x_i = s with i = k mod D, s = (k // D) mod 2."""
    X = rng.uniform(size=(n, D))
    k = np.arange(n)
    X[k, k % D] = (k // D) % 2
    return X


# -- the loss ------------------------------------------------------------------------


def laplacian(u: Callable, params: Any, X: Any, method: str = "auto") -> Any:
    """The Laplacian of ``u(params, .)`` at every row of X: the forward Laplacian
    (``method="auto"``) or the sum of D nested second derivatives (``"nested"``)."""
    d = pde.derivatives(u, params, X, ["laplacian"], coords=COORDS, method=method)
    return d["laplacian"]


def poisson_residual(u: Callable, params: Any, X: Any, f: Any, method: str = "auto") -> Any:
    """-Laplacian u - f at every row of X."""
    return -laplacian(u, params, X, method) - f


def make_loss_terms(u: Callable, method: str = "auto") -> Callable:
    """``terms(params, X_b, g_b, X_f, f_f) -> {"data_loss", "residual_loss"}`` (two MSEs)."""

    def terms(params, X_b, g_b, X_f, f_f):
        return {
            "data_loss": fnp.mean((u(params, X_b) - g_b) ** 2),
            "residual_loss": fnp.mean(poisson_residual(u, params, X_f, f_f, method) ** 2),
        }

    return terms


# -- the plot ------------------------------------------------------------------------


def plot_solution(u_slice, exact_slice, X_test, err_test, error: float, path: Path) -> None:
    """The slice u(x1, x2, 0.5, ..., 0.5): exact, predicted and error; and the error at the
    held-out points against their distance to the boundary."""
    fig = figure((9.5, 7.5))
    extent = [0.0, 1.0, 0.0, 1.0]
    panels = [
        (exact_slice, "exact u(x1, x2, 0.5, ..., 0.5)", "viridis"),
        (u_slice, "predicted u on the same slice", "viridis"),
        (np.abs(u_slice - exact_slice), "|predicted - exact| on the slice", "magma"),
    ]
    lo, hi = exact_slice.min(), exact_slice.max()
    for i, (values, title, cmap) in enumerate(panels):
        ax = fig.add_subplot(2, 2, i + 1)
        limits = {"vmin": lo, "vmax": hi} if cmap == "viridis" else {}
        image = ax.imshow(values.T, origin="lower", extent=extent, cmap=cmap, **limits)
        fig.colorbar(image, ax=ax, shrink=0.85)
        ax.set(xlabel="x1", ylabel="x2", title=title)
    ax = fig.add_subplot(2, 2, 4)
    distance = np.minimum(X_test, 1 - X_test).min(axis=1)
    ax.plot(distance, np.abs(err_test), ".", ms=2, alpha=0.4)
    ax.set_yscale("log")
    ax.set(xlabel="distance to the boundary", ylabel="|predicted - exact|")
    ax.set_title(f"{len(X_test):,} held-out points: relative L2 error {error:.2e}")
    ax.grid(alpha=0.3)
    fig.savefig(path)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(
        argv,
        "PINN for a Poisson equation in 10 dimensions, by the forward Laplacian.",
        {"adam_steps": 500, "lbfgs_iters": 5000, "max_minutes": 10.0, "precision": "float32",
         "out": "runs/pinn_poisson_highdim"},
        burgers_data=False,
    )  # fmt: skip
    fnn.config.update("enable_x64", args.precision != "float32")
    dtype = np.float64 if args.precision == "float64" else np.float32
    depth, width, n_b, n_f, n_test = (
        (2, 16, 200, 300, 1000) if args.quick else (3, 64, 1000, 4000, 10_000)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    start, cpu_start = time.perf_counter(), time.process_time()

    X_b = boundary_points(n_b, np.random.default_rng(args.seed))
    X_f = collocation_points(n_f, args.seed, LOWER, UPPER)
    data = [fnp.asarray(a, dtype=dtype) for a in (X_b, exact(X_b), X_f, source(X_f))]
    model = make_mlp(depth, width)
    params = model.init(fnn.random.key(args.seed), (1, D))
    params = fnn.tree_util.tree_map(lambda a: fnp.asarray(a, dtype=dtype), params)
    u = make_u(model, LOWER, UPPER)

    X_test = np.random.default_rng(TEST_SEED).uniform(size=(n_test, D))
    u_test = exact(X_test)
    s = np.linspace(0.0, 1.0, 65)  # the plotted slice: x1, x2 vary, the rest at 0.5
    x1, x2 = np.meshgrid(s, s, indexing="ij")
    X_slice = np.full((x1.size, D), 0.5)
    X_slice[:, 0], X_slice[:, 1] = x1.ravel(), x2.ravel()
    u_jit = fnn.jit(u)

    def predict(p, X) -> np.ndarray:
        leaf_dtype = fnn.tree_util.tree_leaves(p)[0].dtype  # float64 after a mixed switch
        return np.asarray(u_jit(p, fnp.asarray(X, dtype=leaf_dtype)), np.float64)

    def relative_error(p) -> float:
        return float(np.linalg.norm(predict(p, X_test) - u_test) / np.linalg.norm(u_test))

    params, history, stats = train(
        make_loss_terms(u), params, data, args.adam_steps, args.lbfgs_iters,
        on_log=lambda it, p: {"relative_l2_error": relative_error(p)},
        history_path=args.out / "history.json",
        max_seconds=None if args.max_minutes is None else 60 * args.max_minutes,
        then_float64=args.precision == "mixed", quiet=args.quiet,
    )  # fmt: skip
    err_test = predict(params, X_test) - u_test
    error = relative_error(params)
    final = history.last()
    metrics = {
        "relative_l2_error": error,
        "target_relative_l2_error": 1e-3,
        "max_abs_error": float(np.abs(err_test).max()),
        "loss": final["loss"],
        "data_loss": final["data_loss"],
        "residual_loss": final["residual_loss"],
        **stats,
        "minutes": (time.perf_counter() - start) / 60,
        "cpu_minutes": (time.process_time() - cpu_start) / 60,
        "precision": args.precision,
        "dtype": np.dtype(fnn.tree_util.tree_leaves(params)[0].dtype).name,
        "dimensions": D,
        "layers": [D, *[width] * depth, 1],
        "n_b": n_b,
        "n_f": n_f,
        "n_test": n_test,
        "seed": args.seed,
        "quick": args.quick,
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    history.save_json(args.out / "history.json")
    save(args.out / "params.npz", params)  # reload with fnn.train.load(path, like=params)
    plot_losses(history, args.out / "loss.png", "10-D Poisson PINN: loss terms and test error",
                ["loss", "data_loss", "residual_loss", "relative_l2_error"])  # fmt: skip
    u_slice = predict(params, X_slice).reshape(x1.shape)
    plot_solution(u_slice, exact(X_slice).reshape(x1.shape), X_test, err_test, error,
                  args.out / "solution.png")  # fmt: skip
    print(
        f"relative L2 error {error:.3e} (target 1e-3); {stats['lbfgs_iterations']} L-BFGS "
        f"iterations; {metrics['minutes']:.1f} min; outputs in {args.out}"
    )
    return metrics


if __name__ == "__main__":
    main()
