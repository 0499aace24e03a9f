"""A drawing canvas: the mouse paints a thick, round, anti-aliased stroke; ``ink()`` returns the pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.hints import hint
from gui.theme import COLORS

CANVAS_SIDE = 280
"""Pixels of the square drawing surface (10× MNIST's 28)."""
UNDO_DEPTH = 30


class DrawingCanvas(QWidget):
    """Left button draws, right button clears; ``drawingChanged`` fires on every stroke segment.

    ``source`` says what the canvas shows: None for a drawing, or what ``load_image`` was given
    (e.g. a test digit's index).  A stroke or Clear makes it a drawing; Undo restores the
    earlier picture *and* its source, so a test digit comes back as that test digit.
    """

    drawingChanged = Signal()
    strokeFinished = Signal()
    undoAvailable = Signal(bool)

    def __init__(self, parent: QWidget | None = None, side: int = CANVAS_SIDE, pen_width: float = 22.0) -> None:
        super().__init__(parent)
        self._side = side
        self.pen_width = pen_width
        screen = QGuiApplication.primaryScreen()
        self._dpr = screen.devicePixelRatio() if screen is not None else 1.0  # crisp strokes on HiDPI screens
        self._image = self._blank()
        self.empty_hint = "Draw a digit here —\nor step through test digits ◀ ▶"
        self._undo: list[tuple[QImage, object]] = []  # (picture, its source)
        self.source: object = None
        self._last: QPointF | None = None
        self.setFixedSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        hint(
            self,
            "Draw a digit with the left mouse button, as big as the box. Right-click clears, Ctrl+Z undoes a stroke. "
            "It is shrunk to 28×28 and centred the way MNIST digits were",
        )

    # ----- content ---------------------------------------------------------------------------
    def _blank(self) -> QImage:
        """A black picture of side × side logical pixels at the screen's pixel ratio."""
        pixels = round(self._side * self._dpr)
        image = QImage(pixels, pixels, QImage.Format.Format_Grayscale8)
        image.setDevicePixelRatio(self._dpr)
        image.fill(0)
        return image

    def ink(self) -> np.ndarray:
        """(side, side) float32 in [0, 1], white ink on black."""
        img = self._image
        if img.width() != self._side:  # a HiDPI picture: the network's view is the logical size
            img = img.scaled(self._side, self._side, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)  # fmt: skip
        ptr = img.constBits()
        arr = np.frombuffer(ptr, np.uint8, count=img.bytesPerLine() * img.height())
        arr = arr.reshape(img.height(), img.bytesPerLine())[:, : img.width()]
        return arr.astype(np.float32) / 255

    def is_empty(self) -> bool:
        """No ink at all (checked on the stored bytes: cheap enough for every repaint)."""
        img = self._image
        return not np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * img.height()).any()

    def clear(self) -> None:
        if not self.is_empty() or self.source is not None:
            self._push_undo()
        self._image = self._blank()
        self.source = None
        self.update()
        self.drawingChanged.emit()

    def undo(self) -> None:
        if not self._undo:
            return
        self._image, self.source = self._undo.pop()
        self.undoAvailable.emit(bool(self._undo))
        self.update()
        self.drawingChanged.emit()

    def load_image(self, image: np.ndarray, source: object = None) -> None:
        """Show a (28, 28) image on the canvas (undoable), e.g. a test digit to draw over; no signal."""
        self._push_undo()
        self._image = _image_from_array(image, round(self._side * self._dpr))
        self._image.setDevicePixelRatio(self._dpr)
        self.source = source
        self.update()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def _push_undo(self) -> None:
        self._undo.append((self._image.copy(), self.source))
        del self._undo[:-UNDO_DEPTH]
        self.undoAvailable.emit(True)

    # ----- painting --------------------------------------------------------------------------
    def _paint_to(self, pos: QPointF) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(QColor(255, 255, 255), self.pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if self._last is None:
            painter.drawPoint(pos)
        else:
            painter.drawLine(self._last, pos)
        painter.end()
        self._last = pos
        self.update()
        self.drawingChanged.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._push_undo()
            self.source = None  # drawn over: now a drawing
            self._last = None
            self._paint_to(event.position())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton and self._last is not None:
            self._paint_to(event.position())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._last = None
            self.strokeFinished.emit()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        if self.source is None and self.empty_hint and self.is_empty():  # what to do with an empty canvas
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_hint)
        painter.setPen(QColor(COLORS["button_border"]))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._side, self._side)


def _image_from_array(image: np.ndarray, side: int) -> QImage:
    """(h, w) float in [0, 1] -> a side×side grayscale QImage, smoothly scaled."""
    arr = (np.clip(np.asarray(image, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    h, w = arr.shape
    small = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return small.scaled(side, side, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_Grayscale8)
