"""Training tab: a real worker thread over model.fit, waited on with signals only.

A test that needs the run still going holds it (``hold_run``, tests/gui/conftest.py) and lets it go when done: a
fast or a loaded machine gives the same run.
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from engine.nn import build_mlp
from engine.run_limits import MAX_LR

TIMEOUT = 20000


def run_to_end(qtbot, tab):
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.start_button.click()


def start_held(qtbot, tab, hold) -> None:
    """Start, and wait until the run has got to ``hold`` and waits there."""
    with qtbot.waitSignal(tab.run.reported, timeout=TIMEOUT, check_params_cb=hold.reached):
        tab.start_button.click()


def start_paused(qtbot, tab, hold_run) -> None:
    """Start with a pause asked before the first batch ends: the run waits at its start until Pause is pressed,
    so it pauses after its first batch, however fast or loaded the machine."""
    hold = hold_run("start")
    start_held(qtbot, tab, hold)
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):
        tab.pause_button.click()
        hold.release()


def stop_held(qtbot, tab, hold) -> None:
    """Press Stop while ``hold`` keeps the run going, then let it go; wait for the run to end."""
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
        hold.release()


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_tiny_run_plots_every_batch_and_epoch_and_hands_back_the_model(qtbot, window, tab, tiny_mnist):
    tab.arrays = None  # read the IDX files named by $DENOISE_STUDIO_DATA, as the app does
    tab.form.train_size.setValue(64)
    before = window.state.model.params.copy()
    tab.form.epochs.setValue(3)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT) as trained:
        run_to_end(qtbot, tab)
    assert tab.plot.counts() == (3 * 4, 3)
    x, _ = tab.plot.smooth_item.getData()
    assert len(x) == 12  # flushed into the curve item
    assert window.state.model is trained.args[0].model
    assert not np.array_equal(window.state.model.params, before)
    assert window.state.dirty
    assert tab.progress.bar.value() == 1000
    assert tab.progress.label.text().startswith("Done · 3 epochs, test loss")
    assert all(view.image().any() for view in tab.strip.recon)
    qtbot.waitUntil(lambda: not tab.pca_jobs.is_busy(), timeout=TIMEOUT)  # PCA's level comes from a job beside the run
    assert tab.plot.identity_line.isVisible() and tab.plot.pca_line.isVisible()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    # the new model's score at the slider's σ, on the test set, computed off the GUI thread (it may be in already)
    qtbot.waitUntil(lambda: window.status_mse.text() and "…" not in window.status_mse.text(), timeout=TIMEOUT)
    assert window.status_mse.text().startswith("test MSE 0.") and "at σ 0.10" in window.status_mse.text()


def test_pause_then_resume_continues(qtbot, tab, hold_run):
    tab.form.epochs.setValue(5)
    later = hold_run(1)  # after resuming, the run goes on to the end of epoch 2 and waits there
    start_paused(qtbot, tab, hold_run)
    assert tab.pause_button.text() == "Resume"
    paused_at = tab.plot.counts()[0]
    with qtbot.waitSignals([tab.run.resumed, tab.run.batches, tab.run.reported], timeout=TIMEOUT, order="simple",
                           check_params_cbs=[None, None, later.reached]):  # fmt: skip
        tab.pause_button.click()
    assert paused_at == 1 and tab.plot.counts() == (8, 2)  # then every batch of two epochs
    stop_held(qtbot, tab, later)


def test_stop_while_paused_ends_the_run(qtbot, window, tab, hold_run):
    tab.form.epochs.setValue(5)
    start_paused(qtbot, tab, hold_run)
    assert window.state.training  # the app knows a run trains: work that can wait, waits (the status bar's baselines)
    headlines: list[str] = []
    tab.run.resumed.connect(lambda: headlines.append(tab.progress.label.text()))  # (after the tab has seen it)
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
    assert not tab.is_running() and not window.state.training
    assert headlines == ["Stopping…"]  # (not the running headline of before the pause, back as the run goes on)


@pytest.mark.parametrize(
    ("done", "epochs", "headline"),
    [(2.8, 10, "Stopped at 2.8 of 10 epochs"), (3.0186, 10, "Stopped at 3.02 of 10 epochs"),
     (3.0027, 10, "Stopped at 3.01 of 10 epochs"), (2.9963, 10, "Stopped at 2.99 of 10 epochs"),
     (0.25, 1, "Stopped at 0.2 of 1 epoch"), (3.0, 10, "Stopped after epoch 3 of 10")],
)  # fmt: skip
def test_a_stopped_run_is_never_said_to_have_done_a_whole_epoch_it_did_not(done, epochs, headline):
    """MNIST at batch 128 is 469 batches an epoch: one batch is 0.2 % of it, and "3.00" or "100% into epoch 3"
    would claim an epoch not finished (or one not begun)."""
    from gui.training.tab import part_way_share, verdict_headline
    from gui.training.worker import RunResult

    last = {"epoch": int(done) - (done % 1 == 0), "progress": done % 1 or 1.0}  # (a whole epoch: the last one's end)
    assert verdict_headline(RunResult("stopped", None, last_epoch=last), epochs) == headline
    assert part_way_share(0.0027) == "1%" and part_way_share(0.9963) == "99%" and part_way_share(0.25) == "25%"


def test_the_key_focus_stays_in_the_button_row_as_a_run_starts_and_stops(qtbot, window, tab, hold_run):
    """Start and Stop turn themselves off as they are pressed; Qt then gave the key focus to the next widget that
    takes it, far down the page, and a page that scrolls (QT_SCALE_FACTOR=2 on 1920×1080) scrolled the headline out
    of view (seen under a real X server)."""
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    tab.form.epochs.setValue(5)
    tab.start_button.setFocus()
    qtbot.waitUntil(tab.start_button.hasFocus)
    start_paused(qtbot, tab, hold_run)
    assert QApplication.focusWidget() is tab.pause_button
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.setFocus()
        tab.stop_button.click()
        assert QApplication.focusWidget() is None  # (nothing to press until the run ends: nowhere far down)
    assert QApplication.focusWidget() is tab.start_button


def test_stop_mid_run_leaves_a_model_that_predicts(qtbot, window, tab, tiny_arrays, hold_run):
    tab.form.epochs.setValue(5)
    start_paused(qtbot, tab, hold_run)  # pins the run after its first batch
    with qtbot.waitSignals([window.state.modelChanged, tab.run.finished], timeout=TIMEOUT):
        tab.stop_button.click()
    assert tab.plot.counts() == (1, 0)
    out = window.state.model.predict(tiny_arrays[1].astype(np.float32) / 255)
    assert out.shape == (16, 784) and np.all(np.isfinite(out))
    assert tab.progress.label.text().startswith("Stopped")


def test_lr_change_applies_from_the_next_batch(qtbot, tab, hold_run):
    tab.form.epochs.setValue(5)
    later = hold_run(1)  # the run cannot end before Stop is pressed
    start_paused(qtbot, tab, hold_run)
    tab.form.lr.setValue(0.0042)
    with qtbot.waitSignal(tab.run.batches, timeout=TIMEOUT) as batch:
        tab.pause_button.click()
    assert batch.args[0][0]["lr"] == 0.0042
    stop_held(qtbot, tab, later)


def test_divergence_shows_a_dialog_and_marks_the_curve(qtbot, window, tab, dialogs_shown):
    linear = build_mlp([784, 16, 784], ["linear", "linear"], seed=0)  # unbounded, no dead units: explodes
    window.state.set_model(linear)
    tab.form.optimizer.setCurrentText("sgd")
    tab.form.lr.setMaximum(MAX_LR)
    tab.form.lr.setValue(MAX_LR)  # the highest rate a run takes (engine.run_limits)
    tab.form.epochs.setValue(50)
    run_to_end(qtbot, tab)
    assert any("diverged" in text for text in dialogs_shown)
    assert tab.plot.diverged_line.isVisible()
    assert np.all(np.isfinite(window.state.model.params))  # weights restored by the engine
    assert tab.progress.label.text().startswith("Diverged")


def test_closing_mid_training_stops_the_run_then_closes(
    qtbot, window, tab, dialogs_shown, dialog_answers, hold_run
):
    dialog_answers["Training is running"] = QMessageBox.StandardButton.Yes  # "Stop and quit"
    tab.form.epochs.setValue(5)
    hold = hold_run(0)
    start_held(qtbot, tab, hold)  # mid-run: an epoch done, the run going on
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT) as trained:
        window.close()
        hold.release()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    assert not tab.is_running()
    assert window.state.model is trained.args[0].model  # the run's weights were handed back before closing
    assert "stop it and quit?" in dialogs_shown[0]  # asked first
    assert "before closing?" in dialogs_shown[-1]  # then the unsaved-model question, naming the action


def live_objects() -> dict[str, int]:
    """Models, run bridges and runs still alive after a full garbage collection."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from engine.nn import MLP
    from gui.common.jobs import wait_for_all_jobs
    from gui.training.run import TrainingRun
    from gui.training.worker import RunBridge

    assert wait_for_all_jobs(30000)  # a replaced job holds the model it was given until it returns
    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # run pending deleteLater()
    gc.collect()
    objects = gc.get_objects()
    return {cls.__name__: sum(isinstance(o, cls) for o in objects) for cls in (MLP, RunBridge, TrainingRun)}


def test_start_stop_cycles_leave_no_threads_and_no_models_behind(qtbot, tab, hold_run):
    tab.form.epochs.setValue(5)

    def cycle():
        hold = hold_run(0)
        start_held(qtbot, tab, hold)
        stop_held(qtbot, tab, hold)

    cycle()  # BLAS and Qt may start their pools on first use
    baseline, objects = os_threads(), live_objects()
    cycles = 5
    for _ in range(cycles):
        cycle()
    assert os_threads() == baseline
    grown = {name: count - objects[name] for name, count in live_objects().items()}
    # each run's model copy and worker are freed: memory does not grow with the runs (a leak is one per cycle; a
    # model a pending job still holds — a hidden panel's newest request — is at most one)
    assert all(extra <= 1 < cycles for extra in grown.values()), grown
    assert not tab.is_running()


def test_missing_data_reports_failure_and_keeps_the_model(qtbot, window, tab, dialogs_shown, monkeypatch, tmp_path):
    tab.arrays = None
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "nowhere"))
    model = window.state.model
    run_to_end(qtbot, tab)
    assert window.state.model is model
    assert any("MNIST" in text for text in dialogs_shown)


def test_trained_copy_drops_the_old_scores(window):
    from gui.training.tab import copy_model

    model = window.state.model
    model.metadata["metrics"] = {"test_mse@0.1": 0.02}
    twin = copy_model(model)
    assert "metrics" not in twin.metadata and "metrics" in model.metadata
    twin.params[:] = 0
    assert model.params.any()  # its own parameter vector
    np.testing.assert_array_equal(twin.layers[0].W, 0)  # layers still view the flat vector


def test_a_model_change_clears_the_last_runs_curve_lines_strip_and_header(qtbot, window, tab):
    tab.form.epochs.setValue(2)
    run_to_end(qtbot, tab)
    assert tab.plot.counts() == (8, 2) and tab.plot.identity_line.isVisible()  # the handed-back model keeps them
    assert tab.progress.label.text().startswith("Done")
    window.tabs.setCurrentWidget(window.architecture_tab)
    window.architecture_tab.editor.new_button.click()  # Architecture ▸ New model
    assert tab.model is window.state.model
    assert tab.plot.counts() == (0, 0)
    assert not tab.plot.identity_line.isVisible() and not tab.plot.pca_line.isVisible()
    assert tab.progress.label.text() == "Ready" and tab.progress.bar.value() == 0
    assert tab.plot.hint.isVisibleTo(tab) and "Press Start" in tab.plot.hint.text()


def test_the_noisy_input_line_and_the_strip_come_before_the_first_epoch_ends(qtbot, tab, tiny_arrays, hold_run):
    from engine.baselines import noisy_input_mse

    tab.form.epochs.setValue(5)
    hold = hold_run("start")
    with qtbot.waitSignals([tab.run.dataReady, tab.run.samplesReady], timeout=TIMEOUT):
        start_held(qtbot, tab, hold)
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):
        tab.pause_button.click()  # paused after the first batch of epoch 1
        hold.release()
    assert tab.plot.counts()[1] == 0  # no epoch has ended
    assert tab.plot.identity_line.isVisible()
    assert tab.plot.identity_line._true == pytest.approx(noisy_input_mse(tiny_arrays[1], tab.form.noise.value()))
    assert all(view.image().any() for view in tab.strip.noisy + tab.strip.recon)  # the model as it starts
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_a_pause_is_left_out_of_the_epochs_time_and_speed(qtbot, tab, hold_run, monkeypatch):
    """Paused for an hour (a clock moved on while paused, without the wait), the epoch still took a moment: its
    seconds and images/s, which the status bar and the runs' records show, leave the pause out."""
    import time
    from types import SimpleNamespace

    from engine import training
    from gui.training import worker

    tab.form.epochs.setValue(1)
    start_paused(qtbot, tab, hold_run)  # paused after the first of 4 batches
    an_hour_on = SimpleNamespace(perf_counter=lambda: time.perf_counter() + 3600.0)
    for module in (training, worker):  # (the run's clocks only)
        monkeypatch.setattr(module, "time", an_hour_on)
    epochs: list[dict] = []
    tab.run.epochEnded.connect(epochs.append)
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.pause_button.click()  # Resume
    assert len(epochs) == 1 and epochs[0]["seconds"] < 3600


def test_a_run_stopped_part_way_says_so_and_plots_no_test_point_for_the_cut_epoch(qtbot, tab, hold_run):
    tab.form.epochs.setValue(10)
    start_paused(qtbot, tab, hold_run)  # paused after the first of 4 batches
    said: list[str] = []
    tab.message.connect(said.append)
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
    assert tab.progress.label.text().startswith("Stopped at 0.2 of 10 epochs")  # (the headline: what was done)
    assert [text for text in said if text.startswith("Stopped 25% into epoch 1:")]  # (the status bar: where)
    assert tab.plot.counts() == (1, 0)


def test_closing_while_training_asks_and_cancel_leaves_the_run_untouched(
    qtbot, window, tab, dialogs_shown, hold_run
):
    tab.form.epochs.setValue(5)
    first, second = hold_run(0), hold_run(1)
    start_held(qtbot, tab, first)
    window.close()  # the question is answered "Cancel"
    assert "Training is running — stop it and quit?" in dialogs_shown[-1]
    assert window.isVisible() and tab.is_running() and tab.stop_button.isEnabled()
    with qtbot.waitSignal(tab.run.reported, timeout=TIMEOUT, check_params_cb=second.reached):
        first.release()  # still training: it goes on through the next epoch
    assert tab.plot.counts()[1] == 2
    stop_held(qtbot, tab, second)


def test_opening_a_model_while_training_asks_then_stops_and_opens_it(
    qtbot, window, tab, tmp_path, dialogs_shown, dialog_answers, hold_run
):
    dialog_answers["Training is running"] = QMessageBox.StandardButton.Yes
    path = tmp_path / "other.npz"
    build_mlp([784, 24, 784], ["relu", "sigmoid"], seed=3).save(path)
    tab.form.epochs.setValue(5)
    hold = hold_run(0)
    start_held(qtbot, tab, hold)
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT) as opened:
        window.files.open_model(str(path))
        hold.release()
    assert opened.args == [True] and window.state.name == "other" and not tab.is_running()
    assert "stop it and open other?" in dialogs_shown[0]
    assert "before switching models?" in dialogs_shown[1]  # the trained copy was unsaved


def test_a_run_that_ends_while_the_question_is_open_still_lets_the_window_close(
    qtbot, window, tab, monkeypatch, hold_run
):
    tab.form.epochs.setValue(2)
    hold = hold_run("start")
    asked = []

    def answer_after_the_run_ended(parent, doing):
        asked.append(doing)
        with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
            hold.release()  # the user reads the question while the run finishes
        return True  # "Stop and quit"

    monkeypatch.setattr("gui.common.dialogs.ask_stop_training", answer_after_the_run_ended)
    start_held(qtbot, tab, hold)
    window.close()
    assert asked == ["quit"]  # the run was going when the window was closed
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)


def test_a_watcher_reports_from_the_training_thread(qtbot, tab):
    from engine.callbacks import Callback

    class EpochCounter(Callback):
        def __init__(self, report):
            self.report = report

        def on_epoch_end(self, epoch, logs):
            self.report("epochs", {"epoch": epoch, "n_params": int(self.trainer.model.n_params)})

    tab.watchers.append(EpochCounter)
    tab.form.epochs.setValue(2)
    reports = []
    tab.run.reported.connect(lambda topic, data: reports.append((topic, data)) if topic == "epochs" else None)
    run_to_end(qtbot, tab)
    assert reports == [("epochs", {"epoch": 0, "n_params": tab.model.n_params}),
                       ("epochs", {"epoch": 1, "n_params": tab.model.n_params})]  # fmt: skip


def test_before_any_run_the_strip_shows_the_test_digits_and_the_models_reconstructions(qtbot, window, tab, tiny_mnist):
    from engine.images import as_unit_float
    from engine.noise import fixed_noisy

    with qtbot.waitSignal(tab.preview_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        window.state.set_model(build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=2), name="fresh")
    noisy = fixed_noisy(as_unit_float(read_test_images(tiny_mnist)[:8]), tab.form.noise.value())
    np.testing.assert_allclose(tab.strip.noisy[0].image(), noisy[0].reshape(28, 28))
    recon = window.state.model.predict(noisy[3]).reshape(28, 28)
    np.testing.assert_allclose(tab.strip.recon[3].image(), recon, rtol=1e-6)


def read_test_images(folder):
    from engine.idx import read_idx

    return read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)


def test_the_plot_says_pca_is_being_fitted_until_its_level_arrives(qtbot, tab):
    """PCA's level comes from a job beside the run: from Start until it lands the plot says it is on its way."""
    tab.form.epochs.setValue(500)
    k = tab.model.latent_width
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):
        tab.start_button.click()
        tab.pause_button.click()
        note = tab.plot.pca_note  # said at once: no job's result can land before the event loop turns
        assert note.isVisibleTo(tab) and note.text() == f"PCA-{k} and best linear: fitting… their levels follow"
        assert not tab.plot.pca_line.isVisible()
    qtbot.waitUntil(lambda: not tab.pca_jobs.is_busy(), timeout=TIMEOUT)
    assert f"PCA-{k}" not in tab.plot.pca_note.text()  # (the best linear level may still be on its way)
    assert tab.plot.pca_line.isVisible() and f"PCA-{k}" in tab.plot.pca_line.label.toPlainText()
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_the_best_linear_level_at_the_runs_noise_joins_the_loss_plot(qtbot, window, tab, hold_run, tiny_arrays):
    """Issue 25: beside the noisy input's and PCA's levels, the strongest simple baseline's — the best linear
    denoiser fitted at the run's σ on the run's training images, scored on its test images — fitted beside the run."""
    from engine.baselines import best_linear_mse

    tab.form.noise.setValue(0.2)
    hold = hold_run("start")
    fitted = qtbot.waitSignal(tab.linear_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy)
    with fitted, qtbot.waitSignal(tab.run.reported, timeout=TIMEOUT, check_params_cb=hold.reached):
        tab.start_button.click()
        assert "best linear" in tab.plot.pca_note.text()  # the plot says the level is on its way
    expected = best_linear_mse(*tiny_arrays, 0.2)
    line = tab.plot.linear_line
    assert line.isVisible() and line.label.toPlainText() == f"best linear {expected:.4f}"
    assert "best linear" not in tab.plot.pca_note.text()
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        hold.release()


def test_a_second_run_at_the_same_level_reuses_the_reference_fits(qtbot, window, tab, tiny_mnist, monkeypatch):
    """Issue 34: the loss plot's references (PCA-k, the best linear denoiser) of a run on a named data set come
    from the app's baseline bank, fitted on the data set's training images once a level, not again at every run
    (the fits took a core from each run's first epoch)."""
    import engine.baselines

    fits = []  # (training images, level range) of each fit; the app-wide job pool may still hold earlier tests' jobs
    fit = engine.baselines.fit_linear_denoiser
    monkeypatch.setattr(engine.baselines, "fit_linear_denoiser", lambda *a, **k: fits.append(a[:2]) or fit(*a, **k))
    tab.arrays = None  # read the IDX files named by $DENOISE_STUDIO_DATA, as the app does
    tab.form.train_size.setValue(64)
    tab.form.noise.setValue(0.2)
    for _ in range(2):
        run_to_end(qtbot, tab)
        qtbot.waitUntil(lambda: not tab.linear_jobs.is_busy() and not tab.pca_jobs.is_busy(), timeout=TIMEOUT)
        assert tab.plot.linear_line.isVisible() and tab.plot.pca_line.isVisible()
    ours = window.state.baselines.training_set("mnist")
    # once at the run's level (the status bar may fit its strongest baseline at the Denoise tab's level meanwhile)
    assert sum(images is ours and level == (0.2, 0.2) for images, level in fits) == 1
    test_images = window.state.data.images("test", "mnist")
    expected = window.state.baselines.scores("best_linear", test_images, "gaussian", 0.2).mse
    assert tab.plot.linear_line.label.toPlainText() == f"best linear {expected:.4f}"


def test_a_short_window_scrolls_the_tab_rather_than_crush_the_settings(qtbot, window, tab):
    """At QT_SCALE_FACTOR=2 on 1920×1080 the window is 960×540 logical pixels: the settings' rows were crushed to a
    few pixels each (unreadable) while the histograms under them kept their least height.  Every field keeps its
    height, and the tab scrolls."""
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox

    window.resize(960, 420)
    window.show()
    qtbot.waitExposed(window)
    fields = [w for w in tab.form.findChildren(QAbstractSpinBox) + tab.form.findChildren(QComboBox) if w.isVisible()]
    assert len(fields) >= 8
    qtbot.waitUntil(lambda: all(w.height() >= 0.75 * w.sizeHint().height() for w in fields), timeout=TIMEOUT)
