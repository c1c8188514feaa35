"""No timing figures in fnn's comments and docstrings: they live in benchmarks/README.md.

Speed is measured in ``benchmarks/`` and the figures are recorded in
``benchmarks/README.md`` and in commit bodies; a figure in a comment goes stale the day
numpy, OpenBLAS or the machine changes. Comments and docstrings say what a choice is
and why, and point to the README for the measurements.

Comments are read with ``tokenize``, docstrings (and other bare string statements) with
``ast``, so code and string literals that are not documentation are never flagged.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fnn"

FIGURES = (
    # a time or a throughput: "4.7 ns", "2,500 us", "1.9 -> 0.5 ms", "178 GFLOP/s"
    re.compile(r"\d[\d.,]*\s?(ms|us|µs|ns|GFLOP/s)\b"),
    # a measured speed ratio: "2.5x slower", "15x faster"
    re.compile(r"\d+(\.\d+)?x (faster|slower)\b"),
)


def _comments(source: str) -> Iterator[tuple[int, str]]:
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def _docstrings(source: str) -> Iterator[tuple[int, str]]:
    """Each line of every bare string statement (module, class and function docstrings,
    attribute docstrings), with its line number in the file."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for i, line in enumerate(node.value.value.splitlines()):
                yield node.lineno + i, line


def figures_in(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment or docstring line of ``source`` carrying a figure."""
    hits = []
    for line, text in (*_comments(source), *_docstrings(source)):
        if any(p.search(text) for p in FIGURES):
            hits.append((line, text.strip()))
    return sorted(hits)


def test_scanner_finds_figures_in_comments_and_docstrings():
    source = (
        '"""Module.\n\nRuns 2.5x faster than before.\n"""\n'
        "X = 1  # 4.7 against 9.0 ns per row\n"
        "def f():\n"
        '    """The product alone runs at ~178 GFLOP/s."""\n'
        "    # measured 1.9 -> 0.5 ms\n"
        '    return "12 ms"  # a string literal is code, not documentation\n'
    )
    assert [line for line, _ in figures_in(source)] == [3, 5, 7, 8]


def test_scanner_keeps_sizes_and_descriptions():
    source = (
        '"""Blocks of 64 KiB stay in L2; OpenBLAS multiplies this layout faster.\n\n'
        "The 128 x 512 select runs many times slower mixed (benchmarks/README.md).\n"
        '"""\n'
        "TIMEOUT = 30  # seconds per socket operation\n"
        "# 3 units, 5 items, x**3 is slower than x*x*x\n"
    )
    assert figures_in(source) == []


def test_no_timing_figures_in_fnn_comments_or_docstrings():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, text in figures_in(path.read_text(encoding="utf-8")):
            hits.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not hits, (
        "timing figures in comments or docstrings (record them in benchmarks/README.md "
        "and say what and why in the code instead):\n" + "\n".join(hits)
    )
