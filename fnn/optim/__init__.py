"""fnn.optim: optax-style optimizers, schedules, L-BFGS and a scipy ``minimize``.

An optimizer is ``GradientTransformation(init, update)``; named optimizers are chains
of small transformations, so each published update rule is written once. Names,
signatures and defaults follow optax; every ``learning_rate`` may be a schedule.

Example:
    >>> import fnn, fnn.numpy as fnp
    >>> from fnn import optim
    >>> loss = lambda p: fnp.sum((p["w"] - 1.0) ** 2)
    >>> params = {"w": fnp.zeros(2)}
    >>> opt = optim.sgd(0.25, momentum=0.5)
    >>> state = opt.init(params)
    >>> @fnn.jit
    ... def step(params, state):
    ...     updates, state = opt.update(fnn.grad(loss)(params), state, params)
    ...     return optim.apply_updates(params, updates), state
    >>> for _ in range(50):
    ...     params, state = step(params, state)
    >>> params["w"]
    Array([1., 1.], dtype=float32)
"""

from fnn.optim.alias import adagrad, adam, adamw, lion, rmsprop, sgd
from fnn.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    Schedule,
    apply_updates,
    chain,
    identity,
    set_to_zero,
)
from fnn.optim.clipping import clip, clip_by_global_norm, global_norm
from fnn.optim.lbfgs import ScaleByLBFGSState, lbfgs, scale_by_lbfgs
from fnn.optim.linesearch import (
    BacktrackingLinesearchInfo,
    ScaleByBacktrackingLinesearchState,
    ScaleByZoomLinesearchState,
    ZoomLinesearchInfo,
    scale_by_backtracking_linesearch,
    scale_by_zoom_linesearch,
    value_and_grad_from_state,
)
from fnn.optim.minimize import MinimizeResult, minimize
from fnn.optim.schedules import (
    constant_schedule,
    cosine_decay_schedule,
    exponential_decay,
    join_schedules,
    linear_schedule,
    piecewise_constant_schedule,
    polynomial_schedule,
    warmup_cosine_decay_schedule,
)
from fnn.optim.transforms import (
    ScaleByAdamState,
    ScaleByLionState,
    ScaleByRmsState,
    ScaleByRssState,
    ScaleByRStdDevState,
    ScaleByScheduleState,
    TraceState,
    add_decayed_weights,
    bias_correction,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    scale_by_schedule,
    scale_by_stddev,
    trace,
    update_moment,
    update_moment_per_elem_norm,
)
from fnn.optim.wrappers import MaskedState, masked
