"""``import fnn`` gives the whole library: every subpackage is an attribute of ``fnn``,
checked in a fresh interpreter (a test process has imported most of them already)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SUBPACKAGES = ("nn", "optim", "data", "train", "random", "lax", "scipy", "pde", "numpy")
LAZY = ("nn", "optim", "data", "train")


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it prints one JSON value, returned here."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_subpackage_is_an_attribute_after_import_fnn():
    code = (
        "import json, types, fnn\n"
        f"names = {SUBPACKAGES!r}\n"
        "print(json.dumps({n: [type(getattr(fnn, n)) is types.ModuleType,"
        " getattr(fnn, n).__name__] for n in names}))"
    )
    found = _fresh(code)
    assert found == {n: [True, f"fnn.{n}"] for n in SUBPACKAGES}


def test_the_layers_above_numpy_load_on_first_use():
    # Laziness is the point of fnn.__getattr__: `import fnn` alone must not load them.
    code = (
        "import json, sys, fnn\n"
        f"lazy = {LAZY!r}\n"
        "before = [f'fnn.{n}' in sys.modules for n in lazy]\n"
        "fnn.optim.adam, fnn.nn.Dense\n"
        "after = [f'fnn.{n}' in sys.modules for n in lazy]\n"
        "print(json.dumps([before, after]))"
    )
    before, after = _fresh(code)
    assert before == [False] * len(LAZY)
    # fnn.optim and fnn.nn are loaded now; fnn.data and fnn.train still wait.
    assert after == [True, True, False, False]


def test_from_fnn_import_and_dir_see_the_lazy_subpackages():
    code = (
        "import json, fnn\n"
        "from fnn import data, train\n"
        "print(json.dumps([data is fnn.data, train is fnn.train, sorted(set(dir(fnn)) & "
        f"set({SUBPACKAGES!r}))]))"
    )
    same_data, same_train, listed = _fresh(code)
    assert same_data and same_train
    assert listed == sorted(SUBPACKAGES)


def test_an_unknown_attribute_still_raises_attribute_error():
    import fnn

    with pytest.raises(AttributeError, match="no attribute 'not_a_part'"):
        fnn.not_a_part  # noqa: B018
    assert not hasattr(fnn, "not_a_part")
