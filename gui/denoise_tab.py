"""The Denoise tab: draw or pick a test digit, add a fixed noise pattern, see the reconstruction live.

Everything slow (reading the test set, fitting PCA, the latent axis, the test score at the slider's
σ, the robustness curve) runs as jobs off the GUI thread; a newer request replaces an older one.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.baselines import fit_pca
from engine.images import to_unit_float
from engine.latent import code_range, latent_codes
from engine.metrics import mse
from engine.noise import add_noise
from engine.pca import PCA
from engine.preprocess import prepare_digit
from engine.training import TrainConfig
from gui import dialogs
from gui.canvas import DrawingCanvas
from gui.data_sets import mnist_split
from gui.hints import hint
from gui.hourglass_item import HourglassView
from gui.image_row import ImageRow, PixelImage
from gui.inside_panel import InsidePanel
from gui.jobs import JobRunner
from gui.latent_map_panel import LatentMapPanel
from gui.latent_panel import LatentPanel
from gui.robustness_panel import RobustnessPanel

SCORE_DELAY_MS = 150
"""The test score at the slider's σ is computed once the slider rests this long."""


def training_sigma(model) -> float | None:
    """The noise σ a model was trained at (from its file; the middle of a range), or None when unknown."""
    used = model.metadata.get("training")
    try:
        return TrainConfig.from_dict(used).noise_setting.default_level if isinstance(used, dict) else None
    except (TypeError, ValueError):
        return None


def _saved_score(model, sigma: float) -> float | None:
    """The test MSE the model file records at ``sigma`` (``metrics["test_mse@0.1"]``), if any."""
    metrics = model.metadata.get("metrics")
    for key, value in (metrics.items() if isinstance(metrics, dict) else ()):
        level = key.partition("@")[2]
        try:
            if key.startswith("test_mse@") and abs(float(level) - sigma) < 1e-9 and isinstance(value, (int, float)):
                return float(value)
        except ValueError:
            continue
    return None


def _test_digits(state) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_split("test")
    return images.reshape(-1, 28, 28), labels


def _fit_pca(k: int, state) -> PCA:
    return fit_pca(mnist_split("train")[0], k)


def _code_range(model, state) -> tuple[float, float]:
    return code_range(latent_codes(model, mnist_split("test")[0]))


def _test_score(model, sigma: float, state) -> tuple[float, float]:
    return sigma, model.evaluate(mnist_split("test")[0], sigma)["mse"]


class DenoiseTab(QWidget):
    """Canvas → 28×28 → noise → model, shown as clean | noisy | reconstruction (| PCA)."""

    latentChanged = Signal(object)  # (k,) float32 copy
    scoreChanged = Signal(str)  # the test MSE at the slider's σ, for the status bar
    testDigitShown = Signal(int)  # a test digit is on the canvas (after the test set loaded)
    pcaReady = Signal(int)  # PCA with this many components is fitted and shown
    modelApplied = Signal(object)  # the user made a perturbed copy the model (Inside the network ▸ Apply)

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
        self.data_jobs, self.pca_jobs = JobRunner(self), JobRunner(self)
        self.range_jobs, self.score_jobs = JobRunner(self), JobRunner(self)
        self._refresh_timer = _single_shot(self, 15, self.refresh)
        self._score_timer = _single_shot(self, SCORE_DELAY_MS, self._request_score)
        self._build()

    # ----- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = DrawingCanvas()
        self.canvas.drawingChanged.connect(self._on_drawing)
        self.clear_button = _button(
            "Clear",
            "Erase the drawing (right-click on the canvas does the same; Undo brings it back)",
            self.canvas.clear,
        )  # fmt: skip
        self.undo_button = _button(
            "Undo",
            "Take back the last stroke or Clear (Ctrl+Z); up to 30 steps",
            self.canvas.undo,
        )
        self.undo_button.setEnabled(False)
        self.canvas.undoAvailable.connect(self.undo_button.setEnabled)
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=self.canvas.undo)
        self.random_button = _button(
            "Random test digit",
            "Show a random digit from the 10,000 MNIST test images: real handwriting the network never saw while "
            "training",
            self.random_test_digit,
        )  # fmt: skip
        prev_button = _button("◀", "The previous MNIST test digit", lambda: self.show_test_digit(self.test_index - 1))
        next_button = _button("▶", "The next MNIST test digit", lambda: self.show_test_digit(self.test_index + 1))
        for button in (prev_button, next_button):
            button.setFixedWidth(40)
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
        self.source_label = QLabel("Draw a digit")
        self.source_label.setObjectName("caption")
        self.input_view = PixelImage(min_size=84)
        self.input_view.setMaximumSize(140, 140)
        hint(
            self.input_view,
            "What the network receives: your drawing cropped, scaled into 20×20 and centred by mass in 28×28, as "
            "MNIST digits were",
        )
        draw_box = QGroupBox("Draw")
        left = QVBoxLayout(draw_box)
        left.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addLayout(_row(QLabel("Brush"), (self.brush, 1), self.brush_label))
        left.addLayout(_row(self.clear_button, self.undo_button))
        left.addLayout(_row(prev_button, (self.random_button, 1), next_button))
        left.addWidget(self.source_label)
        net_in = QLabel("Network input, 28×28")
        net_in.setObjectName("caption")
        left.addWidget(net_in)
        left.addWidget(self.input_view, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addStretch(1)

        self.row = ImageRow(["Clean", "Noisy input", "Autoencoder", "PCA"], min_size=120)
        hint(
            self.row,
            "Clean target | the noisy input the network gets | its reconstruction (| PCA's). Each caption gives the "
            "mean squared error against the clean image: lower is better",
        )
        self.row.set_column_visible(3, False)
        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 100)
        self.noise_slider.setValue(int(round(self.sigma * 100)))
        hint(
            self.noise_slider,
            "Noise σ: the standard deviation of the Gaussian noise added to each pixel, 0–1. The slider scales one "
            "fixed pattern (New noise draws another); it starts at the σ this model was trained at",
        )
        self.noise_slider.valueChanged.connect(self._on_sigma)
        self.noise_label = QLabel()
        self.noise_label.setMinimumWidth(60)
        new_noise = _button(
            "New noise",
            "Draw a new random noise pattern (the slider keeps scaling it)",
            self.new_noise,
        )
        self.compare_box = QCheckBox("Compare with PCA")
        hint(
            self.compare_box,
            "Also reconstruct with PCA keeping as many components as the code has units (fitted on the 60,000 "
            "training images): the best a linear code of that size can do",
        )
        self.compare_box.toggled.connect(self._on_compare)
        noise_row = _row(QLabel("Noise σ"), (self.noise_slider, 1), self.noise_label, new_noise, self.compare_box)

        self.latent = LatentPanel()
        self.latent.codeEdited.connect(self._on_code_edited)
        self.latent.explorerToggled.connect(lambda on: self.refresh())
        self.bars = self.latent.bars
        self.hourglass = HourglassView()
        hint(self.hourglass, "The network; the code's units light up with their activation as you draw")
        net_box = QGroupBox("Network")
        QVBoxLayout(net_box).addWidget(self.hourglass)
        code_and_net = QWidget()
        both = QHBoxLayout(code_and_net)
        both.setContentsMargins(0, 0, 0, 0)
        both.addWidget(self.latent, 1)
        both.addWidget(net_box, 1)
        self.robustness = RobustnessPanel()
        self.latent_map = LatentMapPanel()
        self.latent_map.pointChosen.connect(self.show_code)
        self.latentChanged.connect(self.latent_map.set_code)
        self.inside = InsidePanel()  # while it is open, the images show its (perturbed) network
        self.inside.changed.connect(self._on_network_changed)
        self.inside.applied.connect(self.modelApplied)
        self.panels = QTabWidget()
        self.panels.addTab(code_and_net, "Code and network")
        self.panels.addTab(self.robustness, "Robustness")
        self.panels.setTabToolTip(0, "The code your drawing is squeezed into, and where it sits in the network")
        self.panels.setTabToolTip(1, "Test MSE against σ: where this model beats the noisy input and PCA")
        self.panels.addTab(self.latent_map, "Latent map")
        self.panels.setTabToolTip(2, "Every test digit placed by its code: hover, click to decode, interpolate")
        self.panels.addTab(self.inside, "Inside the network")
        self.panels.setTabToolTip(3, "Every layer live as you draw; perturb the weights and watch the output degrade")
        self.panels.currentChanged.connect(self._on_network_changed)
        images = QWidget()  # the images and the noise row above, the panels below, split by a handle
        top = QVBoxLayout(images)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.row, 1)
        top.addLayout(noise_row)
        for page in (code_and_net, self.robustness, self.latent_map, self.inside):  # must not resize the images
            page.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(images)
        self.splitter.addWidget(self.panels)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setSizes([5000, 4000])  # proportions: the images a little taller than the panels
        layout = QGridLayout(self)
        layout.addWidget(draw_box, 0, 0)
        layout.addWidget(self.splitter, 0, 1)
        layout.setColumnStretch(1, 1)
        self._update_noise_label()

    # ----- model -----------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Show results of ``model`` (an engine MLP mapping 784 -> 784); the slider goes to its training σ."""
        self.model = model
        self._pca = None
        self.code = np.zeros(model.latent_width, np.float32)
        self.latent.reset(model.latent_width)
        self.hourglass.set_model(model)
        self.robustness.set_model(model)
        self.latent_map.set_model(model)
        self.inside.set_model(model)
        self.inside.set_sigma(self.sigma)
        self.range_jobs.start(_code_range, model, on_done=lambda r: self.latent.set_range(*r), on_error=lambda e: None)
        sigma = training_sigma(model)
        if sigma is not None and round(sigma * 100) != self.noise_slider.value():
            self.noise_slider.setValue(int(round(sigma * 100)))  # refreshes
        if self.compare_box.isChecked():
            self._request_pca()
        self.refresh()
        self._update_noise_label()  # "test MSE at σ 0.10: …" until the score arrives
        self._rescore()

    # ----- inputs ----------------------------------------------------------------------------
    def _on_drawing(self) -> None:
        tag = self.canvas.source
        if isinstance(tag, int) and self._test_data is not None:  # Undo brought a test digit back
            self._select_test_digit(tag)
        else:
            self.source = "drawing"
            self.source_label.setText("Your drawing")
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_brush(self, width: int) -> None:
        self.canvas.pen_width = float(width)
        self.brush_label.setText(f"{width} px")

    def _on_sigma(self, value: int) -> None:
        self.sigma = value / 100
        self._update_noise_label()
        self.robustness.set_sigma(self.sigma)
        self.inside.set_sigma(self.sigma)
        self.refresh()
        self._rescore()

    def _update_noise_label(self) -> None:
        self.noise_label.setText(f"{self.sigma:.2f}")
        self.scoreChanged.emit(f"test MSE at σ {self.sigma:.2f}: …")

    def new_noise(self) -> None:
        self.noise_seed += 1
        self.refresh()

    def random_test_digit(self) -> None:
        self._with_test_data(lambda: self._show_loaded_digit(int(np.random.default_rng().integers(1 << 30))))

    def show_test_digit(self, index: int) -> None:
        """Show MNIST test image ``index`` (wrapping around) as the clean input (the test set loads off-thread)."""
        self._with_test_data(lambda: self._show_loaded_digit(index))

    def _show_loaded_digit(self, index: int) -> None:
        self._select_test_digit(index % len(self._test_data[0]))
        self.canvas.load_image(self._test_clean, source=self.test_index)
        self.refresh()
        self.testDigitShown.emit(self.test_index)

    def _select_test_digit(self, index: int) -> None:
        images, labels = self._test_data
        self.test_index = index
        self._test_clean = to_unit_float(images[index])
        self.source = "test"
        self.source_label.setText(f"Test digit #{index} (label {int(labels[index])})")

    def _with_test_data(self, then) -> None:
        """Run ``then()`` once the MNIST test set is loaded (at once if it is; else after a job)."""
        if self._test_data is not None:
            then()
            return
        self.source_label.setText("Loading the MNIST test set…")

        def loaded(data) -> None:
            self._test_data = data
            then()

        def failed(exc: BaseException) -> None:
            self.source_label.setText("Your drawing" if self.source == "drawing" else self.source_label.text())
            dialogs.show_exception(self, "MNIST not available", exc)

        self.data_jobs.start(_test_digits, on_done=loaded, on_error=failed)

    # ----- PCA -------------------------------------------------------------------------------
    def _on_compare(self, on: bool) -> None:
        self.row.set_column_visible(3, on)
        if on and self._pca is None:
            self._request_pca()
        self.refresh()

    def _request_pca(self) -> None:
        """Fit PCA with the latent width off-thread; the PCA column says so meanwhile."""
        k = self.model.latent_width
        self._pca = None
        if k >= 784:
            self.row.set_image(3, np.zeros((28, 28)), f"no PCA: the code ({k}) is as wide as the image")
            return
        self.row.set_image(3, np.zeros((28, 28)), f"fitting PCA-{k}…")

        def fitted(pca: PCA) -> None:
            self._pca = pca
            self.refresh()
            self.pcaReady.emit(pca.n_components)

        def failed(exc: BaseException) -> None:
            self.compare_box.setChecked(False)
            dialogs.show_exception(self, "PCA not available", exc)

        self.pca_jobs.start(_fit_pca, k, on_done=fitted, on_error=failed)

    # ----- the test score at the slider's σ --------------------------------------------------
    def _rescore(self) -> None:
        """The score shown is for another σ or model now: drop the one in flight, ask again once the slider rests."""
        self.score_jobs.cancel()
        self._score_timer.start()

    def _request_score(self) -> None:
        if self.model is None:
            return
        sigma, model = self.sigma, self.shown_model()

        def no_data(exc: BaseException) -> None:  # the file's own score, if it was taken at this σ
            saved = _saved_score(model, sigma)
            self.scoreChanged.emit(
                f"test MSE {saved:.4f} at σ {sigma:.2f} (from the file)" if saved is not None
                else f"test MSE at σ {sigma:.2f}: needs the MNIST test set"
            )

        which = " (perturbed network)" if model is not self.model else ""
        self.score_jobs.start(_test_score, model, sigma, on_error=no_data,
                              on_done=lambda r: self.scoreChanged.emit(f"test MSE {r[1]:.4f} at σ {r[0]:.2f}{which}"))

    # ----- the pipeline ----------------------------------------------------------------------
    def show_code(self, code: np.ndarray) -> None:
        """Decode ``code`` (k,) into the Autoencoder view, as Latent explorer does with a code set by hand."""
        code = np.asarray(code, np.float32).copy()
        self.latent.explorer_box.setChecked(True)
        self.latent.show_code(code)
        self._on_code_edited(code)

    def shown_model(self):
        """The network the images come from: the perturbed copy while "Inside the network" is open, else the model."""
        return self.inside.network() if self.panels.currentWidget() is self.inside else self.model

    def _on_network_changed(self) -> None:
        self.refresh(recode=False)
        self._rescore()

    def _on_code_edited(self, code: np.ndarray) -> None:
        self.code = code
        self.refresh(recode=False)

    def refresh(self, recode: bool = True) -> None:
        """Recompute clean → noisy → code → reconstruction (and PCA) and show them.

        In explorer mode the code is the user's: a new input (``recode``) replaces it with the
        input's own code, an edit (``recode=False``) keeps it.
        """
        if self.model is None:
            return
        self.clean = self._test_clean if self.source == "test" else prepare_digit(self.canvas.ink())
        flat = self.clean.reshape(1, 784)
        self.noisy = add_noise(flat, self.sigma, np.random.default_rng(self.noise_seed)).reshape(28, 28)
        model = self.shown_model()
        layers = model.activations(self.noisy.reshape(1, 784))  # every layer's (1, width), the output last
        code_at = model.bottleneck_index()
        if recode or not self.latent.is_exploring():
            self.code = layers[code_at][0].copy()
        else:  # the decoder runs on the user's code
            layers[code_at:] = [self.code[None, :], *model.activations(self.code[None, :], start=code_at + 1)]
        self.recon = layers[-1].reshape(28, 28)
        self.errors = {"noisy": mse(self.noisy, self.clean), "model": mse(self.recon, self.clean)}
        blank = not self.clean.any()  # nothing drawn yet: nothing to score
        self.input_view.set_image(self.clean)
        self.row.set_image(0, self.clean, "empty: draw a digit" if blank else "target")
        noisy_score = "" if blank else f" · MSE {self.errors['noisy']:.4f}"
        self.row.set_image(1, self.noisy, f"σ = {self.sigma:.2f}{noisy_score}")
        if self.latent.is_exploring():
            label = "your code, decoded"
        else:
            label = "from pure noise" if blank else f"MSE {self.errors['model']:.4f}"
        self.row.set_image(2, self.recon, f"perturbed · {label}" if model is not self.model else label)
        if self.compare_box.isChecked() and self._pca is not None:
            pca_recon = self._pca.reconstruct(self.noisy.reshape(1, 784)).reshape(28, 28)
            self.errors["pca"] = mse(pca_recon, self.clean)
            self.row.set_image(3, pca_recon, f"{self._pca.n_components} components · MSE {self.errors['pca']:.4f}")
        self.inside.show_layers(self.noisy.reshape(784), layers)
        self.latent.show_code(self.code)
        self.hourglass.set_latent(self.code)
        self.latentChanged.emit(self.code.copy())


def _single_shot(parent: QWidget, ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


def _button(text: str, tip: str, slot) -> QPushButton:
    button = QPushButton(text)
    hint(button, tip)
    button.clicked.connect(slot)
    return button


def _row(*items) -> QHBoxLayout:
    """A horizontal row of widgets; ``(widget, stretch)`` for a stretching one."""
    row = QHBoxLayout()
    for item in items:
        widget, stretch = item if isinstance(item, tuple) else (item, 0)
        row.addWidget(widget, stretch)
    return row
