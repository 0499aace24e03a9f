"""Issue 32 on the Training tab: Continue training, Save when a run ends, and captions that say the true state."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QGroupBox

from engine.checkpoint import Checkpoint
from engine.model_paths import is_shipped
from engine.nn import MLP, build_mlp
from engine.training import TrainConfig, Trainer

TIMEOUT = 20000


def run_to_end(qtbot, tab, start=None):
    with qtbot.waitSignal(tab.runEnded, timeout=TIMEOUT) as ended:
        (start or tab.start_button.click)()
    return ended.args[0]


def uninterrupted(model: MLP, arrays, epochs: int) -> MLP:
    """``model`` trained ``epochs`` in one run with the tab's settings, on this thread."""
    twin = model.copy()
    config = TrainConfig(epochs=epochs, batch_size=16, lr=0.01, noise=0.1)
    twin.fit(arrays[0], arrays[1], config=config)
    return twin


# ----- Continue training --------------------------------------------------------------------------------------------


def test_continue_trains_more_epochs_from_the_optimizer_state_and_the_curve_goes_on(qtbot, window, tab, tiny_arrays):
    start = window.state.model.copy()
    tab.form.epochs.setValue(2)
    run_to_end(qtbot, tab)
    first_run = window.state.model
    assert tab.continue_button.isEnabled()
    result = run_to_end(qtbot, tab, lambda: tab.continue_training(3))
    model = window.state.model
    assert result.verdict == "done" and model is result.model
    assert tab.plot.counts() == (5 * 4, 5)  # the earlier curve and the new epochs, one line
    assert [e["epoch"] for e in model.metadata["history"]["epochs"]] == [0, 1, 2, 3, 4]
    assert int(model.optimizer_state["t"]) == 5 * 4  # Adam's step count went on: its state was carried over
    continued = model.metadata["continued"]
    assert continued["epoch"] == 2 and continued["optimizer_state"] and continued["file"] == first_run.path
    assert tab.progress.label.text().startswith("Done · 3 more epochs (5 in all), test loss")
    # the same as one run of five epochs: weights, optimizer state and shuffling all continued exactly
    np.testing.assert_allclose(model.params, uninterrupted(start, tiny_arrays, 5).params, rtol=1e-5, atol=1e-7)


def test_the_runs_database_and_the_model_file_record_the_run_it_continued(qtbot, window, tab, runs_db):
    from engine.runs import RunStore

    tab.form.epochs.setValue(1)
    first = run_to_end(qtbot, tab).model
    second = run_to_end(qtbot, tab, lambda: tab.continue_training(1)).model
    with RunStore(runs_db) as store:
        newest, oldest = store.runs()[:2]
    assert newest.resumed_from == oldest.uuid == first.metadata["run"] == second.metadata["continued"]["run"]
    assert second.metadata["run"] == newest.uuid


def test_continue_from_a_checkpoint_file_through_the_window(qtbot, window, tab, tiny_arrays, tmp_path):
    """A past run's checkpoint (the Runs view's case): opened, then trained further with its optimizer's state."""
    start = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=5)
    checkpoint = tmp_path / "run.ckpt.npz"
    cut = start.copy()
    Trainer(cut, TrainConfig(epochs=2, batch_size=16, lr=0.01, noise=0.1), [Checkpoint(checkpoint)]).fit(
        tiny_arrays[0], tiny_arrays[1])  # fmt: skip
    tab.form.epochs.setValue(2)
    with qtbot.waitSignal(tab.runEnded, timeout=TIMEOUT) as ended:
        window.continue_training(2, path=str(checkpoint))
    model = ended.args[0].model
    assert model is window.state.model and window.state.name == "run.ckpt"
    assert "resume" not in model.metadata  # the trained model is no checkpoint: Save would not lose one
    assert tab.plot.counts() == (16, 4)
    np.testing.assert_allclose(model.params, uninterrupted(start, tiny_arrays, 4).params, rtol=1e-5, atol=1e-7)
    assert checkpoint.is_file() and MLP.from_file(checkpoint).metadata["resume"]["next_epoch"] == 2  # untouched


def test_a_model_file_without_optimizer_state_continues_from_its_weights_and_history(qtbot, window, tab, tmp_path):
    tab.form.epochs.setValue(2)
    run_to_end(qtbot, tab)
    path = tmp_path / "trained.npz"
    window.state.model.save(path)
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT):
        window.files.open_model(str(path))
    messages = []
    tab.message.connect(messages.append)
    run_to_end(qtbot, tab, lambda: tab.continue_training(1))
    assert "optimizer starts afresh" in messages[0] and "epoch 2 to 3" in messages[0]
    assert int(window.state.model.optimizer_state["t"]) == 4  # one epoch's steps: a fresh optimizer
    assert tab.plot.counts() == (12, 3)


def test_an_untrained_model_has_nothing_to_continue(qtbot, window, tab):
    window.state.set_model(build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=1), origin="new")
    assert not tab.continue_button.isEnabled()
    messages = []
    tab.message.connect(messages.append)
    assert not tab.continue_training(2)
    assert "press Start" in messages[0] and not tab.is_running()


# ----- the rate applied during a run ------------------------------------------------------------------------------


def test_the_rate_applied_during_a_run_stays_in_the_form_and_the_file(qtbot, window, tab, tmp_path, monkeypatch):
    """Issue 32: 0.001 → 0.01 applied while training was back to 0.001 in the form after the run."""
    from PySide6.QtWidgets import QFileDialog

    tab.form.epochs.setValue(500)
    with qtbot.waitSignal(tab.run.paused, timeout=TIMEOUT):
        tab.start_button.click()
        tab.pause_button.click()
    tab.form.lr.setValue(0.0042)
    tab.pause_button.click()
    with qtbot.waitSignal(tab.runEnded, timeout=TIMEOUT):
        tab.stop_button.click()
    assert tab.form.lr.value() == pytest.approx(0.0042)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "m.npz"), ""))
    window.actions["save_as"].trigger()
    assert MLP.from_file(tmp_path / "m.npz").metadata["training"]["lr"] == pytest.approx(0.0042)


# ----- Save when a run ends ---------------------------------------------------------------------------------------


def saving_after_runs(window, folder=None):
    window.actions["save_after_run"].setChecked(True)
    if folder is not None:
        window.settings.setValue("folders/save", str(folder))


@pytest.fixture
def saves(tmp_path):
    """The folder the last model was saved to (empty)."""
    folder = tmp_path / "saves"
    folder.mkdir()
    return folder


def test_saving_when_a_run_ends_is_off_by_default(qtbot, window, tab, saves):
    assert not window.actions["save_after_run"].isChecked()
    window.settings.setValue("folders/save", str(saves))
    tab.form.epochs.setValue(1)
    run_to_end(qtbot, tab)
    assert window.state.dirty and list(saves.iterdir()) == []


def test_a_model_the_app_wrote_is_saved_to_its_own_file_when_a_run_ends(qtbot, window, tab, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "mine.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.actions["save_as"].trigger()  # the app writes it
    saving_after_runs(window)
    tab.form.epochs.setValue(1)
    run_to_end(qtbot, tab)
    assert not window.state.dirty and window.state.model.path == str(path)
    np.testing.assert_array_equal(MLP.from_file(path).params, window.state.model.params)
    assert window.statusBar().currentMessage() == f"Run ended: saved mine.npz in {tmp_path}"
    assert window.settings.value("save_after_run") in (True, "true")  # remembered


def test_a_file_the_app_did_not_write_is_never_replaced_a_new_one_is_made(qtbot, window, tab, tmp_path, saves):
    other = tmp_path / "from-the-cli.npz"
    build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=8).save(other)  # written by the engine, not the app
    before = other.read_bytes()
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT):
        window.files.open_model(str(other))
    folder = saves
    saving_after_runs(window, folder)
    tab.form.epochs.setValue(1)
    run_to_end(qtbot, tab)
    assert other.read_bytes() == before
    (made,) = folder.iterdir()
    assert re.fullmatch(r"from-the-cli-\d{8}-\d{6}\.npz", made.name)
    assert window.state.model.path == str(made) and not window.state.dirty
    assert window.statusBar().currentMessage() == f"Run ended: saved {made.name} in {folder}"
    run_to_end(qtbot, tab)  # the app wrote that one: the next run is saved over it, not to a third file
    assert list(folder.iterdir()) == [made]


def test_a_shipped_model_is_never_the_target(qtbot, window, tab, saves):
    from engine.model_paths import shipped_models

    if not shipped_models():
        pytest.skip("no model shipped in models/")
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT):
        window.files.open_model(shipped_models()[0])
    before = MLP.from_file(shipped_models()[0]).params.copy()
    saving_after_runs(window, saves)
    tab.form.epochs.setValue(1)
    run_to_end(qtbot, tab)
    assert not is_shipped(window.state.model.path) and window.state.model.path.startswith(str(saves))
    np.testing.assert_array_equal(MLP.from_file(shipped_models()[0]).params, before)


def test_a_diverged_run_is_not_saved(qtbot, window, tab, saves):
    from engine.run_limits import MAX_LR

    window.state.set_model(build_mlp([784, 16, 784], ["linear", "linear"], seed=0))
    saving_after_runs(window, saves)
    tab.form.optimizer.setCurrentText("sgd")
    tab.form.lr.setMaximum(MAX_LR)
    tab.form.lr.setValue(MAX_LR)
    tab.form.epochs.setValue(50)
    assert run_to_end(qtbot, tab).verdict == "diverged"
    assert list(saves.iterdir()) == [] and window.state.dirty


# ----- captions and layout that follow the state -------------------------------------------------------------------


def test_pause_and_resume_say_so_in_the_headline_and_the_histograms(qtbot, tab):
    tab.form.epochs.setValue(500)
    with qtbot.waitSignals([tab.run.paused, tab.histograms.updated], timeout=TIMEOUT, order="none"):
        tab.start_button.click()
        tab.pause_button.click()
    qtbot.waitUntil(lambda: tab.histograms.header.text().startswith("Paused in epoch 1"), timeout=TIMEOUT)
    assert tab.progress.label.text() == "Paused"
    with qtbot.waitSignal(tab.run.resumed, timeout=TIMEOUT):
        tab.pause_button.click()
    assert tab.histograms.header.text().startswith("Training again; shown: the pause in epoch 1")
    assert tab.progress.label.text() != "Paused"
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_the_headline_names_no_figure_twice(qtbot, tab):
    tab.form.epochs.setValue(2)
    run_to_end(qtbot, tab)
    headline = f"{tab.progress.label.text()} {tab.progress.loss_label.text()}"
    figures = re.findall(r"\d+\.\d{4}", headline)
    assert len(figures) == 2 and len(set(figures)) == 2, headline  # the test loss and the train loss, once each
    assert "train loss" in tab.progress.loss_label.text()


def test_a_model_change_resets_the_loss_plots_ranges(qtbot, window, tab):
    tab.form.epochs.setValue(6)
    run_to_end(qtbot, tab)
    (x_low, x_high), _ = tab.plot.getViewBox().viewRange()
    assert x_high > 5
    window.state.set_model(build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=2), origin="new")
    x_range, y_range = tab.plot.getViewBox().viewRange()
    empty = [-2, -1] if tab.log_box.isChecked() else [0, 1]  # (log: the decade of losses 0.01-0.1)
    assert x_range == pytest.approx([0, 1], abs=0.01) and y_range == pytest.approx(empty, abs=0.01)  # a new plot's


def test_after_a_run_the_strip_previews_the_data_set_chosen_next(qtbot, tab, tiny_fashion):
    from engine.idx import read_idx
    from engine.images import as_unit_float
    from engine.noise import fixed_noisy

    tab.form.epochs.setValue(1)
    run_to_end(qtbot, tab)
    with qtbot.waitSignal(tab.preview_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        tab.form.data_set.set_data_set("fashion_mnist")
    test = read_idx(tiny_fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    noisy = fixed_noisy(as_unit_float(test[:8]), tab.form.noise.value())
    np.testing.assert_array_equal(tab.strip.noisy[1].image(), noisy[1].reshape(28, 28))


def test_the_settings_column_keeps_its_width_whatever_the_headline_and_buttons_say(qtbot, window, tab):
    window.resize(1024, 700)
    boxes = [b for b in tab.findChildren(QGroupBox) if b.title() in ("Settings", "Weights and gradients")]

    def widths() -> list[int]:
        QApplication.processEvents()  # the layouts settle
        return [box.width() for box in boxes]

    ready = widths()
    tab.progress.label.setText("Stopped at 123.4 of 1000 epochs, test loss 0.0123")
    tab.progress.loss_label.setText("batch loss 0.0123")
    tab.pause_button.setText("Resume")
    assert widths() == ready
    assert all(box.minimumWidth() == box.maximumWidth() == box.width() for box in boxes)  # fixed, whatever the fonts
