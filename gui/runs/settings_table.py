"""The ticked runs' settings side by side, the rows where they differ marked (≠, bold, tinted): the settings first,
then how each run ended, then the versions and machine (``engine.runs.compare`` decides what differs)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from engine.cli.run_tables import duration, epochs_text, model_name, noise_text, number
from engine.runs import RunRecord
from engine.runs.compare import Row, environment_rows, settings_rows
from gui.common.hints import hint
from gui.common.theme import Theme, colors
from gui.runs.table_model import widths_text

DIFFERS = "≠"


def outcome_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """How each run ended: status, epochs, scores, time, model file (marked where they differ)."""
    table = (("status", lambda r: r.status), ("epochs done", epochs_text), ("test MSE", lambda r: number(r.test_mse)),
             ("PSNR dB", lambda r: number(r.scores.get("psnr"), 2)), ("time", lambda r: duration(r.seconds)),
             ("model file", model_name))  # fmt: skip
    rows = []
    for name, read in table:
        values = tuple(read(run) for run in runs)
        rows.append(Row(name, values, any(v != values[0] for v in values[1:])))
    return rows


NAMING = ("layers", "dataset", "noise", "noise_kind", "lr", "optimizer", "batch_size", "epochs", "train_size", "seed")
"""The settings a run's short name may show, in the order looked at: the first two that differ between the runs."""


def short_names(runs: Sequence[RunRecord]) -> list[str]:
    """``run 12 · 784-32-784``: each run's number and what sets it apart from the others compared (the first two
    settings of ``NAMING`` that differ), for legends."""
    differing = {row.name for row in settings_rows(runs) if row.differs}
    shown = [name for name in NAMING if name in differing][:2]
    names = []
    for run in runs:
        parts = [_setting_text(run, name) for name in shown]
        names.append(" · ".join([f"run {run.id}", *parts]))
    return names


def _setting_text(run: RunRecord, name: str) -> str:
    value = run.settings.get(name)
    if name == "layers" and run.layers:
        return widths_text(run.layers)
    if name == "noise":
        text = noise_text(run.settings)
        return f"σ {text}" if text[:1].isdigit() else text
    if name in ("dataset", "noise_kind", "optimizer"):
        return value_text(value)
    return f"{name.replace('_', ' ')} {value_text(value)}"


def value_text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return " – ".join(value_text(v) for v in value)
    return str(value)


class SettingsComparison(QTableWidget):
    """``show_runs(runs)``: one column a run; ``differing()`` names the rows marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        hint(self, "The ticked runs' settings side by side: rows marked ≠ (bold, tinted) are where they differ — "
                   "the settings first, then how each run ended, then the versions and machine. Ctrl+C copies "
                   "the cells selected")  # fmt: skip
        self._rows: list[tuple[str, Row | None]] = []
        Theme.of_app().changed.connect(self._paint)

    def show_runs(self, runs: Sequence[RunRecord]) -> None:
        runs = list(runs)
        sections = (("settings", settings_rows(runs)), ("how it ended", outcome_rows(runs)),
                    ("versions and machine", environment_rows(runs)))  # fmt: skip
        self._rows = []
        for title, rows in sections if runs else ():
            self._rows.append((title, None))
            self._rows += [(title, row) for row in rows]
        self.clear()
        self.setColumnCount(2 + len(runs))
        self.setHorizontalHeaderLabels(["", "", *(f"run {run.id}" for run in runs)])
        self.setRowCount(len(self._rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for i, (title, row) in enumerate(self._rows):
            if row is None:
                heading = QTableWidgetItem(title)
                heading.setFont(bold)
                self.setItem(i, 1, heading)
                continue
            cells = [DIFFERS if row.differs else "", row.name, *(value_text(v) for v in row.values)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row.differs:
                    item.setFont(bold)
                if j >= 2 and len(text) > 30:
                    item.setToolTip(text)
                self.setItem(i, j, item)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for j in range(1, self.columnCount()):
            header.setSectionResizeMode(j, QHeaderView.ResizeMode.Interactive)
        self.resizeColumnsToContents()
        for j in range(2, self.columnCount()):
            self.setColumnWidth(j, min(self.columnWidth(j), 260))
        self._paint()

    def _paint(self, *_) -> None:
        """The differing rows tinted with the theme's highlight."""
        tint = QColor(colors()["highlight"])
        tint.setAlpha(70)
        for i, (_, row) in enumerate(self._rows):
            for j in range(self.columnCount()):
                item = self.item(i, j)
                if item is not None:
                    item.setBackground(tint if row is not None and row.differs else Qt.GlobalColor.transparent)

    def differing(self) -> list[str]:
        return [row.name for _, row in self._rows if row is not None and row.differs]
