"""A drawing canvas: the mouse paints a thick, round, anti-aliased stroke or erases one; ``ink()`` returns the
pixels.  Pictures dropped on it are handed on (``pictureDropped``), not read here."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QGuiApplication, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.common.hints import hint
from gui.common.theme import colors
from gui.denoise.picture_import import picture_in

CANVAS_SIDE = 280
"""Pixels of the square drawing surface (10× MNIST's 28): the drawing, the brush and ``ink()`` are in these
pixels, however large the canvas is shown (``show_at``)."""
UNDO_DEPTH = 30


class DrawingCanvas(QWidget):
    """Left button draws (erases with the Eraser on), right button erases; ``drawingChanged`` fires on every
    stroke segment.

    ``source`` says what the canvas shows: None for a drawing, or what ``load_image`` was given
    (e.g. a test image or a picture).  A stroke or Clear makes it a drawing; Undo restores the
    earlier picture *and* its source, so a test digit comes back as that test digit.
    ``framed`` is True while the canvas holds a loaded image (drawn over or not): it is laid
    out as the network's input already, not a free drawing to crop and centre.
    ``undamaged_ink()`` is the drawing as it was before the eraser touched it (what frames it).
    """

    drawingChanged = Signal()
    strokeFinished = Signal()
    undoAvailable = Signal(bool)
    pictureDropped = Signal(object, str)  # (a file path or a QImage, a name for it): dropped, not read yet

    def __init__(self, parent: QWidget | None = None, side: int = CANVAS_SIDE, pen_width: float = 22.0) -> None:
        super().__init__(parent)
        self._side = side
        self._shown_side = side  # logical pixels on screen; the surface is scaled to it
        self.pen_width = pen_width
        screen = QGuiApplication.primaryScreen()
        self._dpr = screen.devicePixelRatio() if screen is not None else 1.0  # crisp strokes on HiDPI screens
        self._image = self._blank()
        self._undamaged: QImage | None = None  # the drawing before the eraser touched it; None: as shown
        self.empty_hint = "Draw a digit here —\nor step through test digits ◀ ▶,\nor drop a picture"
        self._undo: list[tuple[QImage, QImage | None, bool, object]] = []  # (picture, undamaged, framed, source)
        self.source: object = None
        self.framed = False
        self.erasing = False  # the Eraser tool: the left button erases too
        self._stroke_erases = False
        self._button = Qt.MouseButton.NoButton  # the button of the stroke under way
        self._last: QPointF | None = None
        self.setFixedSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAcceptDrops(True)
        hint(
            self,
            "Draw a digit with the left mouse button, as big as the box; drag with the right button (or turn on the "
            "Eraser, E) to erase part of it. Ctrl+Z undoes a stroke. Drop or paste (Ctrl+V) a picture to bring it "
            "here. It is shrunk to 28×28 and centred the way MNIST digits were",
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
        return self._pixels(self._image)

    def undamaged_ink(self) -> np.ndarray | None:
        """(side, side) float32: the drawing with what the eraser took put back (the strokes drawn since stay);
        None when nothing has been erased since the canvas was cleared or loaded."""
        return None if self._undamaged is None else self._pixels(self._undamaged)

    def _pixels(self, img: QImage) -> np.ndarray:
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
        self._undamaged, self.framed, self.source = None, False, None
        self.update()
        self.drawingChanged.emit()

    def undo(self) -> None:
        if not self._undo:
            return
        self._image, self._undamaged, self.framed, self.source = self._undo.pop()
        self.undoAvailable.emit(bool(self._undo))
        self.update()
        self.drawingChanged.emit()

    def load_image(self, image: np.ndarray, source: object = None) -> None:
        """Show a (28, 28) image on the canvas (undoable), e.g. a test digit to draw over; no signal."""
        self._push_undo()
        self._image = _image_from_array(image, round(self._side * self._dpr))
        self._image.setDevicePixelRatio(self._dpr)
        self._undamaged, self.framed, self.source = None, True, source
        self.update()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def _push_undo(self) -> None:
        undamaged = None if self._undamaged is None else self._undamaged.copy()
        self._undo.append((self._image.copy(), undamaged, self.framed, self.source))
        del self._undo[:-UNDO_DEPTH]
        self.undoAvailable.emit(True)

    # ----- painting and erasing --------------------------------------------------------------
    def set_erasing(self, on: bool) -> None:
        """The Eraser tool: with it on, the left button erases as the right one always does."""
        self.erasing = bool(on)
        self._show_tool_cursor(self.erasing)

    def set_pen_width(self, width: float) -> None:
        """The brush's (and the eraser's) thickness in canvas pixels."""
        self.pen_width = float(width)
        self._show_tool_cursor(self.erasing)

    def show_at(self, side: int) -> None:
        """Show the surface ``side`` logical pixels wide (at least its own size): a bigger window gets a bigger
        canvas to draw on, while the drawing stays ``CANVAS_SIDE`` pixels and the brush keeps its meaning."""
        side = max(self._side, int(side))
        if side != self._shown_side:
            self._shown_side = side
            self.setFixedSize(side, side)
            self._show_tool_cursor(self.erasing)
            self.update()

    def _scale(self) -> float:
        return self._shown_side / self._side

    def _on_surface(self, pos: QPointF) -> QPointF:
        """A point on the widget -> the same point on the drawing surface."""
        return pos / self._scale()

    def _show_tool_cursor(self, erasing: bool) -> None:
        if erasing:  # a ring as wide as the eraser is on screen
            self.setCursor(_eraser_cursor(self.pen_width * self._scale(), self.devicePixelRatioF()))
        else:
            self.setCursor(QCursor(Qt.CursorShape.CrossCursor))

    def _paint_to(self, pos: QPointF) -> None:
        """Ink from the last point to ``pos``, or erase it; a stroke drawn after erasing also frames the drawing."""
        targets = [self._image] if self._stroke_erases or self._undamaged is None else [self._image, self._undamaged]
        shade = 0 if self._stroke_erases else 255
        for target in targets:
            painter = QPainter(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(QColor(shade, shade, shade), self.pen_width, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))  # fmt: skip
            if self._last is None:
                painter.drawPoint(pos)
            else:
                painter.drawLine(self._last, pos)
            painter.end()
        self._last = pos
        self.update()
        self.drawingChanged.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self._last = None
        self._stroke_erases = button == Qt.MouseButton.RightButton or self.erasing
        self._push_undo()
        if self._stroke_erases:
            if self._undamaged is None:
                self._undamaged = self._image.copy()  # what frames the drawing while it is damaged
            self._show_tool_cursor(True)
        self.source = None  # drawn over or erased: now a drawing
        self._button = button
        self._paint_to(self._on_surface(event.position()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._last is not None and event.buttons() & self._button:
            self._paint_to(self._on_surface(event.position()))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._last is not None and event.button() == self._button:
            self._last = None
            self._show_tool_cursor(self.erasing)
            self.strokeFinished.emit()

    # ----- pictures dropped on the canvas ------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if picture_in(event.mimeData(), "the dropped image") is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if picture_in(event.mimeData(), "the dropped image") is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        found = picture_in(event.mimeData(), "the dropped image")
        if found is not None:
            event.acceptProposedAction()
            self.pictureDropped.emit(*found)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        if self._shown_side == self._side:
            painter.drawImage(0, 0, self._image)
        else:  # shown larger than the surface: scaled smoothly
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(QRectF(0, 0, self._shown_side, self._shown_side), self._image)
        if self.source is None and self.empty_hint and self.is_empty():  # what to do with an empty canvas
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_hint)
        painter.setPen(QColor(colors()["button_border"]))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._shown_side, self._shown_side)


def _eraser_cursor(width: float, ratio: float = 1.0) -> QCursor:
    """A ring the size of the eraser (``width`` logical pixels), dark and light so it shows on ink and on paper,
    as wide as the eraser on a HiDPI screen too (``ratio`` device pixels a logical one).

    X11 (xcb) takes a cursor's pixels and hot spot as device pixels whatever the pixmap's ratio says (measured
    at QT_SCALE_FACTOR=2: a ratio-2 pixmap got its hot spot a quarter of the way in), so there the ring is drawn
    in device pixels outright; elsewhere it is a pixmap at the screen's ratio.
    """
    in_device_pixels = QGuiApplication.platformName() == "xcb"
    pixels = round((int(width) + 4) * ratio)
    pixmap = QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(1.0 if in_device_pixels else ratio)
    side = pixmap.deviceIndependentSize().width()  # the ring's size in the painter's units
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for shade, inset in ((0, 1), (255, 2)):
        painter.setPen(QPen(QColor(shade, shade, shade), 1))
        painter.drawEllipse(QRectF(inset, inset, side - 1 - 2 * inset, side - 1 - 2 * inset))
    painter.end()
    return QCursor(pixmap)  # the hot spot in the middle


def _image_from_array(image: np.ndarray, side: int) -> QImage:
    """(h, w) float in [0, 1] -> a side×side grayscale QImage, smoothly scaled."""
    arr = (np.clip(np.asarray(image, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    h, w = arr.shape
    small = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return small.scaled(side, side, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_Grayscale8)
