"""Every primitive carries a complete jit lowering record (``fnn/lowering.py``)."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import fnn
from fnn import core, lowering
from fnn.lowering import FRESH, INTERPRETED, UNKNOWN, VIEW


def all_primitives() -> list[core.Primitive]:
    """Every primitive defined anywhere in fnn (fnn.lax, fnn.transforms, fnn.scipy,
    fnn.distributed, ...); fnn.distributed._mpi needs the optional mpi4py."""
    found = {}
    for info in pkgutil.walk_packages(fnn.__path__, "fnn."):
        if info.name.endswith("._mpi"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, core.Primitive):
                found[id(value)] = value
    return sorted(found.values(), key=lambda p: p.name)


PRIMITIVES = all_primitives()


def test_the_primitives_are_found():
    names = {p.name for p in PRIMITIVES}
    assert {"add", "dot_general", "gather", "scan", "custom_lin"} <= names
    assert len(PRIMITIVES) > 80


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_every_primitive_has_a_lowering_record(prim):
    record = lowering.lowerings.get(prim)
    assert record is not None, f"{prim.name} has no lowering record (register one in fnn/lax)"
    if record is INTERPRETED:
        return  # an impl call, its result assumed to share memory with any input
    assert record.memory in (FRESH, VIEW, UNKNOWN) or callable(record.memory)
    if record.ufunc is not None:
        assert isinstance(getattr(np, record.ufunc), np.ufunc)
        assert record.memory == FRESH and record.elementwise
    if record.elementwise:
        assert record.split is not None, f"{prim.name}: elementwise but no split rule"
    assert record.emit is None or callable(record.emit)
    for name, helper in record.helpers.items():
        assert name.startswith("_") and helper is not None


def test_a_primitive_registers_once():
    with pytest.raises(ValueError, match="registered twice"):
        lowering.register(fnn.lax.elementwise.add_p, lowering.Lowering())
