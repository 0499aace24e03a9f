"""Sizes that fit the screen a window is on: a window never opens larger than the screen's free area, nor
off it, whatever the screen's size and scale (``QT_SCALE_FACTOR`` shrinks the area in logical pixels)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

FALLBACK_AREA = QRect(0, 0, 1280, 800)
"""Assumed when no screen is known (never on a real desktop)."""
FRAME_ALLOWANCE = QSize(16, 48)
"""Room left for the window manager's frame and title bar: ``resize`` sets the inside of a window."""


def available_area(widget: QWidget | None = None) -> QRect:
    """The free area (without panels and docks) of the screen ``widget`` is on, or of the primary screen."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(FALLBACK_AREA)


def fitted_size(wanted: QSize, widget: QWidget | None = None) -> QSize:
    """``wanted`` shrunk (never grown) to fit the inside of a window on ``widget``'s screen, frame included."""
    area = available_area(widget)
    return QSize(max(1, min(wanted.width(), area.width() - FRAME_ALLOWANCE.width())),
                 max(1, min(wanted.height(), area.height() - FRAME_ALLOWANCE.height())))  # fmt: skip


def keep_on_screen(window: QWidget) -> None:
    """Shrink ``window`` where it is larger than its screen's free area (each side on its own, the frame allowed
    for), and move it back onto that area if it lies (partly) off it — after a geometry restored from a larger
    screen, or a screen unplugged since."""
    area = available_area(window)
    frame = window.frameGeometry()
    width, height = window.width(), window.height()
    if frame.width() > area.width():
        width = area.width() - max(FRAME_ALLOWANCE.width(), frame.width() - window.width())
    if frame.height() > area.height():
        height = area.height() - max(FRAME_ALLOWANCE.height(), frame.height() - window.height())
    if (width, height) != (window.width(), window.height()):
        window.resize(max(width, 1), max(height, 1))
        frame = window.frameGeometry()
    x = min(max(frame.left(), area.left()), max(area.left(), area.right() + 1 - frame.width()))
    y = min(max(frame.top(), area.top()), max(area.top(), area.bottom() + 1 - frame.height()))
    if QPoint(x, y) != frame.topLeft():
        window.move(x, y)
