"""Frames of a live view spaced so that drawing them takes a bounded share of the GUI thread.

A run trains on both cores; every millisecond the GUI thread spends redrawing the loss curve is one the run's
data-parallel step does not get (and the GIL the training thread waits for).  How much a frame costs depends on
the window's size and the machine: ~16 ms of GUI-thread CPU a frame for the Training tab at 1280×800 here, more
maximised on a full-HD screen.  So the pace is measured, not fixed: after each frame, the GUI thread's CPU time
since the previous one (the frame's own work, its repaint, whatever else the window did) sets the next interval,
so that it is at most ``share`` of the time between frames, within ``least_ms`` (no faster than the eye needs)
and ``most_ms`` (never so slow the view looks stuck).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer

GUI_SHARE = 0.03
"""The GUI thread's CPU a live view may take, as a share of one core.  A run keeps both cores busy, so every frame
costs it about its own time (bench/app_train_speed.py: at ten frames a second, 1280×800, the Training tab took ~12 %
and the run trained at 0.81 of the engine alone; at 5 %, 0.94–0.95; at 3 %, 0.96–0.98, two or three frames a
second)."""
LEAST_MS = 100
MOST_MS = 500
SMOOTHING = 0.3
"""Weight of the newest frame's cost in the running estimate: one slow frame (a resize) moves the pace only part way."""


class FramePace:
    """Sets ``timer``'s interval after each frame from what the frames cost the GUI thread; ``restart()`` at the
    start of a run (the first frame has nothing to measure from)."""

    def __init__(
        self,
        timer: QTimer,
        share: float = GUI_SHARE,
        least_ms: int = LEAST_MS,
        most_ms: int = MOST_MS,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.timer, self.share, self.least_ms, self.most_ms, self.clock = timer, share, least_ms, most_ms, clock
        self.cost_s: float | None = None  # the running estimate of one frame's GUI-thread CPU
        self._last: float | None = None
        timer.setInterval(least_ms)

    def restart(self) -> None:
        """Forget the last frame's clock (a run starts: the time since the last run is no frame's cost)."""
        self._last = None

    def frame_done(self) -> None:
        """Call once a frame: the GUI thread's CPU since the previous call sets the interval to the next frame."""
        now = self.clock()
        if self._last is not None:
            spent = max(0.0, now - self._last)
            self.cost_s = spent if self.cost_s is None else (1 - SMOOTHING) * self.cost_s + SMOOTHING * spent
            wanted_ms = 1000 * self.cost_s / self.share
            self.timer.setInterval(round(min(self.most_ms, max(self.least_ms, wanted_ms))))
        self._last = now
