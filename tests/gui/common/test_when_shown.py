"""Work deferred until a widget is shown: runs once on show, at once while shown, never while hidden."""

from PySide6.QtWidgets import QTabWidget, QWidget

from gui.common.when_shown import WhenShown


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


def test_a_page_of_a_tab_widget_waits_until_its_tab_is_chosen(qtbot):
    """How the panels use it: a page behind another tab is not visible, so its work waits for the tab."""
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    first, page = QWidget(), QWidget()
    tabs.addTab(first, "first")
    tabs.addTab(page, "page")
    tabs.show()
    qtbot.waitExposed(tabs)
    runs = []
    when_shown = WhenShown(page, lambda: runs.append(1))
    when_shown.request()
    assert runs == []
    tabs.setCurrentWidget(page)
    assert runs == [1]
