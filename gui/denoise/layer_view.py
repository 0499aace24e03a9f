"""Every layer of the network, live: the input and output as 28×28 images, each hidden layer as a heat map.

A hidden layer of up to ``STRIP_MAX`` units is a column of cells with their values written in;
a wider one is a square-ish grid (16×16 for 256 units), however wide: nothing is cut, a layer too
wide for its tile just gets smaller cells (the caption gives the count).  Colours sit on a scale
fixed per layer for the model (``set_ranges``, from the test set), so a drawing's activations
compare with the last one's and a perturbed network's with the original's.  The bottleneck (the
code) has the amber frame of the hourglass.  Hovering a unit tells its value; clicking a hidden
unit asks to switch it off or on (``unitClicked``).

A model with a skip path (``engine.skip``) shows how its output is made: the last layer's tile is the
network's own image, then (for a gate) the gate as a 28×28 image — white where the input passes
through, dark where the network draws its own — then the output.  A residual's network draws a
correction, shown blue (removes ink) to red (adds ink).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.common.hints import hint
from gui.common.image_row import to_qimage
from gui.common.theme import colors

STRIP_MAX = 16
"""Hidden layers up to this many units are drawn as one column of cells, wider ones as a grid."""
MIN_TILE, MAX_TILE = 44, 300
GAP = 20  # between tiles, room for an arrow
HEAD, FOOT = 18, 44  # caption space above and below a tile (three lines below)
MARGIN = 8
CORRECTION_SCALE = (-1.0, 1.0)
"""A residual network's correction is drawn on this fixed scale: it adds to pixels in [0, 1]."""
IMAGE_ROLES = ("input", "network", "gate", "output")
"""Tiles that are images, not units to click."""
LEVELS = 255  # colour-table entries for values; index 255 marks an empty grid cell
EMPTY = 255


@dataclass
class _Tile:
    """One column of the view: what it shows and where."""

    kind: str  # "image" (28×28) or "grid" (rows × cols of units) or "strip" (one column of units)
    role: str  # "input", "encoder", "code", "decoder", "output"; with a skip path also "network", "gate"
    width: int  # units (784 for the images)
    activation: str  # the layer's activation name ("" for the input)
    rows: int
    cols: int
    rect: QRectF = field(default_factory=QRectF)
    slot: float = 0.0  # the width of its column

    @property
    def cell(self) -> float:
        return min(self.rect.width() / self.cols, self.rect.height() / self.rows)


def _grid_shape(width: int) -> tuple[int, int]:
    """(rows, cols) of a hidden layer's cells: one column up to STRIP_MAX units, else near-square."""
    if width <= STRIP_MAX:
        return width, 1
    cols = math.ceil(math.sqrt(width))
    return math.ceil(width / cols), cols


def _table(name: str) -> list[int]:
    """A pyqtgraph colour map as LEVELS QRgb values (the empty cell's entry is added when painting)."""
    lut = pg.colormap.get(name).getLookupTable(nPts=LEVELS, mode="byte", alpha=False)
    return [QColor(int(r), int(g), int(b)).rgb() for r, g, b in lut]


class LayerView(QWidget):
    """``set_model`` once, ``set_ranges`` when known, ``show_values`` on each update, ``set_off`` for units off."""

    unitClicked = Signal(int, int)  # (layer, unit): a hidden unit; layer counts Dense layers from 0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: list[_Tile] = []
        self.image: np.ndarray | None = None  # (784,) the network's input
        self.values: list[np.ndarray] = []  # per layer (width,) activations
        self.skip_kind: str | None = None  # the model's skip path ("gate", "residual"), None without one
        self.parts: dict[str, np.ndarray | None] | None = None  # how the output was made (``MLP.skip_parts``)
        self.ranges: list[tuple[float, float]] | None = None  # per layer, fixed for the model
        self._seen: list[tuple[float, float]] = []  # per layer, widen-only until ``ranges`` arrive
        self.off: set[tuple[int, int]] = set()
        self._sequential, self._diverging = _table("inferno"), _table("CET-D1")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(HEAD + FOOT + MIN_TILE)
        tip = (
            "Every layer of the network for the image above, left to right: the input, each hidden layer's "
            "units as coloured cells (dark = silent, bright = strongly active; blue/red for layers with "
            "negative values), the output. Hover a unit for its value; click a hidden unit to switch it off."
        )
        hint(self, tip)

    # ----- data ------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Tiles for ``model``'s layers (any depth) and its skip path; values and ranges are cleared until shown
        again."""
        layers = model.layers
        skip = getattr(model, "skip", None)
        self.skip_kind = None if skip is None else skip.kind
        code = model.bottleneck_index() if len(layers) > 1 else -1
        tiles = [_Tile("image", "input", layers[0].n_in, "", 28, 28)]
        for i, layer in enumerate(layers):
            if i == len(layers) - 1:
                role = "output" if skip is None else "network"
            else:
                role = "code" if i == code else ("encoder" if i < code else "decoder")
            if role == "network" and skip.kind == "residual":  # a signed correction: coloured, not grey
                tiles.append(_Tile("grid", role, 784, layer.activation.name, 28, 28))
            elif role in ("output", "network") and layer.n_out == 784:
                tiles.append(_Tile("image", role, 784, layer.activation.name, 28, 28))
            else:
                rows, cols = _grid_shape(layer.n_out)
                kind = "strip" if cols == 1 else "grid"
                tiles.append(_Tile(kind, role, layer.n_out, layer.activation.name, rows, cols))
        if skip is not None:
            if skip.kind == "gate":
                tiles.append(_Tile("image", "gate", 784, "Sigmoid", 28, 28))
            made = "via the gate" if skip.kind == "gate" else "plus the input"
            tiles.append(_Tile("image", "output", 784, made, 28, 28))
        self.tiles = tiles
        self.image, self.values, self.parts, self.ranges, self.off = None, [], None, None, set()
        self._seen = [(0.0, 0.0)] * len(layers)
        self.setMinimumWidth(self._total_width(MIN_TILE))
        self._place()
        self.update()

    def set_ranges(self, ranges: list[tuple[float, float]] | None) -> None:
        """Per layer (low, high) of the colour scale; None: follow the values seen (widening only)."""
        self.ranges = None if ranges is None else [(float(lo), float(hi)) for lo, hi in ranges]
        self.update()

    def show_values(
        self, image: np.ndarray, values: list[np.ndarray], parts: dict[str, np.ndarray | None] | None = None
    ) -> None:
        """image: (784,) the input in [0, 1]; values: per layer its (width,) activations for that input, the output
        last; ``parts``: for a model with a skip path, ``MLP.skip_parts`` of the input, each (784,) — None when the
        decoder ran on a given code (the last value is then the network's own image, and no input passed)."""
        self.image = np.asarray(image, np.float32).reshape(-1)
        self.values = [np.asarray(v, np.float32).reshape(-1) for v in values]
        self.parts = None if parts is None else {k: None if v is None else np.asarray(v, np.float32).reshape(-1)
                                                  for k, v in parts.items()}  # fmt: skip
        self._seen = [(min(lo, float(v.min(initial=0))), max(hi, float(v.max(initial=0))))
                      for (lo, hi), v in zip(self._seen, self.values, strict=False)]  # fmt: skip
        self.update()

    def set_off(self, units) -> None:
        """(layer, unit) pairs drawn as switched off."""
        self.off = set(units)
        self.update()

    def image_of(self, role: str) -> np.ndarray | None:
        """What an image tile shows (784,): the input, the network's own image, the gate or the output; None when
        there is nothing (yet, or the gate and output while the decoder runs on a given code)."""
        last = self.values[-1] if self.values else None
        if role == "input":
            return self.image
        if self.skip_kind is None:
            return last if role == "output" else None
        if self.parts is None:  # a code alone: the last layer's image is all there is
            return last if role == "network" else None
        return self.parts.get(role)

    def scale(self, layer: int) -> tuple[float, float]:
        """The colour scale of ``layer``: its fixed range, or what has been seen so far."""
        if self.ranges is not None and layer < len(self.ranges):
            return self.ranges[layer]
        lo, hi = self._seen[layer] if layer < len(self._seen) else (0.0, 1.0)
        return (lo, hi) if hi > lo else (0.0, 1.0)

    # ----- geometry --------------------------------------------------------------------------
    def _tile_width(self, tile: _Tile, side: float) -> float:
        if tile.kind == "strip":
            return max(44.0, side * 0.32)
        return side

    def _total_width(self, side: float) -> int:
        return int(2 * MARGIN + sum(self._tile_width(t, side) for t in self.tiles) + GAP * max(len(self.tiles) - 1, 0))

    def _place(self) -> None:
        """The largest tile side that fits both the height and the width (the scroll area takes the rest)."""
        if not self.tiles:
            return
        side = float(min(MAX_TILE, max(MIN_TILE, self.height() - HEAD - FOOT - 2 * MARGIN)))
        while side > MIN_TILE and self._total_width(side) > self.width():
            side -= 2
        x = float(MARGIN) + max(0.0, (self.width() - self._total_width(side)) / 2)  # centred when there is room
        top = MARGIN + HEAD + max(0.0, (self.height() - 2 * MARGIN - HEAD - FOOT - side) / 2)
        for tile in self.tiles:
            w = tile.slot = self._tile_width(tile, side)
            if tile.kind == "grid":  # cells stay square: the grid's own aspect inside the tile
                cell = min(w / tile.cols, side / tile.rows)
                gw, gh = cell * tile.cols, cell * tile.rows
                tile.rect = QRectF(x + (w - gw) / 2, top + (side - gh) / 2, gw, gh)
            else:
                tile.rect = QRectF(x, top, w, side)
            x += w + GAP

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._place()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._total_width(150) if self.tiles else 400, 150 + HEAD + FOOT + 2 * MARGIN)

    def unit_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(tile index, unit) under ``pos``: tile 0 is the input, tile i the output of layer i - 1."""
        for t, tile in enumerate(self.tiles):
            r = tile.rect
            if r.contains(pos):
                row = min(int((pos.y() - r.top()) / r.height() * tile.rows), tile.rows - 1)
                col = min(int((pos.x() - r.left()) / r.width() * tile.cols), tile.cols - 1)
                unit = row * tile.cols + col
                return (t, unit) if unit < tile.width else None
        return None

    def unit_centre(self, layer: int, unit: int) -> QPointF:
        """Where hidden unit ``unit`` of ``layer`` is drawn (for clicks and tests)."""
        tile = self.tiles[layer + 1]
        row, col = divmod(unit, tile.cols)
        r = tile.rect
        return QPointF(r.left() + (col + 0.5) * r.width() / tile.cols, r.top() + (row + 0.5) * r.height() / tile.rows)

    # ----- mouse -----------------------------------------------------------------------------
    def _hidden_at(self, pos: QPointF) -> tuple[int, int] | None:
        hit = self.unit_at(pos)
        if hit is None or self.tiles[hit[0]].role in IMAGE_ROLES:
            return None
        return hit[0] - 1, hit[1]

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        hidden = self._hidden_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if hidden else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        hidden = self._hidden_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hidden is not None:
            self.unitClicked.emit(*hidden)
            event.accept()
            return
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            text = self.describe_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
                return True
        return super().event(event)

    def describe_at(self, pos: QPointF) -> str | None:
        """The hover text for the unit or pixel under ``pos`` (None elsewhere)."""
        hit = self.unit_at(pos)
        if hit is None:
            return None
        t, unit = hit
        tile = self.tiles[t]
        if tile.role in IMAGE_ROLES:
            source = self.image_of(tile.role)
            value = f": {float(source[unit]):.2f}" if source is not None and source.size == tile.width else ""
            where = f"pixel (row {unit // 28}, column {unit % 28}){value}"
            if tile.role == "gate":
                return f"Gate {where}\n1: the input passes through here; 0: the network draws its own"
            name = {"network": "The network's own image", "output": "Output"}.get(tile.role, tile.role.title())
            return f"{name} {where}"
        layer = t - 1
        values = self.values[layer] if layer < len(self.values) else None
        value = f"{float(values[unit]):.3f}" if values is not None and values.size == tile.width else "—"
        state = "switched off — click to switch it back on" if (layer, unit) in self.off else "click to switch it off"
        return f"{_role_name(tile.role)} (layer {layer + 1}, {tile.activation}), unit {unit}: {value}\n{state}"

    # ----- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(colors()["base"]))
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        for t, tile in enumerate(self.tiles):
            self._paint_tile(painter, t, tile, font)
            if t < len(self.tiles) - 1 and self.tiles[t + 1].role != "gate":  # the gate reads the last hidden layer
                self._paint_arrow(painter, tile, self.tiles[t + 1])
        painter.end()

    def _paint_tile(self, painter: QPainter, t: int, tile: _Tile, font: QFont) -> None:
        r = tile.rect
        painter.fillRect(r, QColor(colors()["image_bg"]))
        if tile.kind == "image":
            source = self.image_of(tile.role)
            if source is not None and source.size == 784:
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                painter.drawImage(r, to_qimage(source.reshape(28, 28)))
        elif tile.role == "network":  # a residual's correction
            self._paint_units(painter, t - 1, tile, self.image_of("network"), CORRECTION_SCALE)
        else:
            self._paint_units(painter, t - 1, tile)
        code = tile.role == "code"
        frame = QColor(colors()["latent"] if code else colors()["border"])
        painter.setPen(QPen(frame, 3 if code else 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r.adjusted(-1, -1, 1, 1))
        room = tile.slot + GAP - 6  # captions may use the gaps beside the tile
        bold = QFont(font)
        bold.setBold(code)
        painter.setFont(bold)
        painter.setPen(QColor(colors()["latent"] if code else colors()["text"]))
        layer = f"layer {t}"
        own = "correction" if self.skip_kind == "residual" else "image"
        heads = {"input": ["input"], "output": [f"output · {layer}" if self.skip_kind is None else "output", "output"],
                 "code": [f"code (bottleneck) · {layer}", "code (bottleneck)", "code"],
                 "network": [f"network's {own} · {layer}", f"network's {own}", own],
                 "gate": ["gate (skip path)", "gate"]}.get(
                     tile.role, [f"{tile.role} · {layer}", tile.role])  # fmt: skip
        y = r.top() - HEAD - 2
        _caption(painter, r.center().x(), y, room, heads, Qt.AlignmentFlag.AlignBottom, HEAD)
        painter.setFont(font)
        painter.setPen(QColor(colors()["muted"]))
        line = painter.fontMetrics().height()
        if tile.role == "gate":
            first = ["white: the input passes", "white: input", "white"]
        elif tile.role == "network" and self.skip_kind == "residual":
            first = ["red adds, blue removes ink", "red +, blue −"]
        elif tile.kind == "image":
            first = ["28×28 pixels", "28×28"]
        else:
            shape = f" ({tile.rows}×{tile.cols})" if tile.kind == "grid" else ""
            first = [f"{tile.width} units{shape}", f"{tile.width} units", f"{tile.width}"]
        _caption(painter, r.center().x(), r.bottom() + 4, room, first, Qt.AlignmentFlag.AlignTop, line)
        second = ["dark: the network draws", "dark: network", "dark"] if tile.role == "gate" else [tile.activation]
        if tile.role in ("gate", "output") and self.skip_kind is not None and self.values and self.parts is None:
            second = ["none: decoding a code", "decoding a code", "—"]  # no input passes when a code is explored
        _caption(painter, r.center().x(), r.bottom() + 4 + line, room, second, Qt.AlignmentFlag.AlignTop, line)
        off = sum(1 for layer_off, _ in self.off if layer_off == t - 1)
        if off:
            painter.setPen(QColor(colors()["error"]))
            _caption(painter, r.center().x(), r.bottom() + 4 + 2 * line, room, [f"{off} off"],
                     Qt.AlignmentFlag.AlignTop, line)  # fmt: skip

    def _paint_units(
        self,
        painter: QPainter,
        layer: int,
        tile: _Tile,
        values: np.ndarray | None = None,
        scale: tuple[float, float] | None = None,
    ) -> None:
        """``layer``'s units (or ``values`` on ``scale``, for a residual's correction) as coloured cells."""
        r = tile.rect
        if values is None and scale is None:
            values = self.values[layer] if layer < len(self.values) else None
        if values is None or values.size != tile.width:
            return
        lo, hi = scale if scale is not None else self.scale(layer)
        signed = lo < 0
        if signed:  # centred on zero: blue below, red above
            peak = max(-lo, hi)
            level = np.clip(values / (2 * peak) + 0.5, 0, 1)
        else:
            level = np.clip((values - lo) / (hi - lo), 0, 1)
        index = np.full(tile.rows * tile.cols, EMPTY, np.uint8)
        index[: tile.width] = np.round(level * (LEVELS - 1)).astype(np.uint8)
        grid = np.ascontiguousarray(index.reshape(tile.rows, tile.cols))
        image = QImage(grid.data, tile.cols, tile.rows, tile.cols, QImage.Format.Format_Indexed8)
        table = list(self._diverging if signed else self._sequential) + [QColor(colors()["panel"]).rgb()]
        image.setColorTable(table)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(r, image)
        cell_w, cell_h = r.width() / tile.cols, r.height() / tile.rows
        if min(cell_w, cell_h) >= 7 and tile.role not in IMAGE_ROLES:  # cell borders, so units read as units
            painter.setPen(QPen(QColor(colors()["base"]), 1))
            for c in range(1, tile.cols):
                painter.drawLine(QPointF(r.left() + c * cell_w, r.top()), QPointF(r.left() + c * cell_w, r.bottom()))
            for row in range(1, tile.rows):
                y = r.top() + row * cell_h
                painter.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
        if tile.kind == "strip" and cell_h >= 13:  # few units: write the values in
            for unit in range(tile.width):
                cell = QRectF(r.left(), r.top() + unit * cell_h, r.width(), cell_h)
                painter.setPen(_readable_on(QColor.fromRgb(table[index[unit]])))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, f"{values[unit]:.2f}")
        if self.off:
            painter.setPen(QPen(QColor(colors()["error"]), 2 if min(cell_w, cell_h) >= 8 else 1))
            for layer_off, unit in self.off:
                if layer_off != layer or unit >= tile.width:
                    continue
                row, col = divmod(unit, tile.cols)
                cell = QRectF(r.left() + col * cell_w, r.top() + row * cell_h, cell_w, cell_h).adjusted(1, 1, -1, -1)
                painter.drawLine(cell.topLeft(), cell.bottomRight())
                painter.drawLine(cell.topRight(), cell.bottomLeft())

    def _paint_arrow(self, painter: QPainter, a: _Tile, b: _Tile) -> None:
        y = (a.rect.center().y() + b.rect.center().y()) / 2
        x0, x1 = a.rect.right() + 6, b.rect.left() - 6
        if x1 - x0 < 8:
            return
        painter.setPen(QPen(QColor(colors()["muted"]), 1.5))
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.drawLine(QPointF(x1, y), QPointF(x1 - 5, y - 4))
        painter.drawLine(QPointF(x1, y), QPointF(x1 - 5, y + 4))


def _role_name(role: str) -> str:
    return {"encoder": "encoder layer", "decoder": "decoder layer", "code": "code (bottleneck)"}.get(role, role)


def _caption(painter: QPainter, centre_x: float, top: float, room: float, variants: list[str], align, height) -> None:
    """The longest of ``variants`` that fits in ``room`` pixels (the last one elided if none does), centred."""
    metrics = painter.fontMetrics()
    text = next((v for v in variants if metrics.horizontalAdvance(v) <= room), None)
    if text is None:
        text = metrics.elidedText(variants[-1], Qt.TextElideMode.ElideRight, int(room))
    box = QRectF(centre_x - room / 2, top, room, height)
    painter.drawText(box, Qt.AlignmentFlag.AlignHCenter | align, text)


def _readable_on(background: QColor) -> QColor:
    """The theme's text or base colour, whichever stands out more on ``background``."""
    text, base = QColor(colors()["text"]), QColor(colors()["base"])
    light = background.lightness()
    return text if abs(text.lightness() - light) >= abs(base.lightness() - light) else base
