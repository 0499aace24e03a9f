"""What the window does when the Runs tab asks: open a run's model, continue its training, train its network again.

The Runs tab only asks (its signals carry the run); this object carries the requests out through the
window's own paths, so every check they make still applies: ``FileActions.open_model`` (read off the GUI
thread, asks to stop a run or save unsaved work first), ``FileActions.may_replace`` and ``AppState.set_model``
for a fresh network, ``TrainingForm.apply_settings`` for the settings (clamped to what each control holds,
with a note).

Continuing needs no mechanism of its own: the model file carries the uuid of the run that trained it
(``metadata["run"]``), and the Training tab's recorder writes that as the new run's ``resumed_from``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from engine.runs import RunRecord
from engine.runs.again import starting_model
from engine.runs.recorder import METADATA_KEY
from gui.common import dialogs
from gui.runs.details import RunFacts


class RunsActions(QObject):
    """Carries out ``tab``'s requests (the Runs tab, ``window.runs_tab``) on ``window`` (its files, state, tabs and
    Training form)."""

    def __init__(self, window: QMainWindow, tab: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._continuing: tuple[Path, RunRecord] | None = None  # a model being opened to train further
        tab.openRequested.connect(self.open_model)
        tab.continueRequested.connect(self.continue_training)
        tab.trainAgainRequested.connect(self.train_again)
        tab.message.connect(window.flash)
        window.files.openFinished.connect(self._opened)

    def open_model(self, request: RunFacts) -> None:
        """Open the run's model file (a file changed since the run saved it only after asking)."""
        if self._may_open(request):
            self.window.files.open_model(request.run.model_path)

    def continue_training(self, request: RunFacts) -> None:
        """The run's model as the current one and the form filled with its settings, on the Training tab.  The
        model in the app is used when it is the run's own (trained, maybe unsaved); else its file is opened."""
        run, model = request.run, self.window.state.model
        if model is not None and model.metadata.get(METADATA_KEY) == run.uuid:
            self._fill_form(run, f"Run {run.id}'s model is the current one: press Start to train it further")
            return
        if self._may_open(request):
            self._continuing = (Path(run.model_path).resolve(), run)
            self.window.files.open_model(run.model_path)

    def _opened(self, ok: bool) -> None:
        waiting, self._continuing = self._continuing, None
        model = self.window.state.model
        if not ok or waiting is None or not model.path or Path(model.path).resolve() != waiting[0]:
            return
        run = waiting[1]
        came_from = model.metadata.get(METADATA_KEY)
        which = f"run {run.id}'s" if came_from == run.uuid else "this file's"
        self._fill_form(run, f"Opened run {run.id}'s model: press Start to train it further (the new run records "
                             f"that it continues {which} training)")  # fmt: skip

    def train_again(self, request: RunFacts) -> None:
        """A fresh network with the run's layers, its weights drawn with the run's seed, as the current (unsaved)
        model, and the form filled with the run's settings."""
        run = request.run
        try:
            model, same_start = starting_model(run)
        except ValueError as exc:
            self._fill_form(run, f"{exc}: the form is filled with its settings, for the current model")
            return
        window = self.window
        if not window.files.may_replace(f"train run {run.id} again", lambda: self.train_again(request),
                                        "making a new model"):  # fmt: skip
            return
        window.state.set_model(model, name=f"run-{run.id}-again", dirty=True, origin="new")
        if same_start:
            start = "the same starting weights as the run: Start repeats it (bit for bit on the same machine and data)"
        elif run.resumed_from:
            start = (f"run {run.id} trained further another run's model; this network starts fresh (seed "
                     f"{run.settings.get('seed')}), so its curves will differ")  # fmt: skip
        elif same_start is False:
            start = (f"run {run.id} began from other weights than its seed gives (a model made in the app or another "
                     "program), so the curves will differ a little")  # fmt: skip
        else:
            start = "press Start to train it"
        self._fill_form(run, f"A fresh {run.layers} network with run {run.id}'s settings: {start}")

    def _may_open(self, request: RunFacts) -> bool:
        """The run's model file is there; if it changed since the run saved it, the user agreed to open it anyway."""
        run, state = request.run, request.model
        if state in ("not saved", "missing", "unreadable"):
            words = {"not saved": "saved no model file", "missing": f"saved {run.model_path}, which is gone",
                     "unreadable": f"saved {run.model_path}, which cannot be read"}  # fmt: skip
            self.window.flash(f"Run {run.id} {words[state]}")
            return False
        if state == "changed":
            box = dialogs.message_box(
                QMessageBox.Icon.Question,
                "Model file changed",
                f"{run.model_path} has changed since run {run.id} saved it.",
                QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
                self.window,
                "Its SHA-256 differs: another model was saved there since. Open it anyway?",
            )
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Open
        return True

    def _fill_form(self, run: RunRecord, message: str) -> None:
        """The Training tab shown, its form holding the run's settings; notes on what could not be held."""
        window = self.window
        training = window.training_tab
        window.tabs.setCurrentWidget(training)
        if training.is_running():  # the form is locked while a run is on
            window.flash(f"Training is running: the form takes run {run.id}'s settings once it ends — try again then")
            return
        notes = training.form.apply_settings(run.settings)
        window.flash(message + (f" ({len(notes)} setting{'s' if len(notes) > 1 else ''} adjusted)" if notes else ""))
        if notes:
            dialogs.show_notes(window, "Settings adjusted",
                               f"Some of run {run.id}'s settings do not fit the Training form as recorded:", notes)
