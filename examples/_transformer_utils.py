"""What the three Transformer examples share: the paper's optimizer and a jitted step.

Vaswani et al. (2017), Section 5.3: Adam with b1 = 0.9, b2 = 0.98, eps = 1e-9 and the
learning rate ``d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)``: linear warm-up,
then decay with the inverse square root of the step. The examples scale that curve so
that its peak (at ``step = warmup``) is ``--lr``.

Example:
    >>> sched = warmup_rsqrt_schedule(peak=1e-3, warmup_steps=100)
    >>> round(float(sched(99)), 6), round(float(sched(399)), 6)   # count 99 is step 100
    (0.001, 0.0005)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from _shared import machine_info

import fnn
import fnn.numpy as fnp
from fnn import optim


def warmup_rsqrt_schedule(
    peak: float, warmup_steps: int, total_steps: int | None = None, cooldown: float = 0.2
) -> Callable[[Any], Any]:
    """The paper's schedule with its maximum ``peak`` reached at ``warmup_steps``.

    With ``total_steps``, the last ``cooldown`` fraction of the steps also ramps the
    rate linearly down to 0 (not in the paper: it settles the weights for the final
    evaluation instead of ending on a noisy step). ``count`` is the optimizer's 0-based
    step counter; the paper counts from 1.

    Example:
        >>> float(warmup_rsqrt_schedule(1.0, 4)(1))   # step 2 of a 4-step warm-up
        0.5
        >>> float(warmup_rsqrt_schedule(1.0, 4, total_steps=100)(99))  # the last step
        0.0
    """
    warmup = float(max(warmup_steps, 1))

    def schedule(count):
        step = fnp.asarray(count, fnp.float32) + 1.0
        # peak * min(step / warmup, sqrt(warmup / step)): the paper's curve, rescaled.
        lr = peak * fnp.minimum(step / warmup, fnp.sqrt(warmup / step))
        if total_steps is not None:
            ramp = max(cooldown * total_steps, 1.0)
            lr = lr * fnp.clip((total_steps - step) / ramp, 0.0, 1.0)
        return lr

    return schedule


def paper_adam(
    peak_lr: float, warmup_steps: int, total_steps: int | None = None, clip_norm: float = 1.0
):
    """Adam(0.9, 0.98, 1e-9) on the warm-up schedule, after clipping the gradient norm.

    Clipping is not in the paper; it guards the first steps of post-norm models.

    Example:
        >>> opt = paper_adam(1e-3, 100)
        >>> state = opt.init({"w": fnp.zeros(3)})
    """
    schedule = warmup_rsqrt_schedule(peak_lr, warmup_steps, total_steps)
    return optim.chain(
        optim.clip_by_global_norm(clip_norm),
        optim.adam(schedule, b1=0.9, b2=0.98, eps=1e-9),
    )


def make_train_step(loss_fn: Callable, optimizer) -> Callable:
    """One jitted training step: ``(params, opt_state, batch, key) -> (params, opt_state,
    loss, aux)`` for ``loss_fn(params, batch, key) -> (loss, aux)``.

    ``key`` feeds dropout. The gradient, the optimizer update and the parameter update
    are one compiled program.

    Example:
        >>> loss_fn = lambda p, b, k: (fnp.sum((p - b) ** 2), {})
        >>> opt = optim.sgd(0.1)
        >>> step = make_train_step(loss_fn, opt)
        >>> p, s, loss, _ = step(fnp.zeros(2), opt.init(fnp.zeros(2)), fnp.ones(2), None)
        >>> float(loss)
        2.0
    """

    @fnn.jit
    def train_step(params, opt_state, batch, key):
        (loss, aux), grads = fnn.value_and_grad(loss_fn, has_aux=True)(params, batch, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss, aux

    return train_step


def run_environment() -> dict:
    """``_shared.machine_info()`` plus the BLAS thread settings, which change timings a lot
    on a busy machine (one thread per process avoids threads waiting on each other)."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return {**machine_info(), **{n: os.environ[n] for n in names if n in os.environ}}


def cpu_minutes() -> float:
    """CPU time this process used so far (all threads), in minutes: on a shared machine
    it says how much of the wall time the run really had."""
    return time.process_time() / 60
