"""fnn.train.progress: tqdm's bar on a terminal, one line per bar in a log, nothing when
disabled; and the examples' --quiet flag."""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from tqdm.std import tqdm

import fnn.numpy as fnp
from fnn.train import Progress, progress

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RATE = r"[0-9.]+it/s"


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal, as a console's stderr does."""

    def isatty(self):
        return True


def frames(text: str) -> list[str]:
    """The frames a terminal shows in turn (each starts with a carriage return)."""
    return [f.rstrip(" \n") for f in text.split("\r")[1:]]


def test_docstring_examples():
    # By name: the attribute fnn.train.progress is the function, not the module.
    module = importlib.import_module("fnn.train.progress")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 15


# -- not a terminal: one line per bar ---------------------------------------------------


def test_log_gets_one_summary_line_with_postfix():
    log = io.StringIO()
    bar = progress(range(5), desc="epoch 1/2", file=log)
    for i in bar:
        bar.set_postfix(loss=1.0 / (i + 1))
    text = log.getvalue()
    assert "\r" not in text
    assert re.fullmatch(rf"epoch 1/2: 100% 5/5 \[00:00<00:00, {RATE}, loss=0\.2\]\n", text)


def test_nothing_written_to_a_log_until_the_bar_closes():
    log = io.StringIO()
    bar = progress(total=10, desc="epoch 1/1", file=log, mininterval=0)
    for _ in range(4):
        bar.update()
        bar.set_postfix(loss=0.5, refresh=True)
    assert log.getvalue() == ""
    bar.close()
    bar.close()  # closing twice writes one line
    assert re.fullmatch(
        rf"epoch 1/1:  40% 4/10 \[00:00<00:00, {RATE}, loss=0\.5\]\n", log.getvalue()
    )


def test_defaults_to_the_current_stderr(capsys):
    list(progress([1, 2], desc="x"))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(rf"x: 100% 2/2 \[00:00<00:00, {RATE}\]\n", captured.err)


def test_several_postfix_values_sorted_by_name_and_numbers_shortened():
    log = io.StringIO()
    with progress(total=1, file=log) as bar:
        bar.update()
        bar.set_postfix(g_loss=1.23456789, d_loss=np.float64(1e-5), code="a")
    assert log.getvalue().endswith(", code=a, d_loss=1e-5, g_loss=1.23]\n")


def test_leave_false_writes_nothing_to_a_log():
    log = io.StringIO()
    list(progress(range(3), file=log, leave=False))
    assert log.getvalue() == ""


def test_loop_left_early_reports_the_steps_done():
    log = io.StringIO()
    for i in progress(range(10), desc="epoch 3/3", file=log):
        if i == 2:
            break
    # Steps 0 and 1 finished; the loop left during step 2.
    assert log.getvalue().startswith("epoch 3/3:  20% 2/10 [")


# -- a terminal: tqdm's live bar ---------------------------------------------------------


def test_terminal_draws_tqdms_bar_in_place():
    term = FakeTTY()
    bar = progress(range(4), desc="epoch 3/10", file=term, mininterval=0)
    seen = []
    for x in bar:
        seen.append(x)
        bar.set_postfix(loss=np.float32(0.5))
    assert seen == [0, 1, 2, 3]
    text = term.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    shown = frames(text)
    assert shown[0] == "epoch 3/10:   0%|          | 0/4 [00:00<?, ?it/s]"
    assert re.fullmatch(
        rf"epoch 3/10:  50%\|#####     \| 2/4 \[00:00<00:00, {RATE}, loss=0\.5\]", shown[2]
    )
    assert re.fullmatch(
        rf"epoch 3/10: 100%\|##########\| 4/4 \[00:00<00:00, {RATE}, loss=0\.5\]", shown[-1]
    )


def test_terminal_redraws_at_most_every_mininterval():
    term = FakeTTY()
    bar = progress(range(1000), file=term, mininterval=60)
    for i in bar:
        bar.set_postfix(step=i)  # no redraw of its own
    # The first frame, then nothing for 60 s, then the last frame when the bar closes.
    shown = frames(term.getvalue())
    assert len(shown) == 2
    assert shown[0].startswith("  0%|          | 0/1000 [")
    assert shown[1].startswith("100%|##########| 1000/1000 [")
    assert shown[1].endswith("step=999]")


def test_set_postfix_takes_fnn_and_numpy_scalars():
    term = FakeTTY()
    bar = progress(total=2, file=term)
    bar.set_postfix(loss=fnp.asarray(0.25), acc=np.array([0.75]), n=np.int64(3), refresh=True)
    assert frames(term.getvalue())[-1].endswith("[00:00<?, ?it/s, acc=0.75, loss=0.25, n=3]")
    bar.set_postfix({"b": fnp.asarray(2.0), "a": "x"})  # a mapping keeps its order
    assert bar.postfix == "b=2, a=x"
    bar.close()


def test_force_draws_live_frames_on_a_log():
    log = io.StringIO()
    with progress(total=3, desc="Adam", file=log, force=True, mininterval=0) as bar:
        bar.update(3)
    assert frames(log.getvalue())[-1].startswith("Adam: 100%|##########| 3/3 [")


# -- unknown total -----------------------------------------------------------------------


def test_unknown_total_on_a_terminal_and_in_a_log():
    term = FakeTTY()
    with progress(total=None, file=term, mininterval=0, unit="batch") as bar:
        bar.update(3)
        bar.set_postfix(loss=0.125)
    assert re.fullmatch(
        r"3batch \[00:00, [0-9.]+batch/s, loss=0\.125\]", frames(term.getvalue())[-1]
    )

    log = io.StringIO()
    for _ in progress((i for i in range(2)), desc="stream", file=log):  # no len()
        pass
    assert re.fullmatch(rf"stream: 2it \[00:00, {RATE}\]\n", log.getvalue())


def test_manual_bar_without_total_or_updates():
    log = io.StringIO()
    progress(file=log).close()
    assert log.getvalue() == "0it [00:00, ?it/s]\n"


# -- quiet -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [FakeTTY, io.StringIO])
def test_disable_true_prints_nothing(stream):
    out = stream()
    assert list(progress(range(3), desc="epoch", file=out, disable=True, force=True)) == [0, 1, 2]
    with progress(total=5, file=out, disable=True) as bar:
        bar.update(5)
        bar.set_postfix(loss=1.0, refresh=True)
        bar.set_description("other")
    assert out.getvalue() == ""


def test_disable_none_is_tqdms_quiet_when_not_a_terminal():
    log = io.StringIO()
    assert list(progress(range(3), file=log, disable=None)) == [0, 1, 2]
    assert log.getvalue() == ""
    term = FakeTTY()
    list(progress(range(3), file=term, disable=None))
    assert frames(term.getvalue())[-1].startswith("100%|##########| 3/3 [")


# -- a tqdm that leaves the process alone ------------------------------------------------


def test_is_a_tqdm_and_starts_no_thread():
    before = threading.active_count()
    bar = progress(range(2), file=io.StringIO())
    assert isinstance(bar, Progress) and isinstance(bar, tqdm)
    list(bar)
    assert threading.active_count() == before


def test_multiprocessing_start_method_stays_free():
    # A plain tqdm bar creates a multiprocessing lock, which fixes the start method.
    code = (
        "import io, multiprocessing as mp\n"
        "from fnn.train import progress\n"
        "list(progress(range(3), file=io.StringIO()))\n"
        "list(progress(range(3), file=io.StringIO(), disable=True))\n"
        "mp.set_start_method('spawn')\n"
        "print(mp.get_start_method())\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "spawn\n"


# -- the examples' --quiet ---------------------------------------------------------------


def _example_scripts() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name
    ]


@pytest.mark.parametrize("script", _example_scripts(), ids=lambda p: p.name)
def test_every_example_takes_quiet_and_passes_it_to_its_bars(script):
    tree = ast.parse(script.read_text())
    # Its flags come from one of the two shared parsers, which both define --quiet.
    assert _calls(tree, "example_args") or _calls(tree, "parse_args"), script.name
    for call in _calls(tree, "progress"):
        assert "disable" in {k.arg for k in call.keywords}, f"{script.name}:{call.lineno}"


def test_shared_parsers_define_quiet():
    sys.path.insert(0, str(EXAMPLES))
    try:
        shared = __import__("_shared")
        pinn = __import__("_pinn")
        assert shared.example_args("demo", "A demo.").parse_args(["--quiet"]).quiet
        assert not shared.example_args("demo", "A demo.").parse_args([]).quiet
        defaults = {"adam_steps": 10, "lbfgs_iters": 10, "out": "runs/x"}
        assert pinn.parse_args(["--quiet"], "A demo.", defaults).quiet
        assert not pinn.parse_args([], "A demo.", defaults).quiet
    finally:
        sys.path.remove(str(EXAMPLES))
        for name in ("_shared", "_pinn"):
            sys.modules.pop(name, None)


def test_example_run_with_quiet_writes_no_bar(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MPLBACKEND": "Agg",
    }
    cmd = [sys.executable, str(EXAMPLES / "pinn_burgers.py"), "--quick", "--out", str(tmp_path)]
    cmd += ["--adam-steps", "20", "--lbfgs-iters", "5"]
    loud = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert re.search(rf"^Adam: 100% 20/20 \[.*{RATE}, loss=", loud.stderr, flags=re.M)
    assert re.search(r"^L-BFGS: .* [0-9]+/5 \[", loud.stderr, flags=re.M)
    quiet = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert "Adam" not in quiet.stderr and "L-BFGS:" not in quiet.stderr and "\r" not in quiet.stderr
    assert quiet.stdout.strip()  # the example's own report still prints
