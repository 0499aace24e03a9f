"""What the Denoise tab shows, in one place: panels read it, subscribe to it, and send the user's intent back.

The state holds the model, the test set, the noise (kind, level and the fixed pattern the level scales),
the clean input and where it came from, the perturbed copy Inside the network shows, and a code the
decoder runs on instead of the input's own (Latent explorer, a click on the latent map).  Any change
recomputes the forward pass (``engine.forward_pass``, one image: well under a millisecond for the shipped
models) and sends ``shownChanged``.  A new input always leaves the explored code: the mode follows what is
on the canvas.

How the noise level travels: the noise row's slider calls ``set_noise(level=...)``; the state sends
``noiseChanged(kind, level)`` — the robustness panel moves its marker, the perturbation curve rescores
under it, the score in the status bar is asked for again — and ``shownChanged`` with the new forward pass,
which the image row, the code bars, the hourglass and Inside the network draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.data_sources import SOURCES, trained_on
from engine.forward_pass import ForwardPass, forward_pass
from engine.noise import NoisePattern, check_kind, check_level
from engine.run_limits import Bound
from engine.training import TrainConfig
from gui.app_state import AppState, ModelChange

if TYPE_CHECKING:
    from gui.denoise.picture_import import Picture

SLIDER_LEVELS = Bound("noise level", 0.0, 1.0)
"""The levels the noise slider holds (a file may record a σ up to 10, ``engine.run_limits``)."""


def training_level(model) -> float | None:
    """The noise level a model was trained at (from its file; the middle of a range), or None when unknown."""
    used = model.metadata.get("training")
    try:
        return TrainConfig.from_dict(used).noise_setting.default_level if isinstance(used, dict) else None
    except (TypeError, ValueError):
        return None


def start_noise(model, kind: str, level: float) -> tuple[str, float, list[str]]:
    """The noise a new model starts at: the kind and level (rounded, the middle of a range) it was trained with,
    else ``kind`` and ``level`` as they are; a level beyond the slider's is shown at its end, with a note.
    Never raises and touches no widget (the app checks a file with it before opening it)."""
    setting = model.training_noise
    kind = setting.kind if setting is not None else kind
    trained = training_level(model)
    if trained is None:
        return kind, level, []
    fitted, note = SLIDER_LEVELS.clamp(round(trained, 2))
    if note is None:
        return kind, fitted, []
    return kind, fitted, [f"the Denoise tab's noise slider holds levels {SLIDER_LEVELS.describe()}: the model's "
                          f"training level {trained:g} is shown as {fitted:g}"]  # fmt: skip


class DenoiseState(QObject):
    """The Denoise tab's state; ``shown`` is the forward pass of what is on screen (None before a model)."""

    modelChanged = Signal(object)  # the model (an MLP), after the noise and test set followed it
    testSetChanged = Signal(str)  # test images, scores and curves come from this data set (once loaded)
    noiseChanged = Signal(str, float)  # (kind, level): σ for Gaussian noise, else the fraction of pixels hit
    inputChanged = Signal(str)  # a new clean input; its description ("Your drawing", "Test digit #3 (label 7)")
    networkChanged = Signal(object)  # the network the images come from now: the model or a perturbed copy
    exploringChanged = Signal(bool)  # the decoder runs on a given code (True) or on the input's own (False)
    shownChanged = Signal(object)  # ForwardPass of the input through ``network`` at the current noise

    def __init__(self, app: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.model = None
        self.test_set = "mnist"
        self.noise_kind = "gaussian"
        self.level = 0.3  # σ, or the fraction of pixels hit
        self.noise_seed = 1
        self.clean = np.zeros((28, 28), np.float32)
        self.source = "drawing"  # "drawing", "test" or "picture"
        self.description = "Draw a digit"
        self.picture: Picture | None = None  # the user's picture (with its preparation's steps) while it is the input
        self.perturbed = None  # Inside the network's copy while that page is open and something is perturbed
        self.explored_code: np.ndarray | None = None
        self.shown: ForwardPass | None = None
        self._pattern: NoisePattern | None = None
        app.modelChanged.connect(self._on_app_model)
        app.add_check(lambda model: start_noise(model, "gaussian", 0.0)[2])  # its notes depend on the model alone

    # ----- what is shown ----------------------------------------------------------------------
    @property
    def network(self):
        """The network the images come from: the perturbed copy while Inside the network shows one, else the model."""
        return self.perturbed if self.perturbed is not None else self.model

    @property
    def data(self):
        """The app's data sets (``gui.common.data_sets.DataSets``)."""
        return self.app.data

    @property
    def baselines(self):
        """The app's baselines (``engine.baselines.BaselineBank``: PCA's axes and the other fits, kept)."""
        return self.app.baselines

    def is_exploring(self) -> bool:
        return self.explored_code is not None

    def follow(self, *, test_set=None, model=None, noise=None, network=None, shown=None) -> None:
        """Connect a view's handlers to the signals of the same names and call each with what the state holds now.

        A view made after the start (a page built when first shown) so shows what a view made at the start would
        show; the calls come in the order a new model sends them (the test set, the model, the noise, the network,
        the forward pass); those of the model, the network and the forward pass only once there is one."""
        for handler, signal, value in ((test_set, self.testSetChanged, (self.test_set,)),
                                       (model, self.modelChanged, (self.model,)),
                                       (noise, self.noiseChanged, (self.noise_kind, self.level)),
                                       (network, self.networkChanged, (self.network,)),
                                       (shown, self.shownChanged, (self.shown,))):  # fmt: skip
            if handler is None:
                continue
            signal.connect(handler)
            if all(v is not None for v in value):
                handler(*value)

    # ----- intent -----------------------------------------------------------------------------
    def _on_app_model(self, change: ModelChange) -> None:
        self.set_model(change.model, keep_noise=change.origin == "applied")

    def set_model(self, model, keep_noise: bool = False) -> None:
        """A new model: the noise kind and level go to what it was trained with (the middle of a range), the test
        set to its own — unless ``keep_noise`` (the same network changed here: a perturbed copy applied)."""
        self.model, self.perturbed, self.explored_code = model, None, None
        if not keep_noise:
            kind, level, _notes = start_noise(model, self.noise_kind, self.level)  # notes: shown as it opened
            self._set_noise_quietly(kind, level)
        self.modelChanged.emit(model)
        self.noiseChanged.emit(self.noise_kind, self.level)
        self.exploringChanged.emit(False)
        self.networkChanged.emit(self.network)
        self._recompute()

    def wanted_test_set(self) -> str | None:
        """The data set the model was trained on, when the app knows it (its test images are what it should see)."""
        name = trained_on(self.model.metadata) if self.model is not None else None
        return name if name in SOURCES else None

    def set_test_set(self, name: str) -> None:
        """Test images, scores and curves now come from ``name`` (its test set is loaded)."""
        if name != self.test_set:
            self.test_set = name
            self.testSetChanged.emit(name)

    def set_noise(self, kind: str | None = None, level: float | None = None) -> None:
        """Another kind of noise (its own fixed pattern) and/or level."""
        kind = self.noise_kind if kind is None else kind
        level = self.level if level is None else level
        if (kind, level) == (self.noise_kind, self.level):
            return
        self._set_noise_quietly(kind, level)
        self.noiseChanged.emit(kind, self.level)
        self._recompute()

    def _set_noise_quietly(self, kind: str, level: float) -> None:
        kind = check_kind(kind)
        if kind != self.noise_kind:
            self._pattern = None
        self.noise_kind, self.level = kind, float(check_level(level, kind))

    def new_noise(self) -> None:
        """Another random draw of the noise pattern (the level keeps scaling it)."""
        self.noise_seed += 1
        self._pattern = None
        self._recompute()

    def set_input(self, clean: np.ndarray, source: str, description: str, picture: Picture | None = None) -> None:
        """A new clean input (28, 28) float32 in [0, 1] from ``source`` ("drawing", "test", "picture"); it leaves
        Latent explorer: the decoder runs on the new input's own code.  ``picture``: the user's picture it was
        prepared from (``gui.denoise.picture_import.Picture``), for the view of its steps."""
        self.clean = np.asarray(clean, np.float32).reshape(28, 28)
        self.source, self.description, self.picture = source, description, picture
        was_exploring = self.explored_code is not None
        self.explored_code = None
        self.inputChanged.emit(description)
        if was_exploring:
            self.exploringChanged.emit(False)
        self._recompute()

    def explore_code(self, code: np.ndarray | None) -> None:
        """Run the decoder on ``code`` (k,) — a code set by hand or a latent-map point — or, with None, on the
        input's own code again."""
        was_exploring = self.explored_code is not None
        self.explored_code = None if code is None else np.asarray(code, np.float32).reshape(-1).copy()
        if was_exploring != (code is not None):
            self.exploringChanged.emit(code is not None)
        self._recompute()

    def set_perturbed(self, network) -> None:
        """Show ``network`` (a perturbed copy of the model) instead of the model; None: the model again."""
        if network is self.model:
            network = None
        if network is not self.perturbed:
            self.perturbed = network
            self.networkChanged.emit(self.network)
            self._recompute()

    # ----- the forward pass -------------------------------------------------------------------
    def noisy(self) -> np.ndarray:
        """The clean input with the fixed pattern at the current level: (28, 28) float32."""
        if self._pattern is None:  # one fixed draw of the kind's noise, which the level scales
            self._pattern = NoisePattern((1, 784), self.noise_seed, self.noise_kind)
        return self._pattern.apply(self.clean.reshape(1, 784), self.level).reshape(28, 28)

    def _recompute(self) -> None:
        if self.model is None:
            return
        self.shown = forward_pass(self.network, self.noisy(), self.clean, self.explored_code)
        self.shownChanged.emit(self.shown)
