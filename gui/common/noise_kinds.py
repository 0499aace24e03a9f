"""The noise kinds as the app names them: a chooser, and words for a kind's level (σ, or a fraction of pixels).

The kinds and what their level means come from ``engine.noise`` (``NOISE_KINDS``, ``LEVEL_NAMES``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from engine.noise import LEVEL_NAMES, NOISE_KINDS, check_kind
from gui.common.hints import hint

TITLES = {"gaussian": "Gaussian", "salt_and_pepper": "Salt and pepper", "masking": "Masking"}
"""How the app names each kind."""
LEVEL_HINTS = {
    "gaussian": "Noise σ: the standard deviation of the Gaussian noise added to each pixel, 0–1 (0.3 already "
    "hides much of a digit)",
    "salt_and_pepper": "Fraction of pixels set to black or white at random (salt and pepper), 0–1 (0.2 is a "
    "heavily speckled image)",
    "masking": "Fraction of pixels blanked to black (masking, as in the first denoising-autoencoder papers), 0–1 "
    "(0.3 leaves gaps in every stroke)",
}
"""What a level means for each kind, for tooltips."""


def level_name(kind: str) -> str:
    """"σ" for Gaussian noise, "fraction" for the kinds that hit a fraction of the pixels."""
    return LEVEL_NAMES[check_kind(kind)]


def level_text(kind: str, level: float) -> str:
    """"σ 0.40", "salt-and-pepper fraction 0.20", "masking fraction 0.30": a level in a sentence."""
    kind = check_kind(kind)
    if kind == "gaussian":
        return f"σ {level:.2f}"
    return f"{kind.replace('_', '-')} fraction {level:.2f}"


class NoiseKindBox(QComboBox):
    """A drop-down of the noise kinds; ``kindChanged(kind)`` with the engine's name of the kind."""

    kindChanged = Signal(str)

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for kind in NOISE_KINDS:
            self.addItem(TITLES[kind], kind)
        hint(self, tip)
        self.currentIndexChanged.connect(lambda _: self.kindChanged.emit(self.kind()))

    def kind(self) -> str:
        return self.currentData()

    def set_kind(self, kind: str) -> None:
        self.setCurrentIndex(self.findData(check_kind(kind)))
