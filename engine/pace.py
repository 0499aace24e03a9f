"""How fast a run goes now: images a second over its last second of batches, a live figure.

An epoch's own figure (``samples_per_s``: its images so far over the time since it began) counts the epoch's
up-front shuffle and noise draw and every stall since.  That is right for the epoch's record, but slow to follow
the run: mid-epoch it reads well under the pace the run keeps, and a stall a while back still drags it down.
"""

from __future__ import annotations

from collections import deque

PACE_S = 1.0
"""The span of batches the pace is taken over (at least one batch)."""


class Pace:
    """``restart`` as counting begins, ``add`` after each batch (its images a second over the last ``span_s``),
    ``leave_out`` time the run was held (a pause)."""

    def __init__(self, span_s: float = PACE_S) -> None:
        self.span_s = span_s
        self._marks: deque[tuple[float, int]] = deque()  # (seconds, images so far), oldest first

    def restart(self, now: float) -> None:
        """Counting begins at ``now`` (seconds, any clock) with no images."""
        self._marks.clear()
        self._marks.append((now, 0))

    def add(self, now: float, images: int) -> float:
        """``images`` counted since ``restart`` by ``now``: images a second since the latest mark at least
        ``span_s`` old (or the oldest, early on)."""
        marks = self._marks
        marks.append((now, images))
        while len(marks) > 2 and now - marks[1][0] >= self.span_s:
            marks.popleft()
        then, images_then = marks[0]
        return (images - images_then) / (now - then) if now > then else 0.0

    def leave_out(self, seconds: float) -> None:
        """The run was held ``seconds`` (not training) after the last mark: the marks move on by as much."""
        self._marks = deque((then + seconds, images) for then, images in self._marks)
