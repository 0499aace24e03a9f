"""Perturb the trained network and watch it degrade: weight noise, pruning, units switched off, Reset, Apply.

The panel holds a ``Perturbation`` (engine.perturb) and the perturbed copy it makes of the model
(``network()``); the model itself changes only when the user presses *Apply to model*
(``applied(copy)``).  Under the controls, ``PerturbCurve`` shows the test MSE against the strength of
the knob last moved.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.perturb import Perturbation, Perturber, describe
from gui.common.controls import WholeEntryCombo
from gui.common.data_sets import DataSets
from gui.common.hints import explain_disabled, hint
from gui.common.jobs import JobRunner
from gui.denoise.perturb_curve import PerturbCurve

PICK_PROMPT = "Pick a unit…"
PICK_STRONGEST = "The code's most active unit (for this input)"


def _prepare(model, state) -> Perturber:
    """Runs on a pool thread: weight spreads, the noise pattern and the weights' order by magnitude."""
    return Perturber(model).prepare()


def _applied(model) -> Perturbation | None:
    """The perturbation *Apply to model* made ``model`` from (its ``metadata["perturbation"]``), if any."""
    try:
        plan = Perturbation.from_dict(model.metadata["perturbation"])
    except (KeyError, TypeError, ValueError):
        return None
    return None if plan.is_identity() else plan


def _tip(widget: QWidget, text: str) -> QWidget:
    """``hint`` a widget as it is made."""
    hint(widget, text)
    return widget


class PerturbPanel(QWidget):
    """Controls for one ``Perturbation`` of the current model, and the curve of its test MSE."""

    changed = Signal()  # the perturbation (and so ``network()``) changed
    applied = Signal(object)  # the perturbed copy the user made the model (an MLP)
    ready = Signal()  # the controls work for the current model

    def __init__(self, data: DataSets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = None
        self.plan = Perturbation()
        self.level, self.kind = 0.1, "gaussian"  # the input noise the curve scores under (the Denoise tab's)
        self.data_set = "mnist"  # whose test images
        self.knob = "noise"  # the knob the curve runs along: the one moved last
        self._perturber: Perturber | None = None
        self._network = None  # the perturbed copy for ``plan``, made when first asked for
        self._code: np.ndarray | None = None  # the latest input's code, for "the most active unit"
        self._unit_index: dict[tuple[int, int], int] = {}  # (layer, unit) -> its entry in the unit list
        self._marked: set[tuple[int, int]] = set()  # the units the list shows as off
        self.prepare_jobs = JobRunner(self, on_screen=self)  # prepared when first looked at
        self.curve_view = PerturbCurve(data)  # its ``curveReady(curve)`` when a curve is shown
        self._make_controls()
        self._lay_out()
        self._show_plan()
        self._enable(False)

    # ----- layout ----------------------------------------------------------------------------
    def _make_controls(self) -> None:
        self.noise_slider = _tip(QSlider(Qt.Orientation.Horizontal),
                                 "Weight noise: adds Gaussian noise to every weight, σ given as a multiple of that "
                                 "layer's weight spread (0 to 1; 0.1 barely shows, 0.5 blurs, 1 wrecks most digits). "
                                 "One fixed noise pattern, only its strength changes")  # fmt: skip
        self.noise_label = QLabel()
        self.new_draw = _tip(QPushButton("New draw"), "Draw another weight-noise pattern (same strength)")
        self.new_draw.clicked.connect(lambda: self._set_plan(replace(self.plan, seed=self.plan.seed + 1)))
        self.prune_slider = _tip(QSlider(Qt.Orientation.Horizontal),
                                 "Pruning: sets the given share of weights with the smallest magnitude to zero "
                                 "(0 to 100 %; most networks keep working past 50 %, few past 95 %)")  # fmt: skip
        self.prune_label = QLabel()
        for slider, label, moved in ((self.noise_slider, self.noise_label, self._on_noise),
                                     (self.prune_slider, self.prune_label, self._on_prune)):  # fmt: skip
            slider.setRange(0, 100)
            slider.valueChanged.connect(moved)
            label.setMinimumWidth(48)
        self.scope_box = _tip(QComboBox(), "Prune that share of every layer, or the smallest weights over the whole "
                              "network (layers with small weights then lose more)")  # fmt: skip
        self.scope_box.addItem("per layer", "layer")
        self.scope_box.addItem("whole network", "network")
        self.scope_box.currentIndexChanged.connect(
            lambda: self._set_plan(replace(self.plan, scope=self.scope_box.currentData()))
        )
        self.unit_box = _tip(WholeEntryCombo(), "Pick a hidden unit to switch off (it then outputs 0 whatever its "
                             "input), or on again; clicking a unit in the network view does the same")  # fmt: skip
        self.unit_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.unit_box.setMinimumContentsLength(14)
        self.unit_box.setMaxVisibleItems(20)  # hundreds of units: a scrolling list, not one the screen's height
        self.unit_box.setStyleSheet("combobox-popup: 0;")  # Fusion ignores the limit otherwise
        self.unit_box.activated.connect(self._on_pick)
        self.all_on = _tip(QPushButton("All units on"), "Switch every unit back on")
        self.all_on.clicked.connect(lambda: self._set_plan(replace(self.plan, off=())))
        self.reset_button = _tip(QPushButton("Reset"), "Back to the model's own weights: no noise, no pruning, "
                                 "every unit on")  # fmt: skip
        self.reset_button.clicked.connect(self.reset)
        self.apply_button = _tip(QPushButton("Apply to model"), "Make this perturbed network the model (marked "
                                 "unsaved; Save keeps it; reopening the file brings the original back)")  # fmt: skip
        self.apply_button.clicked.connect(self._on_apply)
        self.summary = _tip(QLabel(), "What is perturbed now; the Denoise images show this network while this "
                            "panel is open")  # fmt: skip
        self.summary.setWordWrap(True)
        self.summary.setObjectName("caption")  # the page places it (under the network it describes)

    def _lay_out(self) -> None:
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        rows = ((QLabel("Weight noise"), self.noise_slider, self.noise_label, self.new_draw),
                (QLabel("Prune"), self.prune_slider, self.prune_label, self.scope_box))  # fmt: skip
        for row, cells in enumerate(rows):
            for column, widget in enumerate(cells):
                grid.addWidget(widget, row, column)
        grid.addWidget(QLabel("Units"), 2, 0)
        grid.addWidget(self.unit_box, 2, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_on)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        layout.setSpacing(3)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.curve_view, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

    def _enable(self, on: bool) -> None:
        for widget in (self.noise_slider, self.new_draw, self.prune_slider, self.scope_box, self.unit_box,
                       self.all_on, self.reset_button):  # fmt: skip
            explain_disabled(widget, "the perturbations are being prepared for this model; they work in a moment")
            widget.setEnabled(on)
        self._enable_apply()

    def _enable_apply(self) -> None:
        """Apply works once something is perturbed (and says so until then)."""
        explain_disabled(self.apply_button, "nothing is perturbed yet; add weight noise, prune, or switch a unit off "
                         "first" if self._perturber is not None else "the perturbations are being prepared for this "
                         "model; they work in a moment")  # fmt: skip
        self.apply_button.setEnabled(self._perturber is not None and not self.plan.is_identity())

    # ----- the model and what the curve scores ------------------------------------------------
    def set_model(self, model) -> None:
        """A new model: no perturbation; the controls wait until what they need is prepared (off-thread)."""
        self.model, self._perturber, self._network = model, None, None
        self.plan = Perturbation()
        self._code = None
        self.curve_view.forget()
        self._fill_units()
        self._sync_controls()
        self._show_plan()
        self._enable(False)
        self.summary.setText("Preparing the perturbations…")
        self.prepare_jobs.start(_prepare, model, on_done=self._prepared, on_error=self._prepare_failed)

    def _prepared(self, perturber: Perturber) -> None:
        self._perturber = perturber
        self._enable(True)
        self._show_plan()
        self._ask_curve()
        self.ready.emit()

    def _prepare_failed(self, error: BaseException) -> None:
        self.summary.setText(f"Cannot perturb this model: {error}")

    def is_ready(self) -> bool:
        return self._perturber is not None

    def set_noise(self, kind: str, level: float) -> None:
        """The input noise the curve scores under (the Denoise tab's noise kind and level)."""
        self.kind, self.level = kind, float(level)
        self._ask_curve()

    def set_data_set(self, name: str) -> None:
        """The data set whose test images the curve scores."""
        self.data_set = name
        self._ask_curve()

    def set_code(self, code: np.ndarray) -> None:
        """The latest input's code (k,): what "the most active unit" refers to."""
        self._code = np.asarray(code).reshape(-1)

    def _ask_curve(self) -> None:
        if self.model is not None and self._perturber is not None:
            self.curve_view.ask(self.model, self.plan, self.knob, self.level, self.kind, self.data_set)

    def network(self):
        """The network to show: the perturbed copy, or the model itself when nothing is perturbed."""
        if self.model is None or self.plan.is_identity() or self._perturber is None:
            return self.model
        if self._network is None:
            self._network = self._perturber.apply(self.plan, metadata=False)
        return self._network

    def is_perturbed(self) -> bool:
        return self.model is not None and self._perturber is not None and not self.plan.is_identity()

    # ----- the perturbation ------------------------------------------------------------------
    def _set_plan(self, plan: Perturbation) -> None:
        if plan == self.plan:
            return
        self.plan, self._network = plan, None
        self._sync_controls()
        self._show_plan()
        self._ask_curve()
        self.curve_view.move_marker(self.plan, self.knob)
        self.changed.emit()

    def reset(self) -> None:
        """No noise, no pruning, every unit on: the network as trained (the model's own weights)."""
        self.knob = "noise"
        self._set_plan(replace(Perturbation(), scope=self.plan.scope))

    def toggle_unit(self, layer: int, unit: int) -> None:
        """Switch hidden unit ``unit`` of ``layer`` off, or on again if it is off."""
        if self._perturber is None:
            return
        self._set_plan(self.plan.with_unit(layer, unit, (layer, unit) not in self.plan.off))

    def _on_noise(self, value: int) -> None:
        self.knob = "noise"
        self.noise_label.setText(f"{value / 100:.2f} ×")
        self._set_plan(replace(self.plan, noise=value / 100))

    def _on_prune(self, value: int) -> None:
        self.knob = "prune"
        self.prune_label.setText(f"{value} %")
        self._set_plan(replace(self.plan, prune=value / 100))

    def _on_pick(self, index: int) -> None:
        target = self.unit_box.itemData(index)
        self.unit_box.setCurrentIndex(0)
        if target == "strongest":
            if self._code is None or self._code.size == 0:
                return
            target = (self.model.bottleneck_index(), int(np.argmax(self._code)))
        if isinstance(target, tuple):
            self.toggle_unit(*target)

    def _on_apply(self) -> None:
        if self.is_perturbed():
            self.applied.emit(self._perturber.apply(self.plan, metadata=True))

    # ----- showing it ------------------------------------------------------------------------
    def _fill_units(self) -> None:
        """One entry per hidden unit of the model (the output layer's units are pixels)."""
        box = self.unit_box
        box.blockSignals(True)
        box.clear()
        self._unit_index, self._marked = {}, set()
        box.addItem(PICK_PROMPT, None)
        if self.model is not None and len(self.model.layers) > 1:
            box.addItem(PICK_STRONGEST, "strongest")
            code = self.model.bottleneck_index()
            for i, layer in enumerate(self.model.layers[:-1]):
                role = "code" if i == code else ("encoder" if i < code else "decoder")
                for unit in range(layer.n_out):
                    self._unit_index[(i, unit)] = box.count()
                    box.addItem(f"layer {i + 1} ({role}), unit {unit}", (i, unit))
        box.blockSignals(False)

    def _sync_controls(self) -> None:
        """Sliders, labels and the unit list say what ``plan`` holds (without echoing back)."""
        for slider, value in ((self.noise_slider, self.plan.noise), (self.prune_slider, self.plan.prune)):
            slider.blockSignals(True)
            slider.setValue(int(round(value * 100)))
            slider.blockSignals(False)
        self.noise_label.setText(f"{self.plan.noise:.2f} ×")
        self.prune_label.setText(f"{round(self.plan.prune * 100)} %")
        self.scope_box.blockSignals(True)
        self.scope_box.setCurrentIndex(self.scope_box.findData(self.plan.scope))
        self.scope_box.blockSignals(False)
        off = set(self.plan.off)
        for pair in off ^ self._marked:  # only the entries whose state changed (a list may hold 600 units)
            index = self._unit_index.get(pair)
            if index is not None:
                text = self.unit_box.itemText(index).removeprefix("✕ ")
                self.unit_box.setItemText(index, f"✕ {text}" if pair in off else text)
        self._marked = off
        self.unit_box.setItemText(0, f"{PICK_PROMPT} ({len(off)} off)" if off else PICK_PROMPT)
        self._enable_apply()

    def _show_plan(self) -> None:
        if self.model is None:
            self.summary.setText("")
            return
        if self._perturber is None:
            return
        applied = _applied(self.model)
        if self.plan.is_identity() and applied is not None:  # the model itself is a perturbed network
            self.summary.setText(f"no further perturbation: the model is itself a perturbed network (applied: "
                                 f"{describe(self.model, applied, self._perturber)})")  # fmt: skip
            return
        self.summary.setText(describe(self.model, self.plan, self._perturber))
