"""What the whole app works on: the current model, its name, whether it is saved, and the data sets it reads.

One ``AppState`` belongs to the application (``gui.app.main`` makes it and hands it to the window).
Tabs and the window subscribe to its signals and send changes to it; none of them owns the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.baselines import APP_TUNE_IMAGES, BaselineBank
from engine.nn import MLP
from gui.common.data_sets import DataSets

ORIGINS = ("opened", "new", "trained", "applied")
"""Where a model came from: a file or a start model, the Architecture tab, a training run, or Inside the
network's *Apply to model* (a perturbed copy of the network shown — views keep the noise the user set)."""


Check = Callable[[MLP], list[str]]
"""What a view derives from a model, computed before the model becomes current: it returns a note for each value
it must change to show (a setting beyond what its control holds) and raises only when it cannot show the model at
all.  Pure and thread-safe (the app runs the checks on a job thread as it reads a file)."""


@dataclass(frozen=True)
class ModelChange:
    """A new current model and where it came from (one of ``ORIGINS``)."""

    model: MLP
    origin: str


class AppState(QObject):
    """The current model (``model``, ``name``, ``dirty``) and the data sets (``data``), with a signal each; the
    baselines fitted on the data sets' training images (``baselines``: PCA's axes, linear maps, tuned filters, kept);
    whether a run is training (``training``, set by the Training tab): work that can wait, waits for it."""

    modelChanged = Signal(object)  # ModelChange
    savedChanged = Signal()  # the name or the unsaved mark changed (a save, a save as)
    dataNote = Signal(str)  # a note about the data files read (not the official ones), once per note
    trainingChanged = Signal(bool)  # a run started (True) or ended

    def __init__(self, data: DataSets | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data = data if data is not None else DataSets()
        self.baselines = BaselineBank(lambda name: self.data.images("train", name), tune_images=APP_TUNE_IMAGES)
        self.data.on_note = self.dataNote.emit  # from a reading thread: queued to the GUI thread's slots
        self.model: MLP | None = None
        self.name = "untitled"
        self.dirty = False
        self.training = False
        self._checks: list[Check] = []

    def add_check(self, check: Check) -> None:
        """A view's ``Check``: run on every model before it is opened (once, however often it is added: a view made
        late adds the check the window added for it at the start)."""
        if check not in self._checks:
            self._checks.append(check)

    def check(self, model: MLP) -> list[str]:
        """Every view's notes on ``model`` (an exception: a view cannot show it, and it must not be opened)."""
        return [note for check in self._checks for note in check(model)]

    def set_model(self, model: MLP, name: str | None = None, dirty: bool = False, origin: str = "opened") -> None:
        """Make ``model`` the current one; ``name`` defaults to its file's stem (else "untitled")."""
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
        self.model = model
        self.name = name if name is not None else (Path(model.path).stem if model.path else "untitled")
        self.dirty = dirty
        self.modelChanged.emit(ModelChange(model, origin))

    def set_training(self, training: bool) -> None:
        """A run started or ended (the Training tab says so)."""
        if training != self.training:
            self.training = training
            self.trainingChanged.emit(training)

    def mark_saved(self, path: str) -> None:
        """The model is now in ``path``: its name, and nothing unsaved."""
        self.model.path = str(path)
        self.name, self.dirty = Path(path).stem, False
        self.savedChanged.emit()
