"""Background jobs: results arrive on the GUI thread; a newer job replaces an older one, whose result never lands;
a panel's jobs wait until it is shown, and the app's until its window has appeared."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from gui.common.jobs import JobPool, JobRunner
from gui.common.when_shown import AfterFirstPaint


def test_a_result_arrives_on_the_gui_thread(qtbot, qapp):
    runner = JobRunner()
    got = []

    def done(result) -> None:
        got.append((*result, threading.get_ident()))

    with qtbot.waitSignal(runner.busyChanged, timeout=5000, check_params_cb=lambda busy: not busy):
        runner.start(lambda x, state: (x * 2, threading.get_ident()), 21, on_done=done)
    value, job_thread, delivered_on = got[0]
    assert value == 42 and job_thread != threading.main_thread().ident
    assert delivered_on == threading.main_thread().ident


def test_a_newer_job_cancels_the_older_and_the_older_result_never_lands(qtbot):
    runner = JobRunner()
    release_old, release_new, saw_cancel, results = threading.Event(), threading.Event(), [], []

    def job(release, value, state):
        release.wait(10)
        saw_cancel.append(state.cancelled())
        return value

    runner.start(job, release_old, "old", on_done=results.append)
    runner.start(job, release_new, "new", on_done=results.append)
    release_old.set()  # the replaced job ends first, while the new one still runs
    qtbot.waitUntil(lambda: len(saw_cancel) == 1, timeout=5000)
    QCoreApplication.processEvents()  # its result is queued to the GUI thread: it must be dropped
    assert results == [] and runner.is_busy()
    with qtbot.waitSignal(runner.busyChanged, timeout=5000, check_params_cb=lambda busy: not busy):
        release_new.set()
    assert results == ["new"] and saw_cancel == [True, False]


def test_errors_go_to_on_error(qtbot):
    runner = JobRunner()
    errors = []

    def fail(state):
        raise ValueError("no data")

    with qtbot.waitSignal(runner.busyChanged, timeout=5000, check_params_cb=lambda busy: not busy):
        runner.start(fail, on_done=lambda r: None, on_error=errors.append)
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "no data"


def test_a_runner_deleted_while_its_job_runs_is_safe(qtbot):
    from PySide6.QtCore import QEvent

    from gui.common.jobs import wait_for_all_jobs

    runner = JobRunner()
    release, results = threading.Event(), []
    runner.start(lambda state: release.wait(10) and "late", on_done=results.append)
    runner.deleteLater()  # as when a window closes mid-job
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    release.set()
    assert wait_for_all_jobs(5000)
    QCoreApplication.processEvents()  # the late result has nowhere to go: dropped, no crash
    assert results == []


def test_waiting_for_jobs_is_bounded_and_says_when_one_is_stuck(qtbot):
    runner, release = JobRunner(), threading.Event()
    runner.start(lambda state: release.wait(10), on_done=lambda r: None)
    pool = JobPool.of_app()
    try:
        assert pool.wait(0.05) is False and pool.running_jobs() == 1  # stuck for now: the wait gives up
    finally:
        release.set()
    assert pool.wait(5)


def test_cancel_all_reaches_every_running_job(qtbot):
    runners = [JobRunner(), JobRunner()]
    saw = []

    def job(state):
        while not state.cancelled():
            threading.Event().wait(0.001)
        saw.append(True)

    for runner in runners:
        runner.start(job, on_done=lambda r: None)
    JobPool.of_app().cancel_all()
    assert JobPool.of_app().wait(5) and saw == [True, True]


def test_cancel_all_drops_a_result_already_on_its_way_to_the_gui_thread(qtbot):
    """A job that ended before ``cancel_all`` but whose result has not been handled yet (its signal still queued):
    quitting drops it too, so no dialog or view update comes after the app (or a test) has let its jobs go."""
    runner, results, busy = JobRunner(), [], []
    runner.busyChanged.connect(busy.append)
    runner.start(lambda state: "late", on_done=results.append, on_error=results.append)
    assert JobPool.of_app().wait(5)  # ended; its result waits in this thread's event queue
    JobPool.of_app().cancel_all()
    QCoreApplication.processEvents()
    assert results == [] and busy == [True, False] and not runner.is_busy()


def test_a_runner_on_screen_of_a_hidden_widget_runs_only_the_newest_job_once_it_is_shown(qtbot):
    """Issue 34: a panel nobody looks at costs nothing; looked at, it shows what it would have shown."""
    widget = QWidget()
    qtbot.addWidget(widget)
    runner, ran, results, busy = JobRunner(on_screen=widget), [], [], []
    runner.busyChanged.connect(busy.append)

    def job(value, state):
        ran.append(value)
        return value * 2

    runner.start(job, 1, on_done=results.append)
    runner.start(job, 2, on_done=results.append)  # replaces the first, still waiting
    assert JobPool.of_app().wait(5) and ran == [] and runner.is_busy() and busy == [True]
    with qtbot.waitSignal(runner.busyChanged, timeout=5000, check_params_cb=lambda b: not b):
        widget.show()
    assert ran == [2] and results == [4] and busy == [True, False]
    with qtbot.waitSignal(runner.busyChanged, timeout=5000, check_params_cb=lambda b: not b):
        runner.start(job, 3, on_done=results.append)  # shown: at once
    assert ran == [2, 3] and results == [4, 6]


def test_a_waiting_job_that_is_cancelled_never_runs(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    runner, ran = JobRunner(on_screen=widget), []
    runner.start(lambda state: ran.append(1), on_done=lambda r: None)
    runner.cancel()
    assert not runner.is_busy()
    widget.show()
    assert JobPool.of_app().wait(5) and ran == []


def test_a_held_pool_starts_its_jobs_when_released_and_cancel_all_ends_held_ones(qtbot):
    """The app holds the jobs its window asks for while it is built, until its first paint."""
    pool, ran = JobPool.of_app(), []
    pool.hold()
    try:
        first = JobRunner()
        first.start(lambda state: ran.append("first"), on_done=lambda r: None)
        assert pool.wait(0.05) is False and ran == []  # waiting, not run
    finally:
        pool.release()
    assert pool.wait(5) and ran == ["first"]
    pool.hold()
    JobRunner().start(lambda state: ran.append("second"), on_done=lambda r: None)
    pool.cancel_all()  # quitting before the window appeared: the held job ends without running
    assert pool.wait(5) and ran == ["first"]
    JobRunner().start(lambda state: ran.append("third"), on_done=lambda r: None)  # no longer held
    assert pool.wait(5) and ran == ["first", "third"]


def test_work_waits_for_a_windows_first_paint_or_the_limit(qtbot):
    window, runs = QWidget(), []
    qtbot.addWidget(window)
    AfterFirstPaint(window, lambda: runs.append("painted"), limit_ms=60000)
    never_shown = QWidget()
    qtbot.addWidget(never_shown)
    AfterFirstPaint(never_shown, lambda: runs.append("limit"), limit_ms=50)
    qtbot.waitUntil(lambda: "limit" in runs, timeout=5000)
    assert runs == ["limit"]  # the first window is not shown yet: its work waits
    window.show()
    qtbot.waitUntil(lambda: "painted" in runs, timeout=5000)
    window.update()
    qtbot.wait(50)
    assert runs == ["limit", "painted"]  # once
