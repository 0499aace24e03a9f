"""The Denoise tab's Draw column: the canvas and its tools, the test-image controls, and what the network receives.

Widgets only: the Denoise tab decides what a stroke, a test image or a picture means.  ``fit_canvas`` shows the
canvas as large as the column's room allows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from gui.common.controls import hinted_button, row
from gui.common.data_set_box import DataSetBox
from gui.common.hints import explain_disabled, hint
from gui.common.image_row import PixelImage
from gui.denoise.canvas import CANVAS_SIDE, DrawingCanvas


class DrawPanel(QGroupBox):
    """Canvas, brush, Clear / Undo / Eraser, ◀ Random test image ▶, the test set, and the network's 28×28 input
    (with *Show the steps…* while a picture is the input).

    Signals: ``testImageStep(int)`` (-1 or +1: the previous or next test image), ``randomTestImage()``.
    """

    testImageStep = Signal(int)
    randomTestImage = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Draw", parent)
        self.canvas = DrawingCanvas()
        self._make_tools()
        self._make_test_controls()
        self._lay_out()

    def _make_tools(self) -> None:
        """Clear, Eraser, Undo and the brush."""
        self.clear_button = hinted_button(
            "Clear",
            "Clear the whole canvas (Undo brings it back). To erase only part of it, drag with the right mouse "
            "button or turn on the Eraser (E)",
            self.canvas.clear,
        )  # fmt: skip
        self.eraser_button = hinted_button(
            "Eraser",
            "Eraser tool (E): while on, the left mouse button erases; the right button always does. Erase part of a "
            "digit and watch the network fill the gap — the digit stays where it was. Undo brings strokes back",
            None,
        )
        self.eraser_button.setCheckable(True)
        QShortcut(QKeySequence("E"), self, activated=self.eraser_button.toggle)
        self.eraser_button.toggled.connect(self.canvas.set_erasing)
        self.undo_button = hinted_button(
            "Undo",
            "Take back the last stroke or Clear (Ctrl+Z); up to 30 steps",
            self.canvas.undo,
        )
        explain_disabled(self.undo_button, "nothing to take back yet; Undo works after a stroke, an erase or Clear")
        self.undo_button.setEnabled(False)
        self.canvas.undoAvailable.connect(self.undo_button.setEnabled)
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=self.canvas.undo)
        self.brush = QSlider(Qt.Orientation.Horizontal)
        self.brush.setRange(8, 40)
        self.brush.setValue(int(self.canvas.pen_width))
        hint(
            self.brush,
            "Brush thickness, 8–40 canvas pixels (the canvas is 10× the network's 28×28). About 20 looks like MNIST's"
            " pen",
        )
        self.brush_label = QLabel(f"{self.brush.value()} px")
        self.brush_label.setMinimumWidth(44)
        self.brush.valueChanged.connect(self._on_brush)

    def _make_test_controls(self) -> None:
        """◀ Random test image ▶, the test set, what the canvas shows and the network's input."""
        self.random_button = hinted_button(
            "Random test image",
            "Show a random image from the 10,000 test images of the chosen set (MNIST digits or Fashion-MNIST "
            "clothing): real images the network never saw while training",
            self.randomTestImage.emit,
        )  # fmt: skip
        self.previous_button = hinted_button("◀", "The previous test image", lambda: self.testImageStep.emit(-1))
        self.next_button = hinted_button("▶", "The next test image", lambda: self.testImageStep.emit(1))
        for button in (self.previous_button, self.next_button):
            button.setFixedWidth(40)
        self.test_set_box = DataSetBox(
            "Where test images come from: MNIST digits or Fashion-MNIST clothing (10,000 each, never seen in "
            "training). It follows the model; choose the other set to see a model meet images it never learned"
        )
        self.source_label = QLabel("Draw a digit")
        self.source_label.setObjectName("caption")
        self.source_label.setWordWrap(True)  # a picture's name must not widen the column
        self.steps_button = hinted_button(
            "Show the &steps…",
            "How your picture became the network's input, step by step: the picture, the paper's light, the "
            "background removed, the ink, the 28×28 input (Alt+S)",
        )
        self.steps_button.setVisible(False)  # while a picture of the user's own is the input
        policy = self.steps_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the input beside it does not move when it shows
        self.steps_button.setSizePolicy(policy)
        self.input_view = PixelImage(min_size=84)
        self.input_view.setMaximumSize(140, 140)
        hint(
            self.input_view,
            "What the network receives: your drawing cropped, scaled into 20×20 and centred by mass in 28×28, as "
            "MNIST digits were",
        )

    def _lay_out(self) -> None:
        column = QVBoxLayout(self)
        column.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addLayout(row(QLabel("Brush"), (self.brush, 1), self.brush_label))
        column.addLayout(row(self.clear_button, self.undo_button, self.eraser_button))
        column.addLayout(row(self.previous_button, (self.random_button, 1), self.next_button))
        column.addLayout(row(QLabel("Test images"), (self.test_set_box, 1)))
        column.addWidget(self.source_label)
        net_in = QLabel("Network input, 28×28")
        net_in.setObjectName("caption")
        column.addWidget(net_in)
        below = QHBoxLayout()  # the steps button beside the input, not over it: the column's height stays the same
        below.addStretch(1)
        below.addWidget(self.input_view)
        below.addWidget(self.steps_button, 0, Qt.AlignmentFlag.AlignBottom)
        below.addStretch(1)
        column.addLayout(below)
        column.addStretch(1)

    def _on_brush(self, width: int) -> None:
        self.canvas.set_pen_width(width)
        self.brush_label.setText(f"{width} px")

    def fit_canvas(self, height: int, width: int) -> None:
        """Show the canvas as large as a column ``height`` tall allows (its other rows keep their height), at most
        ``width`` wide and twice the drawing's size; never below the drawing's 280 pixels."""
        label = self.source_label  # room for two lines, whatever it says now (a picture's name may wrap)
        spare = max(0, 2 * label.fontMetrics().lineSpacing() + 4 - label.sizeHint().height())
        others = self.sizeHint().height() - self.canvas.height() + spare
        self.canvas.show_at(min(height - others, width, 2 * CANVAS_SIDE))

