"""The latent code as bars, with an explorer mode where dragging a bar or a slider sets the code.

The panel shows the code of the Denoise state's forward pass; in explorer mode the user's code goes back to
the state (``DenoiseState.explore_code``), whose decoder then runs on it.  The axis range is fixed per model
(from the codes of the test set it was trained on, computed off the GUI thread) so bars stay comparable
from one drawing to the next; until it is known it only ever widens.  A code wider than ``MAX_BARS``
units shows its most active units for the input (they stay put while exploring), and says so; for a
model with a skip path a line says what its code now means.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.data_sources import trained_on
from engine.forward_pass import ForwardPass
from engine.latent import code_range, latent_codes, strongest_units
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
MAX_BARS = 64
"""Codes of up to this many units show every unit as a bar; wider ones (the gated model's 1,024) their this many
most active units for the input: a thousand bars are each under a pixel, too thin to read or drag."""
SKIP_MEANINGS = {
    "gate": (
        "Its gate also hands the input straight to the output: the code is not everything the output is made from.",
        "This model also hands its input straight to the output through a gate, so the code is not everything the "
        "output is made from: where the gate is open the input itself passes. Latent explorer shows what the "
        "network draws from a code alone.",
    ),
    "residual": (
        "The input also goes straight to the output: the code only says what to change.",
        "This model adds what the network draws to its input, so the code is not everything the output is made "
        "from: it only says what to change. Latent explorer shows the network's correction from a code alone.",
    ),
}
"""What the code means for a model with a skip path, by its kind: (the line under the bars, its tooltip)."""


def _code_range(model, data: DataSets, state) -> tuple[float, float]:
    """Runs on a pool thread: the latent axis from the codes of the test set the model was trained on."""
    return code_range(latent_codes(model, data.images("test", trained_on(model.metadata))))


class LatentPanel(QGroupBox):
    """The state's code as bars; Latent explorer sends the user's code to the state."""

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__("Latent code", parent)
        self.state = state
        self.code = np.zeros(10, np.float32)
        self.units: np.ndarray | None = None  # the units the bars show, for a code wider than MAX_BARS
        self._skip: str | None = None  # the model's skip path
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
        self.note = QLabel("")
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explorer_box)
        layout.addWidget(self.bars, 1)
        layout.addWidget(self.slider_panel)
        layout.addWidget(self.note)
        self.range_jobs = JobRunner(self, on_screen=self)  # computed when first looked at
        state.modelChanged.connect(self._on_model)
        state.shownChanged.connect(self._on_shown)
        state.exploringChanged.connect(self._show_exploring)

    def is_exploring(self) -> bool:
        return self.explorer_box.isChecked()

    def _on_model(self, model) -> None:
        skip = getattr(model, "skip", None)
        self._skip = None if skip is None else skip.kind
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
        self._fit_note()

    def reset(self, width: int) -> None:
        """A new model: a code of ``width`` units, the axis unknown again, explorer mode off."""
        self.code = np.zeros(width, np.float32)
        self.units = None
        self._fixed = False
        self.bars.set_range(0.0, 1.0)
        self.explorer_box.blockSignals(True)
        self.explorer_box.setChecked(False)
        self.explorer_box.blockSignals(False)
        self.bars.set_editable(False)
        self._build_sliders()
        self.slider_panel.setVisible(False)
        self._write_note(width)

    def _write_note(self, width: int) -> None:
        """Say what the bars leave out (a wide code: on the axis) and what the code means (a model with a skip path:
        a line under the bars, more in its tooltip)."""
        if width > MAX_BARS:
            self.bars.setLabel("bottom", f"latent unit · the {MAX_BARS} most active of {width:,}")
            hint(self.bars, f"The code has {width:,} units: too many bars to read or drag. The {MAX_BARS} most active "
                            "for the input are shown, by unit number; they stay put while you explore")  # fmt: skip
        else:
            self.bars.setLabel("bottom", "latent unit")
            hint(self.bars, self.bars.default_tip)
        line, tip = SKIP_MEANINGS.get(self._skip, ("", ""))
        self.note.setText(line)
        hint(self.note, tip)
        if tip:  # the bars say it too: the line gives way when the panel is too short for it
            hint(self.bars, f"{self.bars.toolTip()}. {tip}")
        self._fit_note()

    def _fit_note(self) -> None:
        """Show the line under the bars when it has one and there is room for it beside the bars' least height (a
        short panel — a small window, a large scale factor — would otherwise draw it over them)."""
        if not self.note.text():
            self.note.setVisible(False)
            return
        layout = self.layout()
        used = self.explorer_box.sizeHint().height() + self.bars.minimumHeight() + 3 * layout.spacing()
        if self.slider_panel.isVisibleTo(self):
            used += self.slider_panel.sizeHint().height() + layout.spacing()
        margins = self.contentsMargins().top() + self.contentsMargins().bottom() + layout.contentsMargins().top() \
            + layout.contentsMargins().bottom()  # fmt: skip
        width = max(1, self.contentsRect().width() - layout.contentsMargins().left() - layout.contentsMargins().right())
        self.note.setVisible(self.height() - margins - used >= self.note.heightForWidth(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_note()

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
        if self.code.size > MAX_BARS and (self.units is None or not self.is_exploring()):
            self.units = strongest_units(self.code, MAX_BARS)
        shown = self.code if self.units is None else self.code[self.units]
        self.bars.set_values(shown, self.units)
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
        """Bar ``index`` dragged to ``value``: that bar's unit of the code."""
        code = self.code.copy()
        code[index if self.units is None else self.units[index]] = value
        self.state.explore_code(code)
