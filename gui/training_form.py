"""The Training tab's settings form: hyperparameters in, a ``TrainConfig`` out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from engine.optimizers import OPTIMIZERS
from engine.training import TrainConfig
from gui.hints import hint


class TrainingForm(QWidget):
    """Epochs, batch size, learning rate, optimizer, noise, training images and seed.

    ``lrChanged`` fires on every learning-rate edit (it may change while training); the other
    fields are locked while a run is on (``set_running``).
    """

    lrChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = TrainConfig()
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        self.model_label.setObjectName("caption")
        self.epochs = _spin(1, 1000, 5, "How many passes over the training images, 1–1000. 5–10 is usually enough")
        self.batch_size = _spin(
            1,
            8192,
            defaults.batch_size,
            "Images per weight update, 1–8192. 64–128 is a good start; larger is faster per epoch but learns less per"
            " pass",
        )
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(defaults.lr)
        hint(
            self.lr,
            "How big each weight update is. Adam: 1e-3 is a good start; SGD: 0.01–0.1. Too large and training "
            "diverges. A change while training applies from the next batch",
        )
        self.lr.valueChanged.connect(self.lrChanged)
        self.optimizer = QComboBox()
        self.optimizer.addItems(sorted(OPTIMIZERS))
        self.optimizer.setCurrentText(defaults.optimizer)
        hint(
            self.optimizer,
            "Adam adapts the step to each weight (a good default); SGD takes plain steps with momentum 0.9",
        )
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(defaults.noise)
        hint(
            self.noise,
            "Noise σ: the standard deviation of the Gaussian noise added to each training pixel, 0–1: the damage the "
            "network learns to undo. The seed's model was trained at 0.1",
        )
        self.train_size = _spin(1, 60000, 60000, "How many MNIST training images to use (the first n), 1–60,000")
        self.train_size.setSingleStep(1000)
        self.seed = _spin(
            0,
            2**31 - 1,
            defaults.seed,
            "Seed of the shuffling and the noise, 0 or more: the same seed repeats a run exactly",
        )
        form = QFormLayout()
        for label, widget in (
            ("Epochs", self.epochs),
            ("Batch size", self.batch_size),
            ("Learning rate", self.lr),
            ("Optimizer", self.optimizer),
            ("Noise σ", self.noise),
            ("Training images", self.train_size),
            ("Seed", self.seed),
        ):
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.model_label)
        layout.addLayout(form)

    def config(self) -> TrainConfig:
        """The settings as a ``TrainConfig`` (raises ``ValueError``/``TypeError`` for an invalid one)."""
        return TrainConfig(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentText(),
            noise=self.noise.value(),
            seed=self.seed.value(),
        )

    def set_model(self, model) -> None:
        """Describe the model to train and start from the settings it was trained with, if any."""
        widths = "–".join(str(w) for w in [model.n_in] + [layer.n_out for layer in model.layers])
        trained = "trained" if model.metadata.get("history") or model.metadata.get("training") else "untrained"
        self.model_label.setText(f"Model to train: {widths} ({trained}, {model.n_params:,} parameters)")
        used = model.metadata.get("training")
        suggested = model.metadata.get("suggested_training") if used is None else None  # a preset's settings
        used = used if suggested is None else suggested
        if not isinstance(used, dict):
            return
        try:
            config = TrainConfig.from_dict(used)
        except (TypeError, ValueError):
            return
        if isinstance(suggested, dict) and "epochs" in suggested:
            self.epochs.setValue(config.epochs)
        self.batch_size.setValue(config.batch_size)
        self.lr.setValue(config.lr)
        self.optimizer.setCurrentText(config.optimizer)
        self.noise.setValue(config.noise_setting.default_level)  # a range model: the middle of its range

    def set_running(self, running: bool) -> None:
        """Lock what a run fixes at its start; the learning rate stays editable."""
        for widget in (self.epochs, self.batch_size, self.optimizer, self.noise, self.train_size, self.seed):
            widget.setEnabled(not running)


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    hint(spin, tip)
    return spin
