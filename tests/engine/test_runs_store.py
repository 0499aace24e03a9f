"""The runs database as a file: schema versions, what a damaged, newer or locked file says, crashed runs, the
thinned curve, and where the file is."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import numpy as np
import pytest

from engine.runs import DATABASE_ENV, RunsDatabaseError, RunStore, database_path
from engine.runs.curve import ThinnedCurve, pack, unpack
from engine.runs.liveness import STALE_AFTER_S, host_name, process_identity
from engine.runs.schema import SCHEMA_VERSION

SCHEMA_1 = """  -- the runs database as issue 27 first released it (frozen: the migration test starts here)
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

RUN = {"uuid": "u-1", "source": "cli", "status": "running", "started": 1.0, "settings": {"lr": 0.001},
       "versions": {"numpy": "2"}, "machine": {"host": "h"}}  # fmt: skip


def test_a_new_database_is_at_the_current_schema_in_wal_mode(runs_db):
    with RunStore(runs_db) as store:
        assert store.count() == 0
    conn = sqlite3.connect(runs_db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_database_of_the_first_schema_is_migrated_and_keeps_its_runs(runs_db):
    conn = sqlite3.connect(runs_db)
    conn.executescript(SCHEMA_1)
    conn.execute("INSERT INTO runs (uuid, source, status, started, updated, settings, versions, machine, layers, "
                 "test_mse) VALUES ('old', 'cli', 'finished', 5.0, 5.0, '{\"lr\": 0.01}', '{}', '{}', "
                 "'784:10:relu,784:sigmoid', 0.02)")  # fmt: skip
    conn.execute("INSERT INTO epochs (run_id, epoch, val_loss) VALUES (1, 0, 0.03)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with RunStore(runs_db) as store:
        old = store.get(1)
        assert (old.uuid, old.status, old.layers, old.test_mse, old.settings) == (
            "old", "finished", "784:10:relu,784:sigmoid", 0.02, {"lr": 0.01})
        assert old.epochs[0]["val_loss"] == 0.03 and old.sweep_id is None and old.cell is None
        sweep = store.add_sweep(grid_key="k", grid={"cells": []}, output_dir="/tmp")  # what schema 2 added
        new = store.add_run(**{**RUN, "sweep_id": sweep, "cell": "lr=0.1 seed=0"})
        assert store.sweep_cells(sweep)["lr=0.1 seed=0"].id == new == 2
        assert store.find_sweep("k") == sweep
    assert sqlite3.connect(runs_db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


def test_a_database_from_a_newer_version_is_refused_in_one_line(runs_db):
    RunStore(runs_db).close()
    conn = sqlite3.connect(runs_db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RunsDatabaseError) as caught:
        RunStore(runs_db)
    message = str(caught.value)
    assert "\n" not in message and str(runs_db) in message and "newer Denoise Studio" in message
    assert sqlite3.connect(runs_db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1  # untouched


def test_a_damaged_file_is_refused_in_one_line_and_left_as_it_was(runs_db):
    junk = b"this is not a database at all " * 200
    runs_db.write_bytes(junk)
    with pytest.raises(RunsDatabaseError) as caught:
        RunStore(runs_db)
    message = str(caught.value)
    assert "\n" not in message and "damaged" in message and "move it aside" in message
    assert runs_db.read_bytes() == junk


def test_a_folder_is_not_a_database(tmp_path):
    with pytest.raises(RunsDatabaseError, match="is a folder"):
        RunStore(tmp_path)


def test_a_database_locked_too_long_says_so(runs_db):
    RunStore(runs_db).close()
    holder = sqlite3.connect(runs_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with RunStore(runs_db, timeout=0.05) as store, pytest.raises(RunsDatabaseError, match="locked by another"):
            store.add_run(**RUN)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _new_file_written_by_another_program(path) -> sqlite3.Connection:
    """A database another program created (not yet in WAL mode) and is writing to, as when it is switching the new
    file to WAL too: its write lock blocks our switch, and SQLite gives up at once there (no busy handler)."""
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE theirs (x)")
    writer.execute("BEGIN IMMEDIATE")
    return writer


def test_a_new_database_opens_once_another_program_lets_go_of_it(runs_db):
    """Two programs creating the database at once: the switch to WAL waits for the other's lock (SQLite's busy
    timeout does not cover it) instead of failing at once as "locked"."""
    writer = _new_file_written_by_another_program(runs_db)
    letting_go = threading.Timer(0.2, writer.execute, ["COMMIT"])  # the other program, a moment later
    letting_go.start()
    try:
        with RunStore(runs_db, timeout=60) as store:
            assert store.add_run(**RUN) == 1
    finally:
        letting_go.join()
        writer.close()
    assert sqlite3.connect(runs_db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_database_held_too_long_says_so(runs_db):
    writer = _new_file_written_by_another_program(runs_db)
    try:
        with pytest.raises(RunsDatabaseError, match="locked by another"):
            RunStore(runs_db, timeout=0.05)
    finally:
        writer.close()


def test_runs_are_listed_newest_first_and_filtered(runs_db):
    with RunStore(runs_db) as store:
        for i, (status, dataset) in enumerate([("finished", "mnist"), ("failed", "fashion_mnist"),
                                               ("finished", "fashion_mnist")]):  # fmt: skip
            store.add_run(**{**RUN, "uuid": f"u{i}", "status": status, "dataset": dataset, "started": 100.0 + i})
        assert [r.uuid for r in store.runs()] == ["u2", "u1", "u0"]
        assert [r.uuid for r in store.runs(status="finished")] == ["u2", "u0"]
        assert [r.uuid for r in store.runs(dataset="fashion_mnist", limit=1)] == ["u2"]
        assert [r.uuid for r in store.runs(since=100.5)] == ["u2", "u1"]
        assert store.runs()[0].settings == {"lr": 0.001}


def _running(store: RunStore, uuid: str, **where) -> int:
    return store.add_run(**{**RUN, "uuid": uuid, **where})


def test_a_running_run_whose_process_died_shows_as_crashed(runs_db):
    now = time.time()
    with RunStore(runs_db) as store:
        me = _running(store, "me", host=host_name(), pid=os.getpid(), process=process_identity(), heartbeat=now - 1e6)
        gone = _running(store, "gone", host=host_name(), pid=os.getpid(), process="linux:another-boot:1",
                        heartbeat=now)  # fmt: skip
        far_alive = _running(store, "far-alive", host="another-host", pid=1, process="pid", heartbeat=now)
        far_dead = _running(store, "far-dead", host="another-host", pid=1, process="pid",
                            heartbeat=now - STALE_AFTER_S - 1)  # fmt: skip
        status = {r.id: r.status for r in store.runs()}
        assert status == {me: "running", gone: "crashed", far_alive: "running", far_dead: "crashed"}
        assert [r.id for r in store.runs(status="crashed")] == [far_dead, gone]
        assert sorted(store.reap()) == sorted([gone, far_dead])
    raw = dict(sqlite3.connect(runs_db).execute("SELECT uuid, status FROM runs").fetchall())
    assert raw == {"me": "running", "gone": "crashed", "far-alive": "running", "far-dead": "crashed"}


def test_the_default_file_is_in_the_user_data_folder_unless_told(monkeypatch, tmp_path):
    monkeypatch.delenv(DATABASE_ENV)
    default = database_path()
    assert default.name == "runs.db" and "denoise-studio" in str(default)
    monkeypatch.setenv(DATABASE_ENV, str(tmp_path / "env.db"))
    assert database_path() == tmp_path / "env.db"
    assert database_path(tmp_path / "flag.db") == tmp_path / "flag.db"


def test_the_suite_records_into_a_file_of_its_own(runs_db, tmp_path_factory):
    assert database_path() == runs_db
    assert runs_db.is_relative_to(tmp_path_factory.getbasetemp())


def test_the_curve_stays_bounded_and_every_batch_counts():
    curve = ThinnedCurve(max_points=64)
    losses = np.random.default_rng(0).random(10_007)
    for i, loss in enumerate(losses):
        curve.add((i + 1) / 1000, float(loss))
    x, y = curve.points()
    assert len(x) <= 65 and curve.stride == 256
    assert np.all(np.diff(x) > 0) and x[-1] == pytest.approx(10.007)
    full = len(losses) // curve.stride * curve.stride  # the points before the partial one
    assert np.allclose(y[:-1], losses[:full].reshape(-1, curve.stride).mean(axis=1))
    assert y[-1] == pytest.approx(losses[full:].mean())
    back_x, back_y = unpack(pack(x, y))
    assert np.allclose(back_x, x, rtol=1e-6) and np.allclose(back_y, y, rtol=1e-6)


def test_a_short_curve_keeps_every_batch():
    curve = ThinnedCurve()
    for i in range(10):
        curve.add(i / 10, float(i))
    x, y = curve.points()
    assert curve.stride == 1 and list(y) == list(range(10))


def test_a_reader_never_makes_a_database_where_there_is_none(runs_db):
    """A list read that began before the file was moved aside opened it after: it must not leave a new, empty
    database in the moved file's place (the Runs tab's move-aside test caught one there in CI)."""
    with pytest.raises(RunsDatabaseError) as refused:
        RunStore(runs_db, create=False)
    assert refused.value.kind == "missing" and not runs_db.exists()
    RunStore(runs_db).close()  # a writer makes it
    with RunStore(runs_db, create=False) as store:
        assert store.count() == 0
