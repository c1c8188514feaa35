"""The ``fnn-api`` directive: one module's public names, summarised and documented.

``.. fnn-api:: fnn.numpy`` writes an autosummary table of the module's public names
(one line each, linking below) and then an ``autofunction``/``autoclass``/``autodata``
entry per name, so the reference follows the code: a function another engineer adds
to ``fnn.numpy`` appears in the next build without editing the docs.

A module's public names are its ``__all__`` when it has one; otherwise every name not
starting with ``_`` that is a function or class defined inside fnn, or an instance of a
class defined inside fnn (``fnn.numpy.r_``). Submodules, and numpy's own dtypes and
constants that ``fnn.numpy`` re-exports (``float32``, ``pi``), are left out: the page
text names them.

When the build starts, ``write_pages`` writes one page per module of ``conf.py``'s
``fnn_api_modules`` into ``docs/api/`` (generated, not committed): the module's
docstring, an optional note, then the listing. A module marked optional that does not
exist yet is skipped, so a subpackage joins the reference the day it lands.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def _from_fnn(obj: object) -> bool:
    return str(getattr(obj, "__module__", "") or "").split(".")[0] == "fnn"


def public_names(module: types.ModuleType) -> list[str]:
    """The names the reference documents for ``module``, sorted case-insensitively.

    Example:
        >>> import fnn.random
        >>> "normal" in public_names(fnn.random)
        True
    """
    names = getattr(module, "__all__", None)
    if names is None:
        names = []
        for name, obj in vars(module).items():
            if name.startswith("_") or isinstance(obj, types.ModuleType):
                continue
            if inspect.isroutine(obj) or inspect.isclass(obj):
                if _from_fnn(obj):
                    names.append(name)
            elif _from_fnn(type(obj)):
                names.append(name)
    return sorted(set(names), key=lambda n: (n.lower(), n))


def entry_kind(obj: object) -> str:
    """The autodoc directive that documents ``obj``: function, class or data.

    Example:
        >>> entry_kind(len), entry_kind(int), entry_kind(3)
        ('function', 'class', 'data')
    """
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj) or (callable(obj) and hasattr(obj, "__wrapped__")):
        return "function"
    return "data"


def listing_rst(modname: str, exclude: set[str] = frozenset()) -> list[str]:
    """The reStructuredText that documents every public name of ``modname``.

    Example:
        >>> lines = listing_rst("fnn.tree_util")
        >>> ".. autofunction:: fnn.tree_util.tree_map" in lines
        True
    """
    module = importlib.import_module(modname)
    names = [n for n in public_names(module) if n not in exclude]
    lines = [f".. currentmodule:: {modname}", "", ".. autosummary::", ""]
    lines += [f"   {name}" for name in names]
    lines.append("")
    for name in names:
        kind = entry_kind(getattr(module, name))
        lines.append(f".. auto{kind}:: {modname}.{name}")
        if kind == "class":
            lines.append("   :members:")
        lines.append("")
    return lines


class FnnApi(SphinxDirective):
    """``.. fnn-api:: MODULE`` with an optional ``:exclude: name, name``."""

    required_arguments = 1
    option_spec = {"exclude": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        exclude = {n.strip() for n in self.options.get("exclude", "").split(",") if n.strip()}
        module = importlib.import_module(modname)
        if getattr(module, "__file__", None):
            self.env.note_dependency(module.__file__)
        content = StringList(listing_rst(modname, exclude), source=f"<fnn-api {modname}>")
        container = nodes.container()
        nested_parse_with_titles(self.state, content, container)
        return container.children


def fill_missing_docstring(app, what, name, obj, options, lines) -> None:
    """autodoc-process-docstring: say where the semantics of an undocumented name are.

    ``fnn.numpy`` follows numpy and ``fnn.lax`` follows ``jax.lax`` by design, so an
    entry without a docstring there points to the function it mirrors, and says that
    fnn's own docstring is still missing.

    Example:
        >>> lines = []
        >>> fill_missing_docstring(None, "function", "fnn.numpy.floor", None, {}, lines)
        >>> lines[0]
        "numpy's ``numpy.floor`` on fnn arrays (no docstring of its own yet)."
    """
    if lines or what != "function":
        return
    module, _, short = name.rpartition(".")
    if module == "fnn.numpy":
        lines.append(f"numpy's ``numpy.{short}`` on fnn arrays (no docstring of its own yet).")
    elif module == "fnn.lax":
        lines.append(f"Named after ``jax.lax.{short}`` (no docstring of its own yet).")


def page_rst(modname: str, note: str = "") -> str:
    """The source of one generated API page.

    Example:
        >>> print(page_rst("fnn.pde").splitlines()[:2])
        ['fnn.pde', '=======']
    """
    lines = [modname, "=" * len(modname), "", f".. automodule:: {modname}", ""]
    if note:
        lines += [note, ""]
    lines += [f".. fnn-api:: {modname}", ""]
    return "\n".join(lines)


def module_exists(modname: str) -> bool:
    """True when ``modname`` imports; False only when that very module is missing."""
    try:
        importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name is not None and (modname == e.name or modname.startswith(e.name + ".")):
            return False
        raise
    return True


def write_pages(app) -> None:
    """builder-inited: one page per module in ``docs/api/``, rewritten only on change."""
    folder = Path(app.srcdir) / "api"
    folder.mkdir(exist_ok=True)
    wanted = {}
    for entry in app.config.fnn_api_modules:
        modname, optional, note = entry["module"], entry.get("optional"), entry.get("note", "")
        if optional and not module_exists(modname):
            continue
        wanted[f"{modname}.rst"] = page_rst(modname, note)
    for stale in set(p.name for p in folder.glob("*.rst")) - set(wanted):
        (folder / stale).unlink()
    for name, text in wanted.items():
        path = folder / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)


def setup(app):
    app.add_config_value("fnn_api_modules", [], "env")
    app.add_directive("fnn-api", FnnApi)
    app.connect("builder-inited", write_pages)
    app.connect("autodoc-process-docstring", fill_missing_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
