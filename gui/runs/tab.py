"""The Runs tab: every recorded training run in a table, the chosen one in full, the ticked ones compared.

The table (``table_model``) is filled by a ``RunsFeed`` (reads off the GUI thread; while the tab is shown it
polls for runs that start, progress and end — the app's and a terminal's alike).  Ticking two to four runs
reads them in full (a job) and shows their loss curves, robustness curves and settings side by side.  What
the user asks of a run (open its model, continue it, train it again) goes out as a request the window
carries out; a problem with the database shows above the table, with its remedy.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.runs import RunRecord
from engine.runs.aside import move_aside
from engine.runs.recorder import METADATA_KEY
from engine.runs.store import STATUSES
from gui.app_state import AppState
from gui.common import dialogs
from gui.common.controls import WholeEntryCombo, hinted_button
from gui.common.hints import hint, plain_hint
from gui.common.jobs import JobRunner
from gui.common.theme import colors
from gui.runs.details import RunDetails
from gui.runs.feed import RunsFeed, Snapshot, open_for_reading
from gui.runs.loss_overlay import LossOverlay
from gui.runs.problem_banner import ProblemBanner
from gui.runs.robustness_overlay import RobustnessOverlay
from gui.runs.settings_table import SettingsComparison, short_names
from gui.runs.table_model import COLUMNS, MAX_TICKED, ROW_ROLE, RunRow, RunsFilter, RunsTableModel

FILTER_DELAY_MS = 150
"""Typing in the filter applies it once the keys pause this long (10,000 rows are filtered per change)."""
COLUMN_SAMPLES = ("99999", "2026-12-31 23:59", "diverged", "sweep", "fashion_mnist", "784-256-64-256-784",
                  "masking 0.1-0.8", "0.0001", "8192", "1000/1000", "0.02345", "59m 59s", "")  # fmt: skip
"""A typical widest cell of each column: the columns' first widths (measuring 10,000 rows would stall)."""


def read_full(path: Path, run_ids: list[int], state) -> list[RunRecord]:
    """A job: the runs ``run_ids`` with their epochs and curves, in that order (runs no longer there left out)."""
    store, _ = open_for_reading(path)
    with store:
        runs = [store.get(run_id) for run_id in run_ids]
    return [run for run in runs if run is not None]


class TickDelegate(QStyledItemDelegate):
    """The tick boxes drawn on a lighter fill than the table's (Fusion fills them with the table's own colour)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt's name)
        super().initStyleOption(option, index)
        option.palette.setColor(QPalette.ColorRole.Base, QColor(colors()["button_hover"]))


class RunsTable(QTableView):
    """The table: Space ticks the current row's run; the context menu offers what the buttons do."""

    tickToggled = Signal(int)  # a source row

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Space and self.currentIndex().isValid():
            self.tickToggled.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class RunsTab(QWidget):
    """The Runs view over the runs database in use (``$DENOISE_STUDIO_RUNS`` or the user data folder's)."""

    openRequested = Signal(object)  # RunFacts: open the run's model file
    continueRequested = Signal(object)  # RunFacts: the run's model, the form filled, to train further
    trainAgainRequested = Signal(object)  # RunFacts: a fresh network of its layers, the form filled
    message = Signal(str)  # for the status bar
    comparedReady = Signal(list)  # the ticked runs, read in full and shown

    def __init__(self, state: AppState, path: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = RunsTableModel(self)
        self.feed = RunsFeed(path, self.model.sort_order, self)
        self.proxy = RunsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.compare_jobs = JobRunner(self)
        self.compared: list[RunRecord] = []
        self._readonly = False
        self._build()
        self._connect()

    # ----- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: words in any column, e.g. 784-32 fashion finished")
        self.filter_edit.setClearButtonEnabled(True)
        hint(self.filter_edit, "Show only the runs whose row holds every word typed (any column, the full layers, "
                               "the model's path, an error, a sweep's cell). Ctrl+F comes here")  # fmt: skip
        self.status_box = WholeEntryCombo()
        self.status_box.addItem("Any status", None)
        for status in STATUSES:
            self.status_box.addItem(status.capitalize(), status)
        hint(self.status_box, "Show only the runs that ended (or are) so: finished, stopped by the user, diverged, "
                              "failed, crashed (its program died), or still running")  # fmt: skip
        self.clear_button = hinted_button("Untick all", "Untick every run (the comparison below empties)",
                                          self.model.clear_ticks)  # fmt: skip
        self.reload_button = hinted_button("Reload", "Read every run from the database again (new and changed "
                                           "runs appear by themselves while this tab is shown)",
                                           self.feed.reload)  # fmt: skip
        self.count_label = QLabel()
        hint(self.count_label, "How many runs the database holds, how many the filter shows, and how many are ticked")
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.status_box)
        top.addWidget(self.clear_button)
        top.addWidget(self.reload_button)
        top.addWidget(self.count_label)
        self.path_label = QLabel(f"Runs database: {self.feed.path}")
        self.path_label.setObjectName("caption")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint(self.path_label, "The file every training run is recorded in (set $DENOISE_STUDIO_RUNS to use another); "
                              "'denoise-studio runs' lists the same runs in a terminal")  # fmt: skip
        self.banner = ProblemBanner()

        self.table = RunsTable()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)  # newest first, as the model starts
        header.setSortIndicatorShown(True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        metrics = self.fontMetrics()
        for column, sample in enumerate(COLUMN_SAMPLES[: len(COLUMNS) - 1]):
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(COLUMNS[column].title)) + 28
            self.table.setColumnWidth(column, width + (22 if column == 0 else 0))  # the tick box
        self.table.setItemDelegateForColumn(0, TickDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hint(self.table, "Every recorded run, newest first: click a heading to sort, tick up to 4 runs (the box in "
                         "the Run column, or Space) to compare them, right-click a run for what you can do with "
                         "it")  # fmt: skip
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setObjectName("hint")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_label)

        self.details = RunDetails(self.feed.path, self._current_run_uuid)
        self.loss_plot = LossOverlay()
        self.log_box = QCheckBox("Log scale")
        self.log_box.setChecked(True)
        hint(self.log_box, "The loss on a logarithmic axis: it falls by orders of magnitude, so late gains stay "
                           "visible")  # fmt: skip
        self.log_box.toggled.connect(self.loss_plot.set_log)
        self.compare_note = QLabel()
        self.compare_note.setObjectName("caption")
        self.compare_note.setWordWrap(True)
        loss_page = QWidget()
        loss_layout = QVBoxLayout(loss_page)
        loss_layout.setContentsMargins(4, 4, 4, 4)
        head = QHBoxLayout()
        head.addWidget(self.compare_note, 1)
        head.addWidget(self.log_box)
        loss_layout.addLayout(head)
        loss_layout.addWidget(self.loss_plot, 1)
        self.robustness = RobustnessOverlay(self.state.data)
        self.settings_table = SettingsComparison()
        self.compare_tabs = QTabWidget()
        for page, name, tip in (
            (loss_page, "&Loss curves", "The ticked runs' training and test loss on one plot"),
            (self.robustness, "&Robustness", "How the ticked runs' saved models hold up as the noise grows (scored "
             "off the GUI thread on all test images)"),
            (self.settings_table, "&Settings", "The ticked runs' settings side by side, differences marked ≠"),
        ):  # fmt: skip
            self.compare_tabs.setTabToolTip(self.compare_tabs.addTab(page, name), tip)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(self.details)
        below.addWidget(self.compare_tabs)
        below.setStretchFactor(0, 1)
        below.setStretchFactor(1, 3)
        below.setSizes([300, 900])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([500, 500])  # half each at first; the user drags the handle
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.path_label)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(lambda: self.proxy.set_text(self.filter_edit.text()))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self._focus_filter,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)  # fmt: skip
        self._show_empty_or_table()
        self._show_compared([])
        self._count()

    def _connect(self) -> None:
        self.feed.loaded.connect(self._loaded)
        self.feed.changed.connect(self._changed)
        self.feed.problem.connect(self._problem)
        self.banner.retryRequested.connect(self.feed.reload)
        self.banner.moveAsideRequested.connect(self.move_database_aside)
        self.filter_edit.textChanged.connect(lambda _: self._filter_timer.start())
        self.status_box.currentIndexChanged.connect(lambda _: self.proxy.set_status(self.status_box.currentData()))
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        self.proxy.layoutChanged.connect(self._count)
        self.model.ticksChanged.connect(self._on_ticks)
        self.model.tickRefused.connect(lambda: self.message.emit(
            f"At most {MAX_TICKED} runs are compared at once: untick one first"))  # fmt: skip
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.table.tickToggled.connect(self._toggle_tick)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.details.openRequested.connect(self.openRequested)
        self.details.continueRequested.connect(self.continueRequested)
        self.details.trainAgainRequested.connect(self.trainAgainRequested)
        self.state.modelChanged.connect(self._on_model_changed)

    def _on_model_changed(self, change) -> None:
        self.details.refresh_buttons()  # Continue training may use the app's model if it is the chosen run's

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    # ----- shown or hidden: polling -----------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self.feed.is_polling():
            self.feed.poll()  # the first time: everything; later: what changed while hidden
            self.feed.start_polling()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.feed.stop_polling()

    # ----- what the feed read -----------------------------------------------------------------
    def _loaded(self, snapshot: Snapshot) -> None:
        current = self._current_run()
        self._readonly = snapshot.readonly
        self.model.set_rows(snapshot.rows, snapshot.order)
        self._show_empty_or_table(snapshot)
        if current is not None:
            self.select_run(current.id)
        self._count()

    def _changed(self, snapshot: Snapshot) -> None:
        inserted, updated = self.model.merge(snapshot.rows)
        if snapshot.missing or snapshot.count != self.model.rowCount():
            self.feed.reload()  # runs deleted elsewhere, or the file moved away
            return
        if inserted:
            self._show_empty_or_table(snapshot)
        changed = {row.id for row in snapshot.rows}
        current = self._current_run()
        if current is not None and current.id in changed:
            self.details.show_run(self.model.row(self.model.position(current.id)))
        if changed & set(self.model.ticked()):
            self._on_ticks(self.model.ticked())  # a ticked run is still training: its curves grow

    def _problem(self, error) -> None:
        self.banner.show_problem(error)
        if error is None:
            return
        self._show_empty_or_table()

    def _show_empty_or_table(self, snapshot: Snapshot | None = None) -> None:
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.table)
            return
        if self.banner.error is not None:
            text = "No runs to show: the runs database cannot be read (see above)."
        else:
            text = ("No training runs recorded yet.\n\nEvery run — the Training tab's (File ▸ Record training runs) "
                    "and 'denoise-studio train' in a terminal — appears here as it starts, with its curves, "
                    "settings and scores.")  # fmt: skip
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)

    def _count(self, *_) -> None:
        total, shown, ticked = self.model.rowCount(), self.proxy.rowCount(), len(self.model.ticked())
        text = f"{total:,} run{'s' if total != 1 else ''}"
        if shown != total:
            text += f" · {shown:,} shown"
        if ticked:
            text += f" · {ticked} ticked"
        if self._readonly:
            text += " · read-only"
        self.count_label.setText(text)

    # ----- the current run, ticks ------------------------------------------------------------
    def _current_run(self) -> RunRow | None:
        index = self.table.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def _current_run_uuid(self) -> str | None:
        """The run that trained the app's current model (its metadata says), for Continue training."""
        model = self.state.model
        found = model.metadata.get(METADATA_KEY) if model is not None else None
        return found if isinstance(found, str) else None

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.details.show_run(current.data(ROW_ROLE) if current.isValid() else None)

    def select_run(self, run_id: int) -> bool:
        """Make run ``run_id`` the current row (scrolled to); False when the filter hides it or it is not there."""
        position = self.model.position(run_id)
        if position is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(position, 1))
        if not index.isValid():
            return False
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        return True

    def _toggle_tick(self, proxy_row: int) -> None:
        source = self.proxy.mapToSource(self.proxy.index(proxy_row, 0))
        run_id = self.model.row(source.row()).id
        self.model.set_ticked(run_id, run_id not in self.model.ticked())

    def tick(self, *run_ids: int) -> None:
        for run_id in run_ids:
            self.model.set_ticked(run_id, True)

    def _on_ticks(self, run_ids: list[int]) -> None:
        self._count()
        if not run_ids:
            self.compare_jobs.cancel()
            self._show_compared([])
            return
        self.compare_jobs.start(read_full, self.feed.path, list(run_ids), on_done=self._show_compared,
                                on_error=lambda exc: self.message.emit(f"Could not read the ticked runs: {exc}"))

    def _show_compared(self, runs: list[RunRecord]) -> None:
        self.compared = runs
        names = short_names(runs)
        self.loss_plot.show_runs(runs, names)
        self.robustness.show_runs(runs, names)
        self.settings_table.show_runs(runs)
        if not runs:
            self.compare_note.setText("Tick two to four runs in the table (the box in the Run column, or Space) to "
                                      "overlay their curves and set their settings side by side.")  # fmt: skip
        elif len(runs) == 1:
            self.compare_note.setText(f"Run {runs[0].id} alone: tick another to compare.")
        else:
            self.compare_note.setText("Lines: the training loss per batch (thinned); dots: the test loss after each "
                                      "epoch.")  # fmt: skip
        self.comparedReady.emit(runs)

    # ----- the context menu -------------------------------------------------------------------
    def _context_menu(self, position) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        run = index.data(ROW_ROLE)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        ticked = run.id in self.model.ticked()
        details = self.details
        has_file = bool(run.model_path)  # whether it is still there is checked before anything opens it
        entries = [
            ("Untick" if ticked else "Tick to compare", "Add the run to (or take it from) the comparison below",
             lambda: self._toggle_tick(index.row()), True),
            ("Open model", plain_hint(details.open_button), details.ask_open, has_file),
            ("Continue training", plain_hint(details.continue_button), details.ask_continue,
             has_file or self._current_run_uuid() == run.uuid),
            ("Train again", plain_hint(details.again_button), details.ask_again, run.repeatable),
            ("Copy run number", "Copy the run's number, for 'denoise-studio runs show N' in a terminal",
             lambda: QGuiApplication.clipboard().setText(str(run.id)), True),
        ]  # fmt: skip
        for text, tip, slot, enabled in entries:
            action = QAction(text, menu)
            hint(action, tip)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(position))

    # ----- a damaged database ------------------------------------------------------------------
    def move_database_aside(self) -> None:
        """Ask, then move the damaged database (and its log files) aside; a new one starts with the next run."""
        path = self.feed.path
        box = dialogs.message_box(QMessageBox.Icon.Question, "Move the runs database aside",
                                  f"Move the damaged runs database {path.name} aside?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self,
                                  f"It is renamed to {path.name}.broken in {path.parent} (with its log files) and kept "
                                  "for you to inspect or recover; nothing is deleted. The next training run starts a "
                                  "new database.")  # fmt: skip
        box.button(QMessageBox.StandardButton.Yes).setText("Move aside")
        if QMessageBox.StandardButton(box.exec()) != QMessageBox.StandardButton.Yes:
            return
        try:
            moved = move_aside(path)
        except OSError as exc:
            dialogs.show_error(self, "Cannot move the runs database", f"Moving {path} aside failed:\n{exc}",
                               "Move or rename it yourself (it is only read by Denoise Studio), or point "
                               "$DENOISE_STUDIO_RUNS at another file.")  # fmt: skip
            return
        self.message.emit(f"Moved the damaged runs database to {moved}; the next run starts a new one")
        self.feed.reload()
