"""The Denoise tab's noise row: the kind of noise, its level on a slider over one fixed pattern, New noise.

It shows the state's noise and sends the user's choices to it (``DenoiseState.set_noise``, ``new_noise``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from gui.common.controls import hinted_button
from gui.common.hints import hint
from gui.common.noise_kinds import LEVEL_HINTS, NoiseKindBox, level_name
from gui.denoise.state import DenoiseState

SLIDER_STEPS = 100
"""The slider's steps from level 0 to 1."""


class NoiseRow(QWidget):
    """Kind ▾ · Noise σ ——●—— 0.30 · New noise."""

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.kind_box = NoiseKindBox(
            "The kind of noise: Gaussian (every pixel shifted, level σ), salt and pepper (a fraction of pixels set "
            "to black or white) or masking (a fraction blanked). It starts at the kind the model was trained on"
        )
        self.kind_box.kindChanged.connect(lambda kind: state.set_noise(kind=kind))
        self.level_label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setMinimumWidth(self.slider.fontMetrics().horizontalAdvance("0") * 14)  # never squeezed to a knob
        self.slider.valueChanged.connect(lambda value: state.set_noise(level=value / SLIDER_STEPS))
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("0.000"))
        self.new_button = hinted_button(
            "New noise", "Draw a new random noise pattern (the slider keeps scaling it)", state.new_noise
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.kind_box, 0), (self.level_label, 0), (self.slider, 1), (self.value_label, 0),
                                (self.new_button, 0)):  # fmt: skip
            layout.addWidget(widget, stretch)
        state.noiseChanged.connect(self._show)
        self._show(state.noise_kind, state.level)

    def _show(self, kind: str, level: float) -> None:
        """The controls say the state's noise (without sending it back)."""
        for widget in (self.kind_box, self.slider):
            widget.blockSignals(True)
        self.kind_box.set_kind(kind)
        self.slider.setValue(round(level * SLIDER_STEPS))
        for widget in (self.kind_box, self.slider):
            widget.blockSignals(False)
        self.value_label.setText(f"{level:.2f}")
        self.level_label.setText("Noise σ" if kind == "gaussian" else "Fraction")
        hint(
            self.slider,
            f"{LEVEL_HINTS[kind]}. The slider scales one fixed pattern (New noise draws another); it starts at the "
            f"{level_name(kind)} this model was trained at (the middle of its range)",
        )
