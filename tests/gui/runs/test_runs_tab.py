"""The Runs tab: it lists the runs of the database in use, follows runs written by another process, compares ticked
runs (curves, robustness, settings), opens, continues and repeats a run, and says what is wrong with a broken file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.nn import MLP, build_mlp
from engine.robustness import robustness_curve
from engine.runs import RunStore
from engine.runs.files import file_sha256
from tests.gui.runs.conftest import curve_lengths, stored

TIMEOUT = 20000
REPO = Path(__file__).resolve().parents[3]


def rows(tab) -> list[int]:
    """The run ids in the order the table shows them."""
    proxy = tab.proxy
    return [int(proxy.index(i, 0).data()) for i in range(proxy.rowCount())]


def choose(qtbot, tab, run_id):
    """Make ``run_id`` the table's current run and wait until its facts (its model file's state) are read."""
    with qtbot.waitSignal(tab.details.factsReady, timeout=TIMEOUT):
        assert tab.select_run(run_id)
    return tab.details


def test_the_tab_lists_the_runs_newest_first_sorts_and_filters(qtbot, window, recorded, runs_db):
    ids = [recorded(widths=(784, w, 784), lr=lr)[0] for w, lr in ((8, 1e-3), (16, 3e-3), (4, 1e-2))]
    tab = window.runs_tab
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "Runs" and window.tabs.tabToolTip(3)
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    assert rows(tab) == ids[::-1]  # newest first
    assert tab.count_label.text() == "3 runs"
    assert tab.proxy.index(0, 5).data() == "784-4-784" and tab.proxy.index(0, 7).data() == "0.01"
    tab.table.horizontalHeader().sectionClicked.emit(7)  # a click on "LR": sorted by it (Qt flips the order)
    lrs = [float(tab.proxy.index(i, 7).data()) for i in range(3)]
    assert lrs == sorted(lrs) or lrs == sorted(lrs, reverse=True)
    tab.table.sortByColumn(10, Qt.SortOrder.AscendingOrder)  # test MSE, best first
    with RunStore(runs_db) as store:
        best_first = [r.id for r in sorted(store.runs(), key=lambda r: r.test_mse)]
    assert rows(tab) == best_first
    qtbot.keyClicks(tab.filter_edit, "784-16")
    qtbot.waitUntil(lambda: tab.proxy.rowCount() == 1, timeout=TIMEOUT)  # the filter applies as typing pauses
    assert rows(tab) == [ids[1]] and "1 shown" in tab.count_label.text()
    tab.filter_edit.clear()
    qtbot.waitUntil(lambda: tab.proxy.rowCount() == 3, timeout=TIMEOUT)
    tab.status_box.setCurrentIndex(tab.status_box.findData("failed"))
    assert tab.proxy.rowCount() == 0
    tab.status_box.setCurrentIndex(tab.status_box.findData("finished"))
    assert tab.proxy.rowCount() == 3


def test_an_empty_database_says_how_runs_get_there(qtbot, runs_tab, runs_db):
    assert not runs_db.exists()  # reading never makes the file
    assert runs_tab.stack.currentWidget() is runs_tab.empty_label
    assert "No training runs recorded yet" in runs_tab.empty_label.text()


def test_a_run_of_another_process_appears_as_it_starts_and_changes_as_it_ends(qtbot, runs_tab, runs_db):
    """A terminal's training (another process) shows up while the tab is open: rowsInserted, then dataChanged."""
    writer = subprocess.Popen([sys.executable, "-m", "tests.engine.runs_writer", "1", "3"], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "ready"
        with qtbot.waitSignal(runs_tab.model.rowsInserted, timeout=TIMEOUT):
            writer.stdin.write("go\n")
            writer.stdin.flush()
        assert runs_tab.model.rowCount() == 1 and runs_tab.stack.currentWidget() is runs_tab.table
        assert runs_tab.proxy.index(0, 3).data() == "test"  # From: the writer says it is a test
        if runs_tab.model.row(0).status != "finished":  # seen while training: its end comes as a change
            with qtbot.waitSignal(runs_tab.model.dataChanged, timeout=TIMEOUT,
                                  check_params_cb=lambda *a: runs_tab.model.row(0).status == "finished"):  # fmt: skip
                pass
        assert writer.wait(TIMEOUT / 1000) == 0
    finally:
        writer.kill()
        writer.wait()
    assert runs_tab.proxy.index(0, 9).data() == "3/3"  # epochs done of those asked for


def test_a_run_whose_program_is_killed_turns_crashed_while_shown(qtbot, runs_tab, runs_db, monkeypatch):
    """The database still says running; the view asks whether its program lives (engine.runs.liveness), also when
    the run's last write is older than a poll looks back (a long epoch)."""
    from gui.runs import feed

    monkeypatch.setattr(feed, "LOOK_BACK_S", 0.0)
    writer = subprocess.Popen([sys.executable, "-m", "tests.engine.runs_writer", "1", "100000"], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "recorded"  # its first epoch is in the database
        os.kill(writer.pid, signal.SIGSTOP)  # frozen: it writes nothing more, and still lives
        with qtbot.waitSignal(runs_tab.model.rowsInserted, timeout=TIMEOUT):
            pass
        with qtbot.waitSignal(runs_tab.feed.changed, timeout=TIMEOUT):
            pass  # a poll since it froze: the view has seen its last write
        assert runs_tab.model.row(0).status == "running"
    finally:
        writer.kill()
        writer.wait()
    with qtbot.waitSignal(runs_tab.model.dataChanged, timeout=TIMEOUT,
                          check_params_cb=lambda *a: runs_tab.model.row(0).status == "crashed"):  # fmt: skip
        pass
    assert runs_tab.proxy.index(0, 2).data() == "crashed"
    assert "ended without saying" in runs_tab.proxy.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)

def test_ticking_two_runs_overlays_their_curves_and_marks_the_settings_that_differ(qtbot, window, recorded, runs_db):
    first, _ = recorded(lr=1e-3, epochs=2)
    second, _ = recorded(lr=3e-3, epochs=3)
    others = [recorded()[0] for _ in range(3)]
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    tab.select_run(first)
    with qtbot.waitSignal(tab.comparedReady, timeout=TIMEOUT):
        qtbot.keyClick(tab.table, Qt.Key.Key_Space)  # Space ticks the current run
    source = tab.model.index(tab.model.position(second), 0)
    with qtbot.waitSignal(tab.comparedReady, timeout=TIMEOUT) as shown:
        assert tab.proxy.setData(tab.proxy.mapFromSource(source), Qt.CheckState.Checked.value,
                                 Qt.ItemDataRole.CheckStateRole)  # a click on the box  # fmt: skip
    assert [run.id for run in shown.args[0]] == [first, second]
    counts = tab.loss_plot.counts()
    assert counts[0] == curve_lengths(stored(runs_db, first)) and counts[1] == curve_lengths(stored(runs_db, second))
    assert counts[0][1] == 2 and counts[1][1] == 3 and counts[2:] == [(0, 0), (0, 0)]
    differing = tab.settings_table.differing()
    assert "lr" in differing and "epochs" in differing and "batch_size" not in differing
    assert tab.settings_table.item(1, 0).text() in ("", "≠")  # the marks column
    with qtbot.waitSignal(tab.message, timeout=TIMEOUT) as said:
        tab.tick(*others)  # the fifth is refused, and said
    assert "At most 4" in said.args[0] and tab.model.ticked() == [first, second, *others[:2]]

def test_robustness_curves_of_the_ticked_runs_are_computed_off_the_gui_thread(
    qtbot, window, recorded, runs_db, tiny_mnist, tmp_path
):
    first, _ = recorded(save_to=tmp_path / "a.npz")
    second, _ = recorded(widths=(784, 16, 784), save_to=tmp_path / "b.npz")
    unsaved, _ = recorded()
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.comparedReady, timeout=TIMEOUT):
        tab.tick(first, second, unsaved)
    overlay = tab.robustness
    progress = []
    overlay.jobs.progressed.connect(progress.append)
    with qtbot.waitSignal(overlay.curvesReady, timeout=TIMEOUT) as ready:
        tab.compare_tabs.setCurrentWidget(overlay)  # computed once the page is shown
        assert overlay.busy.isVisible() or overlay.results  # the progress bar while it computes
    results = ready.args[0]
    assert [r.run_id for r in results] == [first, second, unsaved]
    assert results[0].curve is not None and results[1].curve is not None and results[2].curve is None
    assert results[0].curve.components == 8 and results[1].curve.components == 16
    data = window.state.data
    expected = robustness_curve(MLP.from_file(tmp_path / "a.npz"), data.images("train"), data.images("test"))
    np.testing.assert_allclose(results[0].curve.model, expected.model)
    assert progress and progress[-1] == pytest.approx(1.0)
    assert "saved no model file" in overlay.verdict.text() and f"Run {first}" in overlay.verdict.text()
    names = [label.text for _, label in overlay.legend.items]
    assert {f"run {first} · 784-8-784", f"run {second} · 784-16-784", "noisy input", "PCA-8", "PCA-16"} <= set(names)


def test_a_run_opens_its_model_and_a_gone_or_changed_file_says_so(qtbot, window, recorded, tmp_path, dialog_answers,
                                                                    dialogs_shown):  # fmt: skip
    kept, trained = recorded(save_to=tmp_path / "kept.npz")
    gone, _ = recorded(save_to=tmp_path / "gone.npz")
    changed, _ = recorded(save_to=tmp_path / "changed.npz")
    (tmp_path / "gone.npz").unlink()
    build_mlp([784, 3, 784], ["relu", "sigmoid"], seed=5).save(tmp_path / "changed.npz")
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    details = choose(qtbot, tab, gone)
    assert details.model_state() == "missing" and "GONE" in details.text.text()
    assert not details.open_button.isEnabled() and not details.continue_button.isEnabled()
    assert details.again_button.isEnabled()  # its settings are enough for that
    details = choose(qtbot, tab, changed)
    assert details.model_state() == "changed" and "CHANGED" in details.text.text()
    dialog_answers["Model file changed"] = QMessageBox.StandardButton.Cancel
    details.open_button.click()
    assert "has changed since run" in dialogs_shown[-1] and window.state.model.latent_width != 3  # not opened
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT) as opened:
        tab.select_run(kept)
        details.ask_open()  # as the context menu asks: at once, before the file is checked (it waits for that)
    assert opened.args == [True]
    assert details.model_state() == "unchanged" and "as the run saved it" in details.text.text()
    np.testing.assert_array_equal(window.state.model.params, trained.params)
    assert window.state.name == "kept"


def test_train_again_makes_the_runs_network_and_fills_the_form_clamping_what_it_cannot_hold(
    qtbot, window, recorded, runs_db, dialogs_shown
):
    run_id, _ = recorded(widths=(784, 12, 784), lr=2e-3, seed=4)
    with RunStore(runs_db) as store:  # settings beyond the form's controls (the CLI takes up to 1,000,000 epochs)
        settings = {**store.get(run_id).settings, "epochs": 5000, "noise": [0.1, 0.6], "noise_kind": "masking"}
        store.update_run(run_id, settings=settings)
    window.state.dirty = False
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    details = choose(qtbot, tab, run_id)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT) as changed:
        details.again_button.click()
    model = changed.args[0].model
    assert [layer.n_out for layer in model.layers] == [12, 784]
    np.testing.assert_array_equal(model.params, build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=4).params)
    assert window.tabs.currentWidget() is window.training_tab and window.state.dirty
    form = window.training_tab.form
    assert form.epochs.value() == 1000  # clamped to the control's range
    assert form.lr.value() == pytest.approx(2e-3) and form.seed.value() == 4 and form.batch_size.value() == 16
    assert form.noise_kind.kind() == "masking" and form.noise_range.isChecked()
    assert form.noise.value() == pytest.approx(0.1) and form.noise_high.value() == pytest.approx(0.6)
    assert form.config().epochs == 1000
    assert dialogs_shown[-1].startswith("Settings adjusted") and "Epochs must be" in dialogs_shown[-1]
    assert "5000" in dialogs_shown[-1] and "1000" in dialogs_shown[-1]
    assert "Start repeats it" in window.statusBar().currentMessage()


def test_train_again_rebuilds_a_gated_runs_network_and_its_loss_weighting(qtbot, window, recorded, runs_db):
    plain, _ = recorded(widths=(784, 12, 784), seed=4, noise=(0.0, 1.0))
    gated, _ = recorded(widths=(784, 12, 784), seed=4, skip="gate", noise=(0.0, 1.0), noise_weighting=0.05)
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.comparedReady, timeout=TIMEOUT, check_params_cb=lambda runs: len(runs) == 2):
        tab.tick(plain, gated)
    assert {"skip", "noise_weighting"} <= set(tab.settings_table.differing())  # compared like every setting
    window.state.dirty = False
    details = choose(qtbot, tab, gated)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT) as changed:
        details.again_button.click()
    model = changed.args[0].model
    assert model.gate_layer is not None  # the run's network had a gate: so has the one trained again
    np.testing.assert_array_equal(model.params, build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=4,
                                                          skip="gate").params)  # fmt: skip
    assert "Start repeats it" in window.statusBar().currentMessage()
    form = window.training_tab.form
    assert form.noise_weighting.value() == pytest.approx(0.05) and form.config().noise_weighting == pytest.approx(0.05)
    window.state.dirty = False
    window.tabs.setCurrentWidget(tab)
    details = choose(qtbot, tab, plain)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        details.again_button.click()
    assert window.state.model.gate_layer is None and form.config().noise_weighting is None  # not the last run's


def test_continue_training_opens_the_model_and_the_new_run_records_the_run_it_resumed_from(
    qtbot, window, recorded, runs_db, tiny_mnist, tmp_path
):
    original, _ = recorded(save_to=tmp_path / "first.npz", epochs=1)
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(tab)
    details = choose(qtbot, tab, original)
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT):
        details.continue_button.click()
    training = window.training_tab
    assert window.tabs.currentWidget() is training and window.state.name == "first"
    assert training.form.batch_size.value() == 16 and training.form.epochs.value() == 1
    training.form.train_size.setValue(64)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        training.start_button.click()
    with RunStore(runs_db) as store:
        newest, first = store.runs()[0], store.get(original)
        assert newest.source == "app" and newest.resumed_from == first.uuid
        assert [f.id for f in store.followers(first.uuid)] == [newest.id]


def test_saving_a_model_trained_in_the_app_records_its_file_on_the_run(qtbot, window, runs_db, tiny_mnist,
                                                                        tmp_path, monkeypatch):  # fmt: skip
    training = window.training_tab
    training.form.train_size.setValue(64)
    training.form.epochs.setValue(1)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        training.start_button.click()
    path = tmp_path / "mine.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.files.flashed, timeout=TIMEOUT, check_params_cb=lambda text: "run" in text):
        window.actions["save_as"].trigger()
    with RunStore(runs_db) as store:
        (run,) = store.runs()
    assert run.model_path == str(path) and run.model_sha256 == file_sha256(path)
    window.state.model.params[:3] = 0.25  # changed since: saving it again is not that run's model any more
    other = tmp_path / "changed.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(other), ""))
    with qtbot.waitSignal(window.files.record_jobs.busyChanged, timeout=TIMEOUT,
                          check_params_cb=lambda busy: not busy):  # fmt: skip
        window.actions["save_as"].trigger()
    with RunStore(runs_db) as store:
        assert store.runs()[0].model_path == str(path)


def test_a_damaged_database_is_said_and_moved_aside_on_request_and_the_app_works(
    qtbot, window, runs_db, dialog_answers, dialogs_shown
):
    junk = b"not a database " * 300
    runs_db.write_bytes(junk)
    Path(f"{runs_db}-wal").write_bytes(b"log")
    tab = window.runs_tab
    with qtbot.waitSignal(tab.feed.problem, timeout=TIMEOUT) as said:
        window.tabs.setCurrentWidget(tab)
    assert said.args[0].kind == "damaged"
    banner = tab.banner
    assert banner.isVisible() and "damaged" in banner.label.text().lower() and banner.move_button.isVisible()
    assert "cannot be read" in tab.empty_label.text()
    window.tabs.setCurrentWidget(window.architecture_tab)  # the rest of the app goes on
    window.tabs.setCurrentWidget(tab)
    dialog_answers["Move the runs database aside"] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        banner.move_button.click()
    assert "nothing is deleted" in dialogs_shown[-1]
    moved = runs_db.with_name("runs.db.broken")
    assert moved.read_bytes() == junk and Path(f"{moved}-wal").read_bytes() == b"log"
    assert not runs_db.exists() and not Path(f"{runs_db}-wal").exists()
    assert not banner.isVisible() and "No training runs recorded yet" in tab.empty_label.text()


def test_a_locked_database_is_said_and_read_once_free(qtbot, window, recorded, runs_db, monkeypatch):
    import sqlite3

    from gui.runs import feed

    recorded()
    monkeypatch.setattr(feed, "READ_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(runs_db, isolation_level=None)  # another program, outside WAL mode, holding the file
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    tab = window.runs_tab
    try:
        with qtbot.waitSignal(tab.feed.problem, timeout=TIMEOUT) as said:
            window.tabs.setCurrentWidget(tab)
        assert said.args[0].kind == "locked" and "locked by another program" in tab.banner.label.text().lower()
        assert not tab.banner.move_button.isVisible() and tab.banner.retry_button.isVisible()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with qtbot.waitSignal(tab.feed.loaded, timeout=TIMEOUT):
        tab.banner.retry_button.click()
    assert not tab.banner.isVisible() and tab.model.rowCount() == 1


def test_a_read_of_a_database_moved_aside_meanwhile_finds_it_missing_and_makes_none(runs_db, monkeypatch):
    """The Runs tab's reads run as jobs: one that looked for the file just before it was moved aside finds it
    missing, and does not make a new, empty database in its place."""
    from engine.runs import RunStore
    from gui.runs import feed

    RunStore(runs_db).close()

    def opened_after_a_move(*args, **kwargs):  # the user moves the file aside between the look and the open
        if runs_db.exists():
            runs_db.rename(runs_db.with_name("runs.db.broken"))
        return RunStore(*args, **kwargs)

    monkeypatch.setattr(feed, "RunStore", opened_after_a_move)
    snapshot = feed.read_runs(runs_db, None, feed.NEWEST_FIRST, None)
    assert snapshot.missing and not runs_db.exists()
