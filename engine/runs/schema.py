"""The runs database's tables, one migration per schema version.

``PRAGMA user_version`` holds the version a database is at; ``migrate`` brings it up to
``SCHEMA_VERSION`` one step at a time, each step in its own transaction.  A released step is never
edited: a change is a new step at the end.  A database at a version above ``SCHEMA_VERSION`` was
written by a newer Denoise Studio and is refused (``NewerSchema``), never downgraded.

Times are Unix seconds (REAL).  Runs have an ``id`` for people (never reused: AUTOINCREMENT) and a
``uuid`` that model files carry (``metadata["run"]``), so a model trained further knows the run it
came from even in another database.
"""

from __future__ import annotations

import sqlite3

FIRST_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,              -- cli, app, sweep
    status TEXT NOT NULL,              -- running, finished, stopped, diverged, failed, crashed
    started REAL NOT NULL,
    ended REAL,
    updated REAL NOT NULL,             -- last write: readers poll for runs that changed
    heartbeat REAL,                    -- the recording process was alive then
    host TEXT,
    pid INTEGER,
    process TEXT,                      -- the process's identity (engine.runs.liveness), not just its pid
    command TEXT,
    dataset TEXT,
    layers TEXT,                       -- "784:10:relu,784:sigmoid"
    settings TEXT NOT NULL,            -- JSON: every setting of the run
    versions TEXT NOT NULL,            -- JSON: app, Python, NumPy, BLAS
    machine TEXT NOT NULL,             -- JSON: host, OS, CPU, cores
    epochs_done REAL NOT NULL DEFAULT 0,
    seconds REAL,                      -- time spent training
    scores TEXT,                       -- JSON: the final test scores
    test_mse REAL,                     -- scores' MSE, for sorting
    init_sha256 TEXT,                  -- of the weights as training began
    weights_sha256 TEXT,               -- of the weights as training ended
    model_path TEXT,
    model_sha256 TEXT,                 -- of the model file as saved
    checkpoint_path TEXT,
    resumed_from TEXT,                 -- uuid of the run whose weights this one trained further
    rerun_of TEXT,                     -- uuid of the run whose settings this one repeated
    error TEXT
);
CREATE INDEX runs_started ON runs (started);
CREATE INDEX runs_updated ON runs (updated);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE curves (                  -- apart from runs: a table of runs reads no blobs
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    stride INTEGER NOT NULL,           -- batches each point averages
    points BLOB NOT NULL               -- (epoch position, loss) float32 pairs (engine.runs.curve)
);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    loss REAL,
    val_loss REAL,
    val_mse REAL,
    seconds REAL,
    samples_per_s REAL,
    lr REAL,
    progress REAL,                     -- the share of the epoch trained (1.0 unless stopped)
    PRIMARY KEY (run_id, epoch)
);
"""

SWEEPS = """
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    grid_key TEXT NOT NULL,            -- the same cells, settings and output folder: what --resume looks for
    grid TEXT NOT NULL,                -- JSON: the axes, the seeds, the settings every cell shares
    output_dir TEXT NOT NULL,
    command TEXT
);
CREATE INDEX sweeps_key ON sweeps (grid_key);
ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps (id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN cell TEXT;  -- the cell's settings, as engine.runs.grid writes its key
CREATE INDEX runs_sweep ON runs (sweep_id);
"""

MIGRATIONS: tuple[str, ...] = (FIRST_SCHEMA, SWEEPS)
"""Step ``i`` takes a database from version ``i`` to ``i + 1``."""
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(Exception):
    """The database was written by a newer Denoise Studio (its schema version is above ours)."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"it was written by a newer Denoise Studio (schema {found}; this version reads up to {SCHEMA_VERSION})"
        )
        self.found = found


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s database up to ``SCHEMA_VERSION``; returns the version it was at.

    ``conn`` is in autocommit mode (``isolation_level=None``).  Each step takes the write lock
    first and reads the version again under it, so two processes opening a new database at once
    apply every step exactly once.
    """
    found = initial = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise NewerSchema(found)
    while found < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = schema_version(conn)
            if now > SCHEMA_VERSION:
                raise NewerSchema(now)
            if now < SCHEMA_VERSION:  # else another process took this step meanwhile
                for statement in _statements(MIGRATIONS[now]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {now + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        found = schema_version(conn)
    return initial


def _statements(script: str) -> list[str]:
    """A migration's statements, run one by one inside the step's transaction (``executescript`` would
    commit first)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
