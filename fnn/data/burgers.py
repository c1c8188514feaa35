"""The viscous Burgers equation: its exact solution and the PINN paper's reference data.

    u_t + u u_x = nu u_xx,   u(x, 0) = -sin(pi x),   u(-1, t) = u(1, t) = 0

The Cole-Hopf transform turns it into the heat equation, which gives (Basdevant et al.,
1986)

    u(x, t) = - Int sin(pi (x-h)) f(x-h) exp(-h^2 / (4 nu t)) dh
              / Int f(x-h) exp(-h^2 / (4 nu t)) dh,      f(y) = exp(-cos(pi y) / (2 pi nu)).

With h = sqrt(4 nu t) z both integrals take the Gauss-Hermite weight exp(-z^2).

Example:
    >>> import numpy as np
    >>> from fnn.data import burgers_solution
    >>> u = burgers_solution(np.linspace(-1, 1, 5), np.array([0.0, 0.5]))
    >>> u.shape
    (5, 2)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.polynomial.hermite import hermgauss

from .errors import DatasetError
from .paths import candidate_dirs, find_file, not_found_error, search_dirs

REFERENCE_FILE = "burgers_shock.mat"
SUBDIR = "burgers"
# The source of burgers_shock.mat, for the not-found message (Raissi et al., PINNs).
SOURCE = "https://github.com/maziarraissi/PINNs/tree/master/main/Data"

_BLOCK = 1 << 21  # quadrature values per block: bounds memory for large grids


def burgers_solution(
    x: np.ndarray, t: np.ndarray, nu: float = 0.01 / np.pi, n_quad: int = 200
) -> np.ndarray:
    """The exact solution u[i, j] = u(x[i], t[j]) of viscous Burgers with u(x,0) = -sin(pi x).

    Evaluated with ``n_quad``-point Gauss-Hermite quadrature of the Cole-Hopf formula, in
    float64, vectorized over the grid; with the defaults it matches the reference
    ``burgers_shock.mat`` to about 1e-11. ``t`` must be >= 0; at t = 0 the result is
    -sin(pi x) exactly.

    Example:
        >>> x, t = np.linspace(-1, 1, 256), np.linspace(0, 0.99, 100)
        >>> u = burgers_solution(x, t)
        >>> u.shape, float(abs(u[:, 0] + np.sin(np.pi * x)).max())
        ((256, 100), 0.0)
    """
    x = np.asarray(x, np.float64).reshape(-1)
    t = np.asarray(t, np.float64).reshape(-1)
    if nu <= 0:
        raise ValueError(f"burgers_solution: nu must be positive, got {nu}")
    if t.size and t.min() < 0:
        raise ValueError(f"burgers_solution: times must be >= 0, got min(t) = {t.min()}")
    z, w = hermgauss(n_quad)
    u = np.empty((x.size, t.size))
    at_zero = t == 0
    u[:, at_zero] = -np.sin(np.pi * x)[:, None]
    tp = t[~at_zero]
    if tp.size and x.size:
        scale = np.sqrt(4 * nu * tp)[:, None] * z  # (nt, nq): h at each node and time
        rows = max(1, _BLOCK // (tp.size * n_quad))
        # Blocks of x rows: vectorized within a block, bounded memory across blocks.
        u[:, ~at_zero] = np.concatenate(
            [_quadrature(x[i : i + rows], scale, w, nu) for i in range(0, x.size, rows)]
        )
    return u


def _quadrature(x: np.ndarray, scale: np.ndarray, w: np.ndarray, nu: float) -> np.ndarray:
    y = x[:, None, None] - scale  # (nx, nt, nq)
    expo = -np.cos(np.pi * y) / (2 * np.pi * nu)
    # f(y) reaches exp(1/(2 pi nu)) = exp(50) at nu = 0.01/pi: subtract the max exponent
    # (it cancels in the ratio) so that exp never overflows or loses the large terms.
    expo -= expo.max(axis=-1, keepdims=True)
    weights = w * np.exp(expo)
    return -np.einsum("ijk,ijk->ij", np.sin(np.pi * y), weights) / weights.sum(axis=-1)


def load_burgers_reference(
    path: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``burgers_shock.mat``: ``(x (256,), t (100,), usol (256, 100))`` in float64.

    ``path`` may be the file itself or a folder; otherwise the file is looked for in
    ``$FNN_DATA_DIR`` and ``~/.cache/fnn``, each folder or its ``burgers/`` subfolder.
    usol[i, j] = u(x[i], t[j]) as in :func:`burgers_solution`.

    Example:
        >>> x, t, usol = load_burgers_reference()  # doctest: +SKIP
        >>> x.shape, t.shape, usol.shape  # doctest: +SKIP
        ((256,), (100,), (256, 100))
    """
    from scipy.io import loadmat  # scipy.io is slow to import and needed only here

    file = _locate(path)
    try:
        mat = loadmat(file)
    except Exception as e:  # scipy raises several unrelated types for a bad file
        raise DatasetError(f"{file.name}: not a readable MATLAB file ({e})") from e
    missing = [k for k in ("x", "t", "usol") if k not in mat]
    if missing:
        raise DatasetError(f"{file.name}: missing variables {missing}; expected x, t, usol")
    x, t = (np.asarray(mat[k], np.float64).reshape(-1) for k in ("x", "t"))
    usol = np.asarray(mat["usol"], np.float64)
    if usol.shape != (x.size, t.size):
        raise DatasetError(
            f"{file.name}: usol has shape {usol.shape}, expected (len(x), len(t)) = "
            f"({x.size}, {t.size})"
        )
    return x, t, usol


def _locate(path) -> Path:
    if path is not None and Path(path).is_file():
        return Path(path)
    dirs = search_dirs(path)
    for folder in candidate_dirs(dirs, (SUBDIR,)):
        found = find_file(folder, (REFERENCE_FILE,))
        if found is not None:
            return found
    hint = f"(it is not downloaded automatically; it is published at {SOURCE})"
    raise not_found_error("Burgers reference", [REFERENCE_FILE], dirs, SUBDIR, hint=hint)
