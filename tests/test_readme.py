"""The README's Python snippets run as written (each block in a fresh namespace)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, capsys):
    code = BLOCKS[index]
    exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    if "print(grads" in code:
        assert "(3, 2) (2,)" in out
    if "tracing" in code:
        assert out.count("tracing") == 1
