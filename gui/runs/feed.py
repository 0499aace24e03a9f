"""The runs database as the Runs view sees it: read off the GUI thread, then watched for runs that start or change.

``RunsFeed`` reads every run once (``loaded``), then, while polling, asks every ``POLL_MS`` for the runs
written since (``RunStore.runs(changed_since=...)``) and for runs whose program died (shown as *crashed*,
though the database still says running) and hands them on (``changed``, with the count of all runs: the view
reads everything again when its own count differs, as after a run deleted elsewhere).  Reads record nothing
and never make a database that is not there yet (opening one of an older schema migrates it, as every open
does).  A read that fails says why (``problem``, a ``RunsDatabaseError``) and the next read tries again; the
first one to succeed after a problem reads everything again.

A write's ``updated`` time is taken just before its transaction waits for the lock, so a write may land
with a time earlier than one already seen; each poll looks back ``LOOK_BACK_S`` (the longest such wait,
twice) and the table ignores rows that did not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.runs import RunsDatabaseError, RunStore, database_path
from engine.runs.store import BUSY_TIMEOUT_S
from gui.common.jobs import JobRunner
from gui.runs.table_model import NEWEST_FIRST, Order, RunRow, in_order, rows_of

POLL_MS = 1500
"""How often a shown Runs view looks for new and changed runs."""
LOOK_BACK_S = 2 * BUSY_TIMEOUT_S
READ_TIMEOUT_S = 2.0
"""How long a read waits for a database locked by a writer outside WAL mode before saying so."""


@dataclass(frozen=True)
class Snapshot:
    """What one read found: all runs (``full``) or those changed since the last; ``count`` of all runs;
    ``missing`` when there is no database file yet; ``readonly`` when it could only be opened for reading."""

    rows: list[RunRow] = field(default_factory=list)
    order: Order | None = None  # how ``rows`` are sorted
    count: int = 0
    full: bool = True
    newest: float = 0.0
    missing: bool = False
    readonly: bool = False


def open_for_reading(path: Path) -> tuple[RunStore, bool]:
    """The database, opened to read (and migrated, as every open is); a read-only file or disk is opened read-only.
    Never made where it is not (``create=False``): a read that began before the file was moved aside must not leave
    a new, empty database in its place.  Returns (store, read-only?)."""
    try:
        return RunStore(path, timeout=READ_TIMEOUT_S, create=False), False
    except RunsDatabaseError as exc:
        if exc.kind != "read-only":
            raise
    return RunStore(path, timeout=READ_TIMEOUT_S, readonly=True), True


def read_runs(path: Path, since: float | None, order: Order, state) -> Snapshot:
    """A job: every run (``since`` None), sorted by ``order``, or the runs written after ``since`` and those whose
    program died."""
    if not path.is_file():
        return Snapshot(missing=True)
    try:
        store, readonly = open_for_reading(path)
    except RunsDatabaseError:
        if not path.is_file():  # moved aside (or deleted) since the look above
            return Snapshot(missing=True)
        raise
    with store:
        if since is None:
            runs = store.runs()
        else:
            runs = store.runs(changed_since=since)
            seen = {run.id for run in runs}
            runs += [run for run in store.runs(status="crashed") if run.id not in seen]
        count = store.count()
    newest = max((run.updated for run in runs), default=since or 0.0)
    rows = rows_of(runs)
    if since is None:
        return Snapshot(in_order(rows, order), order, count, True, newest, readonly=readonly)
    return Snapshot(rows, None, count, False, newest, readonly=readonly)


class RunsFeed(QObject):
    """Reads ``path`` (default: the runs database in use) for a view; ``start_polling``/``stop_polling`` while shown.

    ``loaded(Snapshot)`` after a full read, ``changed(Snapshot)`` after a poll, ``problem(error)`` when a read
    failed (a ``RunsDatabaseError``) and ``problem(None)`` once reads work again; ``busyChanged(bool)``.
    """

    loaded = Signal(object)
    changed = Signal(object)
    problem = Signal(object)
    busyChanged = Signal(bool)

    def __init__(self, path: str | Path | None = None, order: Callable[[], Order] = lambda: NEWEST_FIRST,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.path = database_path(path)
        self.order = order  # how the view sorts now: a full read comes sorted so
        self.jobs = JobRunner(self)
        self.jobs.busyChanged.connect(self.busyChanged)
        self._newest: float | None = None  # None: the next read reads everything
        self._failing = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    def reload(self) -> None:
        """Read every run again (now, replacing a read under way)."""
        self._newest = None
        self.jobs.start(read_runs, self.path, None, self.order(), on_done=self._read, on_error=self._failed)

    def poll(self) -> None:
        """Look for runs written since the last read (skipped while a read is under way)."""
        if self.jobs.is_busy():
            return
        if self._newest is None:
            self.reload()
            return
        since = self._newest - LOOK_BACK_S
        self.jobs.start(read_runs, self.path, since, self.order(), on_done=self._read, on_error=self._failed)

    def start_polling(self) -> None:
        self._timer.start()

    def stop_polling(self) -> None:
        self._timer.stop()
        self.jobs.cancel()

    def is_polling(self) -> bool:
        return self._timer.isActive()

    def _read(self, snapshot: Snapshot) -> None:
        if self._failing:
            self._failing = False
            self.problem.emit(None)
        if snapshot.full:
            self._newest = snapshot.newest if not snapshot.missing else 0.0
            self.loaded.emit(snapshot)
            return
        self._newest = max(self._newest or 0.0, snapshot.newest)
        self.changed.emit(snapshot)

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, RunsDatabaseError):
            error = RunsDatabaseError(self.path, f"{type(error).__name__}: {error}")
        self._failing = True
        self._newest = None  # once it works again, read everything
        self.problem.emit(error)
