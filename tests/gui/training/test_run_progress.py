"""The run's headline changes every frame while training: it must repaint itself only, not the window around it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QWidget

from gui.common.jobs import wait_for_all_jobs


class PaintCounter(QObject):
    def __init__(self, watched: QWidget) -> None:
        super().__init__()
        self.paints = 0
        watched.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_frames_of_progress_repaint_the_headline_and_not_the_rest_of_the_window(qtbot, window):
    """A QLabel headline asked for a new layout on each text, and the main window then repainted everything in
    it: the whole window 30 times a second while training took a third of the training speed."""
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitExposed(window)
    progress = tab.progress
    wait_for_all_jobs(30000)  # the window's start-up work (test images, the strip's preview) is drawn first
    progress.begin(epochs=3)

    def frames(first: int, last: int) -> None:
        for batch in range(first, last):  # a frame each: new speed, time left and batch loss
            logs = {"epoch": 0, "progress": (batch + 1) / 40, "samples_per_s": 30000.0,
                    "recent_samples_per_s": 40000.0 + 37 * batch, "loss": 0.05}  # fmt: skip
            progress.show_batch(logs)
            QApplication.processEvents()

    frames(0, 10)  # the window settles after its start (the first frames lay it out once)
    form_paints, strip_paints = PaintCounter(tab.form), PaintCounter(tab.strip)
    headline_paints = PaintCounter(progress.label)
    frames(10, 40)

    assert progress.label.text().startswith("Epoch 1/3 · 41,443 img/s")
    assert headline_paints.paints >= 25  # the headline itself is redrawn with each frame
    assert form_paints.paints <= 1 and strip_paints.paints <= 1  # the settings and the digits are left alone


def test_a_long_headline_gets_a_smaller_font_before_it_is_cut(qtbot):
    from gui.training.run_progress import LiveText

    headline = LiveText("Stopped at 1.1 of 2 epochs, test loss 0.0123", big=True)
    qtbot.addWidget(headline)
    full = QFontMetrics(headline.fitted()[0]).horizontalAdvance(headline.text())
    headline.resize(int(full * 0.8), 30)  # a fifth too narrow at the headline's own size
    font, shown = headline.fitted()
    assert shown == headline.text() and font.pointSizeF() < 15  # whole, a little smaller
    headline.resize(40, 30)  # far too narrow even at the smallest size: cut
    assert headline.fitted()[1].endswith("…")


def test_a_headline_too_long_at_the_smallest_size_drops_its_last_clause_before_it_is_cut(qtbot):
    """At QT_SCALE_FACTOR=2 on 1920×1080 the end of a run read "Stopped at 8.2 of 40 epochs, test loss 0.0…": the
    test loss (in the status bar too) goes first, and what the run did reads whole."""
    from gui.training.run_progress import LiveText

    headline = LiveText("Stopped at 1.1 of 2 epochs, test loss 0.0123", big=True)
    qtbot.addWidget(headline)
    headline.resize(40, 30)
    smallest = headline.fitted()[0]
    short = QFontMetrics(smallest).horizontalAdvance("Stopped at 1.1 of 2 epochs")
    headline.resize(short + 8, 30)
    assert headline.fitted()[1] == "Stopped at 1.1 of 2 epochs"


class ClockedProgress:
    """A run's ``RunProgress`` on a clock of its own: ``at(seconds)`` sets it, ``batch(share done)`` shows a batch
    (1,000 img/s) and gives the headline."""

    def __init__(self, qtbot, monkeypatch) -> None:
        from types import SimpleNamespace

        from gui.training import run_progress

        self.now = 0.0
        monkeypatch.setattr(run_progress, "time", SimpleNamespace(monotonic=lambda: self.now))  # (its clock only)
        self.progress = run_progress.RunProgress()
        qtbot.addWidget(self.progress)
        self.progress.begin(epochs=1)

    def at(self, seconds: float) -> None:
        self.now = seconds

    def batch(self, done: float) -> str:
        self.progress.show_batch({"epoch": 0, "progress": done, "samples_per_s": 1000.0,
                                  "recent_samples_per_s": 1000.0, "loss": 0.05})  # fmt: skip
        return self.progress.label.text()


def test_the_time_left_leaves_out_a_pause(qtbot, monkeypatch):
    """Ten seconds of training, a thousand paused, ten more: the run is a fifth done in 20 s of training, so 80 s
    are left (not 68 minutes, from the 1,020 s since Start)."""
    run = ClockedProgress(qtbot, monkeypatch)
    run.at(10.0)
    run.batch(0.1)
    run.progress.paused = True
    run.progress.held()
    run.at(1010.0)
    run.progress.resume()
    run.at(1020.0)
    assert run.batch(0.2).endswith("ETA 1:20")


def test_the_time_left_is_the_pace_since_the_first_batch_not_since_start(qtbot, monkeypatch):
    """Loading the data took 5 s, then 10 s of training did a tenth of the run: 89 s are left at that pace (not
    2 minutes, from the 15 s since Start, which would also shrink too slowly all run long)."""
    run = ClockedProgress(qtbot, monkeypatch)
    run.at(5.0)
    assert run.batch(0.01).endswith("ETA …")  # (no pace yet)
    run.at(15.0)
    assert run.batch(0.11).endswith("ETA 1:29")
