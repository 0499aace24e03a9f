"""Weights as 28×28 images: the first layer's filters (one per hidden unit), the decoder's columns and, for a model
with a gated skip path, the gate's columns (``MLP.gate_layer``)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from gui.common.hints import hint
from gui.common.theme import Theme, colors, style_plot

MAX_TILES = 64
"""Show at most this many units per mosaic (the first ones)."""
TITLES = (
    ("First layer: a filter per unit", "Last layer: a column per unit", "Gate: a column per unit"),
    ("First layer: filters", "Last layer: columns", "Gate: columns"),
    ("First layer", "Last layer", "Gate"),
)
"""The mosaics' titles, longest first: the view takes the longest that fits its columns (a title is as wide as its
text, and a wider one pushes the last mosaic out of the view: three share ~130 px each at 1024×700)."""
TITLE_POINTS = 9


def mosaic(images: np.ndarray, cols: int | None = None, gap: int = 1) -> np.ndarray:
    """(n, 28, 28) -> one (rows·29-1, cols·29-1) image of tiles, each scaled to [-1, 1] by its largest |value|.

    Layout only, for display: gaps and unused tiles are NaN, which pyqtgraph leaves transparent.
    """
    n, h, w = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for i, tile in enumerate(images):
        peak = float(np.max(np.abs(tile))) or 1.0
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile / peak
    return out


class WeightsView(pg.GraphicsLayoutWidget):
    """Mosaics side by side, blue = negative, red = positive weight: the first layer's, the last layer's and, for a
    model with a gated skip path, the gate's (a third column, shown only then)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        cmap = pg.colormap.get("CET-D1")
        self.encoder_item = pg.ImageItem(levels=(-1, 1))
        self.decoder_item = pg.ImageItem(levels=(-1, 1))
        self.gate_item = pg.ImageItem(levels=(-1, 1))
        self.boxes, self.labels = [], []
        items = (self.encoder_item, self.decoder_item, self.gate_item)
        for col, (item, title) in enumerate(zip(items, TITLES[0], strict=True)):
            item.setColorMap(cmap)
            box = self.addViewBox(row=1, col=col, lockAspect=True, enableMenu=False, invertY=True)
            box.addItem(item)
            box.setMouseEnabled(False, False)
            self.boxes.append(box)
            label = self.addLabel(title, row=0, col=col)
            label.setAttr("size", f"{TITLE_POINTS}pt")
            self.labels.append(label)
        self._gate_cells = (self.labels[2], self.boxes[2])
        self._gate_shown = True
        self._show_gate(False)  # until a model with a gate comes
        hint(
            self,
            "Weights seen as images: each first-layer unit's 784 input weights, and each last-layer unit's 784 output"
            " weights, as 28×28 tiles; red = positive, blue = negative, each tile scaled on its own. A model with a "
            "gated skip path shows its gate too: each last hidden unit's 784 gate weights (red: where that unit "
            "opens the gate, so the pixel takes more of the input; blue: where it closes it, so the network's own "
            "image shows)",
        )
        self.setMinimumHeight(180)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)

    def restyle(self) -> None:
        style_plot(self)
        self._fit_titles()

    def _fit_titles(self) -> None:
        """The longest titles whose widest one fits a column of the view's present width."""
        columns = 3 if self._gate_shown else 2
        font = QFont(self.font())
        font.setPointSizeF(TITLE_POINTS)
        metrics = QFontMetrics(font)
        room = self.width() / columns - 16  # the layout's margins and spacing
        titles = next((t for t in TITLES if max(metrics.horizontalAdvance(x) for x in t[:columns]) <= room),
                      TITLES[-1])  # fmt: skip
        for label, title in zip(self.labels, titles, strict=True):
            label.setText(title, color=colors()["text"])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if not getattr(self, "boxes", ()):  # (none yet inside __init__)
            return
        self._fit_titles()
        for box in self.boxes:  # keep the mosaics whole at any size
            box.autoRange(padding=0.02)

    def gate_shown(self) -> bool:
        """Whether the gate's column is in the view (a model with a gated skip path)."""
        return self._gate_shown

    def _show_gate(self, on: bool) -> None:
        """Put the gate's title and mosaic in the third column, or take them out (a plain model: two columns)."""
        if on == self._gate_shown:
            return
        label, box = self._gate_cells
        if on:
            self.ci.addItem(label, row=0, col=2)
            self.ci.addItem(box, row=1, col=2)
        else:
            self.ci.removeItem(label)
            self.ci.removeItem(box)
        self._gate_shown = on
        self._fit_titles()

    def set_model(self, model) -> None:
        """Filters: rows of layers[0].W (n_hidden, 784); columns of layers[-1].W (784, n_hidden); with a gated skip
        path, columns of its gate's W (784, n_hidden)."""
        first = model.layers[0].W
        last = model.layers[-1].W
        if first.shape[1] == 784:
            tiles = first[:MAX_TILES].reshape(-1, 28, 28)
            self.encoder_item.setImage(mosaic(tiles), levels=(-1, 1))
        if last.shape[0] == 784:
            tiles = last.T[:MAX_TILES].reshape(-1, 28, 28)
            self.decoder_item.setImage(mosaic(tiles), levels=(-1, 1))
        gate = model.gate_layer
        shown = gate is not None and gate.W.shape[0] == 784
        if shown:
            self.gate_item.setImage(mosaic(gate.W.T[:MAX_TILES].reshape(-1, 28, 28)), levels=(-1, 1))
        else:
            self.gate_item.clear()
        self._show_gate(shown)
        for box in self.boxes:
            box.autoRange(padding=0.02)
