"""Background jobs: results arrive on the GUI thread; a newer job replaces an older one, whose result never lands."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication

from gui.common.jobs import JobPool, JobRunner


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
