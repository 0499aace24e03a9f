"""The Denoise tab's "Inside the network" page: every layer live beside the perturbation controls.

It draws the layers of the state's forward pass.  While the page is active (the tab shows it), the
state shows its perturbed copy of the network (``DenoiseState.set_perturbed``) whenever something is
perturbed; *Apply to model* is passed on as ``applied(copy)``.  Clicking a hidden unit in the layer
view switches it off or on.  For a model with a skip path a line under the layers says in words how
its output is made from the input and the network's image.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from engine.forward_pass import ForwardPass
from engine.latent import layer_ranges
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.denoise.layer_view import LayerView
from gui.denoise.perturb_panel import PerturbPanel
from gui.denoise.state import DenoiseState

SKIP_NOTES = {
    "gate": (
        "Gate — white: the input passes through; dark: the network draws its own.",
        "The skip path's gate mixes the input and the network's own image pixel by pixel: output = gate · input + "
        "(1 − gate) · network's image. White: the input passes through; dark: the network draws its own.",
    ),
    "residual": (
        "The network's correction is added to the input: red adds ink, blue removes it.",
        "The skip path adds the network's correction to the input: output = clip(input + correction, 0, 1).",
    ),
}
"""What the line under the layers says for a model with a skip path, by its kind: (the line, its tooltip)."""
EXPLORING_NOTE = " Decoding a code: no input passes, the output is the network's own."


def _ranges(model, data: DataSets, data_set: str, state) -> list[tuple[float, float]]:
    """Runs on a pool thread: each layer's colour scale from the test set's activations."""
    return layer_ranges(model, data.images("test", data_set))


class InsidePanel(QWidget):
    """Every layer of the state's forward pass, and the perturbation of the model; ``set_active`` while shown."""

    applied = Signal(object)  # the perturbed copy the user made the model

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.active = False
        self.view = LayerView()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.view)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        hint(self.scroll, self.view.toolTip())
        self.perturb = PerturbPanel(state.data)
        self.perturb.setMinimumWidth(320)
        self.perturb.setMaximumWidth(440)
        self.view.unitClicked.connect(self.perturb.toggle_unit)
        self.perturb.changed.connect(self._on_changed)
        self.perturb.applied.connect(self.applied)
        self.range_jobs = JobRunner(self, on_screen=self)  # computed when first looked at
        network = QWidget()  # the layers, and under them what is perturbed
        left = QVBoxLayout(network)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(2)
        left.addWidget(self.scroll, 1)
        self.skip_note = QLabel("")
        self.skip_note.setObjectName("caption")
        self.skip_note.setWordWrap(True)
        self.skip_note.setVisible(False)
        left.addWidget(self.skip_note)
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
        state.follow(test_set=self._on_test_set, model=self._on_model, noise=self.perturb.set_noise,
                     shown=self._show)  # made at any time (the page is built when first shown): it shows the state now

    def set_active(self, active: bool) -> None:
        """The page is the one the tab shows (True) or not: the state shows the perturbed copy only meanwhile."""
        self.active = active
        self.state.set_perturbed(self.perturb.network() if active else None)

    def _on_model(self, model) -> None:
        self.model = model
        self.view.set_model(model)
        skip = getattr(model, "skip", None)
        line, tip = SKIP_NOTES.get(skip.kind, ("", "")) if skip is not None else ("", "")
        self.skip_note.setText(line)
        hint(self.skip_note, tip)
        self.skip_note.setVisible(skip is not None)
        self.perturb.set_model(model)
        self.perturb.set_data_set(self.state.test_set)
        self._request_ranges()

    def _on_test_set(self, name: str) -> None:
        """The colour scales and the curve come from ``name``'s test images."""
        self.perturb.set_data_set(name)
        if self.model is not None:
            self._request_ranges()

    def _request_ranges(self) -> None:
        self.view.set_ranges(None)  # follow what is shown until the test set's scales are in
        self.range_jobs.start(_ranges, self.model, self.state.data, self.state.test_set, on_done=self.view.set_ranges,
                              on_error=lambda e: None)  # fmt: skip

    def is_perturbed(self) -> bool:
        return self.perturb.is_perturbed()

    def _show(self, shown: ForwardPass) -> None:
        """Draw the network's input (784,) and every layer's output (1, width) of the state's forward pass."""
        values = [a[0] for a in shown.layers]
        self.view.show_values(shown.noisy.reshape(784), values, shown.skip)
        skip = getattr(self.model, "skip", None)
        if skip is not None:
            line, _ = SKIP_NOTES.get(skip.kind, ("", ""))
            self.skip_note.setText(line + (EXPLORING_NOTE if shown.decoded_code else ""))
        if len(values) > 1:
            self.perturb.set_code(shown.code)

    def _on_changed(self) -> None:
        self.view.set_off(self.perturb.plan.off)
        if self.active:
            self.state.set_perturbed(self.perturb.network())
