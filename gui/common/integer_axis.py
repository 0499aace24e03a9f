"""A pyqtgraph axis of whole numbers (epochs, directions, units) whose labels never crowd: as many as fit 1.4
label widths apart, on steps of 1, 2 or 5 × 10ⁿ."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

LABEL_GAP = 1.4
"""Labels stand at least this many label widths apart, centre to centre."""


def whole_steps(low: float, high: float, size: float, label_px: float) -> tuple[float, list[float]]:
    """(step, whole-number ticks from ``low`` to ``high``) for an axis ``size`` pixels long whose labels are
    ``label_px`` wide: the smallest step of 1, 2, 5, 10, 20, … that keeps them ``LABEL_GAP`` widths apart."""
    most = max(1, int(size // (LABEL_GAP * max(label_px, 1.0))))
    need = max((high - low) / most, 1.0)
    power = 10 ** math.floor(math.log10(need))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= need)
    first = math.ceil(low / step) * step
    return step, [float(v) for v in range(int(first), int(math.floor(high)) + 1, int(step))]


class IntegerAxis(pg.AxisItem):
    """Ticks at whole numbers only, spaced to fit the axis's length (see ``whole_steps``)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        if size <= 0 or not maxVal > minVal:
            return []
        font = self.style.get("tickFont") or QFont()
        widest = max(len(f"{minVal:.0f}"), len(f"{maxVal:.0f}"))
        label = QFontMetrics(font).horizontalAdvance("0" * widest) + 4
        step, values = whole_steps(minVal, maxVal, size, label)
        return [(step, values)]
