"""The README's Python snippets run as written (each block in a fresh namespace)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


def _mnist_available() -> bool:
    from fnn import data

    try:
        data.mnist(download=False)
    except (FileNotFoundError, ValueError):
        return False
    return True


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, capsys, tmp_path, monkeypatch):
    code = BLOCKS[index]
    if "data.mnist()" in code and not _mnist_available():
        pytest.skip("MNIST is not available offline here (set FNN_DATA_DIR)")
    monkeypatch.chdir(tmp_path)  # blocks may write files (plots)
    exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    if "print(grads" in code:
        assert "(3, 2) (2,)" in out
    if "tracing" in code:
        assert out.count("tracing") == 1
    if "data.mnist()" in code:
        assert float(out.split("test accuracy")[1]) > 0.85
        assert (tmp_path / "mnist_loss.png").stat().st_size > 1000
