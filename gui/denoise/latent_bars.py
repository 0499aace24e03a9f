"""The latent vector as a bar chart; in edit mode, dragging on the chart sets a bar's height.

The bars may be a chosen few units of a wide code (``units``): the axis then names each bar's unit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from gui.common.hints import hint
from gui.common.theme import Theme, colors, style_plot


class _EditBox(pg.ViewBox):
    """A ViewBox that hands left clicks/drags to its owner instead of panning."""

    def __init__(self, owner: LatentBars) -> None:
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(x=False, y=False)

    def _edit(self, ev) -> None:
        if not self.owner.editable or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        self.owner.edit_at(point.x(), point.y())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph's name)
        self._edit(ev)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        self._edit(ev)


class LatentBars(pg.PlotWidget):
    """Bars of a (k,) vector; ``valueEdited(index, value)`` when the user drags a bar in edit mode."""

    valueEdited = Signal(int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        self._box = _EditBox(self)
        super().__init__(parent, viewBox=self._box)
        self.editable = False
        self.values = np.zeros(0, np.float32)  # no bars until a model's code comes (none while it is being read)
        self.y_range = (0.0, 1.0)
        self.bars = pg.BarGraphItem(x=np.arange(0), height=self.values, width=0.7, brush=colors()["latent"])
        self.addItem(self.bars)
        self.getPlotItem().hideButtons()
        self.setLabel("bottom", "latent unit")
        self.setMenuEnabled(False)
        self.setMinimumHeight(80)  # room for the explorer's sliders under it at 1024×700
        self.default_tip = (
            "The code: the few numbers the encoder squeezes the image into, one bar per unit (the axis is fixed for "
            "this model). In Latent explorer mode drag a bar to change a unit"
        )
        hint(self, self.default_tip)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)

    def restyle(self) -> None:
        style_plot(self)
        self.bars.setOpts(brush=colors()["accent"] if self.editable else colors()["latent"])

    def set_values(self, values: np.ndarray, units: np.ndarray | None = None) -> None:
        """values: (k,) latent activations; ``units``: the unit each bar is (k,) when they are a few units of a
        wider code, None when they are the whole code (bar j is unit j)."""
        values = np.asarray(values, np.float32).ravel()
        self.values = values.copy()
        x = np.arange(values.size)
        self.bars.setOpts(x=x, height=values, width=0.7)
        axis = self.getAxis("bottom")
        if units is None:
            axis.setTicks(None)  # the plot's own numbers: bar j is unit j
        else:
            step = max(1, int(np.ceil(values.size / 8)))  # about eight labels: more would overlap
            axis.setTicks([[(int(j), str(int(u))) for j, u in enumerate(units) if j % step == 0]])
        lo, hi = self.y_range
        self.setXRange(-0.6, values.size - 0.4, padding=0)
        self.setYRange(lo, hi, padding=0.05)  # the owner's range: the axis never follows one code

    def set_range(self, lo: float, hi: float) -> None:
        self.y_range = (float(lo), float(hi))

    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        self.bars.setOpts(brush=colors()["accent"] if editable else colors()["latent"])

    def edit_at(self, x: float, y: float) -> None:
        index = int(round(x))
        if 0 <= index < self.values.size:
            lo, hi = self.y_range
            self.valueEdited.emit(index, float(np.clip(y, lo, hi)))
