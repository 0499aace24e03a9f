"""A warning over the images when the model meets images of another data set than it was trained on."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from engine.data_sources import SOURCES, data_source, trained_on
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.denoise.state import DenoiseState


class DataNote(QLabel):
    """Hidden unless the model was trained on one data set and is shown another's images (drawings and pictures
    are made MNIST-style digits)."""

    def __init__(self, state: DenoiseState, switching: JobRunner, parent: QWidget | None = None) -> None:
        """``switching``: the job that reads a test set the tab is switching to (meanwhile no note: the set is
        following the model)."""
        super().__init__(parent)
        self.state, self.switching = state, switching
        self.setObjectName("caption")
        self.setWordWrap(True)
        self.setVisible(False)
        hint(self, "A network can only draw what it learned: shown other images, it draws its own kind")
        for signal in (state.modelChanged, state.inputChanged, state.testSetChanged, switching.busyChanged):
            signal.connect(self.update_note)

    def update_note(self, *_) -> None:
        state = self.state
        trained = trained_on(state.model.metadata) if state.model is not None else "mnist"
        shown = state.test_set if state.source == "test" else "mnist"
        if trained not in SOURCES or trained == shown or self.switching.is_busy():
            self.setVisible(False)
            return
        learned, meets = data_source(trained).title, data_source(shown).title
        these = f"these are {meets} test images" if state.source == "test" else (
            "drawings and pictures are made into MNIST-style digits")  # fmt: skip
        self.setText(
            f"⚠ This model was trained on {learned}, but {these}: it can only draw what it learned, so expect "
            f"{learned}-like shapes."
        )
        self.setVisible(True)
