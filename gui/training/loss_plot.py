"""The live loss plot: smoothed per-batch training loss, per-epoch test loss, baseline levels.

Every item is made once; points go into growing NumPy buffers and a ~30 Hz timer calls
``setData`` on the filled slice only when something new arrived.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QLabel, QWidget

from gui.common.hints import hint
from gui.common.theme import Theme, colors, style_plot

SMOOTHING = 0.9
"""Weight of the running average in the displayed per-batch curve (the raw curve is drawn faintly)."""
ABOVE, BELOW = [(0.5, 1), (0.5, 1)], [(0.5, 0), (0.5, 0)]  # a baseline label's anchor (both orientations)
LABEL_ROOM_PX = 20  # a label needs this much room above its line, else it goes below
LIVE_FILL = 0.5
"""While a run trains, the loss axis keeps its range until the points leave it or fill less than this share of it:
a range that followed every frame's points redrew the axis and its grid each frame (~15 ms of the GUI thread, the
interpreter's lock held throughout, which the training thread then waits for)."""
EMPTY_LOG_LOSSES = (0.01, 0.1)
"""An empty plot's log loss axis: one decade of the losses a denoiser's runs show (the noisy input's MSE at σ 0.3 is
~0.08), as dense in ticks as any decade the plot shows."""
LIVE_HEADROOM = 0.25
"""A new live range leaves this share of the points' span free above and below them (at least 5 % of the loss, or
0.02 decades on a log axis), so a falling loss moves it only now and then."""


class _Series:
    """x/y float64 buffers that double when full."""

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.concatenate([self.x, np.empty_like(self.x)])
            self.y = np.concatenate([self.y, np.empty_like(self.y)])
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1

    def clear(self) -> None:
        self.n = 0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class LossPlot(pg.PlotWidget):
    """Loss against epochs (fractional for batches)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.raw = _Series()
        self.smooth = _Series()
        self.test = _Series()
        self._ema: float | None = None
        self._dirty = False
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "MSE loss")
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = plot.addLegend(offset=(-10, 10))
        self.raw_item = plot.plot(antialias=False)  # faint: AA buys nothing
        self.smooth_item = plot.plot(name="train (per batch, smoothed)")
        for item in (self.raw_item, self.smooth_item):
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            item.setSkipFiniteCheck(True)
        self.test_item = plot.plot(symbol="o", symbolSize=8, symbolPen=None, name="test (per epoch)")
        anchors = ABOVE
        self.identity_line = pg.InfiniteLine(
            angle=0, label="noisy input {value:.4f}", labelOpts={"position": 0.2, "anchors": anchors}
        )
        self.pca_line = pg.InfiniteLine(
            angle=0, label="PCA {value:.4f}", labelOpts={"position": 0.45, "anchors": anchors}
        )
        self.linear_line = pg.InfiniteLine(
            angle=0, label="best linear {value:.4f}", labelOpts={"position": 0.7, "anchors": anchors}
        )
        self.levels = (self.identity_line, self.pca_line, self.linear_line)  # the levels to beat
        self.diverged_line = pg.InfiniteLine(angle=90, label="diverged", labelOpts={"position": 0.9})
        for line in self.levels:  # baselines count for the y range
            line.setVisible(False)
            plot.addItem(line)
        plot.getViewBox().sigYRangeChanged.connect(self._keep_labels_inside)
        plot.getViewBox().sigResized.connect(self._keep_labels_inside)
        self.diverged_line.setVisible(False)
        plot.addItem(self.diverged_line, ignoreBounds=True)
        # Axes and the legend repaint from a cached pixmap: redrawing their text every frame
        # is most of a frame's cost while the curves grow.
        for name in ("left", "bottom"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._log = False
        self._live = False
        self._epochs: int | None = None  # the run's length, which the epoch axis shows
        self._moved_by_hand = False  # the user zoomed or panned: a live range no longer follows the points
        plot.getViewBox().sigRangeChangedManually.connect(self._on_moved_by_hand)
        self.timer = QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self.flush)
        self.timer.start()
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        hint(
            self,
            "The loss while training: faint = each batch's loss, blue = smoothed, amber = the test loss after each "
            "epoch. Dashed lines: the levels to beat — the noisy input's own error, PCA's with the code's width, and "
            "the best linear denoiser's (one 784 × 784 map fitted at the run's noise: the strongest simple baseline)",
        )
        self.hint = QLabel("", self)  # what to do while the plot is empty
        self.hint.setObjectName("hint")
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hint.setVisible(False)
        self.pca_note = QLabel("", self)  # while PCA's level is still being fitted
        self.pca_note.setObjectName("caption")
        self.pca_note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.pca_note.setVisible(False)
        self._fitting: dict[str, str | None] = {"pca": None, "linear": None}  # levels on their way

    def restyle(self) -> None:
        """Pens and backgrounds in the active theme's colours."""
        style_plot(self)
        dash = Qt.PenStyle.DashLine
        self.raw_item.setPen(pg.mkPen(colors()["train_raw"], width=1))
        self.smooth_item.setPen(pg.mkPen(colors()["train"], width=2))
        self.test_item.setPen(pg.mkPen(colors()["test"], width=2))
        self.test_item.setSymbolBrush(colors()["test"])
        for line, key, style in ((self.identity_line, "noisy", dash), (self.pca_line, "pca", dash),
                                 (self.linear_line, "linear", dash),
                                 (self.diverged_line, "error", Qt.PenStyle.SolidLine)):  # fmt: skip
            line.setPen(pg.mkPen(colors()[key], width=2 if line is self.diverged_line else 1, style=style))
            line.label.setColor(colors()[key])
            backing = QColor(colors()["base"])
            backing.setAlpha(200)  # the label stays readable where the curve runs under it
            line.label.fill = pg.mkBrush(backing)
            line.label.update()

    # ----- data in ---------------------------------------------------------------------------
    def reset(self, epochs: int | None = None, hint: str = "") -> None:
        """Empty the curves and the baselines; with ``epochs``, fix the x axis to the run's length (so it
        is not redrawn each frame); ``hint`` is shown over the empty plot until the first point."""
        for series in (self.raw, self.smooth, self.test):
            series.clear()
        self._dirty = True
        self.flush()  # the items empty now: the ranges below must not follow the last run's points
        box = self.getViewBox()
        box.setRange(xRange=(0, epochs or 1), yRange=self._empty_loss_range(), padding=0.025 if epochs else 0)
        box.enableAutoRange(x=not epochs, y=True)  # the loss's range follows the points to come
        self._epochs = epochs or None
        self._ema = None
        self._moved_by_hand = False
        self.diverged_line.setVisible(False)
        self.set_baselines(None, None, linear=None)
        self.pca_note.setVisible(False)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self._place_hint()
        self._dirty = True

    def _empty_loss_range(self) -> tuple[float, float]:
        """The loss axis before any point: 0-1 on a linear scale; ``EMPTY_LOG_LOSSES`` on a log one (0-1 there would
        be the decade 1-10, labelled 2 … 9: no loss)."""
        return tuple(math.log10(v) for v in EMPTY_LOG_LOSSES) if self._log else (0.0, 1.0)

    def _place_hint(self) -> None:
        """Centred over the plot, wrapped to stay inside it on a narrow one."""
        self.hint.setWordWrap(False)
        size, room = self.hint.sizeHint(), max(self.width() - 8, 40)
        if size.width() > room:
            self.hint.setWordWrap(True)
            size = QSize(room, self.hint.heightForWidth(room))
        self.hint.resize(size)
        self.hint.move((self.width() - self.hint.width()) // 2, (self.height() - self.hint.height()) // 2)
        self.pca_note.adjustSize()
        self.pca_note.move(self.width() - self.pca_note.width() - 12, self.height() - self.pca_note.height() - 48)

    def show_pca_fitting(self, components: int | None) -> None:
        """Say that PCA-``components``'s level is on its way (its fit takes a few seconds the first time on a data
        set); None: not (any more)."""
        self._fitting["pca"] = f"PCA-{components}" if components else None
        self._say_fitting()

    def show_linear_fitting(self, fitting: bool) -> None:
        """Say that the best linear denoiser's level is on its way (a least-squares fit on the run's training images:
        seconds); False: not (any more)."""
        self._fitting["linear"] = "best linear" if fitting else None
        self._say_fitting()

    def _say_fitting(self) -> None:
        names = [name for name in self._fitting.values() if name]
        follow = "their levels follow" if len(names) > 1 else "its level follows"
        self.pca_note.setText(f"{' and '.join(names)}: fitting… {follow}" if names else "")
        self.pca_note.setVisible(bool(names))
        self._place_hint()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if hasattr(self, "hint"):  # pyqtgraph resizes once inside its own __init__
            self._place_hint()

    def add_batch(self, x: float, loss: float) -> None:
        self.hint.setVisible(False)
        self.raw.append(x, loss)
        self._ema = loss if self._ema is None else SMOOTHING * self._ema + (1 - SMOOTHING) * loss
        self.smooth.append(x, self._ema)
        self._dirty = True

    def add_epoch(self, x: float, loss: float) -> None:
        self.test.append(x, loss)
        self._dirty = True

    def add_history(self, batch_loss: list[float], epochs: list[dict]) -> None:
        """The earlier epochs of a continued run (a ``History``'s lists): their batch losses and test points, so
        the curve goes on from them.  Each epoch's batches are spread over it (evenly over the whole history for
        an old one without batch counts)."""
        epochs = sorted(epochs, key=lambda e: e.get("epoch", 0))
        if epochs and all(isinstance(e.get("batches"), int) and e["batches"] > 0 for e in epochs):
            first = 0
            for e in epochs:
                count, share = e["batches"], e.get("progress", 1.0)
                for j, loss in enumerate(batch_loss[first : first + count]):
                    self.add_batch(e["epoch"] + share * (j + 1) / count, loss)
                first += count
        elif batch_loss:
            for x, loss in zip(np.linspace(0, len(epochs), len(batch_loss) + 1)[1:], batch_loss, strict=True):
                self.add_batch(float(x), loss)
        for e in epochs:
            if e.get("complete", True) and isinstance(e.get("val_loss"), (int, float)):
                self.add_epoch(e["epoch"] + 1, e["val_loss"])

    def set_baselines(self, identity=..., pca=..., components: int | None = None, linear=...) -> None:
        """Dashed levels: the noisy input's error, PCA's (with ``components`` components) and the best linear
        denoiser's; a level not given stays as it is, None hides it."""
        for line, value in ((self.identity_line, identity), (self.pca_line, pca), (self.linear_line, linear)):
            if value is not ...:
                line._true = value
                self._place(line)
        if components is not None:
            self.pca_line.label.format = f"PCA-{components} {{value:.4f}}"
        self._relabel()
        self._keep_labels_inside()
        self._dirty = True  # (the range follows the levels too)

    def set_live(self, live: bool) -> None:
        """While training, draw the long batch curve without antialiasing: an antialiased path of
        thousands of points costs ~20 ms a frame in Qt's raster engine, plain ~3 ms.  The finished
        curve is drawn antialiased.  The loss range, fitted to the points after each change when not live,
        changes only now and then while live (``LIVE_FILL``)."""
        for item in (self.smooth_item,):
            item.opts["antialias"] = not live
            item.curve.opts["antialias"] = not live
            item.curve.update()
        self._live = live
        if live or not self._moved_by_hand:  # (a range the user chose stays after the run too)
            self.getViewBox().enableAutoRange(y=not live)  # live: ``_follow_points``
        self._dirty = True

    def _on_moved_by_hand(self, axes) -> None:
        """axes: (x, y), which the user's wheel or drag moved (over the epoch axis alone: x only)."""
        if axes[1]:
            self._moved_by_hand = True

    def mark_diverged(self, x: float) -> None:
        self.diverged_line.setValue(x)
        self.diverged_line.setVisible(True)

    def set_log(self, on: bool) -> None:
        self._log = on
        self.getPlotItem().setLogMode(y=on)  # (pyqtgraph turns auto range on for both axes)
        if not (self.raw.n or self.test.n):  # nothing to range on: the empty axis in the new units, following the
            self.getViewBox().setYRange(*self._empty_loss_range(), padding=0)  # points to come
            self.getViewBox().enableAutoRange(y=True)
        if self._live:  # the run's epochs on x, the points followed on y in the new units
            self._moved_by_hand = False
            box = self.getViewBox()
            box.enableAutoRange(x=self._epochs is None, y=False)
            if self._epochs:
                box.setXRange(0, self._epochs, padding=0.025)
        for line in self.levels:
            self._place(line)
        self._relabel()
        self._keep_labels_inside()
        self._dirty = True

    def _place(self, line) -> None:
        """Put a baseline at its level; hide it when there is none, or when it is 0 on a log axis
        (training at sigma = 0 makes the noisy-input level 0, and log10(0) breaks the view)."""
        true = getattr(line, "_true", None)
        shown = true is not None and (true > 0 or not self._log)
        line.setVisible(shown)
        if shown:
            line.setValue(np.log10(true) if self._log else true)

    def _keep_labels_inside(self) -> None:
        """A baseline's label sits above its line, or below it when the line runs along the top of the plot
        (a model that beats the noisy input by far puts that level at the top, and the label was cut off)."""
        box = self.getViewBox()
        low, high = box.viewRange()[1]
        pixels_per_unit = box.height() / (high - low) if high > low else 0.0
        for line in self.levels:
            room = (high - line.value()) * pixels_per_unit
            anchors = BELOW if room < LABEL_ROOM_PX else ABOVE
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()

    def _relabel(self) -> None:
        """Keep the labels in loss units, also on a log axis."""
        for line in self.levels:
            true = getattr(line, "_true", None)
            if true is not None:
                fmt = line.label.format
                line.label.setText(fmt.format(value=true))

    # ----- redraw ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Push new points to the items (called by the timer; cheap when nothing changed)."""
        if not self._dirty:
            return
        self._dirty = False
        self.raw_item.setData(*self.raw.data())
        self.smooth_item.setData(*self.smooth.data())
        self.test_item.setData(*self.test.data())
        if self._live:
            self._follow_points()

    def _follow_points(self) -> None:
        """While live: a new loss range only when the points (and the levels shown) leave the range or fill less
        than ``LIVE_FILL`` of it."""
        box = self.getViewBox()
        if self._moved_by_hand or box.autoRangeEnabled()[1]:  # the user's range, or pyqtgraph's ("A")
            return
        bounds = box.childrenBounds()[1]
        if bounds is None:
            return
        low, high = bounds
        span = max(high - low, 0.02 if self._log else 0.05 * max(abs(low), abs(high)), 1e-9)  # (a flat curve's too)
        view_low, view_high = box.viewRange()[1]
        if low >= view_low and high <= view_high and span >= LIVE_FILL * (view_high - view_low):
            return
        room = LIVE_HEADROOM * span
        box.setYRange(low - room, high + room, padding=0)

    def counts(self) -> tuple[int, int]:
        """(batch points, epoch points) so far."""
        return self.smooth.n, self.test.n
