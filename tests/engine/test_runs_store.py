"""The runs database as a file: schema versions, what a damaged, newer or locked file says, crashed runs, the
thinned curve, and where the file is."""

from __future__ import annotations

import os
import sqlite3
import time

import numpy as np
import pytest

from engine.runs import DATABASE_ENV, RunsDatabaseError, RunStore, database_path
from engine.runs.curve import ThinnedCurve, pack, unpack
from engine.runs.liveness import STALE_AFTER_S, host_name, process_identity
from engine.runs.schema import SCHEMA_VERSION

RUN = {"uuid": "u-1", "source": "cli", "status": "running", "started": 1.0, "settings": {"lr": 0.001},
       "versions": {"numpy": "2"}, "machine": {"host": "h"}}  # fmt: skip


def test_a_new_database_is_at_the_current_schema_in_wal_mode(runs_db):
    with RunStore(runs_db) as store:
        assert store.count() == 0
    conn = sqlite3.connect(runs_db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


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
