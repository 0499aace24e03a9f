"""Training tab: a real worker thread over model.fit, waited on with signals only."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from engine.nn import build_mlp

TIMEOUT = 20000


@pytest.fixture
def tab(window, tiny_arrays):
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.arrays = tiny_arrays
    tab.form.batch_size.setValue(16)  # 64 images -> 4 batches an epoch
    tab.form.lr.setValue(0.01)
    return tab


def run_to_end(qtbot, tab):
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.start_button.click()


def start_paused(qtbot, tab):
    """Start and ask for a pause at once: the worker stops at its first batch, however fast the machine."""
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):
        tab.start_button.click()
        tab.pause_button.click()


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_tiny_run_plots_every_batch_and_epoch_and_hands_back_the_model(qtbot, window, tab, tiny_mnist):
    tab.arrays = None  # read the IDX files named by $DENOISE_STUDIO_DATA, as the app does
    tab.form.train_size.setValue(64)
    before = window.model.params.copy()
    tab.form.epochs.setValue(3)
    with qtbot.waitSignal(tab.modelTrained, timeout=TIMEOUT) as trained:
        run_to_end(qtbot, tab)
    assert tab.plot.counts() == (3 * 4, 3)
    x, _ = tab.plot.smooth_item.getData()
    assert len(x) == 12  # flushed into the curve item
    assert window.model is trained.args[0]
    assert not np.array_equal(window.model.params, before)
    assert window.dirty
    assert tab.progress.bar.value() == 1000
    assert tab.progress.label.text().startswith("Done · 3 epochs, test loss")
    assert all(view.image().any() for view in tab.strip.recon)
    assert tab.plot.identity_line.isVisible() and tab.plot.pca_line.isVisible()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert "last epoch" in window.status_mse.text()


def test_pause_then_resume_continues(qtbot, tab):
    tab.form.epochs.setValue(500)
    start_paused(qtbot, tab)
    assert tab.pause_button.text() == "Resume"
    paused_at = tab.plot.counts()[0]
    with qtbot.waitSignals([tab.run.resumed, tab.run.batches], timeout=TIMEOUT, order="strict"):
        tab.pause_button.click()
    with qtbot.waitSignal(tab.run.batches, timeout=TIMEOUT):
        pass
    assert tab.plot.counts()[0] > paused_at
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_stop_while_paused_ends_the_run(qtbot, tab):
    tab.form.epochs.setValue(500)
    start_paused(qtbot, tab)
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
    assert not tab.is_running()


def test_stop_mid_run_leaves_a_model_that_predicts(qtbot, window, tab, tiny_arrays):
    tab.form.epochs.setValue(500)
    start_paused(qtbot, tab)  # pins the run mid-way however fast this machine is
    with qtbot.waitSignal(tab.modelTrained, timeout=TIMEOUT), qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
    batches, epochs = tab.plot.counts()
    assert batches >= 1 and epochs < 500
    out = window.model.predict(tiny_arrays[1].astype(np.float32) / 255)
    assert out.shape == (16, 784) and np.all(np.isfinite(out))
    assert tab.progress.label.text().startswith("Stopped")


def test_lr_change_applies_from_the_next_batch(qtbot, tab):
    tab.form.epochs.setValue(500)
    start_paused(qtbot, tab)
    tab.form.lr.setValue(0.0042)
    with qtbot.waitSignal(tab.run.batches, timeout=TIMEOUT) as batch:
        tab.pause_button.click()
    assert batch.args[0][0]["lr"] == 0.0042
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_divergence_shows_a_dialog_and_marks_the_curve(qtbot, window, tab, dialogs_shown):
    window.set_model(build_mlp([784, 16, 784], ["relu", "linear"], seed=0))  # unbounded output can explode
    tab.form.optimizer.setCurrentText("sgd")
    tab.form.lr.setMaximum(1e9)
    tab.form.lr.setValue(1e8)
    tab.form.epochs.setValue(50)
    run_to_end(qtbot, tab)
    assert any("diverged" in text for text in dialogs_shown)
    assert tab.plot.diverged_line.isVisible()
    assert np.all(np.isfinite(window.model.params))  # weights restored by the engine
    assert tab.progress.label.text().startswith("Diverged")


def test_closing_mid_training_stops_the_run_then_closes(qtbot, window, tab, dialogs_shown):
    tab.form.epochs.setValue(500)
    with qtbot.waitSignal(tab.runningChanged, timeout=TIMEOUT):
        tab.start_button.click()
    with qtbot.waitSignal(tab.run.batches, timeout=TIMEOUT):
        pass
    with qtbot.waitSignal(tab.modelTrained, timeout=TIMEOUT) as trained:
        window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    assert not tab.is_running()
    assert window.model is trained.args[0]  # the run's weights were handed back before closing
    assert any("Unsaved model" in text for text in dialogs_shown)  # then the unsaved-model question


def live_objects() -> dict[str, int]:
    """Models and workers still alive after a full garbage collection."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from engine.nn import MLP
    from gui.training_run import TrainingRun
    from gui.training_worker import TrainingWorker

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # run pending deleteLater()
    gc.collect()
    objects = gc.get_objects()
    return {cls.__name__: sum(isinstance(o, cls) for o in objects) for cls in (MLP, TrainingWorker, TrainingRun)}


def test_start_stop_cycles_leave_no_threads_and_no_models_behind(qtbot, tab):
    tab.form.epochs.setValue(500)

    def cycle():
        with qtbot.waitSignal(tab.runningChanged, timeout=TIMEOUT):
            tab.start_button.click()
        with qtbot.waitSignal(tab.run.batches, timeout=TIMEOUT):
            pass
        with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
            tab.stop_button.click()

    cycle()  # BLAS and Qt may start their pools on first use
    baseline, objects = os_threads(), live_objects()
    for _ in range(5):
        cycle()
    assert os_threads() == baseline
    assert live_objects() == objects  # each run's model copy and worker are freed: memory does not grow
    assert not tab.is_running()


def test_missing_data_reports_failure_and_keeps_the_model(qtbot, window, tab, dialogs_shown, monkeypatch, tmp_path):
    tab.arrays = None
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "nowhere"))
    model = window.model
    run_to_end(qtbot, tab)
    assert window.model is model
    assert any("MNIST" in text for text in dialogs_shown)


def test_trained_copy_drops_the_old_scores(window):
    from gui.training_tab import copy_model

    model = window.model
    model.metadata["metrics"] = {"test_mse@0.1": 0.02}
    twin = copy_model(model)
    assert "metrics" not in twin.metadata and "metrics" in model.metadata
    twin.params[:] = 0
    assert model.params.any()  # its own parameter vector
    np.testing.assert_array_equal(twin.layers[0].W, 0)  # layers still view the flat vector
