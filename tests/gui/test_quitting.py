"""Quitting never hangs: a run that will not stop, or a job stuck in a long call, delays the close by a bounded
time and says so; the window closes and the app's exit does not wait on them."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QMessageBox

from engine.callbacks import Callback
from gui.common.jobs import JobRunner

TIMEOUT = 20000


class Stuck(Callback):
    """A watcher's callback that holds the training thread in a batch until ``release`` is set."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        self.entered, self.release = entered, release

    def on_batch_end(self, batch, logs):
        self.entered.set()
        self.release.wait(60)


def test_a_run_that_does_not_stop_does_not_keep_the_window_open(qtbot, window, tiny_arrays, dialogs_shown,
                                                                dialog_answers, monkeypatch):  # fmt: skip
    import gui.main_window

    monkeypatch.setattr(gui.main_window, "STOP_WAIT_MS", 200)
    dialog_answers["Training is running"] = QMessageBox.StandardButton.Yes  # "Stop and quit"
    tab = window.training_tab
    tab.arrays = tiny_arrays
    entered, release = threading.Event(), threading.Event()
    tab.watchers.append(lambda report: Stuck(entered, release))
    try:
        tab.form.epochs.setValue(5)
        tab.start_button.click()
        qtbot.waitUntil(entered.is_set, timeout=TIMEOUT)  # the run is inside a batch that will not end
        window.close()
        assert window.isVisible()  # asked to stop, waiting for the run's model
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
        assert any(text.startswith("Training did not stop") for text in dialogs_shown)
    finally:
        release.set()
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        pass  # the thread ends once released; nothing waited for it


def test_quitting_waits_a_bounded_time_for_a_stuck_job_and_says_so(qtbot, window, capsys, monkeypatch):
    import gui.app

    monkeypatch.setattr(gui.app, "QUIT_WAIT_S", 0.1)
    release = threading.Event()
    JobRunner(window).start(lambda state: release.wait(60), on_done=lambda r: None)  # ignores its cancel flag
    try:
        assert gui.app.finish_background_work(window) is False
        assert "did not stop in time" in capsys.readouterr().err
    finally:
        release.set()
    monkeypatch.setattr(gui.app, "QUIT_WAIT_S", 30.0)  # the window's own start-up jobs may still be finishing
    assert gui.app.finish_background_work(window) is True


def test_quitting_with_nothing_running_finishes_at_once(window):
    import gui.app

    assert gui.app.finish_background_work(window) is True
