"""Per layer, histograms of the weights and of their gradients while training, for the Training tab.

The training thread runs ``engine.histograms.HistogramSampler`` (added as a watcher): it sends a
``LayerSnapshot`` as training starts, at every epoch's end and on Pause.  Binning runs as a job
(at most every ``MIN_INTERVAL_MS``, always the newest snapshot); this widget only draws.  Each
plot shows the latest values filled and, as an outline, what they are compared with: the weights
at the start of the run, the gradients of the run's first epoch.  Before a run it shows the
model's present weights.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from engine.callbacks import Callback
from engine.histograms import Histogram, HistogramSampler, LayerSnapshot, layer_histograms, snapshot_of
from gui.hints import hint
from gui.jobs import JobRunner
from gui.theme import COLORS, notifier, style_plot

TOPIC = "histograms"
ROW_HEIGHT = 100
MIN_INTERVAL_MS = 500
"""Epoch ends closer together than this (a small model on a fast machine) redraw with the newest only:
binning and drawing five times a second would take the training loop's time and nobody could follow it.
Pause and the start of a run are drawn at once."""
"""Pixels a layer's row of plots needs at least (more layers than fit: the panel scrolls)."""


def _bin(snapshot: LayerSnapshot, start_weights, first_gradients, state):
    """Runs on a pool thread."""
    return snapshot, layer_histograms(snapshot, start_weights, first_gradients)


def _bin_model(model, state):
    """Runs on a pool thread: the model's present weights (it is not training: runs train a copy)."""
    snapshot = snapshot_of(model)
    return snapshot, layer_histograms(snapshot)


class HistogramPanel(QWidget):
    """``watcher`` for ``TrainingTab.watchers``; feed it ``on_report(topic, data)``; ``set_model`` between runs."""

    updated = Signal(object)  # new histograms are drawn: the LayerSnapshot they show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.snapshot: LayerSnapshot | None = None  # the one drawn
        self.histograms: tuple[list[Histogram | None], list[Histogram | None]] | None = None
        self._start: LayerSnapshot | None = None  # this run's first snapshot: the weights it began with
        self._first: LayerSnapshot | None = None  # this run's first finished epoch: its gradients
        self._shape: list[tuple[int, int]] = []  # (n_in, n_out) per layer the plots are built for
        self._pending = None  # (snapshot, start weights, first gradients) waiting to be binned
        self._since = QElapsedTimer()  # since the last binning started
        self._later = QTimer(self)  # bins the pending snapshot when epochs come faster than MIN_INTERVAL_MS
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._bin_pending)
        self.header = QLabel("")
        self.header.setObjectName("caption")
        self.header.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.graphics)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        tip = ("Histograms per layer. Left: the weights (filled: now; dashed: at the start of the run; sd = "
               "their standard deviation). Right: the sizes of their gradients dL/dW on a log scale, sampled "
               "over the epoch's batches (filled: the latest epoch; dashed: the first; rms = their typical size). "
               "Exact zeros are counted apart. Weights that spread out are learning; gradients that move left "
               "mean the loss is levelling off. Updated after every epoch and on Pause.")  # fmt: skip
        for widget in (self, self.graphics, self.scroll):
            hint(widget, tip)
        self.plots: list[list[pg.PlotItem]] = [[], []]  # [weights, gradients][layer]
        self.items: list[list[tuple[pg.PlotDataItem, pg.PlotDataItem]]] = [[], []]  # (now, outline)
        self.stats: list[list[pg.TextItem]] = [[], []]  # the share of exact zeros, written in each plot
        self.row_labels: list[pg.LabelItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.setMinimumHeight(120)
        notifier().changed.connect(self.restyle)
        self.restyle()

    # ----- feeding it ------------------------------------------------------------------------
    def watcher(self, report) -> Callback:
        """A ``training_worker.Watcher``: the sampler callback, sending its snapshots as ``TOPIC``."""
        return HistogramSampler(lambda snapshot: report(TOPIC, snapshot))

    def on_report(self, topic: str, data: object) -> None:
        """A report from a run (``TrainingRun.reported``); bins the snapshot off the GUI thread."""
        if topic != TOPIC or not isinstance(data, LayerSnapshot):
            return
        if data.kind == "start":
            self._start, self._first = data, None
        elif data.kind == "epoch" and self._first is None and data.batches:
            self._first = data
        first = self._first if self._first is not data else None
        starts = self._start.weights if self._start is not None and self._start is not data else None
        grads = first.gradients if first is not None else None
        self._pending = (data, starts, grads)
        wait_ms = MIN_INTERVAL_MS - self._since.elapsed() if self._since.isValid() else 0
        if data.kind == "epoch" and wait_ms > 0:  # epochs faster than this: the newest, a little later
            self._later.start(int(wait_ms))
            return
        self._bin_pending()

    def _bin_pending(self) -> None:
        self._later.stop()
        if self._pending is None:
            return
        data, starts, grads = self._pending
        self._pending = None
        self._since.start()
        self.jobs.start(_bin, data, starts, grads, on_done=self._show, on_error=self._failed)

    def set_model(self, model) -> None:
        """Between runs: the model's present weights (no gradients until it trains)."""
        self._start = self._first = self._pending = None
        self._later.stop()
        self.jobs.start(_bin_model, model, on_done=self._show, on_error=self._failed)

    # ----- drawing ---------------------------------------------------------------------------
    def _build(self, shapes: list[tuple[int, int]]) -> None:
        """A row per layer (its weights, its gradients): made once per network shape, then only updated."""
        self.graphics.clear()
        self.plots, self.items, self.stats, self.row_labels = [[], []], [[], []], [[], []], []
        grid = self.graphics.ci.layout
        small = QFont(self.font())
        small.setPointSizeF(7.5)
        for col, name in enumerate(("weights", "gradient sizes")):
            self._label(name, 0, col, bold=True)
        for i, (n_in, n_out) in enumerate(shapes):
            self.row_labels.append(self._label(f"layer {i + 1}: {n_in} → {n_out}", 2 * i + 1, 0, colspan=2))
            grid.setRowStretchFactor(2 * i + 2, 1)
            for col in range(2):
                plot = self.graphics.addPlot(row=2 * i + 2, col=col)
                plot.setMenuEnabled(False)
                plot.setMouseEnabled(False, False)
                plot.hideButtons()
                plot.hideAxis("left")
                axis = plot.getAxis("bottom")
                axis.enableAutoSIPrefix(False)
                axis.setLogMode(col == 1)  # gradient sizes are binned as log10: ticks read 10^-5, 10^-4, ...
                axis.setStyle(tickTextOffset=1, tickLength=3, maxTickLevel=0, tickFont=small)
                axis.setHeight(16)
                plot.setContentsMargins(2, 0, 6, 0)
                now = plot.plot(stepMode="center", fillLevel=0)
                outline = plot.plot(stepMode="center")
                plot.setTitle(" ", size="7.5pt")  # the spread, set with the data
                stat = pg.TextItem(anchor=(0, 0))  # the share of exact zeros, top left (sizes pile up right)
                stat.setFont(small)
                plot.addItem(stat, ignoreBounds=True)
                self.plots[col].append(plot)
                self.items[col].append((now, outline))
                self.stats[col].append(stat)
        self.graphics.setMinimumHeight(24 + ROW_HEIGHT * len(shapes))
        self._shape = list(shapes)
        self.restyle()

    def _label(self, text: str, row: int, col: int, colspan: int = 1, bold: bool = False) -> pg.LabelItem:
        """A one-line label that takes only its own height in the grid."""
        label = self.graphics.addLabel(text, row=row, col=col, colspan=colspan, size="8.5pt", bold=bold)
        label.setMaximumHeight(16)
        self.graphics.ci.layout.setRowStretchFactor(row, 0)
        return label

    def restyle(self) -> None:
        """Pens, brushes and backgrounds in the active theme's colours."""
        style_plot(self.graphics)
        for col, key in ((0, "encoder"), (1, "test")):
            fill = QColor(COLORS[key])
            fill.setAlpha(110)
            for plot in self.plots[col]:
                plot.getAxis("bottom").setPen(COLORS["muted"])
                plot.getAxis("bottom").setTextPen(COLORS["muted"])
            for now, outline in self.items[col]:
                now.setPen(pg.mkPen(COLORS[key], width=1.5))
                now.setBrush(fill)
                outline.setPen(pg.mkPen(COLORS["text"], width=1.2, style=Qt.PenStyle.DashLine))
            for stat in self.stats[col]:
                stat.setColor(COLORS["muted"])
            for plot in self.plots[col]:
                plot.setTitle(plot.titleLabel.text, size="7.5pt", color=COLORS["text"])
        for item in self.graphics.ci.items:
            if isinstance(item, pg.LabelItem):
                item.setText(item.text, color=COLORS["text"])

    def _show(self, result) -> None:
        snapshot, (weights, gradients) = result
        shapes = [(w.shape[1], w.shape[0]) for w in snapshot.weights]
        if shapes != self._shape:
            self._build(shapes)
        for col, hists in enumerate((weights, gradients)):
            rows = zip(self.plots[col], self.items[col], self.stats[col], hists, strict=True)
            for plot, (now, outline), stat, h in rows:
                plot.showAxis("bottom", h is not None)
                if h is None:
                    now.setData([], [])
                    outline.setData([], [])
                    stat.setText("")
                    plot.setTitle("after an epoch" if col else " ", size="7.5pt", color=COLORS["muted"])
                    continue
                now.setData(h.edges, h.share)
                has_ref = h.reference is not None
                outline.setData(h.edges if has_ref else [], h.reference if has_ref else [])
                spread = f"{'rms' if col else 'sd'} {h.std:.2g}"
                if h.reference_std is not None:
                    spread += f" · {'first' if col else 'start'} {h.reference_std:.2g}"
                plot.setTitle(spread, size="7.5pt", color=COLORS["text"])
                zeros = f"{h.zero:.0%} are 0" if h.zero >= 0.005 else ""
                stat.setText(zeros)
                top = float(max(h.share.max(), h.reference.max() if has_ref else 0)) * (1.4 if zeros else 1.05)
                plot.setRange(xRange=(float(h.edges[0]), float(h.edges[-1])), yRange=(0, top), padding=0)
                stat.setPos(float(h.edges[0]), top)
        self.snapshot, self.histograms = snapshot, (weights, gradients)
        self.header.setText(_caption(snapshot))
        self.updated.emit(snapshot)

    def _failed(self, error: BaseException) -> None:
        self.header.setText(f"No histograms: {error}")


def _caption(snapshot: LayerSnapshot) -> str:
    """What the plots show, in a few words (the tooltip says the rest)."""
    if snapshot.kind == "model":
        return "The model's weights now. Train it to watch them move and see their gradients."
    if snapshot.kind == "start":
        return "Training started: the weights it starts from. Gradients after the first epoch (or on Pause)."
    epoch = snapshot.epoch + 1
    if snapshot.kind == "pause":
        when = f"Paused in epoch {epoch} at {snapshot.progress:.0%}"
    elif snapshot.progress < 1:
        when = f"Epoch {epoch}, stopped at {snapshot.progress:.0%}"
    else:
        when = f"After epoch {epoch}"
    grads = f"gradients from {snapshot.batches} of its batches" if snapshot.batches else "no gradients sampled yet"
    return f"{when}: {grads}. Dashed: at the start (weights), the first epoch (gradients)."
