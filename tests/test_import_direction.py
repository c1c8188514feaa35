"""Imports point one way: a part of fnn imports only parts below it, there are no
import cycles between parts, no import hides inside a function, and no module assigns
into another module of fnn (a late-bound hook).

The layers, bottom first (docs/architecture.md): config; core (abstract values, the
concrete Array, primitives, traces); jaxpr; lowering; rules (the transforms' rule
tables); tree_util; lax (the primitives); transforms (the interpreters); backend (jit);
numpy, scipy, random; nn, optim, pde; distributed (collectives over processes);
data, train.
"""

from __future__ import annotations

import ast
import pathlib

import fnn

ROOT = pathlib.Path(fnn.__file__).parent

_CORE = {"config", "core", "jaxpr", "lowering", "rules", "tree_util"}
# Which top-level parts of fnn each part may import (besides itself).
BELOW = {
    "config": set(),
    "_malloc": set(),
    "core": {"config"},
    "jaxpr": {"core", "config"},
    "lowering": set(),
    "rules": {"core"},
    "tree_util": {"core"},
    "lax": _CORE,
    "transforms": _CORE | {"lax"},
    "backend": _CORE | {"lax"},
    "numpy": _CORE | {"lax"},
    "scipy": {"config", "core", "lax", "numpy"},
    "random": {"config", "core", "lax", "numpy"},
    "nn": {"config", "core", "tree_util", "lax", "numpy", "scipy", "random", "fnn"},
    "optim": {"config", "core", "tree_util", "transforms", "backend", "numpy"},
    "pde": {"fnn", "numpy"},
    # Collectives over processes are primitives (lax) whose impls call MPI.
    "distributed": _CORE | {"lax"},
    # Batches are sharded over processes, and only the main process writes files.
    "data": {"tree_util", "random", "train", "distributed"},
    "train": {"tree_util", "distributed"},
}
# The one place that sets attributes on a class defined below it: fnn.numpy gives
# Array and Tracer (fnn.core) their numpy-style methods, as jax.numpy does for jax.Array.
ALLOWED_INSTALLERS = {"numpy/array_methods.py"}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "fnn"


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "fnn":
                names = [f"fnn.{a.name}" for a in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            if name.startswith("fnn"):
                yield name, node


def test_every_part_imports_only_parts_below_it():
    wrong = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "__init__.py":
            continue  # the public face re-exports everything
        here = rel.parts[0].removesuffix(".py")
        for name, node in _imports(path):
            there = _part(name)
            if there in (here, "fnn") and not (here == "nn" and there == "fnn"):
                continue
            if there not in BELOW.get(here, set()):
                wrong.append(f"{rel}:{node.lineno} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_layers_have_no_cycle():
    done: set[str] = set()

    def visit(part: str, path: tuple[str, ...]):
        if part in path:
            raise AssertionError("cycle: " + " -> ".join((*path, part)))
        if part in done:
            return
        for below in BELOW.get(part, set()) - {"fnn"}:
            visit(below, (*path, part))
        done.add(part)

    for part in BELOW:
        visit(part, ())


def test_no_function_local_import_dodges_a_cycle():
    local = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for name, node in _imports(path):
            if node.col_offset > 0:
                local.append(f"{rel}:{node.lineno} imports {name} inside a function")
    assert not local, "\n".join(local)


def test_the_rule_checker_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from fnn.numpy import asarray\n")
    ((name, node),) = list(_imports(bad))
    assert name == "fnn.numpy" and node.col_offset > 0


def _fnn_module_names(tree: ast.Module) -> set[str]:
    """Names a module binds to fnn modules or classes (``from fnn import core``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fnn"):
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {
                a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("fnn")
            }
    return names


def _hooks(path: pathlib.Path, rel: str) -> list[str]:
    """Assignments (and setattr calls) into an attribute of an imported fnn module."""
    tree = ast.parse(path.read_text())
    imported = _fnn_module_names(tree)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "setattr" and rel not in ALLOWED_INSTALLERS:
                targets = [ast.Attribute(value=node.args[0], attr="?")]
        for t in targets:
            root = t
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(t, ast.Attribute) and isinstance(root, ast.Name) and root.id in imported:
                found.append(f"{rel}:{node.lineno} assigns into {ast.unparse(t)}")
    return found


def test_no_module_assigns_into_another():
    hooks = []
    for path in ROOT.rglob("*.py"):
        hooks += _hooks(path, path.relative_to(ROOT).as_posix())
    assert not hooks, "\n".join(hooks)


def test_the_hook_checker_sees_a_hook(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from fnn import core\nfrom fnn.transforms import jvp\n"
        "core.wrap_array = len\nsetattr(jvp.JVPTrace, 'x', 1)\n"
    )
    assert len(_hooks(bad, "bad.py")) == 2
