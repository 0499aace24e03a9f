"""The Denoise tab: draw or pick a test digit, add a fixed noise pattern, see the reconstruction live."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.baselines import fit_pca
from engine.dataset import read_split
from engine.idx import DatasetFileError
from engine.images import to_unit_float
from engine.metrics import mse
from engine.noise import add_noise
from engine.pca import PCA
from engine.preprocess import prepare_digit
from gui import dialogs
from gui.canvas import DrawingCanvas
from gui.hourglass_item import HourglassView
from gui.image_row import ImageRow, PixelImage
from gui.latent_bars import LatentBars

MAX_SLIDERS = 16
SLIDER_STEPS = 1000


class DenoiseTab(QWidget):
    """Canvas → 28×28 → noise → model, shown as clean | noisy | reconstruction (| PCA)."""

    latentChanged = Signal(object)  # (k,) float32 copy, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = None
        self.source = "drawing"  # or "test"
        self.test_index = 0
        self.noise_seed = 1
        self.sigma = 0.3
        self.clean = np.zeros((28, 28), np.float32)
        self.noisy = np.zeros((28, 28), np.float32)
        self.recon = np.zeros((28, 28), np.float32)
        self.code = np.zeros(10, np.float32)
        self.errors: dict[str, float] = {}
        self._test_data: tuple[np.ndarray, np.ndarray] | None = None  # (n, 28, 28) uint8, (n,) labels
        self._test_clean: np.ndarray | None = None
        self._pca: PCA | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(15)
        self._refresh_timer.timeout.connect(self.refresh)
        self._build()

    # ----- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = DrawingCanvas()
        self.canvas.drawingChanged.connect(self._on_drawing)
        self.clear_button = clear = QPushButton("Clear")
        clear.setStatusTip("Erase the drawing (right-click on the canvas does the same)")
        clear.clicked.connect(self.canvas.clear)
        self.undo_button = undo = QPushButton("Undo")
        undo.setStatusTip("Take back the last stroke (Ctrl+Z)")
        undo.clicked.connect(self.canvas.undo)
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=self.canvas.undo)
        self.random_button = QPushButton("Random test digit")
        self.random_button.setStatusTip("Load a random digit from the MNIST test set (never seen in training)")
        self.random_button.clicked.connect(self.random_test_digit)
        prev_button = QPushButton("◀")
        prev_button.setStatusTip("Previous test digit")
        prev_button.setFixedWidth(40)
        prev_button.clicked.connect(lambda: self.show_test_digit(self.test_index - 1))
        next_button = QPushButton("▶")
        next_button.setStatusTip("Next test digit")
        next_button.setFixedWidth(40)
        next_button.clicked.connect(lambda: self.show_test_digit(self.test_index + 1))
        self.brush = QSlider(Qt.Orientation.Horizontal)
        self.brush.setRange(8, 40)
        self.brush.setValue(int(self.canvas.pen_width))
        self.brush.setStatusTip("Brush thickness in canvas pixels (the canvas is 10× the network's 28×28)")
        self.brush.valueChanged.connect(lambda v: setattr(self.canvas, "pen_width", float(v)))
        self.source_label = QLabel("Draw a digit")
        self.source_label.setObjectName("caption")
        self.input_view = PixelImage(min_size=84)
        self.input_view.setMaximumSize(140, 140)
        self.input_view.setStatusTip("What the network receives: your drawing as a centred 28×28 MNIST image")

        draw_box = QGroupBox("Draw")
        left = QVBoxLayout(draw_box)
        left.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush"))
        row.addWidget(self.brush, 1)
        left.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(clear)
        row.addWidget(undo)
        left.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(prev_button)
        row.addWidget(self.random_button, 1)
        row.addWidget(next_button)
        left.addLayout(row)
        left.addWidget(self.source_label)
        net_in = QLabel("Network input, 28×28")
        net_in.setObjectName("caption")
        left.addWidget(net_in)
        left.addWidget(self.input_view, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addStretch(1)

        self.row = ImageRow(["Clean", "Noisy input", "Autoencoder", "PCA"], min_size=120)
        self.row.setStatusTip("Clean | noisy | reconstructions, with the mean squared error against the clean image")
        self.row.set_column_visible(3, False)

        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 100)
        self.noise_slider.setValue(int(round(self.sigma * 100)))
        self.noise_slider.setStatusTip("Noise strength σ: scales one fixed noise pattern (New noise draws another)")
        self.noise_slider.valueChanged.connect(self._on_sigma)
        self.noise_label = QLabel()
        self.noise_label.setMinimumWidth(60)
        new_noise = QPushButton("New noise")
        new_noise.setStatusTip("Draw a new fixed noise pattern")
        new_noise.clicked.connect(self.new_noise)
        self.compare_box = QCheckBox("Compare with PCA")
        self.compare_box.setStatusTip("Show PCA with as many components as the latent layer, fitted on training images")
        self.compare_box.toggled.connect(self._on_compare)
        noise_row = QHBoxLayout()
        noise_row.addWidget(QLabel("Noise σ"))
        noise_row.addWidget(self.noise_slider, 1)
        noise_row.addWidget(self.noise_label)
        noise_row.addWidget(new_noise)
        noise_row.addSpacing(16)
        noise_row.addWidget(self.compare_box)

        self.bars = LatentBars()
        self.bars.valueEdited.connect(self._on_bar_edited)
        self.explorer_box = QCheckBox("Latent explorer")
        self.explorer_box.setStatusTip("Decode a latent vector you set by dragging the bars or the sliders")
        self.explorer_box.toggled.connect(self.set_explorer)
        self.slider_panel = QWidget()
        self.slider_layout = QHBoxLayout(self.slider_panel)
        self.slider_layout.setContentsMargins(0, 0, 0, 0)
        self.sliders: list[QSlider] = []
        self.slider_panel.setVisible(False)
        latent_box = QGroupBox("Latent code")
        lat = QVBoxLayout(latent_box)
        lat.addWidget(self.explorer_box)
        lat.addWidget(self.bars, 1)
        lat.addWidget(self.slider_panel)

        self.hourglass = HourglassView()
        self.hourglass.setStatusTip("The network; the latent units light up with their activation as you draw")
        net_box = QGroupBox("Network")
        QVBoxLayout(net_box).addWidget(self.hourglass)

        bottom = QHBoxLayout()
        bottom.addWidget(latent_box, 1)
        bottom.addWidget(net_box, 1)
        right = QVBoxLayout()
        right.addWidget(self.row, 5)
        right.addLayout(noise_row)
        right.addLayout(bottom, 4)

        layout = QGridLayout(self)
        layout.addWidget(draw_box, 0, 0)
        layout.addLayout(right, 0, 1)
        layout.setColumnStretch(1, 1)
        self._update_noise_label()

    # ----- model -----------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Show results of ``model`` (an engine MLP mapping 784 -> 784)."""
        self.model = model
        self._pca = None
        self.hourglass.set_model(model)
        if self.compare_box.isChecked() and self._ensure_pca() is None:
            self.compare_box.setChecked(False)
        if self.explorer_box.isChecked():
            self.explorer_box.setChecked(False)  # toggled -> set_explorer(False) -> refresh() with the new model
        else:
            self.refresh()

    # ----- inputs ----------------------------------------------------------------------------
    def _on_drawing(self) -> None:
        self.source = "drawing"
        self.source_label.setText("Your drawing")
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_sigma(self, value: int) -> None:
        self.sigma = value / 100
        self._update_noise_label()
        self.refresh()

    def _update_noise_label(self) -> None:
        self.noise_label.setText(f"{self.sigma:.2f}")

    def new_noise(self) -> None:
        self.noise_seed += 1
        self.refresh()

    def _load_test_data(self) -> bool:
        """Load the MNIST test set on first use; False (after an error dialog) if it is missing."""
        if self._test_data is not None:
            return True
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            images, labels = read_split("test", download=False)  # $DENOISE_STUDIO_DATA or the download cache
            if not len(images):
                raise DatasetFileError("MNIST test images", "the file holds no images")
            self._test_data = (images.reshape(-1, 28, 28), labels)
        except (DatasetFileError, ValueError, OSError) as exc:
            QApplication.restoreOverrideCursor()
            dialogs.show_exception(self, "MNIST not available", exc)
            return False
        QApplication.restoreOverrideCursor()
        return True

    def random_test_digit(self) -> None:
        if not self._load_test_data():
            return
        n = len(self._test_data[0])
        self.show_test_digit(int(np.random.default_rng().integers(n)))

    def show_test_digit(self, index: int) -> None:
        """Show MNIST test image ``index`` (wrapping around) as the clean input."""
        if not self._load_test_data():
            return
        images, labels = self._test_data
        self.test_index = index % len(images)
        self._test_clean = to_unit_float(images[self.test_index])
        self.source = "test"
        self.source_label.setText(f"Test digit #{self.test_index} (label {int(labels[self.test_index])})")
        self.canvas.load_image(self._test_clean)
        self.refresh()

    # ----- latent explorer -------------------------------------------------------------------
    def set_explorer(self, on: bool) -> None:
        """In explorer mode the reconstruction is ``model.decode`` of a latent vector the user sets."""
        self.bars.set_editable(on)
        if on:  # the range the user can set: twice the present code's largest value
            peak = float(np.max(np.abs(self.code), initial=0))
            self.bars.set_range(min(0.0, 2 * float(self.code.min(initial=0))), max(1.0, 2 * peak))
            self._build_sliders()
        self.slider_panel.setVisible(on and bool(self.sliders))
        self.refresh()

    def _build_sliders(self) -> None:
        while self.slider_layout.count():
            item = self.slider_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sliders = []
        k = self.model.latent_width
        for j in range(min(k, MAX_SLIDERS)):
            slider = QSlider(Qt.Orientation.Vertical)
            slider.setRange(0, SLIDER_STEPS)
            slider.setFixedHeight(90)
            slider.setStatusTip(f"Latent unit {j}: drag to change it and watch the decoded image")
            slider.setValue(self._to_slider(float(self.code[j]) if j < self.code.size else 0.0))
            slider.valueChanged.connect(self._on_slider)
            self.slider_layout.addWidget(slider)
            self.sliders.append(slider)

    def _to_slider(self, value: float) -> int:
        lo, hi = self.bars.y_range
        return int(round((value - lo) / (hi - lo) * SLIDER_STEPS)) if hi > lo else 0

    def _on_slider(self) -> None:
        lo, hi = self.bars.y_range
        for j, slider in enumerate(self.sliders):
            self.code[j] = lo + (hi - lo) * slider.value() / SLIDER_STEPS
        self.refresh()

    def _on_bar_edited(self, index: int, value: float) -> None:
        self.code[index] = value
        if index < len(self.sliders):
            slider = self.sliders[index]
            slider.blockSignals(True)
            slider.setValue(self._to_slider(value))
            slider.blockSignals(False)
        self.refresh()

    # ----- PCA -------------------------------------------------------------------------------
    def _on_compare(self, on: bool) -> None:
        if on and self._ensure_pca() is None:
            self.compare_box.setChecked(False)
            return
        self.row.set_column_visible(3, on)
        self.refresh()

    def _ensure_pca(self) -> PCA | None:
        """PCA with as many components as the latent layer, fitted on the MNIST training images."""
        k = self.model.latent_width
        if self._pca is not None and self._pca.n_components == k:
            return self._pca
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            images, _ = read_split("train", download=False)
            self._pca = fit_pca(images, k)
        except (DatasetFileError, ValueError, OSError) as exc:
            QApplication.restoreOverrideCursor()
            dialogs.show_exception(self, "MNIST not available", exc)
            return None
        QApplication.restoreOverrideCursor()
        return self._pca

    # ----- the pipeline ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute clean → noisy → reconstruction (and PCA) and show them."""
        if self.model is None:
            return
        if self.source == "test" and self._test_clean is not None:
            self.clean = self._test_clean
        else:
            self.clean = prepare_digit(self.canvas.ink())
        flat = self.clean.reshape(1, 784)
        self.noisy = add_noise(flat, self.sigma, np.random.default_rng(self.noise_seed)).reshape(28, 28)
        model = self.model
        explorer = self.explorer_box.isChecked()
        if not explorer:  # the code of the noisy input; the reconstruction decodes it (one encoder pass)
            self.code = model.encode(self.noisy.reshape(1, 784))[0].copy()
        self.recon = model.decode(self.code[None, :]).reshape(28, 28)
        self.errors = {"noisy": mse(self.noisy, self.clean), "model": mse(self.recon, self.clean)}
        self.input_view.set_image(self.clean)
        self.row.set_image(0, self.clean, "target")
        self.row.set_image(1, self.noisy, f"σ = {self.sigma:.2f} · MSE {self.errors['noisy']:.4f}")
        label = "decoded latent vector" if explorer else f"MSE {self.errors['model']:.4f}"
        self.row.set_image(2, self.recon, label)
        if self.compare_box.isChecked() and self._pca is not None:
            pca_recon = self._pca.reconstruct(self.noisy.reshape(1, 784)).reshape(28, 28)
            self.errors["pca"] = mse(pca_recon, self.clean)
            self.row.set_image(3, pca_recon, f"{self._pca.n_components} components · MSE {self.errors['pca']:.4f}")
        if not explorer:
            peak = float(np.max(np.abs(self.code), initial=0))
            self.bars.set_range(min(0.0, float(self.code.min(initial=0))), max(1.0, 1.5 * peak))
        self.bars.set_values(self.code)
        self.hourglass.set_latent(self.code)
        self.latentChanged.emit(self.code.copy())
