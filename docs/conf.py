"""Sphinx configuration of fnn's documentation.

Build the HTML site (``pip install -e '.[docs]'`` first) with

    python -m sphinx -W -b html docs docs/_build/html

The API reference is generated from the docstrings (autodoc, napoleon); the guides are
Markdown (myst-parser). Building runs each example's ``--quick`` mode once for its plots
(``docs/_ext/example_plots.py`` tells how to skip that or use full runs instead).
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # this checkout's fnn, installed or not

project = "fnn"
author = "the fnn developers"
copyright = "the fnn developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "myst_parser",
    "api_listing",
    "example_plots",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]

# Markdown: `#section` links between pages, and $...$ is left alone (fnn code uses $ in
# shell lines, never for maths).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autosummary_generate = False  # the tables link to entries on the same page
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "furo"
html_title = "fnn"
html_static_path: list[str] = []

# The API reference: one generated page per module (docs/_ext/api_listing.py). An
# optional module is skipped while it does not exist.
fnn_api_modules = [
    {"module": "fnn"},
    {"module": "fnn.config"},
    {
        "module": "fnn.numpy",
        "note": "Also numpy's own: the dtypes ``float16`` to ``complex128``, ``bool_``, "
        "``dtype``, ``finfo``, ``iinfo``, ``issubdtype`` and the constants ``pi``, ``e``, "
        "``inf``, ``nan``, ``newaxis``.",
    },
    {"module": "fnn.numpy.linalg"},
    {"module": "fnn.numpy.fft", "optional": True},
    {"module": "fnn.lax"},
    {"module": "fnn.random"},
    {"module": "fnn.scipy.special"},
    {"module": "fnn.scipy.stats", "optional": True},
    {"module": "fnn.tree_util"},
    {"module": "fnn.nn"},
    {"module": "fnn.nn.initializers"},
    {"module": "fnn.nn.losses"},
    {"module": "fnn.optim"},
    {"module": "fnn.pde"},
    {"module": "fnn.data"},
    {"module": "fnn.train"},
    {"module": "fnn.distributed"},
]

# The examples whose plots the guide shows (docs/_ext/example_plots.py): arguments added
# to `--quick --out DIR`, and whether the run reads MNIST.
fnn_examples = {
    "mlp_mnist": {"needs_mnist": True},
    "cnn_mnist": {"needs_mnist": True},
    "vit_mnist": {"needs_mnist": True},
    "gan_mnist": {"needs_mnist": True},
    "transformer_encoder": {},
    "transformer_seq2seq": {},
    "char_lm": {},
    "pinn_burgers": {},
    "pinn_burgers_identify": {},
    "pinn_kdv": {},
    "pinn_poisson_highdim": {},
}


def _records_under_their_index(app, docname, source):
    """Nest the experiment records under their index page in the site's navigation.

    ``experiments/README.md`` stays plain Markdown for readers of the repository; the
    site's reader gets its (hidden) table of contents added here.
    """
    if docname == "experiments/README":
        source[0] += "\n\n```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"


def setup(app):
    app.connect("source-read", _records_under_their_index)
