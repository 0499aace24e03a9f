"""A strip above the runs table saying what is wrong with the runs database, and the remedy that fits.

A damaged file can be moved aside (the view asks first; nothing is deleted); a locked one is read again
(every poll tries, and *Try again* now); a file from a newer version only says so.  Everything else in
the app goes on working: training is recorded again once the database can be written.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy

from engine.runs import RunsDatabaseError
from gui.common.controls import hinted_button
from gui.common.theme import Theme, colors

REMEDIES = {
    "damaged": "Move it aside to start a new, empty database; the old file is kept (renamed), never deleted.",
    "locked": "Another program holds it; the view tries again every few seconds.",
    "newer": "A newer Denoise Studio wrote it; upgrade to see its runs, or point $DENOISE_STUDIO_RUNS at another "
    "file.",
    "full": "Free some space on the disk; the view tries again every few seconds.",
}
"""What the user can do, by ``RunsDatabaseError.kind``."""


class ProblemBanner(QFrame):
    """``show_problem(error)`` (a ``RunsDatabaseError``; None hides it); ``moveAsideRequested``, ``retryRequested``."""

    moveAsideRequested = Signal()
    retryRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("runsProblem")
        self.error: RunsDatabaseError | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.move_button = hinted_button("Move it &aside…", "Rename the damaged database (to runs.db.broken, with its "
                                         "log files) so a new one starts; nothing is deleted",
                                         self.moveAsideRequested.emit)  # fmt: skip
        self.retry_button = hinted_button("&Try again", "Read the runs database again now", self.retryRequested.emit)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.move_button)
        layout.addWidget(self.retry_button)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        self.setVisible(False)

    def restyle(self, *_) -> None:
        self.setStyleSheet(f"QFrame#runsProblem {{ border: 2px solid {colors()['error']}; border-radius: 6px; }}")

    def show_problem(self, error: RunsDatabaseError | None) -> None:
        self.error = error
        self.setVisible(error is not None)
        if error is None:
            return
        remedy = REMEDIES.get(error.kind)
        what = error.problem.rsplit("; ", 1)[0] if remedy else error.problem  # the engine's own advice, said below
        remedy = remedy or "The view tries again every few seconds."
        self.label.setText(f"<b>The runs database cannot be read.</b> {html.escape(what[:1].upper() + what[1:])}.<br>"
                           f"{remedy} The rest of the app works as usual; training goes on, unrecorded while the "
                           f"database cannot be written.<br><small>{html.escape(str(error.path))}</small>")  # fmt: skip
        self.label.setToolTip(str(error))
        self.move_button.setVisible(error.kind == "damaged")
