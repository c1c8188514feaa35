"""``jit(f).lower(*args)``: the optimized program, its source mapped to the user's lines,
and a profile of the time per line."""

from __future__ import annotations

import inspect

import numpy as np

import fnn
import fnn.numpy as fnp


def loss(w, x):
    h = fnp.tanh(x @ w)  # the forward line
    return fnp.sum(h**2)  # the reduction line


LINE_FORWARD = inspect.getsourcelines(loss)[1] + 1
LINE_SUM = LINE_FORWARD + 1
HERE = "test_lower.py"


def lowered():
    w = fnp.asarray(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    x = fnp.ones((16, 8))
    return fnn.jit(fnn.grad(loss)).lower(w, x)


def test_each_generated_line_names_the_users_line():
    source = lowered().source
    body = [line for line in source.splitlines()[2:] if "=" in line]
    assert body and all(f"# {HERE}:" in line for line in body), source
    assert any(f"{HERE}:{LINE_FORWARD} (loss)" in line and "np.tanh" in line for line in body)
    # The backward pass of a line is attributed to that line, not to the grad call.
    matmuls = [line for line in body if "matmul" in line]
    assert len(matmuls) >= 2
    assert all(f"{HERE}:{LINE_FORWARD} (loss)" in line for line in matmuls)


def test_as_text_shows_the_jaxpr_then_the_source():
    low = lowered()
    text = str(low)
    assert text.index("{ lambda") < text.index("def loss(")
    assert "tanh" in text.split("def loss(")[0]


def test_profile_times_every_generated_line_and_names_user_lines():
    low = lowered()
    rows = low.profile(repeats=3, print_report=False)
    statements = [line.strip().split("  # ")[0] for line in low.source.splitlines()[2:]]
    statements = [s for s in statements if s and not s.startswith("return")]
    assert sorted(r.statement for r in rows) == sorted(statements)
    assert all(r.seconds >= 0 for r in rows)
    assert [r.seconds for r in rows] == sorted((r.seconds for r in rows), reverse=True)
    assert {r.source for r in rows} <= {
        f"{HERE}:{LINE_FORWARD} (loss)",
        f"{HERE}:{LINE_SUM} (loss)",
    }


def test_profile_prints_a_report(capsys):
    lowered().profile(repeats=2, top=3)
    out = capsys.readouterr().out
    assert "per user line" in out and f"{HERE}:{LINE_FORWARD} (loss)" in out
