"""Run a jitted program split or whole, whichever its first calls measure faster.

The batch split (``batch_split.py``) chooses chunks from a cost model of elements
produced per thread; it cannot see what the split costs in hand-offs, smaller matrix
products and GIL contention. Those can exceed the gain: the GAN example's step (batch
norm: 14 chunk rounds of 32 images on 2 threads) took 85-88 ms split against 69 ms
whole (numpy's BLAS already uses both cores for its products), and packed by two
(PacGAN) 84.5 against 59.5 ms. So when a split exists, jit compiles the whole program
too, and its first 24 calls time both, in blocks, and keep the faster from then on.

Like XLA's autotuning, the choice depends on the machine and its load at those calls;
both programs compute the same values up to the order of floating-point sums. For a
choice that never depends on timing, set ``fnn.config.update("jit_split", "always")``
(every split found is used) or ``jit_threads`` 1 (no split at all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["FasterProgram"]

# Each program runs BLOCKS blocks of BLOCK_CALLS calls, split first (its first call forks
# its workers, best before the caller's memory grows), then whole, split, whole. Calls
# must not alternate one by one: measured on the benchmark steps, a split call right
# after a whole one ran at 80-100 ms (CNN) and 27-29 ms (PINN) against 46 and 12 ms in
# a run of split calls (both cores' caches and BLAS threads left in the other's state),
# and the PINN's split settles only by its fifth call. The first call of each block is
# not timed.
BLOCK_CALLS = 6
BLOCKS = 2
# The split must be this much faster: it occupies every core for its gain.
SPLIT_MARGIN = 0.97


class FasterProgram:
    """A callable that times ``split`` (the batch split's run function) and ``whole``
    (the plain program) on its first ``2 * BLOCKS * BLOCK_CALLS`` calls, then runs the
    faster.

    Example:
        >>> import time
        >>> def slow_split(x):
        ...     time.sleep(0.01)
        ...     return [x + 1]
        >>> fast = FasterProgram(slow_split, lambda x: [x + 1])
        >>> [fast(1)[0] for _ in range(24)][-1], fast.chosen
        (2, 'whole')
    """

    def __init__(self, split: Callable, whole: Callable):
        self.split_run, self.whole = split, whole
        self.chosen: str | None = None  # "split" or "whole", once measured
        self.times: dict[str, list[float]] = {"split": [], "whole": []}
        self._run: Callable | None = None
        self._calls = 0
        self._lock = threading.Lock()
        # Shown by ``jitted.lower(...).fn``: the source of both, the split's description.
        self.split = getattr(split, "split", None)
        self.source = f"{getattr(split, 'source', '')}\n\n# whole:\n{getattr(whole, 'source', '')}"

    def __call__(self, *args) -> Any:
        run = self._run
        if run is not None:
            return run(*args)
        with self._lock:
            k = self._calls
            self._calls += 1
        block, position = divmod(k, BLOCK_CALLS)
        name = ("split", "whole")[block % 2]
        program = self.split_run if name == "split" else self.whole
        t0 = time.perf_counter()
        out = program(*args)
        elapsed = time.perf_counter() - t0
        if position > 0:
            with self._lock:
                self.times[name].append(elapsed)
                if self._run is None and k + 1 >= 2 * BLOCKS * BLOCK_CALLS:
                    self._choose()
        return out

    def _choose(self) -> None:
        # The least time of each: load from elsewhere only ever adds to a call's time.
        split_best, whole_best = min(self.times["split"]), min(self.times["whole"])
        if split_best < SPLIT_MARGIN * whole_best:
            self.chosen, self._run = "split", self.split_run
        else:
            self.chosen, self._run = "whole", self.whole
            # The split's forked processes have nothing left to do (a later direct call
            # of the split would fork afresh).
            workers = getattr(self.split_run, "workers", [])
            while workers:
                workers.pop().close()
