"""Weights as 28×28 images: the first layer's filters (one per hidden unit) and the decoder's columns."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gui.common.hints import hint
from gui.common.theme import Theme, colors, style_plot

MAX_TILES = 64
"""Show at most this many units per mosaic (the first ones)."""


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
    """Two mosaics side by side, blue = negative, red = positive weight."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        cmap = pg.colormap.get("CET-D1")
        self.encoder_item = pg.ImageItem(levels=(-1, 1))
        self.decoder_item = pg.ImageItem(levels=(-1, 1))
        self.boxes = []
        for col, (item, title) in enumerate(
            ((self.encoder_item, "First layer: a filter per unit"),
             (self.decoder_item, "Last layer: a column per unit"))
        ):
            item.setColorMap(cmap)
            box = self.addViewBox(row=1, col=col, lockAspect=True, enableMenu=False, invertY=True)
            box.addItem(item)
            box.setMouseEnabled(False, False)
            self.boxes.append(box)
            label = self.addLabel(title, row=0, col=col)
            label.setAttr("size", "9pt")
        hint(
            self,
            "Weights seen as images: each first-layer unit's 784 input weights, and each last-layer unit's 784 output"
            " weights, as 28×28 tiles; red = positive, blue = negative, each tile scaled on its own",
        )
        self.setMinimumHeight(180)
        self.labels = [self.getItem(0, col) for col in range(2)]
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)

    def restyle(self) -> None:
        style_plot(self)
        for label in self.labels:
            label.setText(label.text, color=colors()["text"])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        for box in getattr(self, "boxes", ()):  # keep both mosaics whole at any size (none yet inside __init__)
            box.autoRange(padding=0.02)

    def set_model(self, model) -> None:
        """Filters: rows of layers[0].W (n_hidden, 784); columns of layers[-1].W (784, n_hidden)."""
        first = model.layers[0].W
        last = model.layers[-1].W
        if first.shape[1] == 784:
            tiles = first[:MAX_TILES].reshape(-1, 28, 28)
            self.encoder_item.setImage(mosaic(tiles), levels=(-1, 1))
        if last.shape[0] == 784:
            tiles = last.T[:MAX_TILES].reshape(-1, 28, 28)
            self.decoder_item.setImage(mosaic(tiles), levels=(-1, 1))
        for box in self.boxes:
            box.autoRange(padding=0.02)
