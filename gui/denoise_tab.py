"""The Denoise tab: draw, pick a test image or bring a picture, add a fixed noise pattern, see the reconstruction
live.

Everything slow (reading a test set, reading a picture, fitting PCA, the latent axis, the test
score at the slider's level, the robustness curve) runs as jobs off the GUI thread; a newer request
replaces an older one.  The test images come from the chosen data set (MNIST or Fashion-MNIST); the
canvas stays for digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.baselines import BaselineBank
from engine.dataset import trained_on
from engine.download import SOURCES, data_source
from engine.images import to_unit_float
from engine.latent import code_range, latent_codes
from engine.metrics import mse
from engine.noise import NoisePattern
from engine.pca import PCA
from engine.preprocess import prepare_digit, shrink_framed
from engine.training import TrainConfig
from gui import dialogs
from gui.controls import hinted_button, row
from gui.data_sets import data_split
from gui.draw_panel import DrawPanel
from gui.hints import hint
from gui.hourglass_item import HourglassView
from gui.image_row import ImageRow
from gui.inside_panel import InsidePanel
from gui.jobs import JobRunner
from gui.latent_map_panel import LatentMapPanel
from gui.latent_panel import LatentPanel
from gui.noise_kinds import LEVEL_HINTS, NoiseKindBox, level_name, level_text
from gui.picture_import import Picture, PictureError, load_picture, picture_in
from gui.robustness_panel import RobustnessPanel

SCORE_DELAY_MS = 150
"""The test score at the slider's σ is computed once the slider rests this long."""
CANVAS_WIDTH_SHARE = 0.28
"""The drawing canvas takes at most this share of the tab's width (the images need the rest)."""


def training_sigma(model) -> float | None:
    """The noise σ a model was trained at (from its file; the middle of a range), or None when unknown."""
    used = model.metadata.get("training")
    try:
        return TrainConfig.from_dict(used).noise_setting.default_level if isinstance(used, dict) else None
    except (TypeError, ValueError):
        return None


def _saved_score(model, sigma: float, kind: str = "gaussian", dataset: str = "mnist") -> float | None:
    """The test MSE the model file records at ``sigma`` (``metrics["test_mse@0.1"]``, scored on its own data set
    with its own noise kind), if any."""
    setting = model.training_noise
    if (setting.kind if setting is not None else "gaussian") != kind or trained_on(model.metadata) != dataset:
        return None
    metrics = model.metadata.get("metrics")
    for key, value in (metrics.items() if isinstance(metrics, dict) else ()):
        level = key.partition("@")[2]
        try:
            if key.startswith("test_mse@") and abs(float(level) - sigma) < 1e-9 and isinstance(value, (int, float)):
                return float(value)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class TestImage:
    """What the canvas shows after a test image was put on it: image ``index`` of ``data_set``'s test set."""

    data_set: str
    index: int


def _test_images(data_set: str, state) -> tuple[np.ndarray, np.ndarray]:
    images, labels = data_split("test", data_set)
    return images.reshape(-1, 28, 28), labels


def _training_images(data_set: str) -> np.ndarray:
    return data_split("train", data_set)[0]


def _fit_pca(k: int, data_set: str, baselines: BaselineBank, state) -> PCA:
    return baselines.pca(k, data_set)  # the principal axes are kept: another width or model reuses them


def _code_range(model, state) -> tuple[float, float]:
    """The latent axis from the codes of the test set the model was trained on."""
    return code_range(latent_codes(model, data_split("test", trained_on(model.metadata))[0]))


def _test_score(model, data_set: str, level: float, kind: str, state) -> tuple[float, float]:
    return level, model.evaluate(data_split("test", data_set)[0], level, kind=kind)["mse"]


class DenoiseTab(QWidget):
    """Canvas → 28×28 → noise → model, shown as clean | noisy | reconstruction (| PCA)."""

    latentChanged = Signal(object)  # (k,) float32 copy
    scoreChanged = Signal(str)  # the test MSE at the slider's level, for the status bar
    testDigitShown = Signal(int)  # a test image is on the canvas (after the test set loaded)
    pcaReady = Signal(int)  # PCA with this many components is fitted and shown
    pictureShown = Signal(str)  # a picture of the user's own is on the canvas (its name)
    testSetChanged = Signal(str)  # test images, PCA, score and curve now come from this data set (once loaded)
    modelApplied = Signal(object)  # the user made a perturbed copy the model (Inside the network ▸ Apply)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = None
        self.source = "drawing"  # or "test", "picture"
        self.test_index = 0
        self.noise_seed = 1
        self.sigma = 0.3  # the slider's noise level: σ, or the fraction of pixels hit
        self.noise_kind = "gaussian"
        self.test_set = "mnist"  # the data set test images come from
        self._pattern: NoisePattern | None = None
        self.clean = np.zeros((28, 28), np.float32)
        self.noisy = np.zeros((28, 28), np.float32)
        self.recon = np.zeros((28, 28), np.float32)
        self.code = np.zeros(10, np.float32)
        self.errors: dict[str, float] = {}
        self._shown = None  # the network the images were last computed with (the model, or a perturbed copy)
        self._test_data: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # by data set: (n, 28, 28) uint8, (n,)
        self._test_clean: np.ndarray | None = None
        self._pca: PCA | None = None
        self.baselines = BaselineBank(_training_images)  # PCA's axes kept per data set, for this tab's panels
        self.data_jobs, self.pca_jobs = JobRunner(self), JobRunner(self)
        self.range_jobs, self.score_jobs = JobRunner(self), JobRunner(self)
        self.picture_jobs, self.set_jobs = JobRunner(self), JobRunner(self)
        self._following_model = False  # the test set is being chosen by a model, not by the user
        self._refresh_timer = _single_shot(self, 15, self.refresh)
        self._score_timer = _single_shot(self, SCORE_DELAY_MS, self._request_score)
        self._build()

    # ----- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.draw = DrawPanel()
        self.canvas, self.test_set_box = self.draw.canvas, self.draw.test_set_box  # what the tab's logic uses
        self.source_label, self.input_view = self.draw.source_label, self.draw.input_view
        self.canvas.drawingChanged.connect(self._on_drawing)
        self.canvas.pictureDropped.connect(self.open_picture)
        self.draw.testImageStep.connect(self._step_test_image)
        self.draw.randomTestImage.connect(self.random_test_digit)
        self.test_set_box.dataSetChanged.connect(self._on_test_set)

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
        self.noise_slider.valueChanged.connect(self._on_sigma)
        self.noise_kind_box = NoiseKindBox(
            "The kind of noise: Gaussian (every pixel shifted, level σ), salt and pepper (a fraction of pixels set "
            "to black or white) or masking (a fraction blanked). It starts at the kind the model was trained on"
        )
        self.noise_kind_box.kindChanged.connect(self._on_kind)
        self.level_label = QLabel()
        self.noise_label = QLabel()
        self.noise_label.setMinimumWidth(60)
        new_noise = hinted_button(
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
        noise_row = row(self.noise_kind_box, self.level_label, (self.noise_slider, 1), self.noise_label, new_noise,
                         self.compare_box)  # fmt: skip
        self.data_note = QLabel()
        self.data_note.setObjectName("caption")
        self.data_note.setWordWrap(True)
        self.data_note.setVisible(False)
        hint(self.data_note, "A network can only draw what it learned: shown other images, it draws its own kind")

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
        self.robustness = RobustnessPanel(baselines=self.baselines)
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
        top.addWidget(self.data_note)
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
        layout.addWidget(self.draw, 0, 0)
        layout.addWidget(self.splitter, 0, 1)
        layout.setColumnStretch(1, 1)
        self._name_level()
        self._update_noise_label()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_canvas()

    def _fit_canvas(self) -> None:
        """The canvas as large as the tab allows, the images keeping most of the width."""
        margins = self.layout().contentsMargins()
        height = self.height() - margins.top() - margins.bottom()
        self.draw.fit_canvas(height, int(CANVAS_WIDTH_SHARE * self.width()))

    # ----- model -----------------------------------------------------------------------------
    def set_model(self, model, keep_noise: bool = False) -> None:
        """Show results of ``model`` (an engine MLP mapping 784 -> 784); the noise kind, the slider and the test
        images go to what it was trained with (the middle of a noise range) — unless ``keep_noise``: the same
        network changed here (a perturbed copy applied), shown at the noise the user set."""
        self.model = model
        self._pca = None
        self.code = np.zeros(model.latent_width, np.float32)
        self.latent.reset(model.latent_width)
        self.hourglass.set_model(model)
        self.robustness.set_model(model)
        self.latent_map.set_model(model)
        self.inside.set_model(model)
        self.inside.set_noise(self.sigma, self.noise_kind)
        self.range_jobs.start(_code_range, model, on_done=lambda r: self.latent.set_range(*r), on_error=lambda e: None)
        setting = None if keep_noise else model.training_noise
        if setting is not None:
            self.noise_kind_box.set_kind(setting.kind)  # refreshes when it changes
        sigma = None if keep_noise else training_sigma(model)
        if sigma is not None and round(sigma * 100) != self.noise_slider.value():
            self.noise_slider.setValue(int(round(sigma * 100)))  # refreshes
        if not keep_noise and trained_on(model.metadata) in SOURCES:  # its own test images (once loaded)
            self._following_model = True
            self.test_set_box.set_data_set(trained_on(model.metadata))
            self._following_model = False
        if self.compare_box.isChecked():
            self._request_pca()
        self._update_data_note()
        self.refresh()
        self._update_noise_label()  # "test MSE at σ 0.10: …" until the score arrives
        self._rescore()

    # ----- inputs ----------------------------------------------------------------------------
    def _on_drawing(self) -> None:
        tag = self.canvas.source
        if isinstance(tag, TestImage) and tag.data_set in self._test_data:  # Undo brought a test image back
            self._select_test_digit(tag)
        elif isinstance(tag, Picture):  # Undo brought a picture back
            self._select_picture(tag)
        else:
            self.source = "drawing"
            self.source_label.setText("Draw a digit" if self.canvas.is_empty() else "Your drawing")
            self._update_data_note()
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_sigma(self, value: int) -> None:
        self.sigma = value / 100
        self._update_noise_label()
        self.robustness.set_sigma(self.sigma)
        self.inside.set_noise(self.sigma, self.noise_kind)
        self.refresh()
        self._rescore()

    def _on_kind(self, kind: str) -> None:
        """Another kind of noise: the slider's words, the pattern, the PCA column, the score and the curve follow."""
        self.noise_kind = kind
        self._pattern = None
        self._name_level()
        self.robustness.set_kind(kind)
        self.inside.set_noise(self.sigma, kind)
        self._update_noise_label()
        self.refresh()
        self._rescore()

    def _name_level(self) -> None:
        """The slider says σ for Gaussian noise, a fraction of pixels for the other kinds."""
        kind = self.noise_kind
        self.level_label.setText("Noise σ" if kind == "gaussian" else "Fraction")
        hint(
            self.noise_slider,
            f"{LEVEL_HINTS[kind]}. The slider scales one fixed pattern (New noise draws another); it starts at the "
            f"{level_name(kind)} this model was trained at (the middle of its range)",
        )

    def _update_noise_label(self) -> None:
        self.noise_label.setText(f"{self.sigma:.2f}")
        self.scoreChanged.emit(f"test MSE at {level_text(self.noise_kind, self.sigma)}: …")

    def new_noise(self) -> None:
        self.noise_seed += 1
        self._pattern = None
        self.refresh()

    def _step_test_image(self, step: int) -> None:
        """◀ / ▶: the previous or next test image; from a drawing or a picture, the test image last shown (#0 at
        the start), not the one after it."""
        self.show_test_digit(self.test_index + step if self.source == "test" else self.test_index)

    def random_test_digit(self) -> None:
        self._with_test_data(lambda: self._show_loaded_digit(int(np.random.default_rng().integers(1 << 30))))

    def show_test_digit(self, index: int) -> None:
        """Show test image ``index`` of the chosen data set (wrapping around) as the clean input (the test set
        loads off-thread)."""
        self._with_test_data(lambda: self._show_loaded_digit(index))

    def _on_test_set(self, name: str) -> None:
        """Another data set chosen for the test images: switch once its test set is loaded (off-thread).  If it
        cannot be read, the choice goes back, with a dialog when the user made it (not when a model did)."""
        self.set_jobs.cancel()
        if name == self.test_set:
            return
        if name in self._test_data:
            self._use_test_set(name)
            return
        quiet = self._following_model

        def loaded(data) -> None:
            self._test_data[name] = data
            self._use_test_set(name)

        def failed(exc: BaseException) -> None:
            self._show_test_set(self.test_set)
            self._update_data_note()
            if not quiet:
                dialogs.show_exception(self, f"{data_source(name).title} not available", exc, name)

        self.set_jobs.start(_test_images, name, on_done=loaded, on_error=failed)

    def _use_test_set(self, name: str, reshow: bool = True) -> None:
        """Test images, PCA, the score and the curve from ``name``'s images; a test image on show becomes that
        set's image of the same number (``reshow``)."""
        self.test_set = name
        self._show_test_set(name)
        self.robustness.set_data_set(name)
        self.inside.set_data_set(name)
        self.latent_map.set_data_set(name)
        if reshow and self.source == "test":
            self._show_loaded_digit(self.test_index)
        if self.compare_box.isChecked() and self.model is not None:
            self._request_pca()
        self._update_data_note()
        self._update_noise_label()
        self._rescore()
        self.testSetChanged.emit(name)

    def _show_test_set(self, name: str) -> None:
        """The chooser shows ``name`` (without asking for a switch)."""
        self.test_set_box.blockSignals(True)
        self.test_set_box.set_data_set(name)
        self.test_set_box.blockSignals(False)

    def _show_loaded_digit(self, index: int) -> None:
        self._select_test_digit(TestImage(self.test_set, index % len(self._test_data[self.test_set][0])))
        self.canvas.load_image(self._test_clean, source=TestImage(self.test_set, self.test_index))
        self.refresh()
        self.testDigitShown.emit(self.test_index)

    def _select_test_digit(self, shown: TestImage) -> None:
        images, labels = self._test_data[shown.data_set]
        self.test_index = shown.index
        self._test_clean = to_unit_float(images[shown.index])
        self.source = "test"
        if shown.data_set != self.test_set:  # Undo brought back an image of the other set
            self._use_test_set(shown.data_set, reshow=False)
        source, label = data_source(shown.data_set), int(labels[shown.index])
        if source.name == "mnist":
            self.source_label.setText(f"Test digit #{shown.index} (label {label})")
        else:
            self.source_label.setText(f"{source.title} test image #{shown.index} ({source.classes[label]})")
        self._update_data_note()

    def _with_test_data(self, then) -> None:
        """Run ``then()`` once the chosen test set is loaded (at once if it is; else after a job)."""
        name = self.test_set
        if name in self._test_data:
            then()
            return
        title = data_source(name).title
        previous = self.source_label.text()
        self.source_label.setText(f"Loading the {title} test set…")

        def loaded(data) -> None:
            self._test_data[name] = data
            if name == self.test_set:  # still the chosen set
                then()

        def failed(exc: BaseException) -> None:
            self.source_label.setText(previous)
            dialogs.show_exception(self, f"{title} not available", exc, name)

        self.data_jobs.start(_test_images, name, on_done=loaded, on_error=failed)

    # ----- your own pictures -------------------------------------------------------------------
    def open_picture(self, source: str | QImage, name: str | None = None) -> None:
        """Bring a picture file (or image data) to the canvas: read and prepared off the GUI thread, then shown
        and denoised as a drawing is.  A picture that cannot be used gets a dialog; the canvas keeps what it has."""
        name = name or str(source)
        previous = self.source_label.text()
        self.source_label.setText(f"Reading {name}…")

        def failed(exc: BaseException) -> None:
            self.source_label.setText(previous)
            if isinstance(exc, PictureError):
                dialogs.show_error(self, "Cannot use this picture", f"{exc.name} {exc.problem}.", f"{exc.fix}. "
                                   "The canvas keeps what it had.")  # fmt: skip
            else:
                dialogs.show_error(self, "Cannot use this picture", f"{name}: {type(exc).__name__}: {exc}",
                                   "The canvas keeps what it had.")  # fmt: skip

        self.picture_jobs.start(load_picture, source, name, on_done=self._show_picture, on_error=failed)

    def paste_picture(self) -> None:
        """Ctrl+V: a picture (or a picture file) from the clipboard onto the canvas."""
        found = picture_in(QGuiApplication.clipboard().mimeData(), "the pasted image")
        if found is None:
            dialogs.show_error(self, "Nothing to paste", "The clipboard holds no picture.",
                               "Copy a picture (or a picture file) first, then press Ctrl+V.")  # fmt: skip
            return
        self.open_picture(*found)

    def _show_picture(self, picture: Picture) -> None:
        self.canvas.load_image(picture.image, source=picture)
        self._select_picture(picture)
        self.refresh()
        self.pictureShown.emit(picture.name)

    def _select_picture(self, picture: Picture) -> None:
        self.source = "picture"
        width, height = picture.size
        how = ", inverted" if picture.inverted else ""
        name = picture.name if len(picture.name) <= 32 else f"{picture.name[:20]}…{picture.name[-11:]}"
        self.source_label.setText(f"Your picture {name} ({width}×{height}{how})")
        self._update_data_note()

    # ----- what the model was trained on --------------------------------------------------------
    def _update_data_note(self) -> None:
        """Say so when the model meets images of another data set than it was trained on."""
        trained = trained_on(self.model.metadata) if self.model is not None else "mnist"
        shown = self.test_set if self.source == "test" else "mnist"  # drawings and pictures are made MNIST digits
        if trained not in SOURCES or trained == shown or self.set_jobs.is_busy():  # (busy: the set follows the model)
            self.data_note.setVisible(False)
            return
        learned, meets = data_source(trained).title, data_source(shown).title
        if self.source == "test":
            these = f"these are {meets} test images"
        else:
            these = "drawings and pictures are made into MNIST-style digits"
        self.data_note.setText(
            f"⚠ This model was trained on {learned}, but {these}: it can only draw what it learned, so expect "
            f"{learned}-like shapes."
        )
        self.data_note.setVisible(True)

    # ----- PCA -------------------------------------------------------------------------------
    def _on_compare(self, on: bool) -> None:
        self.row.set_column_visible(3, on)
        if on and self._pca is None:
            self._request_pca()
        self.refresh()

    def _request_pca(self) -> None:
        """Fit PCA with the latent width on the test images' data set off-thread; the PCA column says so
        meanwhile."""
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
            dialogs.show_exception(self, "PCA not available", exc, name)

        name = self.test_set
        self.pca_jobs.start(_fit_pca, k, name, self.baselines, on_done=fitted, on_error=failed)

    # ----- the test score at the slider's level ----------------------------------------------
    def _rescore(self) -> None:
        """The score shown is for another level, kind, test set or model now: drop the one in flight, ask again
        once the slider rests."""
        self.score_jobs.cancel()
        self._score_timer.start()

    def _request_score(self) -> None:
        if self.model is None:
            return
        sigma, kind, name, model = self.sigma, self.noise_kind, self.test_set, self.shown_model()
        where = level_text(kind, sigma)
        title = data_source(name).title
        of_set = "" if name == "mnist" else f" ({title})"

        def no_data(exc: BaseException) -> None:  # the file's own score, if it was taken at this level
            saved = _saved_score(model, sigma, kind, name)
            self.scoreChanged.emit(
                f"test MSE {saved:.4f} at {where}{of_set} (from the file)" if saved is not None
                else f"test MSE at {where}: needs the {title} test set"
            )

        which = f"{of_set} (perturbed network)" if model is not self.model else of_set
        self.score_jobs.start(_test_score, model, name, sigma, kind, on_error=no_data,
                              on_done=lambda r: self.scoreChanged.emit(f"test MSE {r[1]:.4f} at {where}{which}"))

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
        """A page was opened or the perturbation changed: redraw and rescore if another network is now shown."""
        if self.model is not None and self.shown_model() is not self._shown:
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
        self.clean = self._clean_input()
        if self._pattern is None:  # one fixed draw of the kind's noise, which the slider scales
            self._pattern = NoisePattern((1, 784), self.noise_seed, self.noise_kind)
        self.noisy = self._pattern.apply(self.clean.reshape(1, 784), self.sigma).reshape(28, 28)
        model = self._shown = self.shown_model()
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
        level = f"σ = {self.sigma:.2f}" if self.noise_kind == "gaussian" else f"fraction {self.sigma:.2f}"
        self.row.set_image(1, self.noisy, f"{level}{noisy_score}")
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

    def _clean_input(self) -> np.ndarray:
        """(28, 28) float32: the test image or picture as it is, else the canvas prepared as MNIST (a loaded image
        drawn over keeps its layout; an erased drawing keeps the frame it had before erasing)."""
        if self.source == "test":
            return self._test_clean
        if self.source == "picture" and isinstance(self.canvas.source, Picture):
            return self.canvas.source.image
        if self.canvas.framed:
            return shrink_framed(self.canvas.ink())
        return prepare_digit(self.canvas.ink(), frame=self.canvas.undamaged_ink())


def _single_shot(parent: QWidget, ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer

