"""The ``example-plots`` directive: an example's PNGs, made when the docs are built.

No plot is committed. When the build starts, every example named in ``conf.py``'s
``fnn_examples`` runs in its ``--quick`` mode (``python examples/NAME.py --quick --out
DIR``), two at a time, into ``docs/_build/examples/NAME/``; a run is reused while the
example scripts are unchanged (``stamp.txt`` holds a hash of ``examples/*.py``). Then

.. code-block:: markdown

    ```{example-plots} mlp_mnist
    :images: loss.png predictions.png
    ```

shows those PNGs (Sphinx copies them into the HTML build). The environment variable
``FNN_DOCS_EXAMPLES`` chooses the source: unset or ``quick`` as above; ``off`` runs
nothing and the page says how to get the plots; any other value is a folder holding
one subfolder of outputs per example, for instance ``runs`` after full runs with the
default ``--out``.

An example that needs MNIST where MNIST is not on disk is reported on the page (the
build never downloads). Any other failed run is a Sphinx warning, so a build with
``-W`` fails on it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from fnn.data import DatasetError, mnist

LOG = logging.getLogger(__name__)
# This build's runs, set when the build starts; read by the directive (forked readers
# inherit it).
RUNS: dict = {}
ENV_VAR = "FNN_DOCS_EXAMPLES"
TIMEOUT = 600  # seconds per quick run: far above its usual length, for a loaded machine
PARALLEL = 2  # quick runs at a time (the project's machines have 2 cores)


@dataclass
class RunResult:
    """Where an example's outputs are, or why there are none."""

    name: str
    folder: Path | None = None  # holds the PNGs when the run succeeded
    source: str = ""  # "quick" or "runs folder DIR": said in the caption
    problem: str = ""  # why there is no folder: shown on the page


def examples_stamp(examples_dir: Path) -> str:
    """A hash of every example script: a cached quick run is reused while it matches.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "a.py").write_text("print(1)")
        >>> s = examples_stamp(d)
        >>> _ = (d / "a.py").write_text("print(2)")
        >>> s == examples_stamp(d)
        False
    """
    digest = hashlib.sha256()
    for path in sorted(examples_dir.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def mnist_on_disk() -> bool:
    """True when MNIST can be read without downloading (``$FNN_DATA_DIR`` or the cache)."""
    try:
        mnist(download=False)
    except DatasetError:
        return False
    return True


def quick_command(root: Path, name: str, args: list[str], out: Path) -> list[str]:
    """The command line of one quick run, as a user would type it.

    Example:
        >>> quick_command(Path("/r"), "mlp_mnist", [], Path("/o"))[1:]
        ['/r/examples/mlp_mnist.py', '--quick', '--out', '/o']
    """
    script = root / "examples" / f"{name}.py"
    return [sys.executable, str(script), "--quick", "--out", str(out), *args]


def run_quick(
    root: Path, cache: Path, examples: dict[str, dict], warn: Callable = LOG.warning
) -> dict[str, RunResult]:
    """Run each example's quick mode whose cached outputs are missing or stale.

    ``examples`` maps a name to ``{"args": [...], "needs_mnist": bool}``. Returns one
    ``RunResult`` per name. A failed run is passed to ``warn`` with the command and the
    end of its output.
    """
    stamp = examples_stamp(root / "examples")
    results: dict[str, RunResult] = {}
    pending: list[tuple[str, list[str], Path]] = []
    have_mnist = None
    for name, spec in examples.items():
        out = cache / name
        if (out / "stamp.txt").is_file() and (out / "stamp.txt").read_text() == stamp:
            results[name] = RunResult(name, out, "quick")
            continue
        if spec.get("needs_mnist"):
            have_mnist = mnist_on_disk() if have_mnist is None else have_mnist
            if not have_mnist:
                results[name] = RunResult(
                    name, problem="MNIST is not on disk here (set FNN_DATA_DIR)"
                )
                continue
        out.mkdir(parents=True, exist_ok=True)
        (out / "stamp.txt").unlink(missing_ok=True)
        pending.append((name, quick_command(root, name, list(spec.get("args", [])), out), out))

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    running: list[tuple[str, list[str], Path, subprocess.Popen, float]] = []
    while pending or running:
        while pending and len(running) < PARALLEL:
            name, cmd, out = pending.pop(0)
            LOG.info("example-plots: %s", " ".join(cmd))
            with open(out / "run.log", "w") as log:  # the child keeps its own handle
                proc = subprocess.Popen(
                    cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            running.append((name, cmd, out, proc, time.monotonic()))
        time.sleep(0.2)
        for item in list(running):
            name, cmd, out, proc, started = item
            code = proc.poll()
            if code is None and time.monotonic() - started < TIMEOUT:
                continue
            if code is None:
                proc.kill()
                proc.wait()
            running.remove(item)
            if code == 0:
                (out / "stamp.txt").write_text(stamp)
                results[name] = RunResult(name, out, "quick")
            else:
                tail = (out / "run.log").read_text(errors="replace")[-2000:]
                reason = f"exit code {code}" if code is not None else f"no end in {TIMEOUT} s"
                results[name] = RunResult(name, problem=f"the quick run failed ({reason})")
                warn("example-plots: %s: %s\n%s", " ".join(cmd), reason, tail)
    return results


def from_runs_folder(folder: Path, names: list[str]) -> dict[str, RunResult]:
    """Outputs of earlier runs, ``folder/NAME/*.png``, for instance full runs in ``runs``."""
    results = {}
    for name in names:
        if (folder / name).is_dir():
            results[name] = RunResult(name, folder / name, f"the run in {folder / name}")
        else:
            results[name] = RunResult(name, problem=f"{folder / name} does not exist")
    return results


def collect_runs(app) -> None:
    """builder-inited: make or find every example's outputs before any page is read."""
    root = Path(app.confdir).resolve().parent
    examples = app.config.fnn_examples
    choice = os.environ.get(ENV_VAR, "quick")
    if choice == "off":
        problem = f"the site was built with {ENV_VAR}=off"
        runs = {n: RunResult(n, problem=problem) for n in examples}
    elif choice == "quick":
        runs = run_quick(root, Path(app.confdir) / "_build" / "examples", examples)
    else:
        runs = from_runs_folder(Path(choice).resolve(), list(examples))
    RUNS.clear()
    RUNS.update(runs)


class ExamplePlots(SphinxDirective):
    """``example-plots NAME`` with ``:images: a.png b.png``: the PNGs, or why not."""

    required_arguments = 1
    option_spec = {"images": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        self.env.note_reread()  # the runs may change between builds
        if name not in RUNS:
            raise self.error(f"example-plots: {name!r} is not in conf.py's fnn_examples")
        result = RUNS[name]
        command = f"python examples/{name}.py --quick --out runs/{name}"
        if result.folder is None:
            para = nodes.paragraph()
            para += nodes.Text(f"No plots in this build: {result.problem}. Run ")
            para += nodes.literal(text=command)
            para += nodes.Text(" to see them.")
            return [nodes.note("", para)]
        doc_dir = Path(self.env.doc2path(self.env.docname)).parent
        figures: list[nodes.Node] = []
        for image in self.options["images"].split():
            png = result.folder / image
            if not png.is_file():
                raise self.error(f"example-plots: {name} wrote no {image} in {result.folder}")
            figure = nodes.figure()
            figure += nodes.image(uri=os.path.relpath(png, doc_dir), alt=f"{name}: {image}")
            caption = nodes.caption()
            caption += nodes.literal(text=image)
            if result.source == "quick":
                caption += nodes.Text(" from ")
                caption += nodes.literal(text=command)
                caption += nodes.Text(", seconds of training on a small slice")
            else:
                caption += nodes.Text(f" from {result.source}")
            figure += caption
            figures.append(figure)
        return figures


def setup(app):
    app.add_config_value("fnn_examples", {}, "env")
    app.add_directive("example-plots", ExamplePlots)
    app.connect("builder-inited", collect_runs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
