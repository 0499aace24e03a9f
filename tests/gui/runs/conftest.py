"""Runs recorded for the Runs tab's tests: real ones (the recorder on the Trainer, a few milliseconds each)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nn import build_mlp
from engine.runs import RunRecorder, RunStore


def record_run(database, arrays, widths=(784, 8, 784), *, lr=1e-3, epochs=2, seed=0, save_to=None, source="cli",
               skip=None, **training):  # fmt: skip
    """Train a small model on ``arrays`` with the recorder on, as ``denoise-studio train`` would (the model saved to
    ``save_to`` and recorded on the run); returns (run id, the trained model).  ``skip``: the model's skip path;
    ``training``: more ``TrainConfig`` settings (``noise``, ``noise_weighting``...)."""
    recorder = RunRecorder(database, source=source)
    model = build_mlp(list(widths), ["relu"] * (len(widths) - 2) + ["sigmoid"], seed=seed, skip=skip)
    model.metadata["dataset"] = {"name": "mnist", "train_size": len(arrays[0]), "test_size": len(arrays[1])}
    model.fit(arrays[0], arrays[1], epochs=epochs, batch_size=16, lr=lr, seed=seed, callbacks=[recorder], **training)
    if save_to is not None:
        model.save(save_to)
        recorder.saved(save_to)
    return recorder.run_id, model


@pytest.fixture
def recorded(runs_db, tiny_arrays):
    """A function recording one run into this test's database (see ``record_run``)."""

    def record(**kwargs):
        return record_run(runs_db, tiny_arrays, **kwargs)

    return record


@pytest.fixture
def runs_tab(qtbot, window):
    """The window on its Runs tab, once the tab has read the database."""
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=10000):
        window.tabs.setCurrentWidget(tab)
    return tab


def stored(database, run_id):
    with RunStore(database) as store:
        return store.get(run_id)


def curve_lengths(run) -> tuple[int, int]:
    return len(run.curve_x), sum(1 for e in run.epochs if e.get("val_loss") is not None and np.isfinite(e["val_loss"]))
