"""The runs database: one SQLite file (the standard library's ``sqlite3``) that every training run writes to.

Several processes use it at once (the app, a terminal, a sweep's workers): the file is in WAL mode
(readers never wait for a writer), every write is one short ``BEGIN IMMEDIATE`` transaction, and a
writer waits up to ``BUSY_TIMEOUT_S`` for another's lock.  A killed process leaves the database
intact (SQLite's journal) and its run marked running; readers show such a run as *crashed*
(``engine.runs.liveness``) and writers record it so (``reap``).

Every problem with the file (damaged, locked too long, read-only, a full disk, a newer schema) is a
``RunsDatabaseError`` whose text is one line saying what is wrong and what to do.

Where it is: ``--runs-db`` or ``$DENOISE_STUDIO_RUNS``, else ``runs.db`` in the user data folder
(platformdirs).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import platformdirs

from engine.runs.curve import pack, unpack
from engine.runs.liveness import has_crashed
from engine.runs.schema import NewerSchema, migrate

DATABASE_ENV = "DENOISE_STUDIO_RUNS"
BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another process's lock before the database counts as locked."""
STATUSES = ("running", "finished", "stopped", "diverged", "failed", "crashed")
_JSON_COLUMNS = ("settings", "versions", "machine", "scores")


def database_path(explicit: str | os.PathLike | None = None) -> Path:
    """The runs database's file: ``explicit`` (``--runs-db``), else ``$DENOISE_STUDIO_RUNS``, else the user data
    folder's ``runs.db``."""
    chosen = explicit or os.environ.get(DATABASE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir("denoise-studio", appauthor=False)) / "runs.db"


PROBLEM_KINDS = ("damaged", "locked", "read-only", "full", "newer", "unopenable", "missing", "other")
"""What can be wrong with the file, for a view to offer the right remedy (move a damaged file aside, try a locked
one again, list a read-only one without writing)."""


class RunsDatabaseError(Exception):
    """The runs database cannot be used; ``str()`` is one line: the file, the problem, what to do.  ``kind`` is one
    of ``PROBLEM_KINDS``."""

    def __init__(self, path: str | os.PathLike, problem: str, kind: str = "other") -> None:
        super().__init__(f"runs database {path}: {problem}")
        self.path, self.problem, self.kind = Path(path), problem, kind


@dataclass
class RunRecord:
    """One run as the database holds it; ``status`` is ``crashed`` for a running run whose process died.

    ``epochs`` (one dict per epoch) and the curve are filled only by ``RunStore.get``.
    """

    id: int
    uuid: str
    source: str
    status: str
    started: float
    ended: float | None = None
    updated: float = 0.0
    heartbeat: float | None = None
    host: str | None = None
    pid: int | None = None
    process: str | None = None
    command: str | None = None
    dataset: str | None = None
    layers: str | None = None
    settings: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    machine: dict = field(default_factory=dict)
    epochs_done: float = 0.0
    seconds: float | None = None
    scores: dict = field(default_factory=dict)
    test_mse: float | None = None
    curve_stride: int | None = None
    init_sha256: str | None = None
    weights_sha256: str | None = None
    model_path: str | None = None
    model_sha256: str | None = None
    checkpoint_path: str | None = None
    resumed_from: str | None = None
    rerun_of: str | None = None
    error: str | None = None
    sweep_id: int | None = None
    cell: str | None = None
    epochs: list[dict] = field(default_factory=list)
    curve_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    curve_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))


_ROW_COLUMNS = [f.name for f in fields(RunRecord) if f.name not in ("epochs", "curve_x", "curve_loss", "curve_stride")]
_EPOCH_COLUMNS = ("epoch", "loss", "val_loss", "val_mse", "seconds", "samples_per_s", "lr", "progress")


class RunStore:
    """An open runs database (migrated to the current schema).  Use as ``with RunStore(path) as store:``.

    ``readonly`` opens without writing anything (no migration: a database at an older schema is read
    as it is only when it needs none), for listing a database on a read-only disk.  ``create=False`` opens only a
    file that is there (a reader must not make a new, empty database where one was just moved aside); a missing
    one is a ``RunsDatabaseError`` of kind ``"missing"``.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = BUSY_TIMEOUT_S,
                 readonly: bool = False, create: bool = True) -> None:  # fmt: skip
        self.path = database_path(path)
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        with self._errors():
            if self.path.is_dir():
                raise RunsDatabaseError(self.path, "is a folder; give a file name such as runs.db", "unopenable")
            if not (readonly or create) and not self.path.is_file():
                raise RunsDatabaseError(self.path, "is not there (no run recorded yet, or it was moved)", "missing")
            if readonly or not create:  # an existing file only ("rw": SQLite creates nothing either)
                uri = f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
                self._conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                                             check_same_thread=False)  # fmt: skip
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            if not readonly:
                _use_wal(self._conn, timeout)  # readers never wait for a writer
                self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no committed run
            self._conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                migrate(self._conn)
            self._conn.execute("SELECT count(*) FROM runs").fetchone()  # a damaged file fails here, not later

    # ----- connection ------------------------------------------------------------------------
    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Any failure of the file as a one-line ``RunsDatabaseError``."""
        try:
            yield
        except RunsDatabaseError:
            self.close()
            raise
        except NewerSchema as exc:
            self.close()
            raise RunsDatabaseError(self.path, f"{exc}; upgrade Denoise Studio, or use another file "
                                    f"(--runs-db or ${DATABASE_ENV})", "newer") from None  # fmt: skip
        except sqlite3.Error as exc:
            raise RunsDatabaseError(self.path, *_explain(exc, self.timeout, self.path)) from None
        except OSError as exc:
            self.close()
            raise RunsDatabaseError(self.path, f"cannot be opened ({exc.strerror or exc})", "unopenable") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (the write lock is taken at once, so it never fails half-way on a lock)."""
        with self._errors():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RunsDatabaseError(self.path, "is closed")
        return self._conn

    # ----- writing ---------------------------------------------------------------------------
    def add_run(self, **values) -> int:
        """A new run; ``values`` are ``RunRecord`` fields (dicts for the JSON ones).  Returns its id."""
        values = _to_columns({"updated": time.time(), **values})
        names = ", ".join(values)
        with self._write() as conn:
            cursor = conn.execute(f"INSERT INTO runs ({names}) VALUES ({', '.join('?' * len(values))})",
                                  list(values.values()))  # fmt: skip
            return int(cursor.lastrowid)

    def update_run(self, run_id: int, **values) -> None:
        """Set some of a run's fields; ``curve=(positions, losses, stride)`` stores its thinned curve."""
        with self._write() as conn:
            self._update(conn, run_id, values)

    def add_epoch(self, run_id: int, epoch: dict, **values) -> None:
        """An epoch's logs (``loss``, ``val_loss``, ``seconds``, ...) and the run's fields that change with it,
        in one transaction."""
        row = {k: _plain(epoch.get(k)) for k in _EPOCH_COLUMNS}
        with self._write() as conn:
            conn.execute(f"INSERT OR REPLACE INTO epochs (run_id, {', '.join(row)}) "
                         f"VALUES (?, {', '.join('?' * len(row))})", [run_id, *row.values()])  # fmt: skip
            self._update(conn, run_id, values)

    def heartbeat(self, run_id: int) -> None:
        now = time.time()
        with self._write() as conn:
            conn.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (now, run_id))

    def delete(self, run_ids: Iterable[int]) -> int:
        """Forget runs (their epochs too); returns how many there were.  Files are left alone."""
        ids = list(run_ids)
        with self._write() as conn:
            return sum(conn.execute("DELETE FROM runs WHERE id = ?", (i,)).rowcount for i in ids)

    def reap(self) -> list[int]:
        """Record as crashed the running runs whose process died; returns their ids."""
        dead = [r.id for r in self._select("WHERE status = 'running'", ()) if r.status == "crashed"]
        if dead:
            with self._write() as conn:
                for run_id in dead:
                    conn.execute("UPDATE runs SET status = 'crashed', updated = ? WHERE id = ? AND status = 'running'",
                                 (time.time(), run_id))  # fmt: skip
        return dead

    def _update(self, conn: sqlite3.Connection, run_id: int, values: dict) -> None:
        if "curve" in values:
            values = dict(values)
            x, y, stride = values.pop("curve")
            conn.execute("INSERT OR REPLACE INTO curves (run_id, stride, points) VALUES (?, ?, ?)",
                         (run_id, stride, pack(x, y)))  # fmt: skip
        values = _to_columns({"updated": time.time(), **values})
        assignments = ", ".join(f"{name} = ?" for name in values)
        conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])

    # ----- reading ---------------------------------------------------------------------------
    def runs(self, *, status: str | None = None, dataset: str | None = None, since: float | None = None,
             changed_since: float | None = None, sweep: int | None = None,
             limit: int | None = None) -> list[RunRecord]:  # fmt: skip
        """Runs newest first, without their epochs and curves (a table of 10,000 reads in well under a second).

        ``status`` filters by the status shown (``crashed`` included), ``dataset`` by name, ``since`` by start
        time, ``changed_since`` by the time of the last write (what a view polls for), ``sweep`` by sweep id.
        """
        where, params = [], []
        if status is not None:
            where.append("status = 'running'" if status in ("running", "crashed") else "status = ?")
            params += [] if status in ("running", "crashed") else [status]
        filters = (("dataset", dataset, "="), ("started", since, ">="), ("updated", changed_since, ">"),
                   ("sweep_id", sweep, "="))  # fmt: skip
        for column, value, op in filters:
            if value is not None:
                where.append(f"{column} {op} ?")
                params.append(value)
        sql = ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY started DESC, id DESC"
        if status in ("running", "crashed"):
            found = [r for r in self._select(sql, params) if r.status == status]
            return found[:limit] if limit else found
        return self._select(sql + (" LIMIT ?" if limit else ""), params + ([limit] if limit else []))

    def count(self) -> int:
        with self._errors():
            return int(self._connection().execute("SELECT count(*) FROM runs").fetchone()[0])

    def get(self, run_id: int) -> RunRecord | None:
        """A run with its epochs and curve, or None."""
        found = self._select("WHERE id = ?", (run_id,))
        if not found:
            return None
        run = found[0]
        with self._errors():
            conn = self._connection()
            rows = conn.execute(f"SELECT {', '.join(_EPOCH_COLUMNS)} FROM epochs WHERE run_id = ? ORDER BY epoch",
                                (run_id,)).fetchall()  # fmt: skip
            curve = conn.execute("SELECT stride, points FROM curves WHERE run_id = ?", (run_id,)).fetchone()
        run.epochs = [dict(zip(_EPOCH_COLUMNS, row, strict=True)) for row in rows]
        if curve is not None:
            run.curve_stride = curve[0]
            run.curve_x, run.curve_loss = unpack(curve[1])
        return run

    def followers(self, uuid: str) -> list[RunRecord]:
        """Runs that repeated (``rerun_of``) or trained further (``resumed_from``) the run ``uuid``, oldest first."""
        return self._select("WHERE rerun_of = ? OR resumed_from = ? ORDER BY started, id", (uuid, uuid))

    # ----- sweeps ----------------------------------------------------------------------------
    def add_sweep(self, *, grid_key: str, grid: dict, output_dir: str, command: str | None = None) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO sweeps (started, grid_key, grid, output_dir, command) VALUES (?, ?, ?, ?, ?)",
                (time.time(), grid_key, json.dumps(grid), output_dir, command),
            )
            return int(cursor.lastrowid)

    def find_sweep(self, grid_key: str) -> int | None:
        """The newest sweep of this grid (``engine.runs.grid``'s key), or None."""
        with self._errors():
            row = self._connection().execute("SELECT id FROM sweeps WHERE grid_key = ? ORDER BY id DESC LIMIT 1",
                                              (grid_key,)).fetchone()  # fmt: skip
        return None if row is None else int(row[0])

    def sweep_exists(self, sweep_id: int) -> bool:
        with self._errors():
            return self._connection().execute("SELECT 1 FROM sweeps WHERE id = ?", (sweep_id,)).fetchone() is not None

    def sweep_cells(self, sweep_id: int) -> dict[str, RunRecord]:
        """Each cell's newest run in the sweep, by cell key, in the order the cells first ran."""
        latest: dict[str, RunRecord] = {}
        for run in self._select("WHERE sweep_id = ? ORDER BY id", (sweep_id,)):
            latest[run.cell or str(run.id)] = run
        return latest

    def find_uuid(self, uuid: str) -> int | None:
        with self._errors():
            row = self._connection().execute("SELECT id FROM runs WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else int(row[0])

    def _select(self, tail: str, params) -> list[RunRecord]:
        now = time.time()
        with self._errors():
            rows = self._connection().execute(f"SELECT {', '.join(_ROW_COLUMNS)} FROM runs {tail}", params).fetchall()
        parsed: dict[str, dict] = {}  # most runs share their versions and machine: each text is parsed once
        return [_record(row, now, parsed) for row in rows]


def _record(row: tuple, now: float, parsed: dict[str, dict]) -> RunRecord:
    values = dict(zip(_ROW_COLUMNS, row, strict=True))
    for name in _JSON_COLUMNS:
        text = values[name] or "{}"
        if text not in parsed:
            try:
                value = json.loads(text)
            except ValueError:
                value = {}
            parsed[text] = value if isinstance(value, dict) else {}
        values[name] = dict(parsed[text])  # a run's own copy
    run = RunRecord(**values)
    if run.status == "running" and has_crashed(
        host=run.host, pid=run.pid, identity=run.process, heartbeat=run.heartbeat, now=now
    ):
        run.status = "crashed"
    return run


def _to_columns(values: dict) -> dict:
    """Field values as column values: JSON text for the dicts."""
    out = {}
    for name, value in values.items():
        if name in _JSON_COLUMNS:
            out[name] = json.dumps(value, default=_json_default)
        elif name in _ROW_COLUMNS:
            out[name] = _plain(value)
        else:
            raise TypeError(f"a run has no field {name!r}")
    return out


def _plain(value):
    """NumPy scalars as Python numbers (sqlite3 and json take only those)."""
    return value.item() if isinstance(value, np.generic) else value


def _json_default(value):
    """What JSON cannot hold as itself: NumPy scalars as numbers, anything else (a path) as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode (it stays so, in the file).  Switching takes the exclusive lock and SQLite does not
    call the busy handler for it: two processes creating the database at once would have the loser fail at once
    ("database is locked"), so the wait for the other's lock is ours, bounded by ``timeout`` like every write's."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return  # else (a lock held elsewhere) SQLite leaves the mode as it was
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError("database is locked")
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _explain(exc: sqlite3.Error, timeout: float, path: Path) -> tuple[str, str]:
    """What an SQLite error means for the user, with what to do, and its kind (``PROBLEM_KINDS``)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"locked by another program for over {timeout:g} s; try again when it is done", "locked"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"damaged or not a runs database ({exc}); move it aside (e.g. to {path.name}.broken) to start a new "
                "one"), "damaged"  # fmt: skip
    if "readonly" in text or "read-only" in text:
        return ("cannot be written (read-only file or disk); use another file with --runs-db or $" + DATABASE_ENV,
                "read-only")  # fmt: skip
    if "full" in text:
        return "the disk is full; free some space", "full"
    if "unable to open" in text:
        return "cannot be opened (no such folder, or no permission)", "unopenable"
    return f"{type(exc).__name__}: {exc}", "other"
