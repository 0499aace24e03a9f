"""Small builders the Denoise tab's panels share: a button with its hint, a row of widgets."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

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
