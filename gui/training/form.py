"""The Training tab's settings form: hyperparameters in, a ``TrainConfig`` out.

What the form takes from a model file is ``settings_of(metadata)``: plain values within what each box holds,
and a note for every value it had to change.  It never raises and touches no widget, so the app computes it
(with the notes to show) before it makes a file's model the current one (``AppState.add_check``).
"""

from __future__ import annotations

from dataclasses import dataclass

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
from engine.run_limits import SEED, Bound
from engine.training import TrainConfig
from gui.common.data_set_box import DataSetBox
from gui.common.hints import explain_disabled, hint
from gui.common.noise_kinds import LEVEL_HINTS, NoiseKindBox, level_name

EPOCHS_BOX = Bound("epochs", 1, 1000, integer=True)
BATCH_BOX = Bound("batch size", 1, 8192, integer=True)
LR_BOX = Bound("learning rate", 1e-5, 1.0)
LEVEL_BOX = Bound("noise level", 0.0, 1.0)
TRAIN_SIZE_BOX = Bound("training images", 1, 60000, integer=True)
WEIGHTING_BOX = Bound("loss weighting c", 1e-4, 10.0)
"""What each box of the form holds (narrower than a run's bounds, ``engine.run_limits``: a file the CLI wrote may
hold more, and opens clamped to these with a note)."""


@dataclass(frozen=True)
class FormSettings:
    """The settings a model file gives the form, each within its box; ``epochs`` only from a preset's
    suggestion (a trained model's own count says nothing about the next run), ``high`` only for a range."""

    batch_size: int
    lr: float
    optimizer: str
    noise_kind: str
    low: float
    high: float | None
    epochs: int | None = None
    noise_weighting: float | None = None  # TrainConfig.noise_weighting: None when the run weighed images alike


def form_notes(model) -> list[str]:
    """What the Training form will say of ``model``'s file when it opens (an ``AppState`` check)."""
    return settings_of(model.metadata)[1]


def settings_of(metadata: dict) -> tuple[FormSettings | None, list[str]]:
    """The form's values from a model's metadata (its own run's settings, else a preset's suggestion), and a
    note for each value changed to fit its box; (None, notes) when the file records no usable settings."""
    used = metadata.get("training") if isinstance(metadata, dict) else None
    suggested = metadata.get("suggested_training") if used is None and isinstance(metadata, dict) else None
    record = used if suggested is None else suggested
    if not isinstance(record, dict):
        return None, []
    try:
        config = TrainConfig.from_dict(record)
    except (TypeError, ValueError) as exc:
        return None, [f"the Training form keeps its values: the recorded settings cannot be used ({exc})"]
    notes: list[str] = []

    def fit(bound: Bound, value):
        fitted, note = bound.clamp(value)
        if note is not None:
            notes.append(f"the Training form's {bound.name} box holds values {bound.describe()}: the file's "
                         f"{value:g} is shown as {fitted:g}")  # fmt: skip
        return fitted

    setting = config.noise_setting
    return FormSettings(
        batch_size=fit(BATCH_BOX, config.batch_size),
        lr=fit(LR_BOX, config.lr),
        optimizer=config.optimizer,
        noise_kind=setting.kind,
        low=fit(LEVEL_BOX, setting.low),
        high=fit(LEVEL_BOX, setting.high) if setting.is_range else None,
        epochs=fit(EPOCHS_BOX, config.epochs) if isinstance(suggested, dict) and "epochs" in suggested else None,
        noise_weighting=fit(WEIGHTING_BOX, config.noise_weighting) if config.noise_weighting is not None else None,
    ), notes


class TrainingForm(QWidget):
    """Epochs, batch size, learning rate, optimizer, data set, noise (kind, one level or a range, and with a range
    the loss weighting by level), training images and seed.

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
        self.epochs = _spin(EPOCHS_BOX, 5, "How many passes over the training images, 1–1000. 5–10 is usually enough")
        self.batch_size = _spin(
            BATCH_BOX,
            defaults.batch_size,
            "Images per weight update, 1–8192. 64–128 is a good start; larger is faster per epoch but learns less per"
            " pass",
        )
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(LR_BOX.low, LR_BOX.high)
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
        self.noise_weighting = QDoubleSpinBox()
        self.noise_weighting.setDecimals(4)
        self.noise_weighting.setRange(0.0, WEIGHTING_BOX.high)  # 0: off (below WEIGHTING_BOX.low: no c is that small)
        self.noise_weighting.setSingleStep(0.01)
        self.noise_weighting.setSpecialValueText("off (plain MSE)")
        self.noise_weighting.setPrefix("c = ")
        self.noise_weighting.setValue(defaults.noise_weighting or 0.0)
        hint(
            self.noise_weighting,
            "With a range: divide each training image's loss by (its level² + c), so lightly noised images count as "
            "much as heavily noised ones, whose far larger errors would otherwise drown theirs. Use it with a range "
            "from 0 to make one model good at light noise too (the app's gated default model: 0 to 1, c = 0.05). "
            "Smaller c leans harder towards light noise: at level 0 an image weighs (top² + c) / c times one at the "
            f"top. Off: every image counts alike. c from {WEIGHTING_BOX.low:g} to {WEIGHTING_BOX.high:g}",
        )
        self.train_size = _spin(
            TRAIN_SIZE_BOX, 60000, "How many images of the chosen data set to train on (the first n), 1–60,000"
        )
        self.train_size.setSingleStep(1000)
        self.seed = _spin(
            SEED,
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
            ("Loss weighting", self.noise_weighting),
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
        self.form.setRowVisible(self.noise_weighting, on)  # it weighs images by their level: a range only
        self._name_levels(self.noise_kind.kind())

    def config(self) -> TrainConfig:
        """The settings as a ``TrainConfig`` (raises ``ValueError``/``TypeError`` for an invalid one)."""
        low, weighting = self.noise.value(), self.noise_weighting.value()
        ranged = self.noise_range.isChecked()
        return TrainConfig(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentText(),
            noise=(low, self.noise_high.value()) if ranged else low,
            noise_kind=self.noise_kind.kind(),
            seed=self.seed.value(),
            noise_weighting=weighting if ranged and weighting > 0 else None,
        )

    def data_set_name(self) -> str:
        """The chosen data set's canonical name ("mnist", "fashion_mnist")."""
        return self.data_set.data_set()

    def set_model(self, model) -> None:
        """Describe the model to train and start from the settings it was trained with, if any (a noise range,
        its kind, the loss weighting, the data set)."""
        widths = "–".join(str(w) for w in [model.n_in] + [layer.n_out for layer in model.layers])
        trained = "trained" if model.metadata.get("history") or model.metadata.get("training") else "untrained"
        self.model_label.setText(f"Model to train: {widths} ({trained}, {model.n_params:,} parameters)")
        if model.metadata.get("dataset"):
            self.data_set.set_data_set(trained_on(model.metadata))
        settings, _notes = settings_of(model.metadata)  # the notes were shown as the file opened
        if settings is None:
            return
        if settings.epochs is not None:
            self.epochs.setValue(settings.epochs)
        self.batch_size.setValue(settings.batch_size)
        self.lr.setValue(settings.lr)
        self.optimizer.setCurrentText(settings.optimizer)
        self.noise_kind.set_kind(settings.noise_kind)
        self.noise.setValue(settings.low)
        self.noise_range.setChecked(settings.high is not None)
        if settings.high is not None:
            self.noise_high.setValue(settings.high)
        self.noise_weighting.setValue(settings.noise_weighting or 0.0)

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
        notes += self._fill_weighting(settings.get("noise_weighting"))
        defaults = TrainConfig()
        for name in ("momentum", "loss"):  # what the app always trains with
            value = settings.get(name)
            if value is not None and value != getattr(defaults, name) and (name != "momentum" or
                                                                            settings.get("optimizer") == "sgd"):
                notes.append(f"{name} {value}: the app trains with {getattr(defaults, name)} (no control for it)")
        return notes

    def _fill_weighting(self, value: object) -> list[str]:
        """The loss weighting from a run's settings: off when it recorded none; else within ``WEIGHTING_BOX`` (a c
        the control cannot show is clamped, never rounded to off), with a note for what was changed."""
        if value is None:
            self.noise_weighting.setValue(0.0)
            return []
        held, note = WEIGHTING_BOX.clamp(value)
        if held is None:
            return [note]
        return ([note] if note else []) + _fill(self.noise_weighting, "noise_weighting", held)

    def set_running(self, running: bool) -> None:
        """Lock what a run fixes at its start; the learning rate stays editable."""
        for widget in (self.epochs, self.batch_size, self.optimizer, self.data_set, self.noise_kind, self.noise,
                       self.noise_range, self.noise_high, self.noise_weighting, self.train_size,
                       self.seed):  # fmt: skip
            explain_disabled(widget, "a run is training with the settings it began with; change them when it ends or "
                             "after Stop (the learning rate can change now)")  # fmt: skip
            widget.setEnabled(not running)


def _spin(bound: Bound, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(int(bound.low), int(bound.high))
    spin.setValue(value)
    hint(spin, tip)
    return spin


def _level_spin(value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(LEVEL_BOX.low, LEVEL_BOX.high)
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
