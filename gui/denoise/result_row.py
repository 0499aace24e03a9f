"""Clean | Noisy input | Autoencoder (| a baseline): the state's forward pass as pictures, each with its scores.

*Compare with* chooses what stands beside the reconstruction: PCA with as many components as the code, the best
linear denoiser, or a classical filter — each fitted or tuned on the test set's training images at the slider's
level (``engine.baselines.BaselineBank``, off the GUI thread; the column says so meanwhile) — with its MSE, PSNR and
SSIM on the same input as the model's.  A linear baseline is one matrix product and follows the drawing live; a
classical filter runs off the GUI thread and says it is computing.  An empty canvas shows no score anywhere.  The
choice is remembered between sessions (``restore``); one undone because its baseline could not be fitted is not.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.baselines import BEST_LINEAR, CLASSICAL, BaselineBank, Denoiser, baseline_title, denoise_image, pca_name
from engine.forward_pass import ForwardPass
from engine.metrics import Scores, image_scores
from gui.common import dialogs
from gui.common.controls import WholeEntryCombo
from gui.common.hints import hint
from gui.common.image_row import ImageRow
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import level_text
from gui.denoise.state import DenoiseState
from gui.stored_settings import read_choice

BASELINE_COLUMN = 3
FIT_DELAY_MS = 150
"""The chosen baseline is fitted at a new level once the slider has rested this long."""
CHOOSER_NAMES = {"best_linear": "best linear", "median": "median", "gaussian_blur": "Gaussian blur",
                 "total_variation": "total variation", "nl_means": "non-local means", "wavelet": "wavelet"}
"""The baselines' short names in the chooser (the column's title and tooltip give the full ones)."""
NOTHING, PCA = "", "pca"
"""The chooser's entries that are not a baseline's name: no column, and PCA with the code's width."""
CHOICES = (NOTHING, PCA, BEST_LINEAR, *CLASSICAL)
"""Every entry of the chooser, in its order."""
COMPARE_KEY, STORED_NOTHING = "denoise/compare", "nothing"
"""The settings key of the choice, and how "nothing" is stored (an empty text reads back as no value in some
formats)."""


def _fit(bank: BaselineBank, name: str, kind: str, level: float, data_set: str, state) -> Denoiser:
    """Runs on a pool thread: baseline ``name`` fitted or tuned at ``level`` on ``data_set``'s training images (kept
    by the bank: going back to a level is instant)."""
    return bank.denoiser(name, kind, level, data_set, progress=state.progress, cancelled=state.cancelled)


def _apply(denoiser: Denoiser, noisy: np.ndarray, clean: np.ndarray, state):
    """Runs on a pool thread: a classical filter on the one image (scikit-image is loaded the first time)."""
    return denoise_image(denoiser, noisy, clean)


def score_text(scores: Scores | None) -> str:
    """"MSE 0.0123 · PSNR 19.1 dB · SSIM 0.912" (on two lines), or "" with nothing to score."""
    if scores is None:
        return ""
    return f"MSE {scores.mse:.4f}\nPSNR {scores.psnr:.1f} dB · SSIM {scores.ssim:.3f}"


class ResultRow(QWidget):
    """The four captioned images; ``compare_box`` (placed by the tab) chooses the fourth."""

    baselineReady = Signal(str)  # the chosen baseline is fitted or tuned at the state's level (its name)
    baselineShown = Signal(str)  # its output for the input shown is in the column, with its scores

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.denoiser: Denoiser | None = None  # the chosen baseline at the state's noise, once fitted
        self.baseline_scores: Scores | None = None  # its scores on the input shown (None: none shown, or no clean)
        self.model_scores: Scores | None = None  # the reconstruction's, on the same input
        self.settings: QSettings | None = None  # where the choice is remembered (``restore``)
        self._keep_choice = True  # False while a failed fit sets the chooser back to nothing (not the user's choice)
        self.row = ImageRow(["Clean", "Noisy input", "Autoencoder", "Baseline"], min_size=120)
        hint(
            self.row,
            "Clean target | the noisy input the network gets | its reconstruction (| a baseline's, chosen by Compare "
            "with). Each caption scores the image against the clean one: MSE (lower is better), PSNR and SSIM "
            "(higher is better)",
        )
        self.row.set_column_visible(BASELINE_COLUMN, False)
        self.compare_box = WholeEntryCombo()
        hint(
            self.compare_box,
            "Compare with: show a baseline beside the reconstruction, scored on the same input — PCA with as many "
            "components as the code, the best linear denoiser (one 784 × 784 map fitted at this noise level), or a "
            "classical filter tuned at this level. All are fitted on training images only",
        )
        self._fill_chooser()
        self.compare_box.setSizeAdjustPolicy(WholeEntryCombo.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compare_box.setMinimumContentsLength(19)  # the noise row keeps its room; the open list shows all
        self.compare_box.currentIndexChanged.connect(self._on_choice)
        self.fit_jobs, self.apply_jobs = JobRunner(self), JobRunner(self)
        self._start_fit = lambda: None
        self._fit_timer = QTimer(self, singleShot=True, interval=FIT_DELAY_MS)
        self._fit_timer.timeout.connect(lambda: self._start_fit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.row)
        state.shownChanged.connect(self._show)
        state.modelChanged.connect(lambda model: self._on_model())
        state.testSetChanged.connect(lambda name: self._refit())
        state.noiseChanged.connect(lambda kind, level: self._refit())

    # ----- the chooser ---------------------------------------------------------------------------
    def _fill_chooser(self) -> None:
        self.compare_box.addItem("Compare: nothing", NOTHING)
        self.compare_box.addItem("Compare: PCA", PCA)
        for name in (BEST_LINEAR, *CLASSICAL):
            self.compare_box.addItem(f"Compare: {CHOOSER_NAMES.get(name, baseline_title(name))}", name)

    def restore(self, settings: QSettings) -> None:
        """The choice as the user left it (read with bounds: anything else is nothing); later choices are kept
        there."""
        stored = read_choice(settings, COMPARE_KEY, (STORED_NOTHING, *CHOICES[1:]), STORED_NOTHING)
        self.settings = settings
        self.choose(NOTHING if stored == STORED_NOTHING else stored)

    def choose(self, choice: str) -> None:
        """Show ``choice`` beside the reconstruction: "" (nothing), "pca", "best_linear" or a filter's name."""
        index = self.compare_box.findData(choice)
        if index < 0:
            raise ValueError(f"no such comparison: {choice!r}")
        self.compare_box.setCurrentIndex(index)

    def choice(self) -> str:
        return self.compare_box.currentData()

    def baseline_name(self) -> str | None:
        """The chosen baseline's name ("pca_16", "best_linear", "median"), or None (nothing, or no PCA possible)."""
        choice, model = self.choice(), self.state.model
        if choice == NOTHING or model is None:
            return None
        if choice == PCA:
            return pca_name(model.latent_width) if model.latent_width < 784 else None
        return choice

    def _on_model(self) -> None:
        model = self.state.model
        k = model.latent_width if model is not None else None
        self.compare_box.setItemText(1, f"Compare: PCA-{k}" if k is not None and k < 784 else "Compare: PCA")
        self._refit()

    def _on_choice(self) -> None:
        if self.settings is not None and self._keep_choice:
            self.settings.setValue(COMPARE_KEY, self.choice() or STORED_NOTHING)
        self.row.set_column_visible(BASELINE_COLUMN, self.choice() != NOTHING)
        self._refit()

    # ----- fitting at the state's noise, off the GUI thread ------------------------------------------------
    def _refit(self) -> None:
        """Fit or tune the chosen baseline at the state's noise and test set off-thread; the column says so."""
        self.denoiser, self.baseline_scores = None, None
        self._fit_timer.stop()
        self.fit_jobs.cancel()
        self.apply_jobs.cancel()
        state, choice = self.state, self.choice()
        if state.model is None or choice == NOTHING:
            return
        name = self.baseline_name()
        self.row.titles[BASELINE_COLUMN].setText(self.compare_box.currentText().removeprefix("Compare: "))
        if name is None:
            k = state.model.latent_width
            self.row.set_image(BASELINE_COLUMN, np.zeros((28, 28)), f"no PCA: the code ({k}) is as wide as the image")
            return
        if name == pca_name(state.model.latent_width):  # fitted on clean images: the same at every level
            doing = f"fitting {baseline_title(name)}…"
        else:
            verb = "tuning" if name in CLASSICAL else "fitting"
            doing = f"{verb} the {baseline_title(name)} at {level_text(state.noise_kind, state.level)}…"
        self.row.captions[BASELINE_COLUMN].setText(doing)
        title = baseline_title(name)
        self.row.titles[BASELINE_COLUMN].setText(title[0].upper() + title[1:])

        def fitted(denoiser: Denoiser) -> None:
            self.denoiser = denoiser
            self.baselineReady.emit(name)
            if self.state.shown is not None:
                self._show(self.state.shown)

        def failed(exc: BaseException) -> None:
            self._keep_choice = False  # the user's choice stays stored: at another level or data set it may fit
            try:
                self.choose(NOTHING)
            finally:
                self._keep_choice = True
            dialogs.show_exception(self, f"{baseline_title(name).capitalize()} not available", exc, state.test_set)

        self._start_fit = lambda: self.fit_jobs.start(_fit, state.baselines, name, state.noise_kind, state.level,
                                                      state.test_set, on_done=fitted, on_error=failed)  # fmt: skip
        self._fit_timer.start()  # once the slider rests: a fit of 60,000 images a level is seconds

    # ----- what is shown ---------------------------------------------------------------------------
    def _show(self, shown: ForwardPass) -> None:
        state = self.state
        blank = not shown.errors  # nothing drawn: nothing to score
        self.row.set_image(0, state.clean, "empty: draw a digit" if blank else "target")
        level = level_text(state.noise_kind, state.level).replace("σ ", "σ = ")
        self.row.set_image(1, shown.noisy, level if blank else f"{level} · MSE {shown.errors['noisy']:.4f}")
        self.model_scores = None if blank or shown.decoded_code else image_scores(shown.recon, state.clean)
        if shown.decoded_code:
            label = "your code, decoded"
        else:
            label = "from pure noise" if blank else score_text(self.model_scores)
        self.row.set_image(2, shown.recon, f"perturbed · {label}" if state.perturbed is not None else label)
        self.baseline_scores = None
        if self.denoiser is None or self.choice() == NOTHING:
            return
        name = self.baseline_name()
        if name in CLASSICAL:  # scikit-image, a Python call per image: off the GUI thread
            caption = self.row.captions[BASELINE_COLUMN]
            caption.setText("computing…")
            self.apply_jobs.start(_apply, self.denoiser, shown.noisy, state.clean,
                                  on_done=lambda result: self._show_baseline(name, result),
                                  on_error=lambda exc: caption.setText(f"failed: {exc}"))  # fmt: skip
        else:  # a linear map: one matrix product, live while drawing
            self._show_baseline(name, denoise_image(self.denoiser, shown.noisy, state.clean))

    def _show_baseline(self, name: str, result) -> None:
        self.baseline_scores = result.scores
        setting = self.denoiser.setting if self.denoiser is not None else ""
        text = score_text(result.scores) or "nothing to score"
        self.row.set_image(BASELINE_COLUMN, result.image, text)
        self.row.captions[BASELINE_COLUMN].setToolTip(f"{baseline_title(name)}: {setting}")
        self.baselineShown.emit(name)
