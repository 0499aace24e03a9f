"""When a training step split with a worker process should run alone: another program busy on a core.

Three busy processes on two cores are slower than two: when a third program takes a core, the step's two processes
wait for each other, and a step run alone in the trainer (the same bits) is faster.  ``Contention`` hears what each
step cost the trainer — its work (wall and CPU seconds) and its waits for the worker — and says whether the next step
runs alone.  Both two-process steps (``steps.ProcessParallelStep``, ``tensor_parallel.TensorParallelStep``) use it.

* A step that loses time (waiting, or off the CPU in the middle of its own work) adds to a running average; above
  ``LOST_SHARE`` the next ``ALONE_STEPS`` steps run alone.  Quiet, a step loses ~5-10 %.
* A stretch alone that ends in another loss (within ``RETRY_STEPS``: the other program still busy) is followed by
  one twice as long, up to ``MOST_ALONE_STEPS``: each try of the worker under contention costs a few slow steps —
  two or three, as a try starts its running average near the bar (``TRY_LOST_SHARE``).
* A stretch alone ends early once the machine's other cores have been idle (``/proc/stat``) for ``patience``
  seconds: a busy moment (the app fitting a baseline as a run starts) would otherwise leave a run on one core for
  thousands of steps after it ended.  An early end that meets another loss doubles the patience, up to
  ``MOST_PATIENCE_S`` (where the idle cores are not this program's to use: a container's CPU quota).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

LOST_SHARE = 0.3
LOST_SMOOTHING = 0.1
"""Weight of the newest step in the running average of the share of a step's time lost."""
ALONE_STEPS = 200
MOST_ALONE_STEPS = 6400
"""~20-30 s of the large model's steps."""
RETRY_STEPS = 50
"""Steps with the worker after which a stretch alone counts as the first again."""
TRY_LOST_SHARE = 0.25
"""The running average a try of the worker after a stretch alone starts from: quiet steps (~0.05 lost) bring it down
within a few steps, two or three slow ones (~0.6 lost) take it over ``LOST_SHARE``."""
IDLE_CORES = 0.75
"""The other cores count as idle when this many cores' worth of time went unused while the step ran alone (it keeps
one core busy itself)."""
FIRST_PATIENCE_S = 0.25
MOST_PATIENCE_S = 30.0

IdleSeconds = Callable[[], "float | None"]


def machine_idle_seconds() -> float | None:
    """Seconds of CPU time the machine's cores have spent idle since boot, summed over them (``/proc/stat``); None
    where it cannot be read (not Linux)."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")  # idle, waiting for I/O
    except (OSError, ValueError, IndexError):
        return None


class Contention:
    """Whether the next step runs alone; ``add`` each part's cost during a step, then ``step_done``.

    idle_seconds : the machine's idle CPU seconds so far (``machine_idle_seconds``; tests pass their own); clock :
    monotonic seconds; alone_above : the running average of the share of a step lost above which steps run alone
    (``never``: infinite).
    """

    def __init__(
        self,
        idle_seconds: IdleSeconds = machine_idle_seconds,
        clock: Callable[[], float] = time.monotonic,
        alone_above: float = LOST_SHARE,
    ) -> None:
        self.idle_seconds, self.clock, self.alone_above = idle_seconds, clock, alone_above
        self.patience_s = FIRST_PATIENCE_S
        self.reset()

    def reset(self) -> None:
        """A new worker: no stretch alone, nothing lost yet (the patience learnt is kept)."""
        self._left = 0  # steps left to run alone
        self._span = 0  # the length of the last stretch alone
        self._steps_together = 0  # since the last stretch alone
        self._lost_share = 0.0
        self._ended_early = False  # the last stretch alone ended because the other cores were idle
        self._mark: tuple[float, float | None] | None = None  # (clock, idle seconds) as idleness was last read
        self._worked = self._working_cpu = self._waited = 0.0

    @classmethod
    def never(cls, **kwargs) -> Contention:
        """One that never sends a step alone: for tests that need the worker's parts (a loaded machine, or a batch
        so small that meeting the worker costs more than its share, would send the step alone for thousands of
        steps)."""
        return cls(alone_above=math.inf, **kwargs)

    @property
    def alone(self) -> bool:
        """The next step runs alone (or this one, between its ``add``s and ``step_done``)."""
        return self._left > 0

    def add(self, worked: float, working_cpu: float, waited: float) -> None:
        """A part of this step: seconds working here (wall clock and this thread's CPU) and waiting for the worker."""
        self._worked += worked
        self._working_cpu += working_cpu
        self._waited += waited

    def step_done(self) -> None:
        """After a step: begin, go on with or end a stretch alone."""
        if self._left:
            self._left -= 1
            self._steps_together = 0
            if self._left and self._others_idle():
                self._left, self._ended_early = 0, True
            if not self._left:
                self._lost_share = TRY_LOST_SHARE
        elif self._worked:
            self._steps_together += 1
            lost = max(0.0, self._worked - self._working_cpu) + self._waited
            self._lost_share += LOST_SMOOTHING * (lost / (self._worked + self._waited) - self._lost_share)
            if self._lost_share > self.alone_above:
                again = self._steps_together < RETRY_STEPS
                if again and self._ended_early:
                    self.patience_s = min(2 * self.patience_s, MOST_PATIENCE_S)
                self._span = max(ALONE_STEPS, min(2 * self._span, MOST_ALONE_STEPS) if again else 0)
                self._left, self._lost_share, self._ended_early, self._mark = self._span, 0.0, False, None
        self._worked = self._working_cpu = self._waited = 0.0

    def _others_idle(self) -> bool:
        """Whether the cores other than this step's were idle over the last ``patience_s`` seconds alone."""
        now = self.clock()
        if self._mark is None:
            self._mark = (now, self.idle_seconds())
            return False
        then, idle_then = self._mark
        if now - then < self.patience_s:
            return False
        idle_now = self.idle_seconds()
        self._mark = (now, idle_now)
        if idle_then is None or idle_now is None:
            return False
        return (idle_now - idle_then) / (now - then) >= IDLE_CORES
