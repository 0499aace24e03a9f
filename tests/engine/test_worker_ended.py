"""A training step's worker process that ends in the middle of a run (killed, out of memory): the run goes on with
the same numbers on one core, and the run's watchers hear why it is slower — in the CLI and the app alike."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from engine.callbacks import Callback, PrintNotes
from engine.nn import build_mlp
from engine.training import TrainConfig, Trainer
from tests.engine.worker_faults import children

CONFIG = TrainConfig(epochs=2, batch_size=32, lr=0.003, noise=0.4, seed=2)


class KillWorker(Callback):
    """Kills the step's worker process (SIGKILL, as the kernel's out-of-memory killer does) after batch 3."""

    def __init__(self, before: set[int]) -> None:
        self.before = before
        self.killed: list[int] = []

    def on_batch_end(self, batch, logs):
        if logs["epoch"] == 0 and batch == 3:
            for pid in children() - self.before:
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)


class Hear(Callback):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def on_note(self, text):
        self.notes.append(text)


def _images() -> np.ndarray:
    return (np.random.default_rng(5).random((320, 784)) > 0.6).astype(np.float32)


def _serial_params() -> np.ndarray:
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    Trainer(model, CONFIG, parallel=False).fit(_images())
    return model.params


@pytest.mark.parametrize("parallel", ["units", "processes"])
def test_a_worker_killed_mid_run_is_told_to_the_runs_watchers_and_the_run_goes_on(parallel):
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    killer, hear = KillWorker(children()), Hear()
    trainer = Trainer(model, CONFIG, [hear, killer], parallel=parallel)
    trainer.fit(_images())
    assert len(killer.killed) == 1
    assert len(hear.notes) == 1  # said once, when found
    assert "one core" in hear.notes[0] and "SIGKILL" in hear.notes[0] and "memory" in hear.notes[0]
    assert len(trainer.history.epochs) == CONFIG.epochs
    np.testing.assert_allclose(model.params, _serial_params(), rtol=1e-3, atol=1e-5)  # it trained on


def test_without_a_watcher_that_hears_notes_the_note_is_a_warning():
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    with pytest.warns(RuntimeWarning, match="one core.*SIGKILL"):
        Trainer(model, CONFIG, [KillWorker(children())], parallel="units").fit(_images())


def test_the_cli_prints_the_note_between_its_progress_lines(capsys):
    trainer = Trainer(build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=1), CONFIG, [PrintNotes()])
    trainer.note("training goes on on one core")
    assert capsys.readouterr().err == "note: training goes on on one core\n"
