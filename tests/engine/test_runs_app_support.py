"""What the app's Runs view needs from the runs database: a problem's kind, a damaged file moved aside (nothing
overwritten or deleted), a model saved after its run recorded on it, and a run's network built again as it began."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.nn import build_mlp
from engine.runs import RunRecorder, RunsDatabaseError, RunStore
from engine.runs.again import starting_model
from engine.runs.aside import move_aside
from engine.runs.files import file_sha256
from engine.runs.recorder import record_saved_model
from engine.runs.schema import SCHEMA_VERSION

X = np.random.default_rng(0).integers(0, 256, (80, 784), dtype=np.uint8)


def trained(database, seed=3):
    recorder = RunRecorder(database, source="cli")
    model = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=seed)
    model.fit(X[:64], X[64:], epochs=1, batch_size=16, seed=seed, callbacks=[recorder])
    return recorder.run_id, model


def test_each_problem_has_a_kind_a_view_can_act_on(runs_db, tmp_path):
    runs_db.write_bytes(b"garbage " * 500)
    with pytest.raises(RunsDatabaseError) as damaged:
        RunStore(runs_db)
    assert damaged.value.kind == "damaged"
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RunsDatabaseError) as refused:
        RunStore(newer)
    assert refused.value.kind == "newer"
    with pytest.raises(RunsDatabaseError) as folder:
        RunStore(tmp_path)
    assert folder.value.kind == "unopenable"
    locked = tmp_path / "locked.db"
    RunStore(locked).close()
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")  # another program, outside WAL mode
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RunsDatabaseError) as busy:
            RunStore(locked, timeout=0.05)
        assert busy.value.kind == "locked"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_damaged_database_moves_aside_with_its_logs_and_never_over_another_file(runs_db):
    runs_db.write_bytes(b"first broken")
    Path(f"{runs_db}-wal").write_bytes(b"its log")
    first = move_aside(runs_db)
    assert first == runs_db.with_name("runs.db.broken") and first.read_bytes() == b"first broken"
    assert Path(f"{first}-wal").read_bytes() == b"its log"
    assert not runs_db.exists() and not Path(f"{runs_db}-wal").exists()  # a new database starts clean
    runs_db.write_bytes(b"second broken")
    second = move_aside(runs_db)
    assert second.name == "runs.db.broken-2" and second.read_bytes() == b"second broken"
    assert first.read_bytes() == b"first broken"  # the earlier one is kept as it was
    with pytest.raises(FileNotFoundError):
        move_aside(runs_db)


def test_a_model_saved_after_its_run_is_recorded_on_it_only_with_the_weights_it_ended_with(runs_db, tmp_path):
    run_id, model = trained(runs_db)
    path = tmp_path / "kept.npz"
    model.save(path)
    assert record_saved_model(model, path, runs_db) == run_id
    with RunStore(runs_db) as store:
        run = store.get(run_id)
    assert run.model_path == os.path.abspath(path) and run.model_sha256 == file_sha256(path)
    model.params[:4] = 0.5  # changed after the run: another model
    model.save(tmp_path / "changed.npz")
    assert record_saved_model(model, tmp_path / "changed.npz", runs_db) is None
    with RunStore(runs_db) as store:
        assert store.get(run_id).model_path == os.path.abspath(path)
    fresh = build_mlp([784, 6, 784], ["relu", "sigmoid"])  # trained by no recorded run
    fresh.save(tmp_path / "fresh.npz")
    assert record_saved_model(fresh, tmp_path / "fresh.npz", runs_db) is None


def test_saving_makes_no_database_when_there_is_none(tmp_path):
    _, model = trained(tmp_path / "elsewhere.db")
    model.save(tmp_path / "m.npz")
    missing = tmp_path / "none" / "runs.db"
    assert record_saved_model(model, tmp_path / "m.npz", missing) is None
    assert not missing.parent.exists()


def test_a_runs_network_is_built_again_with_its_seed_and_says_whether_it_began_so(runs_db):
    run_id, _ = trained(runs_db, seed=3)
    with RunStore(runs_db) as store:
        run = store.get(run_id)
    model, same = starting_model(run)
    assert same is True and [layer.n_out for layer in model.layers] == [6, 784]
    np.testing.assert_array_equal(model.params, build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=3).params)
    run.init_sha256 = "0" * 64  # a run that began from other weights (a model made elsewhere)
    assert starting_model(run)[1] is False
    run.settings.pop("layer_specs")
    with pytest.raises(ValueError, match="recorded no layers"):
        starting_model(run)


def test_a_gated_runs_network_is_built_again_with_its_gate(runs_db):
    recorder = RunRecorder(runs_db, source="cli")
    model = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=5, skip="gate")
    model.fit(X[:64], X[64:], epochs=1, batch_size=16, seed=5, noise=(0.0, 1.0), noise_weighting=0.05,
              callbacks=[recorder])  # fmt: skip
    with RunStore(runs_db) as store:
        run = store.get(recorder.run_id)
    assert run.settings["skip"] == "gate" and run.settings["noise_weighting"] == 0.05
    again, same = starting_model(run)
    assert again.skip.kind == "gate" and same is True  # the very weights the run began with, the gate's too
