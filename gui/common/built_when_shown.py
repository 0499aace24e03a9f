"""A page whose content is made the first time it is shown, or the first time the program asks for it.

The window's tabs that are not on the first screen need not cost its start: the Runs tab's module, its table
and its plots (~0.15 s of CPU on the machines here) are made when the user first opens the tab, or when a
request needs the tab (a test, a menu entry) — whichever comes first.  What the user sees once it is shown is the
same as if it had been made at start.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class BuiltWhenShown(QWidget):
    """Holds the widget ``make()`` returns, made on the first show or ``content()`` call."""

    def __init__(self, make: Callable[[], QWidget], parent: QWidget | None = None,
                 placed: Callable[[QWidget], None] | None = None) -> None:  # fmt: skip
        """``placed(content)`` once the content is in its place (what needs its parents: a panel's saved room)."""
        super().__init__(parent)
        self._make: Callable[[], QWidget] | None = make
        self._placed = placed
        self._content: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def is_built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        """The content, made now if it was not yet."""
        if self._content is None:
            make, self._make = self._make, None
            self._content = make()
            self.layout().addWidget(self._content)
            if self.isVisible():  # being shown (its children were shown before its showEvent)
                self._content.show()
            if self._placed is not None:
                self._placed(self._content)
        return self._content

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.content()  # made before its first paint
        super().showEvent(event)
