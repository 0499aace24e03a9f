"""The runs as a Qt table model: one row a run, sortable and filterable without a stall at 10,000 runs.

Rows (``RunRow``) are built off the GUI thread (``rows_of``): each holds its cells' text, their sort keys and
one lower-case text to filter on, so the GUI thread never formats or parses a run.  Sorting happens in
``RunsTableModel.sort`` (one Python sort of the keys, then ``layoutChanged``), not in the proxy: a
``QSortFilterProxyModel`` sorting by itself would call ``data()`` — Python — twice per comparison, some
300,000 calls for 10,000 rows (``bench/runs_view.py`` measures both).  ``RunsFilter`` only filters, on
the precomputed text.

The first column holds the tick boxes (``MAX_TICKED`` runs at most) that choose the runs to compare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor

from engine.cli.run_tables import duration, epochs_text, model_name, noise_text, number, when
from engine.runs import RunRecord
from gui.common.theme import colors

MAX_TICKED = 4
"""Runs compared at once: more curves on one plot stop being readable."""
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
BULK_INSERT = 50
"""More new runs than this in one read are added together and sorted once, not placed one by one."""
TROUBLE = ("failed", "diverged", "crashed")
"""Statuses shown in the error colour."""


@dataclass(frozen=True)
class Column:
    title: str
    tip: str
    text: Callable[[RunRecord], str]
    key: Callable[[RunRecord], object]
    number: bool = False


def widths_text(layers: str | None) -> str:
    """``784-10-784`` from ``784:10:relu,784:sigmoid``."""
    if not layers:
        return "-"
    items = layers.split(",")
    widths = [items[0].split(":")[0]] + [item.split(":")[-2] if ":" in item else "?" for item in items]
    return "-".join(widths)


def _setting(name: str, fmt: str = "{:g}") -> Callable[[RunRecord], str]:
    def text(run: RunRecord) -> str:
        value = run.settings.get(name)
        return "-" if value is None else fmt.format(value) if isinstance(value, (int, float)) else str(value)

    return text


def _number_key(name: str) -> Callable[[RunRecord], object]:
    def key(run: RunRecord) -> object:
        value = run.settings.get(name)
        return value if isinstance(value, (int, float)) else None

    return key


COLUMNS: tuple[Column, ...] = (
    Column("Run", "The run's number in the database; tick up to 4 runs (the box, or Space) to compare them below",
           lambda r: str(r.id), lambda r: r.id, number=True),
    Column("Started", "When the run started (local time)", lambda r: when(r.started), lambda r: r.started),
    Column("Status", "running, finished, stopped (by the user), diverged, failed, or crashed (its program died)",
           lambda r: r.status, lambda r: r.status),
    Column("From", "Who trained it: the app, the command line (cli) or a sweep", lambda r: r.source,
           lambda r: r.source),
    Column("Data", "The data set it trained on", lambda r: r.dataset or "-", lambda r: r.dataset or ""),
    Column("Layers", "The network's widths, input to output (hover a cell for the activations)",
           lambda r: widths_text(r.layers),
           lambda r: r.layers or ""),
    Column("Noise", "The noise it learned to remove: one level or a range, and the kind when not Gaussian",
           lambda r: noise_text(r.settings), lambda r: noise_text(r.settings)),
    Column("LR", "Learning rate", _setting("lr"), _number_key("lr"), number=True),
    Column("Batch", "Images per weight update", _setting("batch_size"), _number_key("batch_size"), number=True),
    Column("Epochs", "Epochs done of those asked for", epochs_text, lambda r: r.epochs_done, number=True),
    Column("Test MSE", "Mean squared error on the test images at the run's noise level, after its last epoch (lower "
           "is better)", lambda r: number(r.test_mse), lambda r: r.test_mse, number=True),
    Column("Time", "Time spent training", lambda r: duration(r.seconds), lambda r: r.seconds, number=True),
    Column("Model", "The model file the run saved (none: not saved yet)", model_name, lambda r: model_name(r)),
)  # fmt: skip


class RunRow(NamedTuple):
    """One run as the table shows it: ``texts`` and sort ``keys`` per column (``_sortable``), ``haystack`` to filter
    on, and the few values the view acts on.  Strings, numbers and tuples of them only, no ``RunRecord``: each row
    is one object for Python's cycle collector, with nothing in it to follow (its full passes run on the GUI thread,
    and a ``RunRecord`` brings several dicts; ``bench/runs_view.py`` times a pass both ways)."""

    id: int
    uuid: str
    status: str
    updated: float
    texts: tuple[str, ...]
    keys: tuple
    haystack: str
    layers: str | None = None
    model_path: str | None = None
    error: str | None = None
    process: str = ""  # "pid 123 on host", for a crashed run's tooltip
    repeatable: bool = False  # its layers were recorded: Train again can build them

    def same_as(self, other: RunRow) -> bool:
        return self.updated == other.updated and self.texts == other.texts


def rows_of(runs: Sequence[RunRecord]) -> list[RunRow]:
    """The table's rows for ``runs`` (on a job thread: this is the formatting of every cell)."""
    rows = []
    for run in runs:
        texts = tuple(column.text(run) for column in COLUMNS)
        extra = (run.layers or "", run.model_path or "", run.command or "", run.error or "", run.cell or "",
                 run.host or "")  # fmt: skip
        rows.append(RunRow(run.id, run.uuid, run.status, run.updated, texts,
                           tuple(_sortable(c.key(run)) for c in COLUMNS), " ".join(texts + extra).lower(),
                           run.layers, run.model_path, run.error, f"pid {run.pid} on {run.host}",
                           bool(run.settings.get("layer_specs"))))  # fmt: skip
    return rows


def _sortable(key: object) -> tuple:
    """Keys with None (no value) before every value, and every value comparable within its column."""
    return (0, 0) if key is None else (1, key)


Order = tuple[int, Qt.SortOrder]
"""(column, ascending or descending): how the rows are sorted."""
NEWEST_FIRST: Order = (1, Qt.SortOrder.DescendingOrder)


def in_order(rows: list[RunRow], order: Order) -> list[RunRow]:
    """``rows`` sorted by ``order``'s column (stable; no value first when ascending), on any thread."""
    column, direction = order
    return sorted(rows, key=lambda r: r.keys[column], reverse=direction == Qt.SortOrder.DescendingOrder)


class RunsTableModel(QAbstractTableModel):
    """All runs; ``ticksChanged(list[int])`` with the ticked runs' ids in the order ticked, ``tickRefused()`` when a
    fifth is ticked."""

    ticksChanged = Signal(list)
    tickRefused = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[RunRow] = []
        self._index: dict[int, int] | None = {}  # run id -> row; None: to be rebuilt when asked
        self._ticked: list[int] = []
        self._sort: Order = NEWEST_FIRST  # as the database lists them

    # ----- Qt's model interface --------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's names)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.texts[column]
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if row.id in self._ticked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            if row.status in TROUBLE:
                return QColor(colors()["error"])
            if row.status == "running":
                return QColor(colors()["accent"])
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[column].number:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row, column)
        if role == SORT_ROLE:
            return row.keys[column][1] if row.keys[column][0] else None
        if role == ROW_ROLE:
            return row
        return None

    def _tip(self, row: RunRow, column: int) -> str | None:
        if column == 5:
            return row.layers
        if column == 2 and row.error:
            return row.error
        if column == 2 and row.status == "crashed":
            return f"Its program ({row.process}) ended without saying how the run ended"
        if column == 12:
            return row.model_path
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else flags

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        return self.set_ticked(self._rows[index.row()].id, checked)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Rows in the order of ``column``'s keys (one Python sort; selections follow their rows)."""
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = [row.id for row in self._rows]
        self._rows = in_order(self._rows, self._sort)
        self._reindex()
        persistent = self.persistentIndexList()
        moved = [self.index(self._where[before[p.row()]], p.column()) for p in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    # ----- the runs ----------------------------------------------------------------------------
    def row(self, position: int) -> RunRow:
        return self._rows[position]

    def position(self, run_id: int) -> int | None:
        return self._where.get(run_id)

    def run_ids(self) -> list[int]:
        return [row.id for row in self._rows]

    def sort_order(self) -> Order:
        return self._sort

    def set_rows(self, rows: list[RunRow], order: Order | None = None) -> None:
        """Every run anew (the first read, a reload), already in ``order`` if given (sorted off the GUI thread: see
        ``in_order``); ticks of runs still there stay."""
        self.beginResetModel()
        self._rows = list(rows) if order == self._sort else in_order(rows, self._sort)
        self._reindex()
        self.endResetModel()
        kept = [i for i in self._ticked if i in self._where]
        if kept != self._ticked:
            self._ticked = kept
            self.ticksChanged.emit(list(kept))

    def merge(self, rows: list[RunRow]) -> tuple[int, int]:
        """Runs that are new or changed since the last read: changed rows are updated in place (``dataChanged``),
        new ones inserted where the sort puts them (``rowsInserted``).  Returns (inserted, updated)."""
        updated = 0
        new = []
        for row in rows:
            at = self._where.get(row.id)
            if at is None:
                new.append(row)
            elif not row.same_as(self._rows[at]):
                self._rows[at] = row
                self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))
                updated += 1
        if len(new) > BULK_INSERT:  # many at once (a reload's worth): append them, then one sort
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(new) - 1)
            self._rows += new
            self._reindex()
            self.endInsertRows()
            self.sort(*self._sort)
            return len(new), updated
        column, order = self._sort
        descending = order == Qt.SortOrder.DescendingOrder
        for row in new:
            key = row.keys[column]
            at = next((i for i, other in enumerate(self._rows)
                       if (key > other.keys[column] if descending else key < other.keys[column])),
                      len(self._rows))  # fmt: skip
            self.beginInsertRows(QModelIndex(), at, at)
            self._rows.insert(at, row)
            self._reindex()
            self.endInsertRows()
        return len(new), updated

    def _reindex(self) -> None:
        self._index = None  # rebuilt when next asked (a sort need not pay for it)

    @property
    def _where(self) -> dict[int, int]:
        if self._index is None:
            self._index = {row.id: i for i, row in enumerate(self._rows)}
        return self._index

    # ----- ticks -------------------------------------------------------------------------------
    def ticked(self) -> list[int]:
        return list(self._ticked)

    def set_ticked(self, run_id: int, on: bool) -> bool:
        """Tick or untick a run; a tick beyond ``MAX_TICKED`` is refused (``tickRefused``)."""
        if on == (run_id in self._ticked) or run_id not in self._where:
            return False
        if on and len(self._ticked) >= MAX_TICKED:
            self.tickRefused.emit()
            return False
        if on:
            self._ticked.append(run_id)
        else:
            self._ticked.remove(run_id)
        at = self.index(self._where[run_id], 0)
        self.dataChanged.emit(at, at, [Qt.ItemDataRole.CheckStateRole])
        self.ticksChanged.emit(list(self._ticked))
        return True

    def clear_ticks(self) -> None:
        for run_id in list(self._ticked):
            self.set_ticked(run_id, False)


class RunsFilter(QSortFilterProxyModel):
    """Rows whose text holds every word typed (any column, the full layers, the model's path, the error...) and, when
    chosen, one status.  Sorting is the source model's (see the module's docstring)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self._status: str | None = None

    def set_text(self, text: str) -> None:
        words = text.lower().split()
        if words != self._words:
            self._words = words
            self._refilter()

    def set_status(self, status: str | None) -> None:
        if status != self._status:
            self._status = status
            self._refilter()

    def _refilter(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10 and later
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if not self._words and self._status is None:
            return True
        row = self.sourceModel().row(source_row)
        if self._status is not None and row.status != self._status:
            return False
        return all(word in row.haystack for word in self._words)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)
