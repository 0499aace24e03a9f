"""The app's dialogs read as prose: a two-sentence note is a few wide lines, not a tall column."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from gui.common import dialogs

NOTE = ("Training continues on one core, with the same numbers but more slowly: its worker process was ended by "
        "SIGKILL (the system may have run short of memory).")  # fmt: skip


def test_a_long_note_wraps_into_a_few_wide_lines(qtbot):
    box = dialogs.message_box(QMessageBox.Icon.Information, "Note from training", "A note from the training run:",
                              QMessageBox.StandardButton.Ok, None, NOTE)  # fmt: skip
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    (label,) = [label for label in box.findChildren(QLabel) if label.text() == NOTE]
    metrics = label.fontMetrics()
    wrapped = metrics.boundingRect(0, 0, label.width(), 10_000, Qt.TextFlag.TextWordWrap, NOTE)
    lines = round(wrapped.height() / metrics.lineSpacing())
    assert lines <= 4, f"the note wraps into {lines} lines at {label.width()} px"
    assert box.width() <= box.screen().availableGeometry().width()
