"""The perturbation curve: test MSE on all test images against the strength of the knob moved last.

The other settings stay as they are; the curve is computed off the GUI thread, once the settings it depends
on rest (``CURVE_DELAY_MS``), and only while it is on screen.  Dashed green: the network as trained; dashed
grey: the noisy input; the amber line marks the knob's present strength.
"""

from __future__ import annotations

from dataclasses import replace

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressBar, QVBoxLayout, QWidget

from engine.perturb import Perturbation, PerturbationCurve, perturbation_curve
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.spaced_axis import SpacedAxis
from gui.common.theme import Theme, colors, style_plot

CURVE_DELAY_MS = 400
"""The curve is recomputed once the settings it depends on rest this long."""


def _curve(model, plan: Perturbation, knob: str, level: float, kind: str, data: DataSets, data_set: str,
           state) -> PerturbationCurve:  # fmt: skip
    """Runs on a pool thread: test MSE on all test images at each strength of ``knob``."""
    return perturbation_curve(model, plan, knob, data.images("test", data_set), level, kind=kind,
                              cancelled=state.cancelled, progress=state.progress)  # fmt: skip


class PerturbCurve(QWidget):
    """``ask(model, plan, knob, level, kind, data_set)`` when anything changes; ``curveReady(curve)``."""

    curveReady = Signal(object)  # PerturbationCurve

    def __init__(self, data: DataSets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.curve: PerturbationCurve | None = None
        self._wanted: tuple | None = None  # (model, plan, knob, level, kind, data set) last asked for
        self._curve_key = None  # what the shown (or computing) curve was made for
        self.jobs = JobRunner(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CURVE_DELAY_MS)
        self._timer.timeout.connect(self._request)
        self.plot = pg.PlotWidget(axisItems={side: SpacedAxis(side) for side in ("left", "bottom")})  # never piled up
        hint(self.plot, "Test MSE (all 10,000 test images of the chosen set, under the noise the slider above "
             "sets) against the strength of the knob moved last, the other settings as they are. Dashed green: "
             "the network as trained; dashed grey: the noisy input (doing nothing). The amber line marks the "
             "slider")  # fmt: skip
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "test MSE")
        self.plot.setMinimumHeight(80)
        self.plot.getPlotItem().setContentsMargins(0, 7, 2, 0)  # room for the top tick label, not cut at the edge
        self.curve_item = self.plot.plot(symbol="o", symbolSize=4)
        self.model_line = pg.InfiniteLine(angle=0)
        self.noisy_line = pg.InfiniteLine(angle=0)
        self.now_line = pg.InfiniteLine(angle=90)
        for line in (self.model_line, self.noisy_line, self.now_line):
            self.plot.addItem(line, ignoreBounds=line is not self.model_line)
        self.busy = QProgressBar()
        self.busy.setRange(0, 100)
        self.busy.setFormat("scoring 10,000 test images… %p%")
        self.busy.setVisible(False)
        self.jobs.progressed.connect(lambda f: self.busy.setValue(int(f * 100)))
        self.jobs.busyChanged.connect(self.busy.setVisible)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.busy)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        self.clear()

    def restyle(self) -> None:
        """Pens in the active theme's colours."""
        style_plot(self.plot)
        dash = Qt.PenStyle.DashLine
        self.curve_item.setPen(pg.mkPen(colors()["accent"], width=2))
        self.curve_item.setSymbolBrush(colors()["accent"])
        self.curve_item.setSymbolPen(None)
        self.model_line.setPen(pg.mkPen(colors()["decoder"], width=1.5, style=dash))
        self.noisy_line.setPen(pg.mkPen(colors()["noisy"], width=1.5, style=dash))
        self.now_line.setPen(pg.mkPen(colors()["latent"], width=1.5))

    def forget(self) -> None:
        """A new model: no curve, nothing asked for."""
        self.jobs.cancel()
        self.curve, self._wanted, self._curve_key = None, None, None
        self.clear()

    def ask(self, model, plan: Perturbation, knob: str, level: float, kind: str, data_set: str) -> None:
        """The curve for these settings is wanted: computed once they rest and the curve is on screen."""
        self._wanted = (model, plan, knob, level, kind, data_set)
        if _key(*self._wanted) != self._curve_key:
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._wanted is not None and _key(*self._wanted) != self._curve_key:
            self._timer.start()

    def _request(self) -> None:
        if self._wanted is None or not self.isVisible() or _key(*self._wanted) == self._curve_key:
            return
        model, plan, knob, level, kind, data_set = self._wanted
        self._curve_key = key = _key(*self._wanted)
        self.busy.setValue(0)
        if self.curve is not None and self.curve.knob != knob:  # along another knob: it would mislead
            self.curve = None
            self.clear()
        self.jobs.start(_curve, model, plan, knob, level, kind, self.data, data_set, on_done=self._show,
                        on_error=lambda e: self._failed(key, e))  # fmt: skip

    def _failed(self, key, error: BaseException) -> None:
        self._curve_key = None
        self.clear()
        self.plot.setLabel("bottom", f"no curve: {error}")

    def clear(self) -> None:
        self.curve_item.setData([], [])
        for line in (self.model_line, self.noisy_line, self.now_line):
            line.setVisible(False)
        self.plot.setLabel("bottom", "")

    def _show(self, curve: PerturbationCurve) -> None:
        self.curve = curve
        scale = 100 if curve.knob == "prune" else 1
        self.curve_item.setData(curve.strengths * scale, curve.mse)
        self.model_line.setValue(curve.model_mse)
        self.noisy_line.setValue(curve.noisy_input_mse)
        for line in (self.model_line, self.noisy_line):
            line.setVisible(True)
        what = "weights pruned (%)" if curve.knob == "prune" else "weight noise (× layer spread)"
        noise = "σ" if curve.kind == "gaussian" else curve.kind.replace("_", " ")
        self.plot.setLabel("bottom", f"{what} · input {noise} {curve.sigma:.2f}")
        self.plot.setYRange(0, float(max(curve.mse.max(), curve.model_mse, curve.noisy_input_mse)) * 1.05, padding=0)
        self.plot.setXRange(float(curve.strengths[0] * scale), float(curve.strengths[-1] * scale), padding=0.02)
        if self._wanted is not None:
            self.move_marker(self._wanted[1], self._wanted[2])
        self.curveReady.emit(curve)

    def move_marker(self, plan: Perturbation, knob: str) -> None:
        """The amber line at ``knob``'s strength in ``plan`` (shown when the curve runs along that knob)."""
        self.now_line.setValue(plan.prune * 100 if knob == "prune" else plan.noise)
        self.now_line.setVisible(self.curve is not None and self.curve.knob == knob)


def _key(model, plan: Perturbation, knob: str, level: float, kind: str, data_set: str) -> tuple:
    """What a curve depends on: the knob's own strength is not part of it (the curve runs along it)."""
    plan = replace(plan, **{knob: 0.0})
    if plan.prune == 0 and knob != "prune":
        plan = replace(plan, scope="layer")  # where nothing is pruned, where to prune changes nothing
    return (model, plan, knob, round(level, 4), kind, data_set)
