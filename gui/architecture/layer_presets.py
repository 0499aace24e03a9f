"""Ready-made layer stacks for the Architecture tab's editor, and the training settings a linear model suggests."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from engine.pca_check import is_linear
from gui.common.hints import hint

PCA_CHECK_TRAINING = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "optimizer": "adam", "noise": 0.0}
"""How the walkthrough's claim is checked: clean images (σ = 0), Adam at 1e-3, batches of 128, 10 epochs."""
GATED_TRAINING = {"batch_size": 128, "lr": 1e-3, "optimizer": "adam", "noise": [0.0, 1.0], "noise_weighting": 0.05}
"""How the default gated model was trained (``models/README.md``), but for its 40 epochs: a gate learns to pass the
input through only when trained over light and heavy noise (σ 0–1), each image's loss weighted by 1 / (σ² + c) so
that light noise counts too.  The form keeps its epochs (the default's 40 took ~12 minutes)."""


@dataclass(frozen=True)
class Preset:
    """A layer stack: each layer's units out (the last is 784), its activation, and the skip path (or None)."""

    name: str
    widths: tuple[int, ...]
    activations: tuple[str, ...]
    tip: str
    skip: str | None = None


PCA_CHECK_PRESET = "Linear 784-k-784 (PCA check)"
"""The preset the Guide's "Open the PCA check" uses."""

PRESETS = (
    Preset(
        "Walkthrough 784-10-784 (ReLU, Sigmoid)", (10, 784), ("relu", "sigmoid"),
        "The seed walkthrough's denoising autoencoder: a 10-number code, ReLU then Sigmoid",
    ),
    Preset(
        PCA_CHECK_PRESET, (10, 784), ("linear", "linear"),
        "Identity activations, k = 10 (change the first layer's units for another k). Trained on clean images "
        "it learns PCA's subspace: the Training tab compares the two as it trains",
    ),
    Preset(
        "Gated 784-1024-1024-784 (the default's shape)", (1024, 1024, 784), ("relu", "relu", "sigmoid"),
        "The shape of the app's default model: two 1024-unit ReLU layers and a learned gate that passes the "
        "input through where it can be trusted. New model fills the Training form as the default was trained (σ 0–1, "
        "loss weighting c = 0.05); its 40 epochs took about 12 minutes on a quiet 2-core machine (models/README.md)",
        "gate",
    ),
    Preset(
        "Residual 784-256-784", (256, 784), ("relu", "linear"),
        "A small network that draws a correction added to its input: output = clip(input + network, 0, 1)",
        "residual",
    ),
)  # fmt: skip


def suggest_training(model):
    """Mark a new model with the training settings its kind needs (the Training form starts from them): a linear
    autoencoder the PCA check's, a model with a gated skip path the default gated model's."""
    if is_linear(model):
        model.metadata["suggested_training"] = dict(PCA_CHECK_TRAINING)
    elif model.skip is not None and model.skip.kind == "gate":
        model.metadata["suggested_training"] = dict(GATED_TRAINING)
    return model


class PresetBox(QComboBox):
    """A first entry that invites a choice, then one per preset; ``presetChosen(Preset)`` on a choice."""

    presetChosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)  # compact in the editor; the open list shows the full names
        self.addItem("Presets…")
        for preset in PRESETS:
            self.addItem(preset.name)
            self.setItemData(self.count() - 1, preset.tip, Qt.ItemDataRole.ToolTipRole)
        tip = (
            "Fill the layer table with a ready-made network (the walkthrough's, a linear one to check that it "
            "learns PCA, or one with a skip path); then edit it or press New model"
        )
        hint(self, tip)
        self.activated.connect(self._chosen)

    def _chosen(self, index: int) -> None:
        if index > 0:
            self.presetChosen.emit(PRESETS[index - 1])
            self.setCurrentIndex(0)  # the box invites the next choice; the table shows this one
