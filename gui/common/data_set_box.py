"""A chooser of the data set (MNIST or Fashion-MNIST), by the engine's names (``engine.download.SOURCES``)."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from engine.data_sources import SOURCES, data_source
from gui.common.hints import hint


class DataSetBox(QComboBox):
    """A drop-down of the data sets; ``dataSetChanged(name)`` with the canonical name ("mnist", "fashion_mnist")."""

    dataSetChanged = Signal(str)

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for name, source in SOURCES.items():
            self.addItem(source.title, name)
        hint(self, tip)
        self.currentIndexChanged.connect(lambda _: self.dataSetChanged.emit(self.data_set()))

    def data_set(self) -> str:
        return self.currentData()

    def set_data_set(self, name: str) -> None:
        """Choose a data set by any of its spellings; a name the app does not know leaves the choice as it is."""
        with contextlib.suppress(TypeError, ValueError):
            self.setCurrentIndex(self.findData(data_source(name).name))
