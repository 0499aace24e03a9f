"""Slow work off the GUI thread, one pattern for every tab (after Orange's ConcurrentWidgetMixin).

A widget owns a ``JobRunner`` and calls ``start(fn, *args, on_done=..., on_error=...)``.  ``fn``
runs on a pool thread as ``fn(*args, state)``: a plain function (engine code), no widget in it;
it may poll ``state.cancelled()`` and report ``state.progress(fraction)``.  Starting a new job
cancels the running one, and a result from a job that is no longer the newest is dropped, so a
stale result never lands.  Results, errors and progress arrive on the GUI thread by signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot


class JobState:
    """What a running job can ask and tell: ``cancelled()``; ``progress(fraction)``."""

    def __init__(self, report: Callable[[float], None]) -> None:
        self._cancelled = threading.Event()
        self._report = report

    def cancel(self) -> None:
        self._cancelled.set()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def progress(self, fraction: float) -> None:
        if not self.cancelled():
            self._report(float(fraction))


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
POOL_THREADS = 2
"""Jobs running at once, app-wide (the machines here have two cores)."""


def _submit(work: Callable[[], None]) -> None:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="gui-job")
        future = _pool.submit(work)
        _pending.add(future)
    future.add_done_callback(_pending.discard)


class _Relay(QObject):
    """Carries a job's results to the GUI thread.  It has no parent and each running job holds it, so
    it outlives its ``JobRunner`` if a window is torn down mid-job (Qt then drops the connection)."""

    finished = Signal(int, object, object)  # generation, result, error
    progress = Signal(int, float)


class JobRunner(QObject):
    """One slot of background work: the newest job only.  ``busyChanged(bool)`` for a busy state."""

    busyChanged = Signal(bool)
    progressed = Signal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._state: JobState | None = None
        self._handlers: tuple[Callable[[Any], None], Callable[[BaseException], None] | None] | None = None
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver)
        self._relay.progress.connect(self._on_progress)

    def is_busy(self) -> bool:
        return self._state is not None

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn(*args, state)`` off the GUI thread; then ``on_done(result)`` or ``on_error(exc)`` here."""
        was_busy = self._state is not None
        if was_busy:
            self._state.cancel()  # replaced: still busy, with the new job
        self._generation += 1
        generation, relay = self._generation, self._relay
        state = JobState(lambda fraction: relay.progress.emit(generation, fraction))
        self._state, self._handlers = state, (on_done, on_error)

        def work() -> None:
            try:
                result, error = fn(*args, state), None
            except BaseException as exc:  # handed to on_error on the GUI thread
                result, error = None, exc
            relay.finished.emit(generation, result, error)

        _submit(work)
        if not was_busy:
            self.busyChanged.emit(True)

    def cancel(self) -> None:
        """Ask the running job to stop; whatever it returns is dropped."""
        if self._state is not None:
            self._state.cancel()
            self._state = self._handlers = None
            self._generation += 1
            self.busyChanged.emit(False)

    @Slot(int, float)
    def _on_progress(self, generation: int, fraction: float) -> None:
        if generation == self._generation and self._state is not None:
            self.progressed.emit(fraction)

    @Slot(int, object, object)
    def _deliver(self, generation: int, result: Any, error: BaseException | None) -> None:
        if generation != self._generation or self._handlers is None:
            return  # a newer job replaced this one
        on_done, on_error = self._handlers
        self._state = self._handlers = None
        self.busyChanged.emit(False)
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            raise error


def wait_for_all_jobs(timeout_ms: int = 10000) -> bool:
    """Block until every job has returned (the app is quitting, or a test ends); True when none is left.

    Jobs poll their cancel flag, so cancelled ones end soon."""
    with _pool_lock:
        pending = list(_pending)
    done, not_done = wait(pending, timeout=timeout_ms / 1000)
    return not not_done
