"""Pixel-sharp views of 28×28 images: one ``PixelImage``, and ``ImageRow`` of captioned images side by side."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from gui.common.theme import colors


def to_qimage(image: np.ndarray) -> QImage:
    """(h, w) float in [0, 1] -> an 8-bit grayscale QImage (a copy)."""
    arr = np.ascontiguousarray(np.clip(np.nan_to_num(image), 0, 1) * 255 + 0.5, dtype=np.float32).astype(np.uint8)
    h, w = arr.shape
    return QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class PixelImage(QWidget):
    """Shows a small grayscale image scaled up by whole pixels, without smoothing."""

    def __init__(self, side: int = 28, min_size: int = 112, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage(side, side, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._array = np.zeros((side, side), np.float32)
        self.setMinimumSize(min_size, min_size)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: np.ndarray) -> None:
        """image: (h, w) float in [0, 1]; a (784,) vector is shown as 28×28."""
        arr = np.asarray(image, np.float32)
        if arr.ndim == 1:
            side = int(round(np.sqrt(arr.size)))
            arr = arr.reshape(side, side)
        self._array = arr.copy()
        self._image = to_qimage(arr)
        self.update()

    def image(self) -> np.ndarray:
        return self._array

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(168, 168)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(colors()["image_bg"]))
        w, h = self._image.width(), self._image.height()
        fit = min(self.width() / w, self.height() / h)
        # whole-pixel steps where they stay big; small views fill their cell, so neighbours match in size
        scale = int(fit) if fit >= 4 else max(fit, 1.0)
        target = QRect(0, 0, int(w * scale), int(h * scale))
        target.moveCenter(self.rect().center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._image)
        painter.setPen(QColor(colors()["border"]))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class ImageRow(QWidget):
    """Captioned images side by side, e.g. clean | noisy | reconstruction, each with a line of text below."""

    def __init__(self, titles: list[str], min_size: int = 112, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(10)
        self.titles: list[QLabel] = []
        self.images: list[PixelImage] = []
        self.captions: list[QLabel] = []
        for col, title in enumerate(titles):
            head = QLabel(title)
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            head.setStyleSheet("font-weight: bold;")
            view = PixelImage(min_size=min_size)
            caption = QLabel("")
            caption.setObjectName("caption")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)  # a long caption wraps: every column keeps the same width
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(head, 0, col)
            layout.addWidget(view, 1, col)
            layout.addWidget(caption, 2, col)
            layout.setColumnStretch(col, 1)
            self.titles.append(head)
            self.images.append(view)
            self.captions.append(caption)
        layout.setRowStretch(1, 1)

    def set_image(self, index: int, image: np.ndarray, caption: str | None = None) -> None:
        self.images[index].set_image(image)
        if caption is not None:
            self.captions[index].setText(caption)

    def set_column_visible(self, index: int, visible: bool) -> None:
        for widget in (self.titles[index], self.images[index], self.captions[index]):
            widget.setVisible(visible)
        self.layout().setColumnStretch(index, 1 if visible else 0)  # a hidden column takes no room
