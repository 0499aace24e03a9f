"""A control that is off says why, and when it will work: in its tooltip and in the status bar."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QTabBar,
    QWidget,
)

from gui.common.hints import UNAVAILABLE

CONTROLS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)
TIMEOUT = 20000


def disabled_controls(window) -> list:
    """Every visible disabled control on every tab and inner page."""
    found = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        tab = window.tabs.currentWidget()
        bars = [b for b in tab.findChildren(QTabBar) if b.isVisibleTo(tab)]
        for bar, page in [(b, i) for b in bars for i in range(b.count())] or [(None, 0)]:
            if bar is not None:
                bar.setCurrentIndex(page)
            for widget in tab.findChildren(QWidget):
                qt_part = isinstance(widget.parent(), (QTabBar, QAbstractSpinBox, QComboBox))  # tab arrows, …
                if isinstance(widget, CONTROLS) and not qt_part and widget.isVisibleTo(window) and not (
                        widget.isEnabled() or widget in found):  # fmt: skip
                    found.append(widget)
    return found


def test_every_disabled_control_says_why_and_when_it_works(qtbot, window, tiny_mnist):
    off = disabled_controls(window)
    names = {getattr(w, "text", lambda: "")() for w in off}
    assert {"Pause", "Stop", "Undo", "Apply to model"} <= names  # off before anything happened
    for widget in off:
        tip = widget.toolTip()
        assert tip.startswith(UNAVAILABLE) and widget.statusTip() == tip, f"{type(widget).__name__} {tip!r}"
    pause = window.training_tab.pause_button
    assert "Start" in pause.toolTip() and pause.toolTip().endswith("press again to resume")  # why, then what it does
    assert not window.training_tab.start_button.toolTip().startswith(UNAVAILABLE)  # on: just what it does


def test_while_training_start_the_form_and_save_say_why_they_are_off_and_after_it_they_do_not(qtbot, window,
                                                                                          tiny_arrays):  # fmt: skip
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.arrays = tiny_arrays
    tab.form.batch_size.setValue(16)
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):  # held at its first batch
        tab.start_button.click()
        tab.pause_button.click()
    save = window.actions["save"]
    for target in (tab.start_button, tab.form.epochs, save, window.actions["save_as"]):
        assert not target.isEnabled()
        assert target.toolTip().startswith(UNAVAILABLE) and target.statusTip() == target.toolTip()
    assert "Stop" in save.toolTip() and "Stop" in tab.form.epochs.toolTip()
    assert tab.pause_button.isEnabled() and not tab.pause_button.toolTip().startswith(UNAVAILABLE)
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
        assert tab.stop_button.toolTip().startswith(UNAVAILABLE) and "stopping" in tab.stop_button.toolTip()
    for target in (tab.start_button, tab.form.epochs, save):
        assert target.isEnabled() and not target.toolTip().startswith(UNAVAILABLE)
    assert tab.stop_button.toolTip().startswith(UNAVAILABLE) and "Start" in tab.stop_button.toolTip()
