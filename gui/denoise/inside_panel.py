"""The Denoise tab's "Inside the network" page: every layer live beside the perturbation controls.

While this page is open the Denoise tab draws with ``network()`` — the perturbed copy when
something is perturbed — and hands every layer's activations to ``show_layers``.  Clicking a
hidden unit in the layer view switches it off or on.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from engine.latent import layer_ranges
from gui.common.data_sets import data_split
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.denoise.layer_view import LayerView
from gui.denoise.perturb_panel import PerturbPanel


def _ranges(model, data_set: str, state) -> list[tuple[float, float]]:
    """Runs on a pool thread: each layer's colour scale from the test set's activations."""
    return layer_ranges(model, data_split("test", data_set)[0])


class InsidePanel(QWidget):
    """``set_model``, ``show_layers`` after each update; ``changed`` when the perturbation changes."""

    changed = Signal()
    applied = Signal(object)  # the perturbed copy the user made the model

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = None
        self.data_set = "mnist"
        self.view = LayerView()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.view)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        hint(self.scroll, self.view.toolTip())
        self.perturb = PerturbPanel()
        self.perturb.setMinimumWidth(320)
        self.perturb.setMaximumWidth(440)
        self.view.unitClicked.connect(self.perturb.toggle_unit)
        self.perturb.changed.connect(self._on_changed)
        self.perturb.applied.connect(self.applied)
        self.range_jobs = JobRunner(self)
        network = QWidget()  # the layers, and under them what is perturbed
        left = QVBoxLayout(network)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(2)
        left.addWidget(self.scroll, 1)
        left.addWidget(self.perturb.summary)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)  # the user may give either side more room
        self.splitter.addWidget(network)
        self.splitter.addWidget(self.perturb)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.splitter)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

    def set_model(self, model) -> None:
        self.model = model
        self.view.set_model(model)
        self.perturb.set_model(model)
        self._request_ranges()

    def set_noise(self, level: float, kind: str) -> None:
        """The input noise the curve scores under (the Denoise tab's slider and noise kind)."""
        self.perturb.set_noise(level, kind)

    def set_data_set(self, name: str) -> None:
        """The test set the colour scales and the curve come from."""
        if name != self.data_set:
            self.data_set = name
            self.perturb.set_data_set(name)
            if self.model is not None:
                self._request_ranges()

    def _request_ranges(self) -> None:
        self.view.set_ranges(None)  # follow what is shown until the test set's scales are in
        self.range_jobs.start(_ranges, self.model, self.data_set, on_done=self.view.set_ranges, on_error=lambda e: None)

    def network(self):
        """The network the Denoise tab shows while this page is open."""
        return self.perturb.network()

    def is_perturbed(self) -> bool:
        return self.perturb.is_perturbed()

    def show_layers(self, image: np.ndarray, activations: list[np.ndarray]) -> None:
        """image: (784,) the network's input; activations: per layer (1, width), from ``MLP.activations``."""
        values = [a[0] for a in activations]
        self.view.show_values(image, values)
        if self.model is not None and len(values) > 1:
            self.perturb.set_code(values[self.model.bottleneck_index()])

    def _on_changed(self) -> None:
        self.view.set_off(self.perturb.plan.off)
        self.changed.emit()
