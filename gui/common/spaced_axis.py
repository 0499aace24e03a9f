"""A pyqtgraph axis whose tick labels never crowd, however small the plot: as many labels as fit 1.4 label sizes
apart (heights on a vertical axis, widths on a horizontal one), on steps of 1, 2 or 5 × 10ⁿ — whole numbers only
for an axis of epochs, directions or units.  (pyqtgraph's own spacing picks its number of ticks from the log of the
axis length, and piles them up on a plot a few lines tall.)"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

LABEL_GAP = 1.4
"""Labels stand at least this many label sizes apart, centre to centre."""


def spaced_ticks(low: float, high: float, size: float, label_px: float, whole: bool = False
                 ) -> tuple[float, list[float]]:  # fmt: skip
    """(step, ticks from ``low`` to ``high``) for an axis ``size`` pixels long whose labels take ``label_px`` along
    it: the smallest step of 1, 2 or 5 × 10ⁿ (at least 1 when ``whole``) that keeps them ``LABEL_GAP`` sizes apart."""
    most = max(1, int(size // (LABEL_GAP * max(label_px, 1.0))))
    need = (high - low) / most
    if whole:
        need = max(need, 1.0)
    power = 10 ** math.floor(math.log10(need)) if need > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= need * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9)
    count = math.floor(high / step + 1e-9) - first + 1
    return step, [round((first + i) * step, 12) for i in range(max(count, 0))]


class SpacedAxis(pg.AxisItem):
    """Ticks ``spaced_ticks`` apart for the axis's length; ``whole``: whole numbers only."""

    def __init__(self, orientation: str, whole: bool = False, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.whole = whole

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        if size <= 0 or not maxVal > minVal:
            return []
        metrics = QFontMetrics(self.style.get("tickFont") or QFont())
        if self.orientation in ("left", "right"):
            label = metrics.height()
        else:
            digits = max(len(f"{minVal:.0f}"), len(f"{maxVal:.0f}")) + (0 if self.whole else 3)
            label = metrics.horizontalAdvance("0" * digits) + 2
        step, values = spaced_ticks(minVal, maxVal, size, label, self.whole)
        return [(step, values)]
