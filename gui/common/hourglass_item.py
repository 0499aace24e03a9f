"""The network drawn as an hourglass lying on its side: one column per layer, height by width.

Encoder columns are blue, the latent (narrowest) layer amber, decoder columns green.  The latent
column holds one dot per unit that lights up with its activation (``set_latent``).  A model with a skip
path (``engine.skip``) gets an arc over the columns from the input to the output, named by its kind
("gate": a learned per-pixel mix of the input and the network's image; "residual": the input plus it).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsObject, QGraphicsScene, QGraphicsView, QSizePolicy, QWidget

from gui.common.theme import Theme, colors

SPACING = 150.0
COL_W = 28.0
MAX_H = 300.0
MIN_H = 34.0
TOP = 60.0  # room for the labels above
SKIP_ROOM = 58.0  # more room above for a skip path's arc and its two lines
MAX_DOTS = 32
SKIP_FORMULAS = {
    "gate": "output = g · input + (1 − g) · network",
    "residual": "output = clip(input + network, 0, 1)",
}


def _fmt(n: int) -> str:
    return f"{n:,}"


class HourglassItem(QGraphicsObject):
    """One GraphicsItem drawing the whole diagram from the layers' widths and activations."""

    def __init__(self) -> None:
        super().__init__()
        self.widths: list[int] = [784, 10, 784]
        self.activations: list[str] = ["ReLU", "Sigmoid"]
        self.params: list[int] = [7850, 8624]
        self.latent_index = 1
        self.skip: tuple[str, int] | None = None  # (kind, parameters) of the skip path, None without one
        self._latent: np.ndarray | None = None

    # ----- data ------------------------------------------------------------------------------
    def set_layers(
        self,
        widths: list[int],
        activations: list[str],
        params: list[int],
        latent_index: int,
        skip: tuple[str, int] | None = None,
    ) -> None:
        """widths: n_in of the first layer then each layer's n_out; one activation and count per layer;
        ``latent_index``: the column (index into ``widths``) of the code; ``skip``: the skip path's kind
        ("gate", "residual") and its parameter count, or None."""
        self.prepareGeometryChange()
        self.widths, self.activations, self.params = list(widths), list(activations), list(params)
        self.latent_index = latent_index
        self.skip = None if skip is None else (str(skip[0]), int(skip[1]))
        self._latent = None
        self.update()

    @property
    def top(self) -> float:
        """Where the tallest column starts: room for the labels, and for a skip path's arc."""
        return TOP + (SKIP_ROOM if self.skip is not None else 0.0)

    @property
    def total_params(self) -> int:
        return sum(self.params) + (self.skip[1] if self.skip is not None else 0)

    def set_latent(self, values: np.ndarray | None) -> None:
        """The latent layer's activations (k,), shown as lit dots; None switches them off."""
        self._latent = None if values is None else np.asarray(values, np.float32).ravel().copy()
        self.update()

    # ----- geometry --------------------------------------------------------------------------
    def _height(self, width: int) -> float:
        """Column height: log of the layer width; tall enough for one readable dot per latent unit."""
        h = MIN_H + (MAX_H - MIN_H) * math.log(max(width, 1)) / math.log(max(max(self.widths), 2))
        if width <= MAX_DOTS:
            h = max(h, min(MAX_H, 8 + 17 * width))
        return h

    def _column_rect(self, i: int) -> QRectF:
        h = self._height(self.widths[i])
        x = 40 + i * SPACING
        return QRectF(x, self.top + (MAX_H - h) / 2, COL_W, h)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, 80 + COL_W + (len(self.widths) - 1) * SPACING, self.top + MAX_H + 70)

    def role(self, i: int) -> str:
        """'input', 'encoder', 'latent', 'decoder' or 'output' for column i."""
        if i == 0:
            return "input"
        if i == len(self.widths) - 1:
            return "output"
        if i == self.latent_index:
            return "latent"
        return "encoder" if i < self.latent_index else "decoder"

    def _color(self, i: int) -> QColor:
        role = self.role(i)
        if role == "latent":
            return QColor(colors()["latent"])
        if role in ("input", "encoder"):
            return QColor(colors()["encoder"])
        return QColor(colors()["decoder"])

    # ----- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(painter.font())
        font.setPointSizeF(9.5)
        painter.setFont(font)
        n = len(self.widths)
        for i in range(n - 1):  # connections first, under the columns
            a, b = self._column_rect(i), self._column_rect(i + 1)
            color = self._color(i + 1)
            fill = QColor(color)
            fill.setAlpha(45)
            poly = QPolygonF([a.topRight(), b.topLeft(), b.bottomLeft(), a.bottomRight()])
            painter.setPen(QPen(QColor(color.red(), color.green(), color.blue(), 110), 1))
            painter.setBrush(QBrush(fill))
            painter.drawPolygon(poly)
            mid_x = (a.right() + b.left()) / 2
            painter.setPen(QColor(colors()["text"]))
            text_rect = QRectF(mid_x - 60, self.top + MAX_H / 2 - 22, 120, 20)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, self.activations[i])
            painter.setPen(QColor(colors()["muted"]))
            painter.drawText(text_rect.translated(0, 20), Qt.AlignmentFlag.AlignCenter, f"{_fmt(self.params[i])} p")
        for i in range(n):
            rect = self._column_rect(i)
            color = self._color(i)
            painter.setPen(QPen(color.lighter(130), 1.5))
            body = QColor(color)
            body.setAlpha(200 if self.role(i) == "latent" else 150)
            painter.setBrush(body)
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(QColor(colors()["text"]))
            bold = QFont(font)
            bold.setBold(True)
            painter.setFont(bold)
            painter.drawText(QRectF(rect.center().x() - 50, rect.top() - 26, 100, 20),
                             Qt.AlignmentFlag.AlignCenter, _fmt(self.widths[i]))
            painter.setFont(font)
            painter.setPen(QColor(colors()["muted"]))
            painter.drawText(QRectF(rect.center().x() - 55, rect.bottom() + 6, 110, 20),
                             Qt.AlignmentFlag.AlignCenter, self.role(i))
        self._paint_latent(painter)
        self._paint_skip(painter, font)
        painter.setPen(QColor(colors()["muted"]))
        layers = f"{len(self.params)} Dense layers" + (f" + {self.skip[0]}" if self.skip is not None else "")
        painter.drawText(QRectF(0, self.top + MAX_H + 40, self.boundingRect().width(), 22),
                         Qt.AlignmentFlag.AlignCenter, f"{layers} · {_fmt(self.total_params)} parameters")

    def skip_path(self) -> QPainterPath:
        """The skip path's arc: up from above the input column's label, across, down to the output's (empty
        without a skip)."""
        path = QPainterPath()
        if self.skip is None or len(self.widths) < 2:
            return path
        first, last = self._column_rect(0), self._column_rect(len(self.widths) - 1)
        x0, x1 = first.center().x(), last.center().x()
        y0, y1 = first.top() - 30, last.top() - 30  # above the width labels
        high = 14.0
        path.moveTo(x0, y0)
        path.cubicTo(x0, high, x0, high, x0 + 40, high)
        path.lineTo(x1 - 40, high)
        path.cubicTo(x1, high, x1, high, x1, y1)
        return path

    def _paint_skip(self, painter: QPainter, font: QFont) -> None:
        if self.skip is None:
            return
        kind, params = self.skip
        color = QColor(colors()["skip"])
        path = self.skip_path()
        painter.setPen(QPen(color, 2.2, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        end = path.currentPosition()  # the arrow's head, pointing down at the output
        painter.setPen(QPen(color, 2.2))
        painter.drawLine(end, end + QPointF(-5, -7))
        painter.drawLine(end, end + QPointF(5, -7))
        width = self.boundingRect().width()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        name = f"skip path: {kind}" + (f" · {_fmt(params)} p" if params else "")
        line = QRectF(0, 18, width, 18)
        painter.fillRect(QRectF(width / 2 - 120, 6, 240, 16), QColor(colors()["base"]))  # the label over the arc
        painter.drawText(line.translated(0, -12), Qt.AlignmentFlag.AlignCenter, name)
        painter.setFont(font)
        painter.setPen(QColor(colors()["muted"]))
        painter.drawText(line.translated(0, 8), Qt.AlignmentFlag.AlignCenter, SKIP_FORMULAS.get(kind, ""))

    def _paint_latent(self, painter: QPainter) -> None:
        k = self.widths[self.latent_index]
        if k > MAX_DOTS:
            return
        rect = self._column_rect(self.latent_index)
        values = self._latent
        peak = float(np.max(np.abs(values))) if values is not None and values.size == k else 0.0
        step = (rect.height() - 8) / k
        radius = max(2.0, min(COL_W / 2 - 4, step / 2 - 1))
        for j in range(k):
            centre = QPointF(rect.center().x(), rect.top() + 4 + step * (j + 0.5))
            level = abs(float(values[j])) / peak if peak > 0 else 0.0
            glow = QColor(colors()["latent_on"]) if values is not None else QColor(colors()["latent_off"])
            dim = QColor(colors()["latent_off"])
            color = QColor(
                int(dim.red() + (glow.red() - dim.red()) * level),
                int(dim.green() + (glow.green() - dim.green()) * level),
                int(dim.blue() + (glow.blue() - dim.blue()) * level),
            )
            if level > 0.5:  # a halo on the strongly active units
                halo = QColor(colors()["latent"])
                halo.setAlpha(int(140 * (level - 0.5) * 2))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(halo)
                painter.drawEllipse(centre, radius + 3, radius + 3)
            painter.setPen(QPen(QColor(colors()["latent"]).darker(250), 1))
            painter.setBrush(color)
            painter.drawEllipse(centre, radius, radius)


class HourglassView(QGraphicsView):
    """A QGraphicsView showing one ``HourglassItem``, scaled to fit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = HourglassItem()
        self.item.setVisible(False)  # drawn once a model is set: never a network that is not the model
        self.scene().addItem(self.item)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(160)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)

    def restyle(self) -> None:
        """The active theme's colours (the item reads them as it paints)."""
        self.setBackgroundBrush(QColor(colors()["base"]))
        self.item.update()

    def set_model(self, model) -> None:
        """Read widths, activation names and parameter counts (and the skip path) from an engine MLP."""
        layers = model.layers
        skip = getattr(model, "skip", None)
        self.item.set_layers(
            [layers[0].n_in] + [layer.n_out for layer in layers],
            [layer.activation.name for layer in layers],
            [int(layer.n_params) for layer in layers],
            latent_index=model.bottleneck_index() + 1,
            skip=None if skip is None else (skip.kind, sum(int(layer.n_params) for layer in skip.layers)),
        )
        self.item.setVisible(True)
        self.refit()

    def set_latent(self, values: np.ndarray | None) -> None:
        self.item.set_latent(values)

    def refit(self) -> None:
        rect = self.item.boundingRect()
        self.scene().setSceneRect(rect)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.refit()
