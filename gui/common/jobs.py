"""Slow work off the GUI thread, one pattern for every tab (after Orange's ConcurrentWidgetMixin).

A widget owns a ``JobRunner`` and calls ``start(fn, *args, on_done=..., on_error=...)``.  ``fn``
runs on a pool thread as ``fn(*args, state)``: a plain function (engine code), no widget in it;
it may poll ``state.cancelled()`` and report ``state.progress(fraction)``.  Starting a new job
cancels the running one, and a result from a job that is no longer the newest is dropped, so a
stale result never lands.  Results, errors and progress arrive on the GUI thread by signal.

Threads and Qt objects: the pool threads belong to the application's ``JobPool`` (a child of the
QApplication, made on first use), which also carries every result back.  A job creates and drops
no Qt object: a runner is not referenced by its job (only its id is), so nothing Qt-owned is
finalised on a pool thread, and nothing waits without a bound (``JobPool.wait``).

A runner made with ``on_screen=widget`` starts its jobs only while that widget is shown: one asked for while it
is hidden waits (the newest only, with the inputs it was asked with) and starts on the widget's next show.  A panel
nobody looks at (a page behind an inner tab, a tab not chosen) then costs the machine nothing, at start or while
a run trains, and shows the same result once it is looked at.
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from gui.common.when_shown import WhenShown

POOL_THREADS = 2
"""Jobs running at once, app-wide (the machines here have two cores)."""


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


@dataclass(frozen=True)
class _Outcome:
    """A job's end as it travels to the GUI thread: which runner, which of its jobs, and what came of it."""

    runner: int
    generation: int
    state: JobState
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False  # asked to stop (a newer job, the runner, or the whole pool): whatever came is dropped


class JobPool(QObject):
    """The application's job threads and the road back from them (one per QApplication, its child).

    ``JobPool.of_app()`` finds or makes it.  Runners register by id (weakly); a result for a runner
    that is gone is dropped.
    """

    _arrived = Signal(object)  # an _Outcome, emitted on a pool thread, handled on the GUI thread
    _progressed = Signal(int, int, float)  # runner id, generation, fraction

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("denoise-studio-jobs")
        self._queue: queue.SimpleQueue[tuple[Future, Callable[[], None]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pending: dict[Future, JobState] = {}
        self._arriving: set[JobState] = set()  # ended jobs whose outcome is on its way to the GUI thread
        self._runners: weakref.WeakValueDictionary[int, JobRunner] = weakref.WeakValueDictionary()
        self._ids = itertools.count(1)
        self._held: list[tuple[Future, Callable[[], None]]] | None = None  # jobs waiting for ``release()``
        self._arrived.connect(self._deliver)
        self._progressed.connect(self._on_progress)

    @classmethod
    def of_app(cls) -> JobPool:
        """The running application's pool (made the first time a runner needs it)."""
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("background jobs need a running QApplication")
        pool = app.findChild(JobPool, "denoise-studio-jobs")
        return pool if pool is not None else cls(app)

    def register(self, runner: JobRunner) -> int:
        runner_id = next(self._ids)
        self._runners[runner_id] = runner
        return runner_id

    def submit(self, runner_id: int, generation: int, fn: Callable[..., Any], args: tuple, state: JobState) -> None:
        """Run ``fn(*args, state)`` on a pool thread; its outcome comes back to the runner on the GUI thread."""
        arrived, lock, arriving = self._arrived, self._lock, self._arriving

        def work() -> None:
            try:
                outcome = _Outcome(runner_id, generation, state, fn(*args, state), cancelled=state.cancelled())
            except BaseException as exc:  # handed to on_error on the GUI thread
                outcome = _Outcome(runner_id, generation, state, error=exc, cancelled=state.cancelled())
            with lock:
                arriving.add(state)
            arrived.emit(outcome)

        future: Future = Future()
        with self._lock:
            self._pending[future] = state
            if len(self._threads) < POOL_THREADS:
                thread = threading.Thread(target=self._serve, name=f"gui-job-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            held = self._held is not None
            if held:
                self._held.append((future, work))
        future.add_done_callback(self._forget)
        if not held:
            self._queue.put((future, work))

    def hold(self) -> None:
        """Jobs submitted from now on wait for ``release()``: the app holds them while its window is built and
        first painted, so the window's own work has the machine (two cores, shared) to itself."""
        with self._lock:
            if self._held is None:
                self._held = []

    def release(self) -> None:
        """The held jobs start, in the order they were submitted; new ones start at once again."""
        with self._lock:
            held, self._held = self._held or [], None
        for item in held:
            self._queue.put(item)

    def _serve(self) -> None:
        """A pool thread: run jobs until told to stop.  Daemon: a job stuck in a long call never keeps the app
        from quitting."""
        while (item := self._queue.get()) is not None:
            future, work = item
            if future.set_running_or_notify_cancel():
                work()
                future.set_result(None)

    def report(self, runner_id: int, generation: int, fraction: float) -> None:
        """A job's progress (called on its pool thread)."""
        self._progressed.emit(runner_id, generation, fraction)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._pending.pop(future, None)

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Block until every job has returned, at most ``timeout_s``; True when none is left.

        Jobs poll their cancel flag, so cancelled ones end soon; one stuck in a long call is left behind."""
        with self._lock:
            pending = list(self._pending)
        _, not_done = wait(pending, timeout=timeout_s)
        return not not_done

    def cancel_all(self) -> None:
        """Ask every job to stop (the app is quitting); their results will be dropped — also those of jobs that
        had ended but whose results had not reached the GUI thread yet."""
        with self._lock:
            states = [*self._pending.values(), *self._arriving]
            held, self._held = self._held or [], None
        for state in states:
            state.cancel()
        for future, _work in held:  # never started: they end now
            future.cancel()

    def running_jobs(self) -> int:
        with self._lock:
            return len(self._pending)

    def _runner(self, runner_id: int) -> JobRunner | None:
        runner = self._runners.get(runner_id)
        return runner if runner is not None and shiboken6.isValid(runner) else None  # its widget may be gone

    @Slot(object)
    def _deliver(self, outcome: _Outcome) -> None:
        with self._lock:
            self._arriving.discard(outcome.state)
        if (runner := self._runner(outcome.runner)) is None:
            return
        if outcome.cancelled or outcome.state.cancelled():
            runner.drop(outcome.generation)
        else:
            runner.deliver(outcome.generation, outcome.result, outcome.error)

    @Slot(int, int, float)
    def _on_progress(self, runner_id: int, generation: int, fraction: float) -> None:
        if (runner := self._runner(runner_id)) is not None:
            runner.show_progress(generation, fraction)


class JobRunner(QObject):
    """One slot of background work: the newest job only.  ``busyChanged(bool)`` for a busy state.

    With ``on_screen``, a job waits until that widget is shown (busy meanwhile; see the module's docstring)."""

    busyChanged = Signal(bool)
    progressed = Signal(float)

    def __init__(self, parent: QObject | None = None, on_screen: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = JobPool.of_app()
        self._id = self._pool.register(self)
        self._generation = 0
        self._state: JobState | None = None
        self._handlers: tuple[Callable[[Any], None], Callable[[BaseException], None] | None] | None = None
        self._waiting: tuple[Callable[..., Any], tuple, Callable[[Any], None], Callable | None] | None = None
        self._when_shown = WhenShown(on_screen, self._start_waiting) if on_screen is not None else None

    def is_busy(self) -> bool:
        return self._state is not None or self._waiting is not None

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn(*args, state)`` off the GUI thread; then ``on_done(result)`` or ``on_error(exc)`` here.
        (With ``on_screen`` hidden: once it is shown.)"""
        was_busy = self.is_busy()
        if self._state is not None:
            self._state.cancel()  # replaced: still busy, with the new job
            self._state = self._handlers = None
        self._waiting = (fn, args, on_done, on_error)
        if not was_busy:
            self.busyChanged.emit(True)
        if self._when_shown is None:
            self._start_waiting()
        else:
            self._when_shown.request()  # now if the widget is shown, else on its next show

    def _start_waiting(self) -> None:
        """The job asked for last goes to the pool (``on_screen``, if any, is shown)."""
        if self._waiting is None:
            return
        fn, args, on_done, on_error = self._waiting
        self._waiting = None
        self._generation += 1
        pool, runner_id, generation = self._pool, self._id, self._generation
        state = JobState(lambda fraction: pool.report(runner_id, generation, fraction))
        self._state, self._handlers = state, (on_done, on_error)
        pool.submit(runner_id, generation, fn, args, state)

    def cancel(self) -> None:
        """Ask the running job to stop (or the waiting one not to start); whatever it returns is dropped."""
        if self.is_busy():
            if self._state is not None:
                self._state.cancel()
            self._state = self._handlers = self._waiting = None
            self._generation += 1
            self.busyChanged.emit(False)

    def show_progress(self, generation: int, fraction: float) -> None:
        """Progress of job ``generation`` (from the pool, on the GUI thread): passed on if it is the newest."""
        if generation == self._generation and self._state is not None:
            self.progressed.emit(fraction)

    def drop(self, generation: int) -> None:
        """Job ``generation`` ended after it was asked to stop (the pool's ``cancel_all``): nothing is handed on;
        if it was the newest, the runner is no longer busy."""
        if generation == self._generation and self._handlers is not None:
            self._state = self._handlers = None
            self.busyChanged.emit(False)

    def deliver(self, generation: int, result: Any, error: BaseException | None) -> None:
        """The end of job ``generation`` (from the pool, on the GUI thread): handled if it is the newest."""
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
    """The application's jobs have all returned (waiting at most ``timeout_ms``); True when none is left."""
    return JobPool.of_app().wait(timeout_ms / 1000)
