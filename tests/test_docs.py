"""The documentation's guides run as written, and the site's generators cover the code.

Every ```` ```python ```` block of a guide (each Markdown page of ``docs/`` but the
architecture map and the experiment records) runs, in order, in one namespace per page,
as a reader pasting them one after another would. A ```` ```text ```` block right after
a python block is that block's exact printed output. The site itself is built by
``.ci/run`` (``python -m sphinx -W -b html docs docs/_build/html``); the tests below
check the pieces of it that decide what the site shows: which names the API reference
lists and where the example plots come from.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import runpy
import sys
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

import fnn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOT_GUIDES = {"architecture.md"}  # its blocks are excerpts of the code, not a session
GUIDES = sorted(
    p
    for p in DOCS.glob("*.md")
    if p.name not in NOT_GUIDES and "```python" in p.read_text(encoding="utf-8")
)
# A fenced block: its opening line's language, its body, and the text after it.
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)

sys.path.insert(0, str(DOCS / "_ext"))
import api_listing  # noqa: E402
import example_plots  # noqa: E402


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, code, expected output or None)`` for each python block of a page."""
    fences = list(FENCE.finditer(text))
    blocks = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        expected = None
        following = fences[i + 1] if i + 1 < len(fences) else None
        if (
            following is not None
            and following.group(1) == "text"
            and not text[fence.end() : following.start()].strip()
        ):
            expected = following.group(2)
        blocks.append((text.count("\n", 0, fence.start()) + 2, fence.group(2), expected))
    return blocks


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_python_blocks_are_found_with_their_outputs():
    page = "A\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n```bash\nls\n```\n"
    page += "```python\nx = 2\n```\nprose\n```text\nnot an output\n```\n"
    assert python_blocks(page) == [(4, "print(1)\n", "1\n"), (15, "x = 2\n", None)]


def test_every_guide_is_checked():
    names = {p.name for p in GUIDES}
    for guide in ("quickstart.md", "jit.md", "training.md", "pinns.md"):
        assert guide in names, f"docs/{guide} has no python block to run"


# fnn.config's options and their values in a fresh process without FNN_* variables: the
# pages show what a user sees by default (CI runs the suite with FNN_JIT_CHECK=1, which
# changes the generated code a page prints).
DEFAULTS = {
    "enable_x64": False,
    "jit_check": False,
    "jit_check_calls": 0,
    "jit_threads": 1,
    "jit_arena_mb": 1024.0,
}
ATTRIBUTES = {
    "enable_x64": "x64_enabled",
    "jit_check": "jit_check",
    "jit_check_calls": "jit_check_calls",
    "jit_threads": "jit_threads",
    "jit_arena_mb": "jit_arena_mb",
}


@pytest.fixture
def default_config():
    saved = {name: getattr(fnn.config, attr) for name, attr in ATTRIBUTES.items()}
    for name, value in DEFAULTS.items():
        fnn.config.update(name, value)
    yield
    for name, value in saved.items():
        fnn.config.update(name, value)


@pytest.mark.parametrize("page", GUIDES, ids=lambda p: p.name)
def test_guide_blocks_run_and_print_what_the_page_shows(
    page, tmp_path, monkeypatch, capsys, default_config
):
    monkeypatch.chdir(tmp_path)  # blocks may write files (plots, checkpoints)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    assert blocks
    for line, code, expected in blocks:
        where = f"docs/{page.name}, the block at line {line}"
        # Padded so that tracebacks, and the source lines jit's generated code names,
        # give the line in the page.
        exec(compile("\n" * (line - 1) + code, page.name, "exec"), namespace)
        out = capsys.readouterr().out
        if expected is not None:
            assert _lines(out) == _lines(expected), f"{where} printed:\n{out}"


# -- the API reference ---------------------------------------------------------------------

CONF = runpy.run_path(str(DOCS / "conf.py"))
LISTED = {entry["module"] for entry in CONF["fnn_api_modules"]}
INTERNAL = {"fnn.backend", "fnn.transforms"}  # the machinery: docs/architecture.md
NAMESPACES = {"fnn.scipy"}  # holds only modules that have pages of their own


def test_every_public_package_has_a_reference_page():
    packages = {
        info.name
        for info in pkgutil.walk_packages(fnn.__path__, "fnn.")
        if info.ispkg and not any(part.startswith("_") for part in info.name.split("."))
    }
    missing = packages - LISTED - INTERNAL - NAMESPACES
    assert not missing, f"add these to fnn_api_modules in docs/conf.py: {sorted(missing)}"


def test_reference_lists_every_function_a_module_exports():
    import fnn.numpy as fnp

    lines = api_listing.listing_rst("fnn.numpy")
    for name in ("sum", "where", "einsum", "asarray", "ndarray"):
        assert f"   {name}" in lines
    assert ".. autofunction:: fnn.numpy.sum" in lines
    assert ".. autoclass:: fnn.numpy.ndarray" in lines
    # numpy's own dtypes and constants are named in the page's note, not documented.
    assert "float32" not in api_listing.public_names(fnp)
    assert "pi" not in api_listing.public_names(fnp)
    # A module with __all__ lists exactly that.
    import fnn.random

    assert api_listing.public_names(fnn.random) == sorted(
        set(fnn.random.__all__), key=lambda n: (n.lower(), n)
    )


def test_reference_skips_an_optional_module_until_it_exists(tmp_path, monkeypatch):
    assert api_listing.module_exists("fnn.numpy")
    assert not api_listing.module_exists("fnn.no_such_module")
    # A module that exists but imports a missing package is an error, not "absent".
    (tmp_path / "docs_probe").mkdir()
    (tmp_path / "docs_probe" / "__init__.py").write_text("")
    (tmp_path / "docs_probe" / "broken.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not api_listing.module_exists("docs_probe.absent")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
        api_listing.module_exists("docs_probe.broken")


def test_every_listed_module_imports():
    for entry in CONF["fnn_api_modules"]:
        if not entry.get("optional"):
            importlib.import_module(entry["module"])


# -- the example plots ---------------------------------------------------------------------


def test_examples_in_the_guide_are_the_configured_ones():
    text = (DOCS / "examples.md").read_text(encoding="utf-8")
    shown = re.findall(r"^```\{example-plots\} (\w+)", text, flags=re.M)
    assert sorted(shown) == sorted(CONF["fnn_examples"])
    for name in shown:
        assert (ROOT / "examples" / f"{name}.py").is_file()


def test_quick_runs_are_reused_until_an_example_changes(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "examples").mkdir(parents=True)
    script = root / "examples" / "tiny.py"
    # A stand-in example: writes a PNG's magic bytes and counts its runs.
    script.write_text(
        "import sys, pathlib\n"
        "out = pathlib.Path(sys.argv[sys.argv.index('--out') + 1])\n"
        "out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'plot.png').write_bytes(b'\\x89PNG' + b'.' * 10)\n"
        "n = out / 'count'\n"
        "n.write_text(str(int(n.read_text()) + 1 if n.exists() else 1))\n"
        "assert '--quick' in sys.argv and '--flag' in sys.argv\n"
    )
    cache = tmp_path / "cache"
    spec = {"tiny": {"args": ["--flag"]}}
    first = example_plots.run_quick(root, cache, spec)["tiny"]
    assert first.folder == cache / "tiny" and first.problem == ""
    assert (cache / "tiny" / "plot.png").read_bytes().startswith(b"\x89PNG")
    example_plots.run_quick(root, cache, spec)
    assert (cache / "tiny" / "count").read_text() == "1"  # cached
    script.write_text(script.read_text() + "# changed\n")
    example_plots.run_quick(root, cache, spec)
    assert (cache / "tiny" / "count").read_text() == "2"  # stale: ran again


def test_a_failed_quick_run_is_reported(tmp_path):
    root = tmp_path / "repo"
    (root / "examples").mkdir(parents=True)
    (root / "examples" / "broken.py").write_text("raise SystemExit(3)\n")
    messages = []
    result = example_plots.run_quick(
        root, tmp_path / "cache", {"broken": {}}, warn=lambda *a: messages.append(a)
    )["broken"]
    assert result.folder is None and "exit code 3" in result.problem
    assert messages, "a failed run must be a warning (a -W build then fails)"


def test_examples_needing_mnist_are_not_run_without_it(tmp_path, monkeypatch):
    monkeypatch.setattr(example_plots, "mnist_on_disk", lambda: False)
    (tmp_path / "examples").mkdir()
    result = example_plots.run_quick(tmp_path, tmp_path / "c", {"x": {"needs_mnist": True}})
    assert result["x"].folder is None and "MNIST" in result["x"].problem


def test_plots_can_come_from_earlier_full_runs(tmp_path):
    (tmp_path / "mlp_mnist").mkdir()
    found = example_plots.from_runs_folder(tmp_path, ["mlp_mnist", "vit_mnist"])
    assert found["mlp_mnist"].folder == tmp_path / "mlp_mnist"
    assert found["vit_mnist"].folder is None and "does not exist" in found["vit_mnist"].problem


# -- the two directives in a site of one page ---------------------------------------------

MINI_CONF = f"""
import sys
sys.path.insert(0, {str(DOCS / "_ext")!r})
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "api_listing", "example_plots"]
fnn_examples = {{"demo": {{}}}}
fnn_api_modules = [{{"module": "fnn.tree_util"}}]
"""
MINI_INDEX = """Demo
====

.. toctree::

   api/fnn.tree_util

.. example-plots:: demo
   :images: plot.png
"""


# Sphinx's own napoleon uses an interface Sphinx deprecates; nothing of ours.
sphinx_warnings = pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options")


def _build_mini_site(tmp_path, monkeypatch, examples: str) -> str:
    src, out = tmp_path / "src", tmp_path / "html"
    src.mkdir()
    (src / "conf.py").write_text(MINI_CONF)
    (src / "index.rst").write_text(MINI_INDEX)
    monkeypatch.setenv("FNN_DOCS_EXAMPLES", examples)
    assert build_main(["-W", "-q", "-b", "html", str(src), str(out)]) == 0
    assert (src / "api" / "fnn.tree_util.rst").is_file()  # written when the build started
    api = (out / "api" / "fnn.tree_util.html").read_text(encoding="utf-8")
    assert 'id="fnn.tree_util.tree_map"' in api and "autosummary" in api
    return (out / "index.html").read_text(encoding="utf-8")


@sphinx_warnings
def test_a_site_shows_the_plots_of_earlier_runs(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (tmp_path / "runs" / "demo").mkdir(parents=True)
    plt.figure(figsize=(1, 1))
    plt.savefig(tmp_path / "runs" / "demo" / "plot.png")
    plt.close("all")
    page = _build_mini_site(tmp_path, monkeypatch, str(tmp_path / "runs"))
    assert '<img alt="demo: plot.png" src="_images/plot.png"' in page
    assert (tmp_path / "html" / "_images" / "plot.png").is_file()
    assert f"plot.png</span></code> from the run in {tmp_path / 'runs' / 'demo'}" in page


@sphinx_warnings
def test_a_site_built_without_runs_says_how_to_make_the_plots(tmp_path, monkeypatch):
    page = _build_mini_site(tmp_path, monkeypatch, "off")
    assert "<img" not in page
    assert "No plots in this build: the site was built with FNN_DOCS_EXAMPLES=off" in page
    assert '<span class="pre">examples/demo.py</span>' in page  # the command to run
