"""The latent code as bars, with an explorer mode where dragging a bar or a slider sets the code.

The panel shows the code of the Denoise state's forward pass; in explorer mode the user's code goes back to
the state (``DenoiseState.explore_code``), whose decoder then runs on it.  The axis range is fixed per model
(from the codes of the test set it was trained on, computed off the GUI thread) so bars stay comparable
from one drawing to the next; until it is known it only ever widens.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.data_sources import trained_on
from engine.forward_pass import ForwardPass
from engine.latent import code_range, latent_codes
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.denoise.latent_bars import LatentBars
from gui.denoise.state import DenoiseState

MAX_SLIDERS = 16
"""Codes of up to this many units get a slider per unit, labelled, under the bars; wider codes are set by dragging
the bars themselves (16 sliders under 64 bars matched none of them)."""
SLIDER_STEPS = 1000
SLIDER_HEIGHT = 50


def _code_range(model, data: DataSets, state) -> tuple[float, float]:
    """Runs on a pool thread: the latent axis from the codes of the test set the model was trained on."""
    return code_range(latent_codes(model, data.images("test", trained_on(model.metadata))))


class LatentPanel(QGroupBox):
    """The state's code as bars; Latent explorer sends the user's code to the state."""

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__("Latent code", parent)
        self.state = state
        self.code = np.zeros(10, np.float32)
        self._fixed = False
        self.bars = LatentBars()
        self.bars.valueEdited.connect(self._on_bar_edited)
        self.explorer_box = QCheckBox("Latent explorer")
        hint(
            self.explorer_box,
            "Set the code yourself: drag the bars (or, for codes of up to 16 units, the numbered sliders) and watch "
            "what the decoder draws from it. A new drawing or test digit starts again from its own code",
        )
        self.explorer_box.toggled.connect(self._on_explorer)
        self.slider_panel = QWidget()
        self.slider_layout = QHBoxLayout(self.slider_panel)
        self.slider_layout.setContentsMargins(0, 0, 0, 0)
        self.sliders: list[QSlider] = []
        self.slider_panel.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explorer_box)
        layout.addWidget(self.bars, 1)
        layout.addWidget(self.slider_panel)
        self.range_jobs = JobRunner(self, on_screen=self)  # computed when first looked at
        state.modelChanged.connect(self._on_model)
        state.shownChanged.connect(self._on_shown)
        state.exploringChanged.connect(self._show_exploring)

    def is_exploring(self) -> bool:
        return self.explorer_box.isChecked()

    def _on_model(self, model) -> None:
        self.reset(model.latent_width)
        self.range_jobs.start(_code_range, model, self.state.data, on_done=lambda r: self.set_range(*r),
                              on_error=lambda e: None)  # fmt: skip

    def _on_shown(self, shown: ForwardPass) -> None:
        self.show_code(shown.code)

    def _show_exploring(self, on: bool) -> None:
        """The state's mode (a new input leaves Latent explorer): the box and the editable bars follow."""
        self.explorer_box.blockSignals(True)
        self.explorer_box.setChecked(on)
        self.explorer_box.blockSignals(False)
        self.bars.set_editable(on)
        self.slider_panel.setVisible(on and bool(self.sliders))

    def reset(self, width: int) -> None:
        """A new model: a code of ``width`` units, the axis unknown again, explorer mode off."""
        self.code = np.zeros(width, np.float32)
        self._fixed = False
        self.bars.set_range(0.0, 1.0)
        self.explorer_box.blockSignals(True)
        self.explorer_box.setChecked(False)
        self.explorer_box.blockSignals(False)
        self.bars.set_editable(False)
        self._build_sliders()
        self.slider_panel.setVisible(False)

    def set_range(self, low: float, high: float) -> None:
        """The axis for this model's codes (fixed from now on)."""
        self._fixed = True
        self.bars.set_range(low, high)
        self.show_code(self.code)

    def show_code(self, code: np.ndarray) -> None:
        """Show a (k,) code in the bars and sliders (no ``codeEdited``)."""
        self.code = np.asarray(code, np.float32).copy()
        if not self._fixed:  # widen only: a drawing's bars stay comparable with the last one's
            lo, hi = self.bars.y_range
            low, high = float(self.code.min(initial=0)), 1.1 * float(self.code.max(initial=0))
            self.bars.set_range(min(lo, low), max(hi, high))
        self.bars.set_values(self.code)
        for j, slider in enumerate(self.sliders):
            slider.blockSignals(True)
            slider.setValue(self._to_slider(float(self.code[j])))
            slider.blockSignals(False)

    def _on_explorer(self, on: bool) -> None:
        """The user turned Latent explorer on (start from the code shown) or off (the input's own code again)."""
        self.state.explore_code(self.code if on else None)

    def _build_sliders(self) -> None:
        """A labelled slider per unit for codes of up to ``MAX_SLIDERS`` units; none for wider ones."""
        while self.slider_layout.count():
            item = self.slider_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sliders = []
        if self.code.size > MAX_SLIDERS:
            return
        for j in range(self.code.size):
            slider = QSlider(Qt.Orientation.Vertical)
            slider.setRange(0, SLIDER_STEPS)
            slider.setFixedHeight(SLIDER_HEIGHT)
            hint(slider, f"Code unit {j}: drag to change it and watch the decoded image")
            slider.valueChanged.connect(self._on_slider)
            label = QLabel(str(j))
            label.setObjectName("caption")
            column = QWidget()
            stack = QVBoxLayout(column)
            stack.setContentsMargins(0, 0, 0, 0)
            stack.setSpacing(0)
            stack.addWidget(slider, 0, Qt.AlignmentFlag.AlignHCenter)
            stack.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
            self.slider_layout.addWidget(column)
            self.sliders.append(slider)

    def _to_slider(self, value: float) -> int:
        lo, hi = self.bars.y_range
        return int(round((value - lo) / (hi - lo) * SLIDER_STEPS)) if hi > lo else 0

    def _on_slider(self) -> None:
        lo, hi = self.bars.y_range
        code = self.code.copy()
        for j, slider in enumerate(self.sliders):
            code[j] = lo + (hi - lo) * slider.value() / SLIDER_STEPS
        self.code = code
        self.bars.set_values(code)
        self.state.explore_code(code)

    def _on_bar_edited(self, index: int, value: float) -> None:
        code = self.code.copy()
        code[index] = value
        self.state.explore_code(code)
