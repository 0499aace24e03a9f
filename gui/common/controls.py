"""Small builders the panels share: a button with its hint, a row of widgets, a chooser whose list shows every
entry whole."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from gui.common.hints import hint


def hinted_button(text: str, tip: str, slot: Callable[[], object] | None = None) -> QPushButton:
    """A push button that says what it does (``tip``) and calls ``slot`` when clicked."""
    button = QPushButton(text)
    hint(button, tip)
    if slot is not None:
        button.clicked.connect(slot)
    return button


def row(*items: QWidget | tuple[QWidget, int]) -> QHBoxLayout:
    """A horizontal row of widgets; ``(widget, stretch)`` for a stretching one."""
    layout = QHBoxLayout()
    for item in items:
        widget, stretch = item if isinstance(item, tuple) else (item, 0)
        layout.addWidget(widget, stretch)
    return layout


class WholeEntryCombo(QComboBox):
    """A chooser whose open list is at least as wide as its widest entry.  (A list drawn as a scrolling list —
    ``combobox-popup: 0``, for hundreds of entries — is otherwise only as wide as the box, and cuts its entries
    mid-word.)"""

    def showPopup(self) -> None:  # noqa: N802 (Qt's name)
        view = self.view()
        bar = view.verticalScrollBar().sizeHint().width() if self.count() > self.maxVisibleItems() else 0
        view.setMinimumWidth(view.sizeHintForColumn(0) + bar + 2 * view.frameWidth())
        super().showPopup()
