"""Test MSE against the noise level for the current model, the noisy input and PCA, computed off the GUI thread.

For the chosen noise kind (σ, or a fraction of pixels) and test set (MNIST or Fashion-MNIST).  The
slider's level is marked; the sentence under the plot names where the curves cross (engine maths).
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from engine.baselines import BaselineBank
from engine.data_sources import data_source
from engine.model_paths import shipped_models
from engine.nn import MLP
from engine.robustness import RobustnessCurve, describe, robustness_curve
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import TITLES, level_name
from gui.common.theme import Theme, colors, style_plot
from gui.common.when_shown import WhenShown
from gui.denoise.state import DenoiseState

NO_SECOND = "(no second model)"


def _compute(
    model, second_name: str | None, data: DataSets, baselines: BaselineBank, data_set: str, kind: str, state
) -> tuple[RobustnessCurve, str | None]:
    """Runs on a pool thread: the curve on all test images of ``data_set`` (PCA on all its training images, its
    axes kept by ``baselines``)."""
    second = MLP.from_file(second_name) if second_name else None
    train, test = data.images("train", data_set), data.images("test", data_set)
    pca = baselines.pca(model.latent_width, data_set) if model.latent_width < test.shape[1] else None
    curve = robustness_curve(model, train, test, second=second, cancelled=state.cancelled, progress=state.progress,
                             kind=kind, pca=pca)  # fmt: skip
    return curve, second_name


class RobustnessPanel(QWidget):
    """Follows the Denoise state: a new model, noise kind or test set recomputes (when the panel is shown); the
    noise level moves the marker."""

    curveReady = Signal(object)  # RobustnessCurve

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.kind, self.data_set = "gaussian", "mnist"
        self.curve: RobustnessCurve | None = None
        self.jobs = JobRunner(self)
        self.refresh = WhenShown(self, self._request, on_hidden=lambda: self.jobs.cancel())
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "noise σ")
        self.plot.setLabel("left", "test MSE (10,000 images)")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10), colCount=2)  # two rows, not four, on a short plot
        self.model_item = self.plot.plot(symbol="o", symbolSize=5, name="this model")
        self.noisy_item = self.plot.plot(name="noisy input")
        self.pca_item = self.plot.plot(name="PCA")
        self.second_item = self.plot.plot()  # in the legend when shown
        self.sigma_line = pg.InfiniteLine(angle=90, label="slider", labelOpts={"position": 0.06})
        self.plot.addItem(self.sigma_line, ignoreBounds=True)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        hint(
            self.plot,
            "The test error at each noise level (σ, or the fraction of pixels hit; all 10,000 test images). Where "
            "the blue curve is below a dashed one the model beats doing nothing (the noisy input) or PCA with as many "
            "components",
        )
        self.second_box = QComboBox()
        hint(self.second_box, "Draw a second shipped model's curve in green, to compare the two")
        self.second_box.currentIndexChanged.connect(self._request)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        hint(self.verdict, "Where the curves cross, read from the curves themselves")
        self.busy = QProgressBar()
        self.busy.setRange(0, 100)
        self.busy.setTextVisible(True)
        self.busy.setFormat("computing the curve… %p%")
        self.busy.setVisible(False)
        self.jobs.progressed.connect(lambda f: self.busy.setValue(int(f * 100)))
        self.jobs.busyChanged.connect(self.busy.setVisible)
        head = QHBoxLayout()
        head.addWidget(QLabel("Compare with"))
        head.addWidget(self.second_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.verdict)
        state.modelChanged.connect(self.set_model)
        state.testSetChanged.connect(self.set_data_set)
        state.noiseChanged.connect(self._on_noise)

    def _on_noise(self, kind: str, level: float) -> None:
        self.set_kind(kind)
        self.set_sigma(level)

    def restyle(self) -> None:
        """Pens and backgrounds in the active theme's colours."""
        style_plot(self.plot)
        dash = Qt.PenStyle.DashLine
        self.model_item.setPen(pg.mkPen(colors()["accent"], width=2))
        self.model_item.setSymbolBrush(colors()["accent"])
        self.noisy_item.setPen(pg.mkPen(colors()["noisy"], width=1.5, style=dash))
        self.pca_item.setPen(pg.mkPen(colors()["pca"], width=1.5, style=dash))
        self.second_item.setPen(pg.mkPen(colors()["decoder"], width=2))
        self.sigma_line.setPen(pg.mkPen(colors()["latent"], width=1.5))
        self.sigma_line.label.setColor(colors()["latent"])

    def set_kind(self, kind: str) -> None:
        """Curves for another noise kind; the level axis says σ or fraction."""
        if kind != self.kind:
            self.kind = kind
            self._invalidate()

    def set_data_set(self, name: str) -> None:
        """Curves on another data set's test images."""
        if name != self.data_set:
            self.data_set = name
            self._invalidate()

    def set_model(self, model) -> None:
        self.model = model
        current = Path(model.path).stem if getattr(model, "path", None) else None
        self.second_box.blockSignals(True)
        chosen = self.second_box.currentText()
        self.second_box.clear()
        self.second_box.addItem(NO_SECOND)
        self.second_box.addItems([name for name in shipped_models() if name != current])  # not itself
        self.second_box.setCurrentText(chosen if chosen != current else NO_SECOND)
        self.second_box.blockSignals(False)
        self._invalidate()

    def _invalidate(self) -> None:
        """The curves shown are for something else now: clear them; recompute at once if shown, else when shown."""
        self.curve = None
        for item in (self.model_item, self.noisy_item, self.pca_item, self.second_item):
            item.setData([], [])
        self.verdict.setText("")
        kind = self.kind
        self.plot.setLabel("bottom", "noise σ" if kind == "gaussian" else f"{level_name(kind)} of pixels hit "
                                                                            f"({TITLES[kind].lower()})")  # fmt: skip
        self.plot.setLabel("left", f"{data_source(self.data_set).title} test MSE")  # on all 10,000 test images
        if self.model is None:
            return
        self.refresh.request()

    def set_sigma(self, sigma: float) -> None:
        self.sigma_line.setValue(sigma)

    def _request(self) -> None:
        if self.model is None:
            return
        self.busy.setValue(0)
        name = self.second_box.currentText()
        self.verdict.setText("Scoring the model on all 10,000 test images at 21 noise levels…")
        self.jobs.start(_compute, self.model, None if name == NO_SECOND else name, self.state.data,
                        self.state.baselines, self.data_set, self.kind, on_done=self._show,
                        on_error=self._failed)  # fmt: skip

    def _show(self, result: tuple[RobustnessCurve, str | None]) -> None:
        curve, second_name = result
        self.curve = curve
        s = curve.sigmas
        self.model_item.setData(s, curve.model)
        self.noisy_item.setData(s, curve.noisy_input)
        self.pca_item.setData(s, curve.pca if curve.pca is not None else [])
        self.second_item.setData(s, curve.second if curve.second is not None else [])
        self._label_legend(f"PCA-{curve.components}", second_name)
        models = [curve.model] + ([curve.second] if curve.second is not None else [])
        top = max(float(m.max()) for m in models)  # every model's curve whole; the noisy input up to twice that
        self.plot.setYRange(0, max(top, min(float(curve.noisy_input.max()), 2 * top)))
        self.plot.setXRange(float(s[0]), float(s[-1]), padding=0.02)
        text = describe(curve, "This model")
        if second_name:
            text += " " + describe(
                RobustnessCurve(s, curve.second, curve.noisy_input, curve.pca, curve.components), second_name
            )
        self.verdict.setText(text)
        self.curveReady.emit(curve)

    def _label_legend(self, pca_name: str, second_name: str | None) -> None:
        """Name the PCA line by its components; list the second model only when there is one."""
        if any(sample.item is self.second_item for sample, _ in self.legend.items):
            self.legend.removeItem(self.second_item)
        if second_name:
            self.legend.addItem(self.second_item, second_name)
        for sample, label in self.legend.items:
            if sample.item is self.pca_item:
                label.setText(pca_name)

    def _failed(self, error: BaseException) -> None:
        self.refresh.retry_when_shown()
        self.verdict.setText(f"No curve: {error}")
