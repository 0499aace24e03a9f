"""Work worth doing only while a widget is on screen: now if it is shown, else the next time it is.

Panels that score 10,000 test images (the robustness curve, the latent map) or draw a whole network (the
Architecture tab) wait until they are visible, so switching models with them hidden stays quick.
``AfterFirstPaint``: work that waits until a window has appeared (the app's background jobs at start).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class WhenShown(QObject):
    """Runs ``work()`` on ``request()`` if ``widget`` is visible, else on its next show event.

    ``on_hidden`` runs when a request has to wait (for example to cancel a job started for older inputs).
    """

    def __init__(self, widget: QWidget, work: Callable[[], None], on_hidden: Callable[[], None] | None = None):
        super().__init__(widget)
        self._widget, self._work, self._on_hidden = widget, work, on_hidden
        self._due = False
        widget.installEventFilter(self)

    def request(self) -> None:
        """The work is due: do it now if the widget is shown, else when it is."""
        self._due = True
        if self._widget.isVisible():
            self._run()
        elif self._on_hidden is not None:
            self._on_hidden()

    def retry_when_shown(self) -> None:
        """The work failed or was dropped: do it again on the next show, not now."""
        self._due = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._widget and event.type() == QEvent.Type.Show and self._due:
            self._run()
        return False

    def _run(self) -> None:
        self._due = False
        self._work()


class AfterFirstPaint(QObject):
    """Runs ``work()`` once, as soon as ``window`` has been painted for the first time — or after ``limit_ms`` if
    it never is (a window that cannot be painted must not hold the work for ever)."""

    def __init__(self, window: QWidget, work: Callable[[], None], limit_ms: int) -> None:
        super().__init__(window)
        self._work: Callable[[], None] | None = work
        window.installEventFilter(self)
        QTimer.singleShot(limit_ms, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and self._work is not None:
            QTimer.singleShot(0, self, self._run)  # once this paint (the window's children too) is done
        return False

    def _run(self) -> None:
        work, self._work = self._work, None
        if work is not None:
            self.parent().removeEventFilter(self)
            work()
