"""Recording a run as it happens (a callback on the Trainer loop): what is kept, how a run ends, and that a
broken database never stops training."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.nn import build_mlp
from engine.runs import DATABASE_ENV, RunRecorder, RunStore
from engine.runs.files import weights_sha256
from engine.runs.recorder import METADATA_KEY
from engine.training import TrainingDiverged

FIT = {"epochs": 3, "batch_size": 8, "seed": 0}


@pytest.fixture
def images():
    """(x_train (64, 784), x_val (16, 784)) uint8."""
    x = np.random.default_rng(0).integers(0, 256, (80, 784), dtype=np.uint8)
    return x[:64], x[64:]


def _model():
    return build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)


def _warnings() -> tuple[list[str], object]:
    said: list[str] = []
    return said, said.append


def test_a_run_is_kept_with_its_settings_epochs_curve_and_scores(images, runs_db):
    model = _model()
    start = weights_sha256(model.params)
    recorder = RunRecorder(source="test")
    model.fit(*images, callbacks=[recorder], **FIT)
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.status == recorder.status == "finished" and run.source == "test" and run.ended >= run.started
    assert run.layers == "784:8:relu,784:sigmoid"
    assert {k: run.settings[k] for k in ("epochs", "batch_size", "lr", "optimizer", "noise", "noise_kind", "seed",
                                         "train_size")} == {"epochs": 3, "batch_size": 8, "lr": 0.001,
                                                            "optimizer": "adam", "noise": 0.1,
                                                            "noise_kind": "gaussian", "seed": 0,
                                                            "train_size": 64}  # fmt: skip
    assert set(run.versions) == {"app", "python", "numpy", "blas"} and run.machine["cores"] >= 1
    history = model.metadata["history"]["epochs"]
    assert [e["epoch"] for e in run.epochs] == [0, 1, 2]
    assert [e["val_loss"] for e in run.epochs] == pytest.approx([e["val_loss"] for e in history])
    assert run.epochs_done == 3 and run.seconds > 0
    assert run.test_mse == pytest.approx(history[-1]["val_mse"]) and run.scores["level"] == 0.1
    assert len(run.curve_x) == 24 and run.curve_stride == 1  # 8 batches an epoch, all kept
    assert run.curve_x[-1] == pytest.approx(3.0)
    assert run.curve_loss == pytest.approx(model.metadata["history"]["batch_loss"], rel=1e-6)
    assert run.init_sha256 == start and run.weights_sha256 == weights_sha256(model.params) != start
    assert model.metadata[METADATA_KEY] == run.uuid


def test_a_long_runs_curve_is_thinned_to_its_bound_and_keeps_its_stride(images, runs_db):
    recorder = RunRecorder(source="test")
    model = _model()
    model.fit(*images, callbacks=[recorder], epochs=20, batch_size=1)  # 1,280 batches
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.curve_stride == 2 and len(run.curve_x) == 640 and run.curve_x[-1] == pytest.approx(20.0)
    losses = np.array(model.metadata["history"]["batch_loss"])
    assert run.curve_loss == pytest.approx(losses.reshape(-1, 2).mean(axis=1), rel=1e-5)


def test_training_further_records_the_run_it_continued(images, runs_db):
    model = _model()
    first, second = RunRecorder(source="test"), RunRecorder(source="test")
    model.fit(*images, callbacks=[first], **FIT)
    model.fit(*images, callbacks=[second], **FIT)
    with RunStore() as store:
        assert store.get(first.run_id).resumed_from is None
        assert store.get(second.run_id).resumed_from == store.get(first.run_id).uuid
        assert [r.id for r in store.followers(store.get(first.run_id).uuid)] == [second.run_id]


class StopAt(Callback):
    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, batch, logs):
        if logs["epoch"] == self.epoch and batch == self.batch:
            self.trainer.stop_training = True


class Explode(Callback):
    def on_batch_end(self, batch, logs):
        if batch == 2:
            raise MemoryError("no room")


def test_a_stopped_run_is_stopped_part_way_through_its_epoch(images, runs_db):
    recorder = RunRecorder(source="test")
    _model().fit(*images, callbacks=[StopAt(1, 3), recorder], **FIT)
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.status == "stopped" and run.epochs_done == pytest.approx(1.5)
    assert run.epochs[-1]["progress"] == pytest.approx(0.5)


def test_a_diverged_run_says_why(images, runs_db):
    recorder = RunRecorder(source="test")
    model = build_mlp([784, 8, 784], ["linear", "linear"], seed=0)
    with pytest.raises(TrainingDiverged):
        model.fit(*images, callbacks=[recorder], epochs=20, batch_size=8, lr=50.0, optimizer="sgd")
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.status == "diverged" and "diverged" in run.error


def test_a_run_that_raised_is_failed_with_the_reason(images, runs_db):
    recorder = RunRecorder(source="test")
    with pytest.raises(MemoryError):
        _model().fit(*images, callbacks=[recorder, Explode()], **FIT)
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.status == "failed" and run.error == "MemoryError: no room"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no file can be made (even by root)")
def test_a_database_that_cannot_be_written_is_said_once_and_training_goes_on(images, monkeypatch):
    unwritable = Path("/proc/denoise-studio/runs.db")
    monkeypatch.setenv(DATABASE_ENV, str(unwritable))
    said, warn = _warnings()
    model = _model()
    model.fit(*images, callbacks=[RunRecorder(source="test", warn=warn)], **FIT)
    assert len(model.metadata["history"]["epochs"]) == 3
    assert len(said) == 1 and str(unwritable) in said[0] and "cannot be opened" in said[0]


@pytest.mark.parametrize("problem", ["damaged", "newer", "locked"])
def test_a_database_problem_is_said_once_and_training_goes_on(images, runs_db, problem):
    if problem == "damaged":
        runs_db.write_bytes(b"\0garbage" * 512)
    else:
        RunStore(runs_db).close()
    holder = sqlite3.connect(runs_db, isolation_level=None)
    if problem == "newer":
        holder.execute("PRAGMA user_version = 999")
    elif problem == "locked":
        holder.execute("BEGIN EXCLUSIVE")
    said, warn = _warnings()
    model = _model()
    recorder = RunRecorder(source="test", warn=warn, timeout=0.05)
    model.fit(*images, callbacks=[recorder], **FIT)
    holder.close()
    assert len(model.metadata["history"]["epochs"]) == 3  # trained in full
    assert len(said) == 1 and str(runs_db) in said[0] and "not recorded (training goes on)" in said[0]
    assert recorder.failed_to_record and recorder.status == "finished"


def test_a_database_lost_mid_run_is_said_once(images, runs_db):
    said, warn = _warnings()

    class Lock(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                self.holder = sqlite3.connect(runs_db, isolation_level=None)
                self.holder.execute("BEGIN EXCLUSIVE")  # from the second epoch's write on

    lock = Lock()
    recorder = RunRecorder(source="test", warn=warn, timeout=0.05)
    _model().fit(*images, callbacks=[recorder, lock], **FIT)
    lock.holder.close()
    assert len(said) == 1 and "locked" in said[0]
    with RunStore() as store:
        run = store.get(recorder.run_id)
    assert run.status == "running" and len(run.epochs) == 1  # what was written before stays
