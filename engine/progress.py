"""What a long engine job takes from whoever runs it: a progress callback and a cancel check, plain callables.

``progress(fraction)`` is called with the share done, 0 to 1; ``cancelled()`` is polled between pieces
of work, and when it returns True the job raises ``Cancelled``.  The CLI passes a progress bar, the
app's job runner its signals; the engine knows neither (no Qt here).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float], None]
CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """The caller asked the computation to stop (a newer request replaced it)."""


def check_cancelled(cancelled: CancelCheck | None) -> None:
    """Raise ``Cancelled`` when the caller asks to stop."""
    if cancelled is not None and cancelled():
        raise Cancelled


def report(progress: Progress | None, fraction: float) -> None:
    """Tell the caller the share done (clipped to [0, 1])."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0))


def part(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A progress callback for one piece of a job: its 0 to 1 becomes the job's ``start`` to ``end``."""
    if progress is None:
        return None
    return lambda fraction: report(progress, start + (end - start) * fraction)
