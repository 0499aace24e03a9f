"""Per layer, histograms of the weights and of their gradients while training, for the Training tab.

Every layer the model learns has a row: the network's, then a gated skip path's gate (``MLP.named_parameter_layers``).

The training thread runs ``engine.histograms.HistogramSampler`` (added as a watcher): it sends a
``LayerSnapshot`` as training starts, at every epoch's end and on Pause.  Binning runs as a job
(at most every ``MIN_INTERVAL_MS``, always the newest snapshot); this widget only draws.  Each
plot shows the latest values filled and, as an outline, what they are compared with: the weights
at the start of the run, the gradients of the run's first epoch.  Before a run it shows the
model's present weights.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from engine.callbacks import Callback
from engine.histograms import Histogram, HistogramSampler, LayerSnapshot, layer_histograms, snapshot_of
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.theme import Theme, colors

TOPIC = "histograms"
ROW_HEIGHT = 104
"""Pixels a layer's row of histograms takes at least (more layers than fit: the panel scrolls)."""
MAX_ROW_HEIGHT = 240
"""A taller panel (a large window, the panel enlarged or in its own window) gives each row up to this."""
HEADER = 20
MIN_INTERVAL_MS = 500
"""Epoch ends closer together than this (a small model on a fast machine) redraw with the newest only:
binning and drawing five times a second would take the training loop's time and nobody could follow it.
Pause and the start of a run are drawn at once."""


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
        self.jobs = JobRunner(self, on_screen=self)  # binned when looked at (the newest snapshot only)
        self.snapshot: LayerSnapshot | None = None  # the one drawn
        self.histograms: tuple[list[Histogram | None], list[Histogram | None]] | None = None
        self._start: LayerSnapshot | None = None  # this run's first snapshot: the weights it began with
        self._first: LayerSnapshot | None = None  # this run's first finished epoch: its gradients
        self._pending = None  # (snapshot, start weights, first gradients) waiting to be binned
        self._since = QElapsedTimer()  # since the last binning started
        self._later = QTimer(self)  # bins the pending snapshot when epochs come faster than MIN_INTERVAL_MS
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._bin_pending)
        self.header = QLabel("")
        self.header.setObjectName("caption")
        self.header.setWordWrap(True)
        self.grid = HistogramGrid()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        tip = ("Histograms per layer (and, for a model with a gated skip path, its gate: the weights that decide "
               "how much of the input each pixel passes through). Left: the weights (filled: now; dashed: at the "
               "start of the run; sd = their standard deviation). Right: the sizes of their gradients dL/dW on a "
               "log scale, sampled over the epoch's batches (filled: the latest epoch; dashed: the first; rms = "
               "their typical size). Exact zeros are counted apart. Weights that spread out are learning; gradients "
               "that move left mean the loss is levelling off. Updated after every epoch and on Pause.")  # fmt: skip
        for widget in (self, self.grid, self.scroll):
            hint(widget, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.setMinimumHeight(120)

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

    def on_resumed(self) -> None:
        """The run goes on after a pause: the plots still show the pause until the epoch ends; the caption says so."""
        if self.snapshot is not None and self.snapshot.kind == "pause":
            self.header.setText(_caption(self.snapshot, resumed=True))

    def set_model(self, model) -> None:
        """Between runs: the model's present weights (no gradients until it trains)."""
        self._start = self._first = self._pending = None
        self._later.stop()
        self.jobs.start(_bin_model, model, on_done=self._show, on_error=self._failed)

    # ----- drawing ---------------------------------------------------------------------------
    def _show(self, result) -> None:
        snapshot, (weights, gradients) = result
        labels = [f"{name}: {w.shape[1]} → {w.shape[0]}" for name, w in zip(snapshot.layer_names, snapshot.weights,
                                                                             strict=True)]  # fmt: skip
        self.grid.set_rows(labels, weights, gradients)
        self.snapshot, self.histograms = snapshot, (weights, gradients)
        self.header.setText(_caption(snapshot))
        self.updated.emit(snapshot)

    def _failed(self, error: BaseException) -> None:
        self.header.setText(f"No histograms: {error}")


class HistogramGrid(QWidget):
    """A row per layer, its weights' histogram beside its gradient sizes', painted (cheap to make and redraw,
    whatever the depth: a grid of plot widgets took ~0.4 s to build for four layers)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, Histogram | None, Histogram | None]] = []  # (label, weights, gradient sizes)
        Theme.of_app().changed.connect(self.update)

    def set_rows(self, labels: list[str], weights: list[Histogram | None], gradients: list[Histogram | None]) -> None:
        self.rows = list(zip(labels, weights, gradients, strict=True))
        self.setMinimumHeight(HEADER + ROW_HEIGHT * len(self.rows))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor(colors()["base"]))
        font = QFont(self.font())
        font.setPointSizeF(8)
        bold = QFont(font)
        bold.setBold(True)
        gap = 10
        cell_w = (self.width() - 3 * gap) / 2
        painter.setFont(bold)
        painter.setPen(QColor(colors()["text"]))
        for col, name in enumerate(("weights", "gradient sizes")):
            painter.drawText(QRectF(gap + col * (cell_w + gap), 0, cell_w, HEADER), Qt.AlignmentFlag.AlignCenter, name)
        row_height = min(MAX_ROW_HEIGHT, max(ROW_HEIGHT, (self.height() - HEADER) / max(len(self.rows), 1)))
        for i, (label, weights, gradients) in enumerate(self.rows):
            top = HEADER + i * row_height
            painter.setFont(font)
            painter.setPen(QColor(colors()["muted"]))
            painter.drawText(QRectF(0, top, self.width(), 16), Qt.AlignmentFlag.AlignCenter, label)
            for col, h in enumerate((weights, gradients)):
                cell = QRectF(gap + col * (cell_w + gap), top + 16, cell_w, row_height - 22)
                self._paint_cell(painter, cell, h, magnitude=col == 1)
        painter.end()

    def _paint_cell(self, painter: QPainter, cell: QRectF, h: Histogram | None, magnitude: bool) -> None:
        line = painter.fontMetrics().height()
        if h is None:
            painter.setPen(QColor(colors()["muted"]))
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, "after an epoch" if magnitude else "")
            return
        spread = f"{'rms' if magnitude else 'sd'} "  # from the reference (dashed) to now (filled)
        spread += f"{_short(h.reference_std)} → {_short(h.std)}" if h.reference_std is not None else _short(h.std)
        painter.setPen(QColor(colors()["text"]))
        painter.drawText(QRectF(cell.left(), cell.top(), cell.width(), line), Qt.AlignmentFlag.AlignCenter, spread)
        plot = QRectF(cell.left(), cell.top() + line + 2, cell.width(), cell.height() - 2 * line - 4)
        lo, hi = float(h.edges[0]), float(h.edges[-1])
        peak = max(float(h.share.max()), float(h.reference.max()) if h.reference is not None else 0.0) or 1.0

        def path(shares, closed: bool) -> QPainterPath:
            """The histogram's outline as steps over the bins (closed along the axis to fill)."""
            p = QPainterPath(QPointF(plot.left(), plot.bottom()))
            for k, share in enumerate(shares):
                y = plot.bottom() - plot.height() * float(share) / peak
                x0 = plot.left() + plot.width() * (float(h.edges[k]) - lo) / (hi - lo)
                x1 = plot.left() + plot.width() * (float(h.edges[k + 1]) - lo) / (hi - lo)
                p.lineTo(x0, y)
                p.lineTo(x1, y)
            p.lineTo(plot.right(), plot.bottom())
            if closed:
                p.closeSubpath()
            return p

        color = QColor(colors()["test" if magnitude else "encoder"])
        fill = QColor(color)
        fill.setAlpha(110)
        painter.setPen(QPen(color, 1.3))
        painter.setBrush(fill)
        painter.drawPath(path(h.share, closed=True))
        if h.reference is not None:
            painter.setPen(QPen(QColor(colors()["text"]), 1.1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path(h.reference, closed=False))
        painter.setPen(QPen(QColor(colors()["muted"]), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        widest = painter.fontMetrics().horizontalAdvance("10⁻¹⁰")  # ticks at least 1.6 labels apart
        for value, text in _ticks(lo, hi, magnitude, most=int(plot.width() // (1.6 * widest))):
            x = plot.left() + plot.width() * (value - lo) / (hi - lo)
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            if x - plot.left() < 20:  # the end labels stay inside the cell
                box, align = QRectF(x, plot.bottom() + 3, 60, line), Qt.AlignmentFlag.AlignLeft
            elif plot.right() - x < 20:
                box, align = QRectF(x - 60, plot.bottom() + 3, 60, line), Qt.AlignmentFlag.AlignRight
            else:
                box, align = QRectF(x - 30, plot.bottom() + 3, 60, line), Qt.AlignmentFlag.AlignHCenter
            painter.drawText(box, align | Qt.AlignmentFlag.AlignTop, text)
        if h.zero >= 0.005:  # over the lowest bars, so the note does not sit on one
            note = f"{h.zero:.0%} are 0"
            bins = len(h.share)
            span = min(bins, math.ceil(bins * (painter.fontMetrics().horizontalAdvance(note) + 4) / plot.width()))
            start = min(range(bins - span + 1), key=lambda k: float(h.share[k : k + span].max()))
            x = plot.left() + plot.width() * start / bins
            painter.drawText(QRectF(x + 2, plot.top(), plot.right() - x - 2, line), Qt.AlignmentFlag.AlignLeft, note)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _short(value: float) -> str:
    """Two significant digits, short: 0.051, 1.6e-4."""
    text = f"{value:.1e}" if value and abs(value) < 1e-3 else f"{value:.2g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else text


def _ticks(lo: float, hi: float, magnitude: bool, most: int = 4) -> list[tuple[float, str]]:
    """Where to mark the axis and what to write: powers of ten for gradient sizes (binned as log10; at most
    ``most`` of them), else the two ends and zero."""
    if magnitude:
        powers = range(math.ceil(lo), math.floor(hi) + 1)
        step = max(1, math.ceil(len(powers) / max(most, 1)))
        return [(float(p), f"10{str(p).translate(_SUPERSCRIPT)}") for p in powers[::step]]
    return [(lo, f"{lo:.2g}"), (0.0, "0"), (hi, f"{hi:.2g}")]



def _caption(snapshot: LayerSnapshot, resumed: bool = False) -> str:
    """What the plots show, in a few words (the tooltip says the rest); ``resumed``: the run went on after the
    pause they show."""
    if snapshot.kind == "model":
        return "The model's weights now. Train it to watch them move and see their gradients."
    if snapshot.kind == "start":
        return "Training started: the weights it starts from. Gradients after the first epoch (or on Pause)."
    epoch = snapshot.epoch + 1
    if snapshot.kind == "pause" and resumed:
        when = f"Training again; shown: the pause in epoch {epoch} at {snapshot.progress:.0%} (new after the epoch)"
    elif snapshot.kind == "pause":
        when = f"Paused in epoch {epoch} at {snapshot.progress:.0%}"
    elif snapshot.progress < 1:
        when = f"Epoch {epoch}, stopped at {snapshot.progress:.0%}"
    else:
        when = f"After epoch {epoch}"
    grads = f"gradients from {snapshot.batches} of its batches" if snapshot.batches else "no gradients sampled yet"
    return f"{when}: {grads}. Dashed: the weights at the start, the gradients of the first epoch."
