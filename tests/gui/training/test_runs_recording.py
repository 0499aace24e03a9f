"""The Training tab records its runs in the runs database (File ▸ Record training runs turns it off); a broken
database says so once and the run goes on."""

from __future__ import annotations

import pytest

from engine.nn import build_mlp
from engine.runs import RunStore
from gui.main_window import MainWindow

TIMEOUT = 20000


@pytest.fixture
def tab(window, tiny_mnist):
    tab = window.training_tab
    tab.form.train_size.setValue(64)  # read the IDX files named by $DENOISE_STUDIO_DATA, as the app does
    tab.form.batch_size.setValue(16)
    tab.form.epochs.setValue(2)
    return tab


def _train(qtbot, window, tab):
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT) as trained:
        tab.start_button.click()
    return trained.args[0].model


def test_an_app_run_is_recorded_and_the_next_one_continues_it(qtbot, window, tab, runs_db):
    assert window.actions["record_runs"].isChecked()  # on by default
    first = _train(qtbot, window, tab)
    second = _train(qtbot, window, tab)  # Start again trains the model the first run handed back
    with RunStore(runs_db) as store:
        runs = store.runs()
        assert [r.source for r in runs] == ["app", "app"] and all(r.status == "finished" for r in runs)
        newest, oldest = store.get(runs[0].id), store.get(runs[1].id)
    assert oldest.dataset == "mnist" and oldest.settings["train_size"] == 64 and oldest.settings["epochs"] == 2
    assert len(oldest.epochs) == 2 and oldest.test_mse > 0 and oldest.model_path is None  # the app saves later
    assert newest.resumed_from == oldest.uuid
    assert first.metadata["run"] == oldest.uuid and second.metadata["run"] == newest.uuid


def test_recording_off_is_remembered_and_records_nothing(qtbot, window, tab, runs_db, settings):
    window.actions["record_runs"].trigger()
    assert not window.actions["record_runs"].isChecked()
    _train(qtbot, window, tab)
    assert not runs_db.exists()
    again = MainWindow(window.state.model, settings=settings)
    qtbot.addWidget(again)
    assert not again.actions["record_runs"].isChecked()
    again.actions["record_runs"].trigger()
    assert str(settings.value("record_runs")).lower() == "true"


def test_a_damaged_database_is_said_once_and_the_run_goes_on(qtbot, window, tab, runs_db, dialogs_shown):
    runs_db.write_bytes(b"not a database" * 100)
    trained = _train(qtbot, window, tab)
    assert window.state.model is trained and len(trained.metadata["history"]["epochs"]) == 2
    assert len(dialogs_shown) == 1  # the worker's report came before its result (queued in order)
    assert dialogs_shown[0].startswith("Run not recorded\n") and "damaged" in dialogs_shown[0]


def test_a_run_of_a_gated_model_trains_with_its_loss_weighting_and_records_it(qtbot, window, tab, runs_db):
    model = build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=1, skip="gate")
    model.metadata["training"] = {"noise": [0.0, 1.0], "noise_weighting": 0.03, "batch_size": 16}
    window.state.set_model(model, name="gated")
    trained = _train(qtbot, window, tab)
    assert trained.metadata["training"]["noise_weighting"] == pytest.approx(0.03)  # what the run's Trainer used
    with RunStore(runs_db) as store:
        run = store.get(store.runs()[0].id)
    assert run.settings["noise_weighting"] == pytest.approx(0.03) and run.settings["skip"] == "gate"


def test_a_note_from_the_engine_during_a_run_is_shown_once_and_the_run_goes_on(qtbot, window, tab, dialogs_shown):
    """The engine's word on a run that goes on (its step's worker process ended: one core), heard on the training
    thread, is shown in a dialog: the epochs' news in the status bar would cover it within seconds."""
    from engine.callbacks import Callback

    class NoteAtFirstEpoch(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                self.trainer.note("training continues on one core: its worker process ended")

    tab.watchers.append(lambda report: NoteAtFirstEpoch())
    trained = _train(qtbot, window, tab)
    assert len(trained.metadata["history"]["epochs"]) == 2
    assert dialogs_shown == ["Note from training\nA note from the training run:\n"
                             "• Training continues on one core: its worker process ended."]  # fmt: skip
