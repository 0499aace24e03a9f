"""GUI fixtures: a themed app, a main window with a small model and private settings, recorded dialogs, and holds
that keep a training run going until the test lets it end."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.callbacks import Callback
from engine.nn import build_mlp
from gui.app import prepare_app
from gui.app_state import AppState
from gui.common.jobs import JobPool

JOB_WAIT_S = 30
"""How long a test's end waits for its background jobs (they are cancelled first); never without a bound."""


@pytest.fixture(autouse=True)
def _prepared_app(qapp):
    """The tests' QApplication runs as the app's does: theme, one BLAS thread, collection on the GUI thread."""
    prepare_app(qapp)


@pytest.fixture(autouse=True)
def _no_job_outlives_its_test(qapp):
    """Background jobs (gui.common.jobs) end with their test: none may deliver into the next one, or run at exit."""
    yield
    from gui.common.jobs import wait_for_all_jobs

    JobPool.of_app().cancel_all()  # what a window started and nobody waits for (its baselines' scores) ends here
    assert wait_for_all_jobs(30000), "a background job did not end"


@pytest.fixture
def dialog_answers() -> dict[str, QMessageBox.StandardButton]:
    """Answers to questions by window title (e.g. {"Training is running": Yes}); others get Discard."""
    return {}


@pytest.fixture(autouse=True)
def dialogs_shown(monkeypatch, dialog_answers) -> list[str]:
    """Every QMessageBox that would be shown: its text and informative text; answers from ``dialog_answers``."""
    shown: list[str] = []

    def fake_exec(box):
        shown.append(f"{box.windowTitle()}\n{box.text()}\n{box.informativeText()}")
        return int(dialog_answers.get(box.windowTitle(), QMessageBox.StandardButton.Discard).value)

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "about", lambda *a: shown.append("about"))

    def no_dialog(*args, **kwargs):
        raise AssertionError("a test opened a real file dialog; patch QFileDialog")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", no_dialog)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", no_dialog)
    return shown


@pytest.fixture
def small_model():
    return build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=1)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def app_state(qapp) -> AppState:
    """The application's state for a test's window (as ``gui.app.main`` makes it, but the classical filters run in
    the job's own thread: on the tests' tiny data sets, starting worker processes costs more than it saves)."""
    state = AppState()
    state.baselines.workers = 1
    return state


@pytest.fixture
def window(qtbot, small_model, settings, app_state):
    from gui.main_window import MainWindow

    win = MainWindow(small_model, settings=settings, state=app_state)
    qtbot.addWidget(win)
    win.show()
    yield win
    let_go(win)


def let_go(win) -> None:
    """A test's window at its end: its run stopped, nothing it scheduled started later (a fit once the slider rests
    would run without the test's data and show its dialog in the next test), its jobs ended and their results
    dropped — before qtbot deletes it."""
    training = win.training_tab_if_made()  # never made: no run
    assert training is None or training.run.wait_for_end(), "the training thread did not stop"  # bounded
    for timer in win.findChildren(QTimer):
        timer.stop()
    pool = JobPool.of_app()
    pool.cancel_all()
    pool.wait(JOB_WAIT_S)


@pytest.fixture
def tiny_arrays():
    """(x_train (64, 784), x_val (16, 784)) uint8 blobs: trains in milliseconds."""
    rng = np.random.default_rng(0)
    images = np.zeros((80, 28, 28), np.uint8)
    for img in images:
        r, c = rng.integers(4, 14, size=2)
        img[r : r + 8, c : c + 6] = 200
    flat = images.reshape(80, 784)
    return flat[:64], flat[64:]


HOLD_LIMIT_S = 120.0
"""A hold nobody releases lets its run go after this long, so a broken test fails instead of hanging the suite."""


class RunHold:
    """A watcher (``gui.training.worker.Watcher``) that stops a training run at one point, on the training thread,
    until the test calls ``release()``: a test that needs a run still going never depends on the machine's speed.

    ``at``: "start" (before the first batch) or an epoch number (at the end of that epoch, 0-based).  On getting
    there the run sends ``reported(topic, at)``, then waits; ``reached`` tells that report from others.  It holds
    once: after ``release()`` (which may come before the run gets there) it lets every run pass.
    """

    def __init__(self, at: str | int) -> None:
        self.at = at
        self.topic = f"test.hold.{id(self)}"
        self._released = threading.Event()

    def __call__(self, report) -> Callback:
        hold = self

        class Hold(Callback):  # a new one for each run; it keeps nothing of the run once the run is over
            def on_train_begin(self, logs):
                if hold.at == "start":
                    hold._wait(report)

            def on_epoch_end(self, epoch, logs):
                if hold.at == epoch:
                    hold._wait(report)

        return Hold()

    def _wait(self, report) -> None:
        if not self._released.is_set():
            report(self.topic, self.at)
            self._released.wait(HOLD_LIMIT_S)

    def reached(self, topic: str, data) -> bool:
        """For ``qtbot.waitSignal(run.reported, check_params_cb=hold.reached)``."""
        return topic == self.topic

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def hold_run(window):
    """``hold_run(at)`` -> a ``RunHold`` on the window's Training tab; every hold is released as the test ends
    (before the window's teardown waits for the run)."""
    holds: list[RunHold] = []

    def make(at: str | int) -> RunHold:
        hold = RunHold(at)
        window.training_tab.watchers.append(hold)
        holds.append(hold)
        return hold

    yield make
    for hold in holds:
        hold.release()
