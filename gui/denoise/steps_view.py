"""How a picture became the network's input, shown on request: the picture, the paper's light, the background
removed, the ink and the 28×28 input side by side, each with a line of what happened to this picture.

``PreparationStepsDialog`` is a small window beside the app (not modal) that follows the Denoise tab's
``DenoiseState``: it shows the steps of the picture that is the input (``state.picture``, kept by the engine
while it prepared it) and says so when the input is a drawing or a test image instead.  The words come from
the engine (``engine.image_import.describe_steps``); the tooltips say why each step is there.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from engine.image_import import MAX_WORK_SIDE, describe_steps
from gui.common.hints import hint
from gui.common.image_row import to_qimage
from gui.common.theme import colors
from gui.common.when_shown import WhenShown
from gui.denoise.state import DenoiseState

STEP_TIPS = (
    "The picture as it was read: colours made grey, and a large photo scaled down to at most "
    f"{MAX_WORK_SIDE} pixels a side (the network gets 28×28, so nothing it needs is lost)",
    "Photos are lit unevenly — shading, a vignette, the shadow of a hand or a phone. How bright the paper is "
    "everywhere, under the ink too, is found from the paper around the ink",
    "Light multiplies, so dividing by the paper's light leaves even paper, and ink as dark in the shade as in the "
    "light: no bar of darker paper is taken for ink",
    "Ink has sharp edges and is much darker than the paper near it; what is left of a shadow is soft and only a "
    "little darker. Specks and what touches the picture's edge (a desk, the page's edge) are not the digit",
    "What the network receives, made as MNIST's digits were: the ink's box scaled into 20×20, its centre of mass "
    "at the centre of 28×28. It is also what the canvas shows",
)
"""Why each step is there: the tooltip of its image, in the order of ``describe_steps``."""
WIDTH, HEIGHT, MARGIN = 900, 340, 24
"""The window's first size, and how far it stays from the main window's edges and the Draw column."""
NO_PICTURE = ("The canvas shows {what}, not a picture. Open one (File ▸ Open image…), drop one on the canvas or "
              "paste one (Ctrl+V) to see how it is prepared.")  # fmt: skip


class StepImage(QWidget):
    """A grey image (h, w) in [0, 1], as large as the widget allows with its shape kept: smoothed when shown smaller
    than it is (a photo), pixel-sharp when shown larger (the 28×28 input)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: np.ndarray | None) -> None:
        """image: (h, w) float in [0, 1], or None for an empty view."""
        self._array = image
        self._image = None if image is None else to_qimage(image)
        self.update()

    def image(self) -> np.ndarray | None:
        """The image shown, (h, w), or None."""
        return self._array

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(170, 170)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(colors()["image_bg"]))
        if self._image is not None:
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            smaller = size.width() < self._image.width()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smaller)
            painter.drawImage(target, self._image)
            painter.setPen(QColor(colors()["border"]))
            painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class PreparationStepsDialog(QDialog):
    """The steps of the picture on the Denoise tab's canvas, following ``state`` while it is open."""

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("How the picture was prepared")
        self.setModal(False)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-weight: bold;")
        self.titles, self.images, self.notes = [], [], []
        steps = QGridLayout()
        steps.setHorizontalSpacing(6)
        for i, tip in enumerate(STEP_TIPS):
            title, image, note = QLabel(), StepImage(), QLabel()
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setStyleSheet("font-weight: bold;")
            title.setWordWrap(True)
            note.setObjectName("caption")
            note.setWordWrap(True)
            note.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            for widget in (title, image, note):
                hint(widget, tip)
            for label in (title, note):
                label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps, never widens
            steps.addWidget(title, 0, 2 * i)
            steps.addWidget(image, 1, 2 * i)
            steps.addWidget(note, 2, 2 * i)
            steps.setColumnStretch(2 * i, 1)
            if i:
                arrow = QLabel("→")
                arrow.setObjectName("caption")
                arrow.setAccessibleName("then")
                steps.addWidget(arrow, 1, 2 * i - 1)
            self.titles.append(title)
            self.images.append(image)
            self.notes.append(note)
        steps.setRowStretch(1, 1)
        self.steps = QWidget()
        self.steps.setLayout(steps)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(buttons)
        self.resize(WIDTH, HEIGHT)
        self._when_shown = WhenShown(self, self._follow)  # hidden, it does nothing
        state.inputChanged.connect(self._when_shown.request)
        self._when_shown.request()

    def place_clear_of(self, column: QWidget) -> None:
        """Over the lower right of ``column``'s window, clear of ``column`` (the Draw column: the canvas and the
        network's input stay in view), as wide as there is room for, up to ``WIDTH``."""
        self.layout().activate()  # its minimum size is known
        window = column.window().geometry()  # global, without the frame
        left = column.mapToGlobal(column.rect().topRight()).x() + MARGIN
        width = max(self.minimumSizeHint().width(), min(WIDTH, window.right() - MARGIN - left))
        height = max(HEIGHT, self.layout().totalMinimumHeightForWidth(width))  # every line of the notes shown
        self.resize(width, height)
        self.move(window.right() - MARGIN - width, window.bottom() - MARGIN - height)

    def _follow(self, *_) -> None:
        """Show the steps of the picture that is the input now, or say that there is none."""
        picture = self.state.picture
        self.steps.setVisible(picture is not None)
        self.empty.setVisible(picture is None)
        if picture is None:
            what = {"test": "a test image", "drawing": "a drawing"}.get(self.state.source, "another input")
            self.heading.setText("No picture on the canvas")
            self.empty.setText(NO_PICTURE.format(what=what))
            for image in self.images:
                image.set_image(None)  # the old picture's steps are let go
            return
        self.heading.setText(f"How {picture.name} became what the network is given")
        steps = picture.steps
        arrays = (steps.picture, steps.background, steps.flattened, steps.ink, steps.prepared.image)
        words = describe_steps(steps, picture.size)
        for (title, note), array, title_label, view, note_label in zip(
            words, arrays, self.titles, self.images, self.notes, strict=True
        ):
            title_label.setText(title)
            view.set_image(array)
            note_label.setText(note)
