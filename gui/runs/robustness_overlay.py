"""The ticked runs' robustness curves on one plot: each run's saved model scored on all test images at 21 noise
levels (``engine.robustness``), beside the noisy input and PCA with as many components, off the GUI thread.

The kind of noise and the test set are chosen here (they start as the first ticked run's); runs without a model
file, or whose file is gone, say so under the plot.  A changed file is scored as it is now, and says so.  The
curves are computed only while the page is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from engine.data_sources import data_source
from engine.model_format import ModelFileError
from engine.nn import MLP
from engine.robustness import RobustnessCurve, describe, robustness_curve
from engine.runs import RunRecord
from engine.runs.files import model_state
from gui.common.data_set_box import DataSetBox
from gui.common.data_sets import DataSets
from gui.common.dialogs import describe_error
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import TITLES, NoiseKindBox, level_name
from gui.common.spaced_axis import SpacedAxis
from gui.common.theme import Theme, colors, style_plot
from gui.common.when_shown import WhenShown
from gui.runs.loss_overlay import slot_color
from gui.runs.table_model import MAX_TICKED


@dataclass(frozen=True)
class RunCurve:
    """One run's robustness: its ``curve``, or None and ``problem`` (no model file, gone, unreadable); ``changed``
    when its file is no longer the one the run saved."""

    run_id: int
    curve: RobustnessCurve | None
    problem: str | None = None
    changed: bool = False


def robustness_of_runs(runs: list[tuple[int, str | None, str | None]], data: DataSets, dataset: str, kind: str,
                       state) -> list[RunCurve]:  # fmt: skip
    """A job: for each (run id, model path, model SHA-256), the saved model's robustness curve on ``dataset``'s test
    images (PCA fitted on its training images) for noise ``kind``; progress over all runs."""
    train, test = data.images("train", dataset), data.images("test", dataset)
    out = []
    for i, (run_id, path, sha) in enumerate(runs):
        out.append(_run_curve(run_id, path, sha, train, test, kind, state,
                              lambda f, i=i: state.progress((i + f) / len(runs))))  # fmt: skip
        state.progress((i + 1) / len(runs))
    return out


def _run_curve(run_id: int, path: str | None, sha: str | None, train, test, kind: str, state, progress) -> RunCurve:
    found = model_state(path, sha)
    if found in ("not saved", "missing", "unreadable"):
        words = {"not saved": "saved no model file", "missing": f"its model file is gone ({path})",
                 "unreadable": f"its model file cannot be read ({path})"}  # fmt: skip
        return RunCurve(run_id, None, words[found])
    try:
        model = MLP.from_file(path)
    except ModelFileError as exc:
        return RunCurve(run_id, None, f"its model file cannot be opened: {exc.problem}")
    curve = robustness_curve(model, train, test, kind=kind, cancelled=state.cancelled, progress=progress)
    return RunCurve(run_id, curve, changed=found == "changed")


class RobustnessOverlay(QWidget):
    """``show_runs(runs)``: the ticked runs (their records); ``curvesReady(list[RunCurve])`` once computed."""

    curvesReady = Signal(list)

    def __init__(self, data: DataSets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.runs: list[RunRecord] = []
        self.results: list[RunCurve] = []
        self._labels: tuple[str, str] | None = None
        self.names: dict[int, str] = {}
        self.jobs = JobRunner(self)
        self.refresh = WhenShown(self, self._request, on_hidden=self.jobs.cancel)
        self.kind_box = NoiseKindBox("The kind of noise the curves are scored under (it starts as the first ticked "
                                     "run's)")  # fmt: skip
        self.data_box = DataSetBox("The test images the curves are scored on (they start as the first ticked run's "
                                   "data set)")  # fmt: skip
        for signal in (self.kind_box.kindChanged, self.data_box.dataSetChanged):
            signal.connect(lambda _: self._invalidate())
        self.plot = pg.PlotWidget(axisItems={side: SpacedAxis(side) for side in ("left", "bottom")})  # never piled up
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10), colCount=2)
        self.model_items = [self.plot.plot(symbol="o", symbolSize=4) for _ in range(MAX_TICKED)]
        self.pca_items = [self.plot.plot() for _ in range(MAX_TICKED)]  # one a distinct code width
        self.noisy_item = self.plot.plot()
        hint(self.plot, "Test error against the noise level for each ticked run's saved model (solid, the run's "
                        "colour), the noisy input (grey, dashed: doing nothing) and PCA with as many components as "
                        "the run's code (dashed). Lower is better; where a run's curve is under the grey one, its "
                        "model helps")  # fmt: skip
        self.busy = QProgressBar()
        self.busy.setRange(0, 100)
        self.busy.setFormat("scoring the models… %p%")
        self.busy.setVisible(False)
        hint(self.busy, "The curves are being computed off the GUI thread; the window stays usable")
        self.jobs.progressed.connect(lambda f: self.busy.setValue(int(f * 100)))
        self.jobs.busyChanged.connect(self.busy.setVisible)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint(self.verdict, "Where each run's model beats the noisy input and PCA, read from its curve")
        head = QHBoxLayout()
        head.addWidget(QLabel("Noise"))
        head.addWidget(self.kind_box)
        head.addWidget(QLabel("Test images"))
        head.addWidget(self.data_box)
        head.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.verdict)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        self._invalidate()

    def restyle(self) -> None:
        style_plot(self.plot)
        dash = Qt.PenStyle.DashLine
        for slot, (model, pca) in enumerate(zip(self.model_items, self.pca_items, strict=True)):
            model.setPen(pg.mkPen(slot_color(slot), width=2))
            model.setSymbolBrush(slot_color(slot))
            model.setSymbolPen(None)
            pca.setPen(pg.mkPen(slot_color(slot), width=1.2, style=Qt.PenStyle.DotLine))
        self.noisy_item.setPen(pg.mkPen(colors()["noisy"], width=1.5, style=dash))

    def show_runs(self, runs: Sequence[RunRecord], names: Sequence[str] | None = None) -> None:
        """Curves for these runs, named ``names`` (default "run N"; the noise kind and test set start as the first
        run's)."""
        self.names = {run.id: name for run, name in zip(runs, names or [f"run {r.id}" for r in runs], strict=True)}
        key = [(run.id, run.model_path, run.model_sha256) for run in runs][:MAX_TICKED]
        if key == [(run.id, run.model_path, run.model_sha256) for run in self.runs]:
            return  # the same models: the curves shown stay
        first_changed = bool(runs) and (not self.runs or self.runs[0].id != runs[0].id)
        self.runs = list(runs)[:MAX_TICKED]
        if first_changed:
            settings = self.runs[0].settings
            for box in (self.kind_box, self.data_box):
                box.blockSignals(True)
            if settings.get("noise_kind") in TITLES:
                self.kind_box.set_kind(settings["noise_kind"])
            if self.runs[0].dataset:
                self.data_box.set_data_set(self.runs[0].dataset)
            for box in (self.kind_box, self.data_box):
                box.blockSignals(False)
        self._invalidate()

    def _invalidate(self) -> None:
        self.results = []
        self._clear()
        kind = self.kind_box.kind()
        labels = ("noise σ" if kind == "gaussian" else f"{level_name(kind)} of pixels hit",
                  f"{data_source(self.data_box.data_set()).title} test MSE")  # fmt: skip
        if labels != self._labels:  # (a label is set as HTML: not again for nothing)
            self._labels = labels
            self.plot.setLabel("bottom", labels[0])
            self.plot.setLabel("left", labels[1])
        if not self.runs:
            self.jobs.cancel()
            self.verdict.setText("Tick two to four runs in the table to compare how their models hold up as the "
                                 "noise grows.")  # fmt: skip
            return
        self.verdict.setText("")
        self.refresh.request()

    def _clear(self) -> None:
        for axis in ("left", "bottom"):  # shown again with curves
            self.plot.getPlotItem().showAxis(axis, False)
        for item in (*self.model_items, *self.pca_items, self.noisy_item):
            if any(sample.item is item for sample, _ in self.legend.items):
                self.legend.removeItem(item)
            item.setData([], [])

    def _request(self) -> None:
        if not self.runs:
            return
        self.busy.setValue(0)
        self.verdict.setText(f"Scoring {len(self.runs)} models on all test images at 21 noise levels…")
        entries = [(run.id, run.model_path, run.model_sha256) for run in self.runs]
        self.jobs.start(robustness_of_runs, entries, self.data, self.data_box.data_set(), self.kind_box.kind(),
                        on_done=self._show, on_error=self._failed)  # fmt: skip

    def _show(self, results: list[RunCurve]) -> None:
        self.results = results
        self._clear()
        shown = [(slot, r) for slot, r in enumerate(results) if r.curve is not None]
        self.legend.setColumnCount(max(len(shown), 1) + 1)  # the runs and the noisy input, then the PCA lines
        sentences = []
        for slot, result in shown:
            name = self.names.get(result.run_id, f"run {result.run_id}") + (" (file changed)" if result.changed else "")
            self.model_items[slot].setData(result.curve.sigmas, result.curve.model)
            self.legend.addItem(self.model_items[slot], name)
            sentences.append(describe(result.curve, name[0].upper() + name[1:]))
        if shown:
            curve = shown[0][1].curve
            self.noisy_item.setData(curve.sigmas, curve.noisy_input)
            self.legend.addItem(self.noisy_item, "noisy input")
        widths = set()
        for slot, result in shown:
            curve = result.curve
            if curve.pca is not None and curve.components not in widths:
                widths.add(curve.components)
                self.pca_items[slot].setData(curve.sigmas, curve.pca)
                self.legend.addItem(self.pca_items[slot], f"PCA-{curve.components}")
        for axis in ("left", "bottom"):
            self.plot.getPlotItem().showAxis(axis, bool(shown))
        sentences += [f"Run {r.run_id}: no curve — {r.problem}." for r in results if r.curve is None]
        self.verdict.setText(" ".join(sentences))
        self.plot.getPlotItem().enableAutoRange()
        self.curvesReady.emit(results)

    def _failed(self, error: BaseException) -> None:
        self.refresh.retry_when_shown()
        what, todo = describe_error(error, self.data_box.data_set())
        self.verdict.setText(f"No curves: {what} {todo}")
