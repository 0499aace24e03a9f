"""The model's test score against the noise level beside every baseline's, each curve computed off the GUI thread.

For the chosen noise kind (σ, or a fraction of pixels) and test set (MNIST or Fashion-MNIST), at the levels
``engine.robustness.APP_LEVELS``: the model (and a second shipped model, if chosen) with the noisy input and PCA
with the code's width (one job), and each other baseline of ``engine.baselines`` — the best linear denoiser fitted
at each level, the classical filters tuned at each level — in a job of its own, drawn as soon as it is ready.  Each
baseline can be hidden (a hidden one is not computed; the choice is remembered); the metric chooser shows MSE, PSNR
or SSIM.  A per-image filter scores a fixed subset of the test images (``engine.baselines.curve_images``) and its
legend says so.  The slider's level is marked; the sentence under the plot names where the model crosses the
strongest baseline shown, and each one (``engine.robustness.describe_baselines``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QToolButton, QVBoxLayout, QWidget

from engine.baselines import (
    BEST_LINEAR,
    CLASSICAL,
    METRICS,
    NOISY_INPUT,
    BaselineBank,
    BaselineCurve,
    baseline_title,
    curve_images,
    pca_name,
)
from engine.data_sources import data_source
from engine.model_paths import shipped_models
from engine.nn import MLP
from engine.robustness import APP_LEVELS, METRIC_TITLES, RobustnessCurve, describe_baselines, robustness_curve
from gui.common.controls import WholeEntryCombo
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import TITLES, level_name
from gui.common.spaced_axis import SpacedAxis
from gui.common.theme import Theme, colors, style_plot
from gui.common.when_shown import WhenShown
from gui.denoise.state import DenoiseState
from gui.stored_settings import read_choice, read_names

NO_SECOND = "(no second model)"
PCA = "pca"
"""The key of PCA with the code's width among the baselines (its name, ``pca_K``, follows the model)."""
BASELINES = (NOISY_INPUT, PCA, BEST_LINEAR, *CLASSICAL)
"""Every baseline the panel can draw, in the order of its check boxes."""
FITTED = (BEST_LINEAR, *CLASSICAL)
"""The baselines computed each in a job of its own (the noisy input and PCA come with the model's curve)."""
HIDDEN_KEY, METRIC_KEY = "robustness/hidden", "robustness/metric"
SHORT = {NOISY_INPUT: "noisy input", PCA: "PCA", BEST_LINEAR: "best linear", "median": "median",
         "gaussian_blur": "Gaussian blur", "total_variation": "total variation", "nl_means": "non-local means",
         "wavelet": "wavelet"}  # fmt: skip
"""Each check box's label."""


def _model_curve(
    model, second_name: str | None, data: DataSets, baselines: BaselineBank, data_set: str, kind: str, state
) -> tuple[RobustnessCurve, str | None]:
    """Runs on a pool thread: the model's curve (MSE and SSIM) on all test images of ``data_set``, with the noisy
    input's and PCA's (PCA on all its training images, its axes kept by ``baselines``)."""
    second = MLP.from_file(second_name) if second_name else None
    train, test = data.images("train", data_set), data.images("test", data_set)
    pca = baselines.pca(model.latent_width, data_set) if model.latent_width < test.shape[1] else None
    curve = robustness_curve(model, train, test, APP_LEVELS, second=second, cancelled=state.cancelled,
                             progress=state.progress, kind=kind, ssim=True, pca=pca)  # fmt: skip
    return curve, second_name


def _baseline_curve(name: str, data: DataSets, baselines: BaselineBank, data_set: str, kind: str, state):
    """Runs on a pool thread: baseline ``name`` fitted or tuned at each level on the training images and scored on
    the test images it scores (``curve_images``): (its curve, how many test images, of how many)."""
    test = data.images("test", data_set)
    chosen = curve_images(name, test)
    curve = baselines.curve(name, chosen, kind, APP_LEVELS, data_set, progress=state.progress,
                            cancelled=state.cancelled)  # fmt: skip
    return curve, len(chosen), len(test)


def _set_curve(item: pg.PlotDataItem, levels: np.ndarray, values: np.ndarray | None) -> None:
    """Draw ``values`` (n,) at ``levels`` (a gap at NaN), or nothing."""
    if values is None:
        item.setData([], [])
    else:
        item.setData(levels, values, connect="finite")


def _has_data(item: pg.PlotDataItem) -> bool:
    x, _ = item.getData()
    return x is not None and len(x) > 0


class RobustnessPanel(QWidget):
    """Follows the Denoise state: a new model, noise kind or test set recomputes (when the panel is shown); the
    noise level moves the marker."""

    curveReady = Signal(object)  # RobustnessCurve: the model's (with the noisy input and PCA)
    baselineReady = Signal(str)  # a fitted baseline's curve is drawn (its name)
    allReady = Signal()  # every curve shown is drawn, and the sentence names them all

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.kind, self.data_set = "gaussian", "mnist"
        self.curve: RobustnessCurve | None = None
        self.second_name: str | None = None
        self._asked: str | None = None  # the second model the running job computes
        self.baseline_curves: dict[str, tuple[BaselineCurve, int, int]] = {}  # name -> (curve, images, of)
        self.failed: dict[str, str] = {}  # name -> why it has no curve (for this kind and test set)
        self.settings: QSettings | None = None
        self.hidden: set[str] = set()
        self.jobs = JobRunner(self)
        self.baseline_jobs = JobRunner(self)  # one baseline at a time: the model's curve and other tabs keep a thread
        self._computing: str | None = None  # the baseline its job computes
        self.refresh = WhenShown(self, self._request, on_hidden=self._cancel_all)
        self._build_plot()
        self._build_controls()
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        state.follow(test_set=self.set_data_set, model=self.set_model, noise=self._on_noise)  # made at any time

    # ----- building -------------------------------------------------------------------------------
    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(axisItems={side: SpacedAxis(side) for side in ("left", "bottom")})  # never piled up
        self.plot.setLabel("bottom", "noise σ")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10), colCount=3)  # three columns: short on a short plot
        self.model_item = self.plot.plot(symbol="o", symbolSize=5)
        self.items = {name: self.plot.plot() for name in BASELINES}  # in the legend while drawn
        self.noisy_item, self.pca_item = self.items[NOISY_INPUT], self.items[PCA]
        self.second_item = self.plot.plot()  # in the legend when shown
        self.sigma_line = pg.InfiniteLine(angle=90, label="slider", labelOpts={"position": 0.06})
        self.plot.addItem(self.sigma_line, ignoreBounds=True)
        hint(
            self.plot,
            "The test score at each noise level (σ, or the fraction of pixels hit; all 10,000 test images) of this "
            "model beside every baseline: doing nothing (the noisy input), PCA with as many components as the code, "
            "the best linear denoiser and the classical filters, each fitted or tuned at that level on training "
            "images only. Where the blue curve is better than every dashed one, learning pays",
        )

    def _build_controls(self) -> None:
        self.second_box = QComboBox()
        hint(self.second_box, "Draw a second shipped model's curve in green, to compare the two")
        self.second_box.currentIndexChanged.connect(self._request)
        self.metric_box = WholeEntryCombo()
        for metric in METRICS:
            self.metric_box.addItem(METRIC_TITLES[metric], metric)
        hint(self.metric_box, "The score drawn: MSE (lower is better), PSNR in dB or SSIM (higher is better)")
        self.metric_box.currentIndexChanged.connect(self._on_metric)
        self.curves_button = QToolButton()
        self.curves_button.setText("Curves")
        self.curves_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        hint(self.curves_button, "Show or hide each baseline's curve (a hidden curve is not computed; remembered)")
        menu = QMenu(self.curves_button)
        menu.setToolTipsVisible(True)
        self.boxes: dict[str, QAction] = {}  # each baseline's entry, checked while its curve is shown
        for name in BASELINES:
            action = self.boxes[name] = menu.addAction(SHORT[name])
            action.setCheckable(True)
            action.setChecked(True)
            hint(action, f"Draw the {SHORT[name]} curve, or hide it (a hidden curve is not computed; remembered)")
            action.toggled.connect(lambda on, n=name: self.set_shown(n, on))
        self.curves_button.setMenu(menu)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        hint(self.verdict, "Where the curves cross, read from the curves themselves")
        self.busy = QProgressBar()
        self.busy.setTextVisible(True)
        self.busy.setVisible(False)
        head = QHBoxLayout()
        head.addWidget(QLabel("Compare with"))
        head.addWidget(self.second_box, 1)
        head.addWidget(self.metric_box)
        head.addWidget(self.curves_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.verdict)

    def restyle(self) -> None:
        """Pens and backgrounds in the active theme's colours."""
        style_plot(self.plot)
        dash, dot = Qt.PenStyle.DashLine, Qt.PenStyle.DotLine
        self.model_item.setPen(pg.mkPen(colors()["accent"], width=2))
        self.model_item.setSymbolBrush(colors()["accent"])
        self.second_item.setPen(pg.mkPen(colors()["decoder"], width=2))
        keys = {NOISY_INPUT: "noisy", PCA: "pca", BEST_LINEAR: "linear"}
        for name, item in self.items.items():
            style = dot if name in CLASSICAL else dash
            item.setPen(pg.mkPen(colors()[keys.get(name, name)], width=2 if name == BEST_LINEAR else 1.5, style=style))
        self.sigma_line.setPen(pg.mkPen(colors()["latent"], width=1.5))
        self.sigma_line.label.setColor(colors()["latent"])

    def restore(self, settings: QSettings) -> None:
        """The curves hidden and the metric as the user left them (read with bounds); later choices are kept there."""
        self.settings = settings
        hidden = set(read_names(settings, HIDDEN_KEY, BASELINES))
        metric = read_choice(settings, METRIC_KEY, METRICS, "mse")
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(name not in hidden)
            box.blockSignals(False)
        self.hidden = hidden
        self.metric_box.setCurrentIndex(METRICS.index(metric))
        self._redraw()

    # ----- what to show ---------------------------------------------------------------------------
    def chosen_metric(self) -> str:
        return self.metric_box.currentData()

    def set_shown(self, name: str, shown: bool) -> None:
        """Draw baseline ``name`` or hide it (remembered); a curve shown that is not computed yet is asked for."""
        (self.hidden.discard if shown else self.hidden.add)(name)
        if self.boxes[name].isChecked() != shown:
            self.boxes[name].setChecked(shown)
        if self.settings is not None:
            self.settings.setValue(HIDDEN_KEY, [n for n in BASELINES if n in self.hidden])
        if name in FITTED:
            if not shown and self._computing == name:
                self.baseline_jobs.cancel()
                self._computing = None
            if self.model is not None and (shown and name not in self.baseline_curves or not shown):
                self.refresh.request()  # (the next one, when the one hidden was computing)
        self._redraw()

    def _on_metric(self) -> None:
        if self.settings is not None:
            self.settings.setValue(METRIC_KEY, self.chosen_metric())
        self._redraw()

    def _on_noise(self, kind: str, level: float) -> None:
        self.set_kind(kind)
        self.set_sigma(level)

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
        self._invalidate(keep_baselines=True)

    def set_sigma(self, sigma: float) -> None:
        self.sigma_line.setValue(sigma)

    def _invalidate(self, keep_baselines: bool = False) -> None:
        """The curves shown are for something else now: clear them (the fitted baselines' too, unless only the model
        changed); recompute at once if shown, else when shown."""
        self.curve = None
        if not keep_baselines:
            self.baseline_curves.clear()
            self.failed.clear()
        self._cancel_all()
        kind = self.kind
        self.plot.setLabel("bottom", "noise σ" if kind == "gaussian" else f"{level_name(kind)} of pixels hit "
                                                                            f"({TITLES[kind].lower()})")  # fmt: skip
        self._redraw()
        if self.model is not None:
            self.refresh.request()

    def _cancel_all(self) -> None:
        self.jobs.cancel()
        self.baseline_jobs.cancel()
        self._computing = None

    # ----- computing, off the GUI thread ------------------------------------------------------------
    def _request(self) -> None:
        if self.model is None:
            return
        data, bank = self.state.data, self.state.baselines
        second = self._second_choice()
        if (self.curve is None or self.second_name != second) and not (self.jobs.is_busy() and self._asked == second):
            self.curve, self._asked = None, second
            self.jobs.start(_model_curve, self.model, second, data, bank, self.data_set, self.kind,
                            on_done=self._show_model, on_error=self._failed)  # fmt: skip
        self._next_baseline()
        self._redraw()

    def _next_baseline(self) -> None:
        """Start the first baseline shown that has no curve yet, unless one is being computed."""
        if self._computing is not None or self.model is None:
            return
        name = next((n for n in self._wanted() if n not in self.baseline_curves), None)
        if name is None:
            return
        self._computing = name
        self.baseline_jobs.start(_baseline_curve, name, self.state.data, self.state.baselines, self.data_set,
                                 self.kind, on_done=lambda result: self._show_baseline(name, result),
                                 on_error=lambda exc: self._baseline_failed(name, exc))  # fmt: skip

    def _second_choice(self) -> str | None:
        name = self.second_box.currentText()
        return None if name in (NO_SECOND, "") else name

    def _show_model(self, result: tuple[RobustnessCurve, str | None]) -> None:
        self.curve, self.second_name = result
        self._redraw()
        self.curveReady.emit(self.curve)
        self._say_if_complete()

    def _show_baseline(self, name: str, result) -> None:
        self.baseline_curves[name], self._computing = result, None
        self._redraw()
        self.baselineReady.emit(name)
        self._next_baseline()
        self._say_if_complete()

    def _baseline_failed(self, name: str, error: BaseException) -> None:
        self._computing = None
        self.failed[name] = f"no {baseline_title(name)} curve: {error}"  # the others still come; the sentence says why
        self._next_baseline()
        self._redraw()
        self._say_if_complete()

    def _failed(self, error: BaseException) -> None:
        self.refresh.retry_when_shown()
        self.verdict.setText(f"No curve: {error}")

    def _wanted(self) -> list[str]:
        """The fitted baselines shown (and not failed)."""
        return [n for n in FITTED if n not in self.hidden and n not in self.failed]

    def missing(self) -> list[str]:
        """The curves shown that are not computed yet ("model", or a fitted baseline's name)."""
        waiting = ["model"] if self.curve is None else []
        return waiting + [n for n in self._wanted() if n not in self.baseline_curves]

    def _say_if_complete(self) -> None:
        if not self.missing():
            self.allReady.emit()

    # ----- drawing ----------------------------------------------------------------------------------
    def series(self) -> dict[str, np.ndarray]:
        """Every baseline curve computed and shown, in the chosen metric, by its name ("pca_16", "median", …)."""
        metric, out = self.chosen_metric(), {}
        if self.curve is not None:
            out[NOISY_INPUT] = self.curve.values("noisy_input", metric)
            if self.curve.pca is not None:
                out[pca_name(self.curve.components)] = self.curve.values("pca", metric)
        for name, (curve, _, _) in self.baseline_curves.items():
            out[name] = curve.values(metric)
        hidden = {pca_name(self.curve.components) if self.curve is not None else PCA} if PCA in self.hidden else set()
        return {n: v for n, v in out.items() if n not in self.hidden and n not in hidden}

    def _redraw(self) -> None:
        """Every item from what is computed and shown, the legend, the range and the sentence."""
        levels, metric = np.array(APP_LEVELS), self.chosen_metric()
        shown = self.series()
        pca_key = pca_name(self.curve.components) if self.curve is not None else None
        for name, item in self.items.items():
            _set_curve(item, levels, shown.get(pca_key if name == PCA else name))
        model = self.curve.values("model", metric) if self.curve is not None else None
        has_second = self.curve is not None and self.curve.second is not None
        second = self.curve.values("second", metric) if has_second else None
        _set_curve(self.model_item, levels, model)
        _set_curve(self.second_item, levels, second)
        self._label_legend()
        self._fit_range(model, second, shown)
        self.plot.setLabel("left", f"{data_source(self.data_set).title} test {METRIC_TITLES[metric]}")
        self._show_progress()
        self._say(model, shown)

    def _label_legend(self) -> None:
        """The curves drawn, in order, and only those: PCA by its components, a subsampled filter with its count of
        images, the second model when there is one."""
        self.legend.clear()
        if self.curve is not None:
            self.legend.addItem(self.model_item, "this model")
        for name, item in self.items.items():
            if not _has_data(item):
                continue
            text = SHORT[name]
            if name == PCA and self.curve is not None:
                text = f"PCA-{self.curve.components}"
            if name in self.baseline_curves and self.baseline_curves[name][1] < self.baseline_curves[name][2]:
                images, of = self.baseline_curves[name][1:]
                text += f" ({images:,} of {of:,} images)"
            self.legend.addItem(item, text)
        if self.second_name and _has_data(self.second_item):
            self.legend.addItem(self.second_item, self.second_name)

    def _fit_range(self, model, second, shown: dict[str, np.ndarray]) -> None:
        """MSE: every model's curve whole and the baselines up to twice its top (the noisy input climbs far above);
        PSNR and SSIM: the whole of every curve."""
        self.plot.setXRange(APP_LEVELS[0], APP_LEVELS[-1], padding=0.02)
        models = [m for m in (model, second) if m is not None]
        if self.chosen_metric() != "mse" or not models:
            self.plot.enableAutoRange(axis="y")
            return
        top = max(float(np.nanmax(m)) for m in models)
        others = [float(np.nanmax(v)) for v in shown.values() if np.isfinite(v).any()]
        self.plot.setYRange(0, max(top, min(max(others, default=top), 2 * top)))

    def _show_progress(self) -> None:
        wanted = 1 + len(self._wanted())
        missing = len(self.missing())
        self.busy.setRange(0, wanted)
        self.busy.setValue(wanted - missing)
        self.busy.setFormat(f"computing the curves… {wanted - missing} of {wanted} ready")
        self.busy.setVisible(missing > 0 and self.model is not None)

    def _say(self, model, shown: dict[str, np.ndarray]) -> None:
        if self.model is None:
            self.verdict.setText("")
            return
        if model is None:
            self.verdict.setText(f"Scoring the model on all test images at {len(APP_LEVELS)} noise levels…")
            return
        if not shown:
            self.verdict.setText("Every baseline is hidden: tick one above to compare with it.")
            return
        levels, metric = np.array(APP_LEVELS), self.chosen_metric()
        text = describe_baselines(levels, model, shown, "This model", self.kind, metric)
        waiting = [n for n in self.missing() if n != "model"]
        if waiting:
            text = f"So far ({len(waiting)} baseline{'s' if len(waiting) > 1 else ''} still computing): {text}"
        if self.second_name and self.curve is not None and self.curve.second is not None:
            second = self.curve.values("second", metric)
            text += " " + describe_baselines(levels, second, shown, self.second_name, self.kind, metric)
        for why in self.failed.values():
            text += f" ({why[0].upper()}{why[1:]}.)"
        self.verdict.setText(text)
