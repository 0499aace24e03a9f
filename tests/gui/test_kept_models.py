"""A quit signal (a logout, ``kill``) cannot ask about unsaved work, so the app keeps it: the run's model, stopped
after its current batch, or the current model when unsaved; the next start offers each kept model — Open (back,
unsaved, under its name), Discard, or Later."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from engine.callbacks import Callback
from engine.nn import MLP
from gui.app import finish_background_work, keep_unsaved_work, offer_kept_models
from gui.recovery import STALE_CLAIM_S, keep, kept_files

TIMEOUT = 20000
ASKED = "Unsaved model kept"


class Hold(Callback):
    """Holds the training thread after its first batch until ``release`` is set: the run is going on at the quit."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        self.entered, self.release = entered, release

    def on_batch_end(self, batch, logs):
        self.entered.set()
        self.release.wait(60)


def test_a_quit_signal_during_a_run_keeps_the_runs_model_as_it_stopped(qtbot, window, tiny_arrays):
    tab = window.training_tab
    tab.arrays = tiny_arrays
    start = window.state.model.params.copy()
    entered, release = threading.Event(), threading.Event()
    tab.watchers.append(lambda report: Hold(entered, release))
    tab.form.epochs.setValue(50)
    tab.start_button.click()
    qtbot.waitUntil(entered.is_set, timeout=TIMEOUT)
    release.set()  # (the run goes on until the quit stops it after its current batch)
    path = keep_unsaved_work(window)  # (as ``main`` after a quit signal: it stops the run and waits for it)
    assert finish_background_work(window)
    assert path is not None and kept_files() == [path]
    kept = MLP.from_file(path)
    assert not np.array_equal(kept.params, start)  # trained: its batches so far
    assert kept.metadata["history"]["batch_loss"]


def test_an_unsaved_model_is_kept_and_a_saved_one_is_not(window):
    assert keep_unsaved_work(window) is None  # nothing unsaved
    assert kept_files() == []
    window.state.dirty = True
    path = keep_unsaved_work(window)
    assert path is not None and path.stem.startswith(f"{window.state.name} (kept ")
    np.testing.assert_array_equal(MLP.from_file(path).params, window.state.model.params)


def test_open_brings_a_kept_model_back_unsaved_under_its_name_and_its_file_goes(
    qtbot, window, small_model, dialog_answers, dialogs_shown
):
    trained = small_model.copy()
    trained.params += 0.01
    path = keep(trained, "my digits")
    dialog_answers[ASKED] = QMessageBox.StandardButton.Open
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        offer_kept_models(window)
    assert dialogs_shown[0].startswith(f"{ASKED}\n") and "“my digits”" in dialogs_shown[0]
    state = window.state
    assert (state.name, state.dirty, state.model.path) == ("my digits", True, None)  # Save asks where
    np.testing.assert_array_equal(state.model.params, trained.params)
    assert not path.exists() and kept_files() == []


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Discard, QMessageBox.StandardButton.Cancel])
def test_discard_removes_a_kept_model_and_later_keeps_it_for_the_next_start(window, small_model, dialog_answers,
                                                                            dialogs_shown, answer):  # fmt: skip
    older, newer = keep(small_model, "older"), keep(small_model, "newer")
    current = window.state.model
    dialog_answers[ASKED] = answer
    offer_kept_models(window)
    assert window.state.model is current
    if answer == QMessageBox.StandardButton.Discard:  # asked about each, newest first
        assert len(dialogs_shown) == 2 and "1 more kept model is offered" in dialogs_shown[0]
        assert kept_files() == []
    else:  # Later: the rest wait too
        assert len(dialogs_shown) == 1
        assert set(kept_files()) == {older, newer}


def _keep_at_once(model, start: threading.Barrier, paths: list) -> None:
    start.wait()
    paths.append(keep(model, "untitled"))


def test_instances_that_end_together_each_keep_their_model(small_model):
    """A logout ends every instance in the same second: each claims its own file, none writes over another's."""
    for trial in range(5):
        models = [small_model.copy() for _ in range(4)]
        for i, model in enumerate(models):
            model.params[:] = trial * 10 + i
        start, paths = threading.Barrier(len(models)), []
        threads = [threading.Thread(target=_keep_at_once, args=(m, start, paths)) for m in models]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(paths)) == len(models)
        assert sorted(MLP.from_file(p).params[0] for p in paths) == [trial * 10 + i for i in range(len(models))]


def test_a_long_name_in_any_script_is_kept_and_comes_back_whole(qtbot, window, small_model, dialog_answers):
    name = "数字/手写 " * 40  # 480 bytes of UTF-8 and a slash: no file name holds it
    path = keep(small_model, name)
    assert len(path.name.encode()) <= 255
    dialog_answers[ASKED] = QMessageBox.StandardButton.Open
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        offer_kept_models(window)
    assert window.state.name == name and "kept_as" not in window.state.model.metadata


def test_a_kept_file_that_cannot_be_removed_is_said_and_offered_again(qtbot, window, small_model, dialog_answers,
                                                                      dialogs_shown, monkeypatch):  # fmt: skip
    """A read-only folder: Discard and Open say why the file stays (a later start offers it again)."""
    path = keep(small_model, "stuck")
    real_unlink = Path.unlink

    def read_only(self, missing_ok=False):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", read_only)
    dialog_answers[ASKED] = QMessageBox.StandardButton.Discard
    offer_kept_models(window)
    assert dialogs_shown[-1].startswith("Kept model not discarded\n") and "Permission denied" in dialogs_shown[-1]
    dialog_answers[ASKED] = QMessageBox.StandardButton.Open
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        offer_kept_models(window)
    assert window.state.name == "stuck" and window.state.dirty  # opened all the same
    assert dialogs_shown[-1].startswith("Kept file not removed\n") and kept_files() == [path]


def test_a_name_from_a_file_name_that_is_not_utf8_is_kept(small_model, user_data):
    """A model opened from ``mod\\xe9le.npz`` (Latin-1 bytes) is named with a lone surrogate, which UTF-8 cannot
    encode."""
    name = os.fsdecode(b"mod\xe9le")
    path = keep(small_model, name)
    assert kept_files() == [path] and path.stem.startswith("mod")


def test_a_claim_left_empty_by_a_killed_app_is_never_offered_and_goes_once_stale(small_model):
    path = keep(small_model, "whole")
    claim = path.with_name("killed (kept 2026-12-06 09-00-00).npz")
    claim.touch()  # (claimed, never saved: its app was killed in between)
    assert kept_files() == [path] and claim.exists()
    old = time.time() - 2 * STALE_CLAIM_S
    os.utime(claim, (old, old))
    assert kept_files() == [path] and not claim.exists()


def test_a_kept_file_opened_with_file_open_carries_no_kept_name(qtbot, window, small_model):
    path = keep(small_model, "my model")
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        window.files.open_model(str(path))
    assert "kept_as" not in window.state.model.metadata  # (a later save would carry it on)
