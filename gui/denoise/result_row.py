"""Clean | Noisy input | Autoencoder (| PCA): the state's forward pass as pictures, each with its error.

PCA with as many components as the code, fitted off the GUI thread on the test set's training images, stands
beside the reconstruction when *Compare with PCA* is on.  An empty canvas shows no score anywhere.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from engine.baselines import BaselineBank
from engine.forward_pass import ForwardPass
from engine.metrics import mse
from engine.pca import PCA
from gui.common import dialogs
from gui.common.hints import hint
from gui.common.image_row import ImageRow
from gui.common.jobs import JobRunner
from gui.denoise.state import DenoiseState

PCA_COLUMN = 3


def _fit_pca(k: int, baselines: BaselineBank, data_set: str, state) -> PCA:
    """Runs on a pool thread: PCA-k of ``data_set``'s training images (the axes are kept: another width reuses them)."""
    return baselines.pca(k, data_set)


class ResultRow(QWidget):
    """The four captioned images; ``compare_box`` (placed by the tab) turns the PCA column on."""

    pcaReady = Signal(int)  # PCA with this many components is fitted and shown

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.pca: PCA | None = None
        self.pca_error: float | None = None  # PCA's MSE on the input shown, when its column shows one
        self.row = ImageRow(["Clean", "Noisy input", "Autoencoder", "PCA"], min_size=120)
        hint(
            self.row,
            "Clean target | the noisy input the network gets | its reconstruction (| PCA's). Each caption gives the "
            "mean squared error against the clean image: lower is better",
        )
        self.row.set_column_visible(PCA_COLUMN, False)
        self.compare_box = QCheckBox("Compare with PCA")
        hint(
            self.compare_box,
            "Also reconstruct with PCA keeping as many components as the code has units (fitted on the 60,000 "
            "training images): the best a linear code of that size can do",
        )
        self.compare_box.toggled.connect(self._on_compare)
        self.pca_jobs = JobRunner(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.row)
        state.shownChanged.connect(self._show)
        state.modelChanged.connect(lambda model: self._refit())
        state.testSetChanged.connect(lambda name: self._refit())

    def _on_compare(self, on: bool) -> None:
        self.row.set_column_visible(PCA_COLUMN, on)
        if on and self.pca is None:
            self._refit()
        elif self.state.shown is not None:
            self._show(self.state.shown)

    def _refit(self) -> None:
        """Fit PCA with the code's width on the test images' data set off-thread; the column says so meanwhile."""
        self.pca = None
        self.pca_jobs.cancel()
        model = self.state.model
        if model is None or not self.compare_box.isChecked():
            return
        k, name = model.latent_width, self.state.test_set
        if k >= 784:
            self.row.set_image(PCA_COLUMN, np.zeros((28, 28)), f"no PCA: the code ({k}) is as wide as the image")
            return
        self.row.set_image(PCA_COLUMN, np.zeros((28, 28)), f"fitting PCA-{k}…")

        def fitted(pca: PCA) -> None:
            self.pca = pca
            if self.state.shown is not None:
                self._show(self.state.shown)
            self.pcaReady.emit(pca.n_components)

        def failed(exc: BaseException) -> None:
            self.compare_box.setChecked(False)
            dialogs.show_exception(self, "PCA not available", exc, name)

        self.pca_jobs.start(_fit_pca, k, self.state.baselines, name, on_done=fitted, on_error=failed)

    def _show(self, shown: ForwardPass) -> None:
        state = self.state
        blank = not shown.errors  # nothing drawn: nothing to score
        self.row.set_image(0, state.clean, "empty: draw a digit" if blank else "target")
        level = f"σ = {state.level:.2f}" if state.noise_kind == "gaussian" else f"fraction {state.level:.2f}"
        self.row.set_image(1, shown.noisy, level if blank else f"{level} · MSE {shown.errors['noisy']:.4f}")
        if shown.decoded_code:
            label = "your code, decoded"
        else:
            label = "from pure noise" if blank else f"MSE {shown.errors['model']:.4f}"
        self.row.set_image(2, shown.recon, f"perturbed · {label}" if state.perturbed is not None else label)
        self.pca_error = None
        if self.compare_box.isChecked() and self.pca is not None:
            pca_recon = self.pca.reconstruct(shown.noisy.reshape(1, 784)).reshape(28, 28)
            self.pca_error = None if blank else mse(pca_recon, state.clean)
            score = "" if blank else f" · MSE {self.pca_error:.4f}"
            self.row.set_image(PCA_COLUMN, pca_recon, f"{self.pca.n_components} components{score}")
