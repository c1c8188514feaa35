"""The test command prints its summary line ("N passed in ...") with and without -q.

pytest's ``-q`` counts: an ``addopts = "-q"`` in pyproject.toml plus the user's own
``-q`` makes ``-qq``, which drops the summary line. These tests run pytest on a small
test file in a subprocess, as a user or CI would, and read what it prints.
"""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBSET = "tests/test_tree_util.py"
TIMEOUT = 300.0  # seconds; the run takes a few


@functools.cache
def _pytest(*args: str) -> str:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)  # the project's settings alone, not the caller's
    cmd = [sys.executable, "-m", "pytest", *args, SUBSET]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _summary(out: str) -> re.Match | None:
    return re.search(r"^=*\s*(\d+) passed\b.* in \d+(\.\d+)?s", out, re.MULTILINE)


@pytest.mark.parametrize("args", [(), ("-q",)], ids=["plain", "-q"])
def test_summary_line_printed(args):
    out = _pytest(*args)
    summary = _summary(out)
    assert summary is not None, out
    assert int(summary.group(1)) > 10  # the subset's tests, counted
    assert "failed" not in summary.group(0)


def test_plain_run_is_not_quiet():
    # Verbosity 0 names each file; -q drops the names, so addopts holds no -q of its own.
    assert re.search(r"^tests/test_tree_util\.py \.+", _pytest(), re.MULTILINE), _pytest()
    assert "test_tree_util.py" not in _pytest("-q")
