"""What goes into the Denoise tab: the canvas, test images and the user's own pictures, as the state's input.

``DenoiseInputs`` turns the Draw column's events into ``DenoiseState.set_input``: a stroke (prepared as an
MNIST digit by the engine), a test image of the chosen set (its test set read off the GUI thread), a picture
(read and prepared off the GUI thread).  It also switches the test set: when the user chooses one, and when a
model trained on another set arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage

from engine.data_sources import data_source
from engine.images import to_unit_float
from engine.preprocess import prepare_digit, shrink_framed
from gui.common import dialogs
from gui.common.jobs import JobRunner
from gui.denoise.draw_panel import DrawPanel
from gui.denoise.picture_import import Picture, PictureError, load_picture, picture_in
from gui.denoise.state import DenoiseState

DRAW_DELAY_MS = 15
"""Strokes arriving faster than this are prepared once (the mouse sends ~100 moves a second)."""


@dataclass(frozen=True)
class TestImage:
    """What the canvas shows after a test image was put on it: image ``index`` of ``data_set``'s test set."""

    data_set: str
    index: int


def _random_index(count: int) -> int:
    return int(np.random.default_rng().integers(count))


def _test_images(data, data_set: str, state) -> tuple[np.ndarray, np.ndarray]:
    """Runs on a pool thread: ``data_set``'s test images (n, 28, 28) uint8 and labels (n,)."""
    images, labels = data.split("test", data_set)
    return images.reshape(-1, 28, 28), labels


class DenoiseInputs(QObject):
    """The Draw column's events as the state's input; ``testDigitShown(index)``, ``pictureShown(name)``."""

    testDigitShown = Signal(int)  # a test image is on the canvas (after the test set loaded)
    pictureShown = Signal(str)  # a picture of the user's own is on the canvas (its name)

    def __init__(self, state: DenoiseState, draw: DrawPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.draw, self.canvas = state, draw, draw.canvas
        self.test_index = 0  # the test image last shown (◀ ▶ step from it)
        self._test: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # loaded test sets: (n, 28, 28) uint8, labels
        self.data_jobs, self.set_jobs, self.picture_jobs = JobRunner(self), JobRunner(self), JobRunner(self)
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(DRAW_DELAY_MS)
        self._draw_timer.timeout.connect(self.take_drawing)
        self.canvas.drawingChanged.connect(self._draw_timer.start)
        self.canvas.pictureDropped.connect(self.open_picture)
        draw.testImageStep.connect(self.step_test_image)
        draw.randomTestImage.connect(self.random_test_digit)
        draw.test_set_box.dataSetChanged.connect(lambda name: self.choose_test_set(name, quiet=False))
        state.modelChanged.connect(self._follow_model)

    # ----- the canvas -------------------------------------------------------------------------
    def take_drawing(self) -> None:
        """The canvas changed: a stroke, an erasure, Clear — or Undo bringing back a test image or picture (done
        ``DRAW_DELAY_MS`` after the last change; at once when called)."""
        self._draw_timer.stop()
        tag = self.canvas.source
        if isinstance(tag, TestImage) and tag.data_set in self._test:
            self._show_test_image(tag.data_set, tag.index, on_canvas=False)
        elif isinstance(tag, Picture):
            self._show_picture(tag, on_canvas=False)
        else:
            ink = self.canvas.ink()
            clean = shrink_framed(ink) if self.canvas.framed else prepare_digit(ink, frame=self.canvas.undamaged_ink())
            self.state.set_input(clean, "drawing", "Draw a digit" if self.canvas.is_empty() else "Your drawing")

    # ----- test images ------------------------------------------------------------------------
    def _take_pending_drawing(self) -> None:
        """Another input is asked for: a stroke not taken yet is taken first (the canvas shows a drawing now)."""
        if self._draw_timer.isActive():
            self.take_drawing()

    def step_test_image(self, step: int) -> None:
        """◀ / ▶: the previous or next test image; from a drawing or a picture, the test image last shown (#0 at
        the start), not the one after it."""
        self._take_pending_drawing()
        self.show_test_digit(self.test_index + step if self.state.source == "test" else self.test_index)

    def random_test_digit(self) -> None:
        self._with_test_set(lambda n: self._show_test_image(self.state.test_set, _random_index(n)))

    def show_test_digit(self, index: int) -> None:
        """Test image ``index`` (wrapping around) of the chosen set as the clean input, once its test set is read."""
        self._with_test_set(lambda n: self._show_test_image(self.state.test_set, index % n))

    def _show_test_image(self, data_set: str, index: int, on_canvas: bool = True) -> None:
        images, labels = self._test[data_set]
        self.test_index = index
        if data_set != self.state.test_set:  # Undo brought back an image of the other set
            self._use_test_set(data_set, reshow=False)
        clean = to_unit_float(images[index])
        if on_canvas:
            self.canvas.load_image(clean, source=TestImage(data_set, index))
            self._draw_timer.stop()  # the canvas's change is this very input
        source, label = data_source(data_set), int(labels[index])
        if source.name == "mnist":
            text = f"Test digit #{index} (label {label})"
        else:
            text = f"{source.title} test image #{index} ({source.classes[label]})"
        self.state.set_input(clean, "test", text)
        if on_canvas:
            self.testDigitShown.emit(index)

    def _with_test_set(self, then) -> None:
        """Run ``then(count)`` once the chosen test set is read (at once if it is; else after a job)."""
        self._take_pending_drawing()
        name = self.state.test_set
        if name in self._test:
            then(len(self._test[name][0]))
            return
        title = data_source(name).title
        self.draw.source_label.setText(f"Loading the {title} test set…")

        def loaded(test) -> None:
            self._test[name] = test
            self.draw.source_label.setText(self.state.description)
            if name == self.state.test_set:  # still the chosen set
                then(len(test[0]))

        def failed(exc: BaseException) -> None:
            self.draw.source_label.setText(self.state.description)
            dialogs.show_exception(self.draw, f"{title} not available", exc, name)

        self.data_jobs.start(_test_images, self.state.data, name, on_done=loaded, on_error=failed)

    # ----- the test set -------------------------------------------------------------------------
    def _follow_model(self, model) -> None:
        wanted = self.state.wanted_test_set()
        if wanted is not None:
            self.choose_test_set(wanted, quiet=True)

    def choose_test_set(self, name: str, quiet: bool = True) -> None:
        """Test images, scores and curves from ``name`` once its test set is read (off-thread).  If it cannot be
        read the choice goes back, with a dialog unless ``quiet`` (a model chose it, not the user)."""
        self.set_jobs.cancel()
        self._show_choice(name)
        if name == self.state.test_set:
            return
        if name in self._test:
            self._use_test_set(name)
            return

        def loaded(test) -> None:
            self._test[name] = test
            self._use_test_set(name)

        def failed(exc: BaseException) -> None:
            self._show_choice(self.state.test_set)
            if not quiet:
                dialogs.show_exception(self.draw, f"{data_source(name).title} not available", exc, name)

        self.set_jobs.start(_test_images, self.state.data, name, on_done=loaded, on_error=failed)

    def _use_test_set(self, name: str, reshow: bool = True) -> None:
        """The state takes ``name``; a test image on show becomes that set's image of the same number."""
        self._show_choice(name)
        self.state.set_test_set(name)
        if reshow and self.state.source == "test":
            self._show_test_image(name, self.test_index % len(self._test[name][0]))

    def _show_choice(self, name: str) -> None:
        """The chooser shows ``name`` (without asking for a switch)."""
        box = self.draw.test_set_box
        box.blockSignals(True)
        box.set_data_set(name)
        box.blockSignals(False)

    # ----- your own pictures -------------------------------------------------------------------
    def open_picture(self, source: str | QImage, name: str | None = None) -> None:
        """Bring a picture file (or image data) to the canvas: read and prepared off the GUI thread, then shown
        and denoised as a drawing is.  A picture that cannot be used gets a dialog; the canvas keeps what it has."""
        self._take_pending_drawing()
        name = name or str(source)
        label = self.draw.source_label
        label.setText(f"Reading {name}…")

        def failed(exc: BaseException) -> None:
            label.setText(self.state.description)
            if isinstance(exc, PictureError):
                dialogs.show_error(self.draw, "Cannot use this picture", f"{exc.name} {exc.problem}.",
                                   f"{exc.fix}. The canvas keeps what it had.")  # fmt: skip
            else:
                dialogs.show_error(self.draw, "Cannot use this picture", f"{name}: {type(exc).__name__}: {exc}",
                                   "The canvas keeps what it had.")  # fmt: skip

        self.picture_jobs.start(load_picture, source, name, on_done=self._show_picture, on_error=failed)

    def paste_picture(self) -> None:
        """Ctrl+V: a picture (or a picture file) from the clipboard onto the canvas."""
        found = picture_in(QGuiApplication.clipboard().mimeData(), "the pasted image")
        if found is None:
            dialogs.show_error(self.draw, "Nothing to paste", "The clipboard holds no picture.",
                               "Copy a picture (or a picture file) first, then press Ctrl+V.")  # fmt: skip
            return
        self.open_picture(*found)

    def _show_picture(self, picture: Picture, on_canvas: bool = True) -> None:
        if on_canvas:
            self.canvas.load_image(picture.image, source=picture)
            self._draw_timer.stop()  # the canvas's change is this very input
        width, height = picture.size
        how = ", inverted" if picture.inverted else ""
        name = picture.name if len(picture.name) <= 32 else f"{picture.name[:20]}…{picture.name[-11:]}"
        self.state.set_input(picture.image, "picture", f"Your picture {name} ({width}×{height}{how})")
        if on_canvas:
            self.pictureShown.emit(picture.name)
