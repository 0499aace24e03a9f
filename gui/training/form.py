"""The Training tab's settings form: hyperparameters in, a ``TrainConfig`` out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.data_sources import trained_on
from engine.noise import NOISE_KINDS
from engine.optimizers import OPTIMIZERS
from engine.run_limits import Bound
from engine.training import TrainConfig
from gui.common.data_set_box import DataSetBox
from gui.common.hints import hint
from gui.common.noise_kinds import LEVEL_HINTS, NoiseKindBox, level_name


class TrainingForm(QWidget):
    """Epochs, batch size, learning rate, optimizer, data set, noise (kind, one level or a range), training
    images and seed.

    ``lrChanged`` fires on every learning-rate edit (it may change while training); ``dataChanged``
    when what the strip of test images shows changes (data set, noise kind or level).  The other
    fields are locked while a run is on (``set_running``).
    """

    lrChanged = Signal(float)
    dataChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        self.model_label.setObjectName("caption")
        self._make_fields(TrainConfig())
        self._lay_out()
        self.lr.valueChanged.connect(self.lrChanged)
        self.noise_kind.kindChanged.connect(self._name_levels)
        self.noise_range.toggled.connect(self._show_range)
        for signal in (self.data_set.dataSetChanged, self.noise_kind.kindChanged, self.noise.valueChanged,
                       self.noise_range.toggled, self.noise_high.valueChanged):  # fmt: skip
            signal.connect(lambda *_: self.dataChanged.emit())
        self._name_levels(self.noise_kind.kind())
        self._show_range(False)

    def _make_fields(self, defaults: TrainConfig) -> None:
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
        self.optimizer = QComboBox()
        self.optimizer.addItems(sorted(OPTIMIZERS))
        self.optimizer.setCurrentText(defaults.optimizer)
        hint(
            self.optimizer,
            "Adam adapts the step to each weight (a good default); SGD takes plain steps with momentum 0.9",
        )
        self.data_set = DataSetBox(
            "The images to train on: MNIST handwritten digits, or Fashion-MNIST clothing (T-shirts, trousers, "
            "sneakers, bags…), both 28×28 grey. The model file records the choice"
        )
        self.noise_kind = NoiseKindBox(
            "The damage the network learns to undo: Gaussian noise on every pixel (level σ), salt and pepper "
            "(a fraction of pixels set to black or white) or masking (a fraction blanked to black)"
        )
        self.noise = _level_spin(defaults.noise)
        self.noise_range = QCheckBox()
        self.noise_high = _level_spin(0.8)
        self.noise_high_label = QLabel()
        self.train_size = _spin(
            1, 60000, 60000, "How many images of the chosen data set to train on (the first n), 1–60,000"
        )
        self.train_size.setSingleStep(1000)
        self.seed = _spin(
            0,
            2**31 - 1,
            defaults.seed,
            "Seed of the shuffling and the noise, 0 or more: the same seed repeats a run exactly",
        )
        self.noise_label = QLabel()

    def _lay_out(self) -> None:
        self.form = QFormLayout()
        for label, widget in (
            ("Epochs", self.epochs),
            ("Batch size", self.batch_size),
            ("Learning rate", self.lr),
            ("Optimizer", self.optimizer),
            ("Data set", self.data_set),
            ("Noise kind", self.noise_kind),
            (self.noise_label, self.noise),
            ("", self.noise_range),
            (self.noise_high_label, self.noise_high),
            ("Training images", self.train_size),
            ("Seed", self.seed),
        ):
            self.form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.model_label)
        layout.addLayout(self.form)

    def _name_levels(self, kind: str) -> None:
        """The level's words follow the kind: σ for Gaussian noise, a fraction of pixels for the others."""
        name = level_name(kind)
        self.noise_label.setText(f"Noise {name}" + (" from" if self.noise_range.isChecked() else ""))
        self.noise_high_label.setText(f"… up to {name}")
        self.noise_range.setText(f"Train on a range of {name}" + ("" if kind == "gaussian" else "s"))
        hint(self.noise, f"{LEVEL_HINTS[kind]}. With a range: its lowest {name}")
        hint(
            self.noise_range,
            f"Give each training image its own {name}, drawn evenly from a range (\"blind\" denoising): one model "
            f"then works across the whole noise slider. 0 to 0.8 is a good range",
        )
        hint(self.noise_high, f"The highest {name} of the range, 0–1; each image draws its own {name} between the two")

    def _show_range(self, on: bool) -> None:
        self.form.setRowVisible(self.noise_high, on)
        self._name_levels(self.noise_kind.kind())

    def config(self) -> TrainConfig:
        """The settings as a ``TrainConfig`` (raises ``ValueError``/``TypeError`` for an invalid one)."""
        low = self.noise.value()
        return TrainConfig(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentText(),
            noise=(low, self.noise_high.value()) if self.noise_range.isChecked() else low,
            noise_kind=self.noise_kind.kind(),
            seed=self.seed.value(),
        )

    def data_set_name(self) -> str:
        """The chosen data set's canonical name ("mnist", "fashion_mnist")."""
        return self.data_set.data_set()

    def set_model(self, model) -> None:
        """Describe the model to train and start from the settings it was trained with, if any (a noise range,
        its kind, the data set)."""
        widths = "–".join(str(w) for w in [model.n_in] + [layer.n_out for layer in model.layers])
        trained = "trained" if model.metadata.get("history") or model.metadata.get("training") else "untrained"
        self.model_label.setText(f"Model to train: {widths} ({trained}, {model.n_params:,} parameters)")
        if model.metadata.get("dataset"):
            self.data_set.set_data_set(trained_on(model.metadata))
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
        setting = config.noise_setting
        self.noise_kind.set_kind(setting.kind)
        self.noise.setValue(setting.low)
        self.noise_range.setChecked(setting.is_range)
        if setting.is_range:
            self.noise_high.setValue(setting.high)

    def apply_settings(self, settings: dict) -> list[str]:
        """Fill the form from a recorded run's ``settings`` (``engine.runs``); returns a note for each value a control
        cannot hold (clamped to its range, or rounded to its decimals) and each setting the form has no control for."""
        notes: list[str] = []
        kind = settings.get("noise_kind") if settings.get("noise_kind") in NOISE_KINDS else "gaussian"
        self.noise_kind.set_kind(kind)
        if settings.get("dataset"):
            self.data_set.set_data_set(settings["dataset"])
        noise = settings.get("noise")
        levels = noise if isinstance(noise, list) and len(noise) == 2 else [noise] if noise is not None else []
        self.noise_range.setChecked(len(levels) == 2)
        spins = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "train_size": self.train_size,
                 "seed": self.seed}  # fmt: skip
        values = [(name, spin, settings.get(name)) for name, spin in spins.items()]
        values += list(zip(("noise", "noise up to"), (self.noise, self.noise_high), levels, strict=False))
        for name, spin, value in values:
            if value is not None:
                notes += _fill(spin, name, value)
        if settings.get("optimizer") in OPTIMIZERS:
            self.optimizer.setCurrentText(settings["optimizer"])
        defaults = TrainConfig()
        for name in ("momentum", "loss"):  # what the app always trains with
            value = settings.get(name)
            if value is not None and value != getattr(defaults, name) and (name != "momentum" or
                                                                            settings.get("optimizer") == "sgd"):
                notes.append(f"{name} {value}: the app trains with {getattr(defaults, name)} (no control for it)")
        return notes

    def set_running(self, running: bool) -> None:
        """Lock what a run fixes at its start; the learning rate stays editable."""
        for widget in (self.epochs, self.batch_size, self.optimizer, self.data_set, self.noise_kind, self.noise,
                       self.noise_range, self.noise_high, self.train_size, self.seed):  # fmt: skip
            widget.setEnabled(not running)


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    hint(spin, tip)
    return spin


def _level_spin(value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 1.0)
    spin.setSingleStep(0.05)
    spin.setValue(value)
    return spin


def _fill(spin: QSpinBox | QDoubleSpinBox, name: str, value: object) -> list[str]:
    """Put ``value`` in ``spin``: clamped to the control's range, or rounded to its decimals, with a note saying so."""
    whole = isinstance(spin, QSpinBox)
    held, note = Bound(name, spin.minimum(), spin.maximum(), integer=whole).clamp(value)
    if held is None:
        return [note]
    spin.setValue(held)
    if note is None and not whole and abs(spin.value() - held) > 1e-12:
        note = f"{name} {held:g} is shown as {spin.value():g} (the control's {spin.decimals()} decimals)"
    return [note] if note else []
