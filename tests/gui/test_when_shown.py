"""Work deferred until a widget is shown: runs once on show, at once while shown, never while hidden."""

from PySide6.QtWidgets import QWidget

from gui.when_shown import WhenShown


def test_work_waits_for_the_show_and_runs_once(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    runs, cancels = [], []
    when_shown = WhenShown(widget, lambda: runs.append(1), on_hidden=lambda: cancels.append(1))

    when_shown.request()
    when_shown.request()
    assert runs == [] and cancels == [1, 1]  # hidden: nothing computed, the old job cancelled each time

    widget.show()
    qtbot.waitExposed(widget)
    assert runs == [1]  # the two requests ran once, on the show
    widget.hide()
    widget.show()
    assert runs == [1]  # nothing due: showing again does nothing

    when_shown.request()
    assert runs == [1, 1]  # shown: at once


def test_a_failed_run_is_retried_on_the_next_show_not_at_once(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    runs = []
    when_shown = WhenShown(widget, lambda: runs.append(1))
    widget.show()
    when_shown.retry_when_shown()
    assert runs == []
    widget.hide()
    widget.show()
    assert runs == [1]
