"""The ticked runs' loss curves on one plot: each run's training loss (its thinned per-batch curve) as a line and its
test loss after each epoch as dots, in the run's colour.

The items are made once, one pair a slot (``MAX_TICKED``), and updated in place.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from engine.runs import RunRecord
from gui.common.hints import hint
from gui.common.theme import Theme, colors, style_plot
from gui.runs.table_model import MAX_TICKED

SLOT_COLORS = ("accent", "latent", "decoder", "pca")
"""The theme colours of the 1st to 4th ticked run, the same on every plot of the view."""


def slot_color(slot: int) -> str:
    return colors()[SLOT_COLORS[slot % len(SLOT_COLORS)]]


def test_points(run: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """(epoch positions, test losses): each epoch's test loss where the epoch ended (``epoch + progress``)."""
    done = [e for e in run.epochs if e.get("val_loss") is not None]
    x = np.array([e["epoch"] + (e.get("progress") or 1.0) for e in done], np.float64)
    return x, np.array([e["val_loss"] for e in done], np.float64)


class LossOverlay(pg.PlotWidget):
    """``show_runs(runs)`` with up to ``MAX_TICKED`` runs read with their epochs and curves (``RunStore.get``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "MSE loss")
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.runs: list[RunRecord] = []
        self.names: list[str] = []
        self.train_items, self.test_items = [], []
        for _ in range(MAX_TICKED):
            line = plot.plot()
            line.setSkipFiniteCheck(False)  # a diverged run's curve ends in NaN
            self.train_items.append(line)
            self.test_items.append(plot.plot(symbol="o", symbolSize=7, symbolPen=None, pen=None))
        self.set_log(True)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        hint(self, "The ticked runs' loss: lines are the training loss per batch (each point the mean of a few "
                   "batches), dots the test loss after each epoch, one colour a run. Drag to pan, wheel to zoom, "
                   "right-click for more")  # fmt: skip

    def restyle(self) -> None:
        style_plot(self)
        for slot, (line, dots) in enumerate(zip(self.train_items, self.test_items, strict=True)):
            line.setPen(pg.mkPen(slot_color(slot), width=1.5))
            dots.setSymbolBrush(slot_color(slot))
        self._name_runs()

    def _name_runs(self) -> None:
        """The runs' names in their colours above the plot (one label: cheaper than a legend's items)."""
        names = [f"<span style='color:{slot_color(slot)}'>━● {html.escape(name)}</span>"
                 for slot, name in enumerate(self.names)]  # fmt: skip
        self.getPlotItem().setTitle("&nbsp;&nbsp;".join(names) if names else None, size="10pt")

    def set_log(self, on: bool) -> None:
        self.getPlotItem().setLogMode(y=on)

    def show_runs(self, runs: Sequence[RunRecord], names: Sequence[str] | None = None) -> None:
        """``runs`` (read with their epochs and curves), named ``names`` above the plot (default: "run N")."""
        self.runs = list(runs)[:MAX_TICKED]
        self.names = list(names) if names is not None else [f"run {run.id}" for run in self.runs]
        self._name_runs()
        for slot, (line, dots) in enumerate(zip(self.train_items, self.test_items, strict=True)):
            if slot < len(self.runs):
                run = self.runs[slot]
                line.setData(np.asarray(run.curve_x, np.float64), np.asarray(run.curve_loss, np.float64))
                dots.setData(*test_points(run))
            else:
                line.setData([], [])
                dots.setData([], [])
        plot = self.getPlotItem()
        for axis in ("left", "bottom"):  # no ticks of an empty plot (they would read as a scale of nothing)
            plot.showAxis(axis, bool(self.runs))
        plot.enableAutoRange()

    def counts(self) -> list[tuple[int, int]]:
        """(training points, test points) drawn for each slot."""
        return [(len(line.getData()[0] if line.getData()[0] is not None else []),
                 len(dots.getData()[0] if dots.getData()[0] is not None else []))
                for line, dots in zip(self.train_items, self.test_items, strict=True)]  # fmt: skip
