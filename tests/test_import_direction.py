"""Imports point one way: a package imports only packages below it, and no
function-local import dodges a cycle except the two listed here.

The layers, bottom first (docs/architecture.md): config, core, jaxpr, lowering,
tree_util, array; lax and transforms (the primitives and the interpreters, which still
import each other: see ALLOWED_CYCLE); backend (jit); numpy, scipy, random; nn, optim,
pde; data, train.
"""

from __future__ import annotations

import ast
import pathlib

import fnn

ROOT = pathlib.Path(fnn.__file__).parent

# Which top-level parts of fnn each part may import (besides itself).
BELOW = {
    "config": set(),
    "_malloc": set(),
    "core": {"config"},
    "jaxpr": {"core", "config"},
    "lowering": set(),
    "tree_util": {"core"},
    "array": {"core", "config", "tree_util"},
    "lax": {"config", "core", "jaxpr", "lowering", "tree_util", "transforms"},
    "transforms": {"config", "core", "jaxpr", "lowering", "tree_util", "lax"},
    "backend": {"config", "core", "jaxpr", "lowering", "tree_util", "lax"},
    "numpy": {"config", "core", "jaxpr", "array", "tree_util", "lax"},
    "scipy": {"config", "core", "lax", "numpy"},
    "random": {"config", "core", "array", "lax", "numpy"},
    "nn": {"config", "core", "array", "tree_util", "lax", "numpy", "scipy", "random", "fnn"},
    "optim": {"config", "core", "tree_util", "transforms", "backend", "numpy"},
    "pde": {"fnn", "numpy"},
    "data": {"tree_util", "random", "train"},
    "train": {"tree_util"},
}
# lax registers its rules into the interpreters' tables in transforms, and the
# interpreters call a few lax operations (moveaxis, zeros, add): the one cycle left.
ALLOWED_CYCLE = {("lax", "transforms"), ("transforms", "lax")}
# Function-local imports that each break a cycle.
ALLOWED_LOCAL = {
    ("transforms/jvp.py", "fnn.transforms.custom"),
    ("numpy/_core.py", "fnn.numpy.shape"),
}


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


def test_no_cycles_between_parts_but_the_allowed_one():
    for a, below in BELOW.items():
        for b in below:
            if a in BELOW.get(b, set()) and (a, b) not in ALLOWED_CYCLE:
                raise AssertionError(f"{a} and {b} may import each other")


def test_no_function_local_import_dodges_a_cycle():
    local = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for name, node in _imports(path):
            if node.col_offset > 0 and (rel, name) not in ALLOWED_LOCAL:
                local.append(f"{rel}:{node.lineno} imports {name} inside a function")
    assert not local, "\n".join(local)


def test_the_rule_checker_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from fnn.numpy import asarray\n")
    ((name, node),) = list(_imports(bad))
    assert name == "fnn.numpy" and node.col_offset > 0
