"""Importing fnn and running jitted programs leaves the caller's process as it was.

Each test runs a small training step, split over its batch on two threads, in a fresh
Python process (bounded by a timeout), next to something of the user's that a forked
worker, a process-wide allocator or BLAS setting, or a signal handler would disturb.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

TIMEOUT = 120

# A jitted Adam step of a small MLP, split over its batch on two threads.
STEP = """
import numpy as np
import fnn, fnn.numpy as fnp
from fnn import nn, optim
from fnn.backend import batch_split

batch_split.MIN_MAPPED_ELEMENTS = 0  # split even this small program
fnn.config.update("jit_threads", 2)
model = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(1)])
params = model.init(fnn.random.key(0), (1, 8))
opt = optim.adam(1e-2)
opt_state = opt.init(params)
x = np.random.default_rng(0).standard_normal((512, 8)).astype(np.float32)
y = np.sin(x.sum(axis=1, keepdims=True))

def loss(p, x, y):
    return fnp.mean((model.apply(p, x) - y) ** 2)

@fnn.jit
def step(p, s, x, y):
    value, grads = fnn.value_and_grad(loss)(p, x, y)
    updates, s = opt.update(grads, s, p)
    return optim.apply_updates(p, updates), s, value

assert getattr(step.lower(params, opt_state, x, y).fn, "split", None) is not None

def train(steps):
    global params, opt_state
    for _ in range(steps):
        params, opt_state, value = step(params, opt_state, x, y)
    return float(value)
"""


def run_child(body: str, *, env=None, **kwargs) -> subprocess.CompletedProcess:
    code = STEP + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def test_import_and_jit_fork_nothing_and_touch_no_process_setting():
    """No fork, spawn, subprocess, ctypes call (mallopt, BLAS threads), environment or
    signal-handler change from `import fnn` to the end of a split training step."""
    code = textwrap.dedent(
        """
        import ctypes, os, signal, sys
        import numpy, scipy, scipy.optimize, scipy.special  # not fnn's doing: before the hook
        events = []
        WATCHED = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
                   "os.system", "subprocess.Popen", "ctypes.dlopen", "ctypes.dlsym",
                   "ctypes.cdata", "os.putenv", "os.unsetenv")
        sys.addaudithook(lambda e, a: events.append((e, repr(a)[:80])) if e.startswith(WATCHED) else None)
        env = dict(os.environ)
        handlers = {s: signal.getsignal(s) for s in signal.valid_signals()
                    if s not in (signal.SIGKILL, signal.SIGSTOP)}
        """
    )
    check = textwrap.dedent(
        """
        train(5)
        assert events == [], events
        assert dict(os.environ) == env
        assert {s: signal.getsignal(s) for s in handlers} == handlers
        try:
            os.waitpid(-1, os.WNOHANG)
            raise AssertionError("fnn left a child process")
        except ChildProcessError:
            pass
        print("clean")
        """
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code + STEP + check],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 0 and out.stdout.strip() == "clean", out.stderr


def test_a_user_thread_inside_blas_during_the_first_call_does_not_hang():
    out = run_child(
        """
        import threading
        stop = threading.Event()
        a = np.random.default_rng(1).standard_normal((400, 400))

        def busy():
            while not stop.is_set():
                a @ a  # in OpenBLAS, on its threads

        threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            value = train(10)  # the first call compiles and starts the split's pool
        finally:
            stop.set()
            for t in threads:
                t.join()
        print(np.isfinite(value))
        """
    )
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr


def test_a_pipe_the_user_closes_reaches_end_of_file():
    out = run_child(
        """
        import os, select
        r, w = os.pipe()
        train(3)  # nothing may keep a copy of w open
        os.close(w)
        ready, _, _ = select.select([r], [], [], 10)
        print(bool(ready) and os.read(r, 1) == b"")
        """,
    )
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr


def test_a_listening_port_the_user_closes_can_be_bound_again():
    out = run_child(
        """
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        train(3)
        s.close()
        again = socket.socket()
        again.bind(("127.0.0.1", port))  # EADDRINUSE if a copy of s were still open
        again.close()
        print("rebound")
        """,
    )
    assert out.returncode == 0 and out.stdout.strip() == "rebound", out.stderr


def test_sigterm_runs_the_users_handler_once_with_the_current_state(tmp_path):
    """A script that saves on SIGTERM, stopped as a job is (the signal goes to its process
    group): only the process itself saves, with its latest state (a forked copy would run
    the handler too, with its fork-time state)."""
    script = STEP + textwrap.dedent(
        f"""
        import os, signal, sys, time
        saved_dir = {str(tmp_path)!r}
        state = {{"step": 0}}

        def on_term(signum, frame):
            path = os.path.join(saved_dir, f"saved-{{os.getpid()}}")
            with open(path, "w") as f:
                f.write(str(state["step"]))
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_term)
        for k in range(1, 4):
            train(2)
            state["step"] = k
        print("ready", flush=True)
        time.sleep({TIMEOUT})
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-W", "error", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=TIMEOUT)
    finally:
        child.kill()
        child.wait()
    time.sleep(0.5)  # any stray copy would have written by now
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == [f"saved-{child.pid}"]
    assert (tmp_path / saved[0]).read_text() == "3"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python warns of fork from 3.12")
def test_python_warns_of_no_fork_from_fnn():
    """Python 3.12+ warns (here: raises, under -W error) when a multi-threaded process
    forks; fnn itself never forks, so a split step runs clean under -W error."""
    out = run_child("print(np.isfinite(train(3)))")
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
