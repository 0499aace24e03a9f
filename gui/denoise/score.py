"""The test score at the Denoise tab's noise: the shown network's MSE on all test images, and beside it the strongest
baseline's there (``BaselineBank.strongest_at``), for the status bar.

Asked for again whenever the network, the noise or the test set changes, once the slider has rested;
computed off the GUI thread (the baselines are fitted or tuned at that level: they may come later, and while a
run trains they wait for it: seconds of fitting beside the run took a sixth of its speed).  Scores
already computed are kept for each network while it lives, so going back (Reset on Inside the network, the slider
back where it was) shows the score at once.  When the test set cannot
be read, the model file's own score stands in if it was taken at this level.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from engine.baselines import BEST_LINEAR, CLASSICAL, NOISY_INPUT, baseline_title, curve_images, strongest
from engine.data_sources import data_source, trained_on
from engine.metrics import Scores
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import level_text
from gui.denoise.state import DenoiseState

SCORE_DELAY_MS = 150
"""The test score at the slider's level is computed once the slider rests this long."""


def saved_score(model, level: float, kind: str = "gaussian", dataset: str = "mnist") -> float | None:
    """The test MSE the model file records at ``level`` (``metrics["test_mse@0.1"]``, scored on its own data set
    with its own noise kind), if any."""
    setting = model.training_noise
    if (setting.kind if setting is not None else "gaussian") != kind or trained_on(model.metadata) != dataset:
        return None
    metrics = model.metadata.get("metrics")
    for key, value in (metrics.items() if isinstance(metrics, dict) else ()):
        at = key.partition("@")[2]
        try:
            if key.startswith("test_mse@") and abs(float(at) - level) < 1e-9 and isinstance(value, (int, float)):
                return float(value)
        except ValueError:
            continue
    return None


def _test_score(network, data, data_set: str, level: float, kind: str, state) -> float:
    """Runs on a pool thread: the network's MSE on ``data_set``'s test images at ``level``."""
    return network.evaluate(data.images("test", data_set), level, kind=kind, with_ssim=False)["mse"]


def _baseline_score(bank, name: str, data, data_set: str, level: float, kind: str, state) -> Scores:
    """Runs on a pool thread: baseline ``name`` fitted or tuned at ``level``, scored on ``data_set``'s test images
    (the subset ``curve_images`` gives a slow filter), as ``BaselineBank.strongest_at`` scores it."""
    test = data.images("test", data_set)
    return bank.scores(name, curve_images(name, test), kind, level, data_set, progress=state.progress,
                       cancelled=state.cancelled)  # fmt: skip


RIVALS = (NOISY_INPUT, BEST_LINEAR, *CLASSICAL)
"""The baselines the status bar finds the strongest of, as ``BaselineBank.strongest_at`` (PCA-k is one affine map:
the best linear denoiser is at least as good)."""


def strongest_text(found, scored: int = len(RIVALS), after_run: bool = False) -> str:
    """"strongest baseline: best linear denoiser 0.0089", "… so far (3 of 7 scored)…", or "strongest baseline …";
    ``after_run``: the rest waits for the training run ("… (3 of 7 scored; the rest after the run)")."""
    if found is None:
        return "strongest baseline: after the run" if after_run else "strongest baseline …"
    name, scores = found
    text = f"strongest baseline: {baseline_title(name)} {scores.mse:.4f}"
    if scored == len(RIVALS):
        return text
    rest = "; the rest after the run)" if after_run else ")…"
    return f"{text} so far ({scored} of {len(RIVALS)} scored{rest}"


class TestScore(QObject):
    """``scoreChanged(text)``: "test MSE 0.0102 at σ 0.30", or "test MSE at σ 0.30: …" while it is computed;
    ``baselineChanged(text)``: "strongest baseline: best linear denoiser 0.0089" (or "…"), and ``baselineScored(name,
    Scores)`` once it is known."""

    scoreChanged = Signal(str)
    baselineChanged = Signal(str)
    baselineScored = Signal(str, object)

    def __init__(self, state: DenoiseState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.jobs = JobRunner(self)
        self.baseline_jobs = JobRunner(self)
        self._strongest: dict[tuple, tuple] = {}  # (level, kind, test set) -> (name, Scores); small: one per level
        self.strongest = None  # (name, Scores) at the state's noise, once known
        self._known: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # network -> {(level, kind, set): mse}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SCORE_DELAY_MS)
        self._timer.timeout.connect(self._request)
        for signal in (state.networkChanged, state.noiseChanged, state.testSetChanged):
            signal.connect(self.rescore)
        self._after_run: Callable[[], None] | None = None  # the next baseline's job, held while a run trains
        state.app.trainingChanged.connect(self._on_training)

    def _on_training(self, training: bool) -> None:
        """A run ended: the baselines held for it are scored now."""
        go, self._after_run = self._after_run, None
        if not training and go is not None:
            go()

    def rescore(self, *_) -> None:
        """The score shown is for another network, level, kind or test set now: drop the one in flight; show the
        score at once when it is known, else ask again once the slider rests."""
        self.jobs.cancel()
        self.baseline_jobs.cancel()
        self._after_run = None
        state = self.state
        known = self._known.get(state.network, {}) if state.network is not None else {}
        key = (state.level, state.noise_kind, state.test_set)
        mse = known.get(key)
        self.strongest = self._strongest.get(key)
        if mse is not None and self.strongest is not None:
            self._timer.stop()
            self._say(self._text(state.network, mse))
            return
        self._say(f"test MSE at {level_text(state.noise_kind, state.level)}: …" if mse is None
                  else self._text(state.network, mse))  # fmt: skip
        self._timer.start()

    def _say(self, model_text: str) -> None:
        """The model's score and the strongest baseline's."""
        self.scoreChanged.emit(model_text)
        self.baselineChanged.emit(strongest_text(self.strongest))

    def _text(self, network, mse: float) -> str:
        """"test MSE 0.0102 at σ 0.30 (Fashion-MNIST) (perturbed network)" for the state's noise and test set."""
        state = self.state
        name = state.test_set
        of_set = "" if name == "mnist" else f" ({data_source(name).title})"
        which = f"{of_set} (perturbed network)" if network is not state.model else of_set
        return f"test MSE {mse:.4f} at {level_text(state.noise_kind, state.level)}{which}"

    def _request(self) -> None:
        state = self.state
        network = state.network
        if network is None:
            return
        level, kind, name = state.level, state.noise_kind, state.test_set
        where = level_text(kind, level)
        title = data_source(name).title
        of_set = "" if name == "mnist" else f" ({title})"

        found: dict[str, Scores] = {}

        def scored(rival: str, result: Scores) -> None:
            """One baseline at a time, each its own job: other work gets a thread between them."""
            found[rival] = result
            best = strongest({n: sc.mse for n, sc in found.items()})
            if len(found) < len(RIVALS):
                self.baselineChanged.emit(strongest_text((best, found[best]), len(found)))
                next_rival()
                return
            if len(self._strongest) > 64:
                self._strongest.clear()
            self._strongest[(level, kind, name)] = self.strongest = (best, found[best])
            self.baselineChanged.emit(strongest_text(self.strongest))
            self.baselineScored.emit(best, found[best])

        def next_rival() -> None:
            if state.app.training:  # the run is what the user watches: it trains at full speed, the rest waits
                self._after_run = next_rival
                best = strongest({n: sc.mse for n, sc in found.items()}) if found else None
                self.baselineChanged.emit(strongest_text((best, found[best]) if best else None, len(found), True))
                return
            rival = RIVALS[len(found)]
            self.baseline_jobs.start(_baseline_score, state.baselines, rival, state.data, name, level, kind,
                                     on_done=lambda result: scored(rival, result),
                                     on_error=lambda exc: self.baselineChanged.emit(""))  # fmt: skip

        def baselines() -> None:  # after the model's score: it is quick, and the user looks for it first
            if self.strongest is None:
                next_rival()

        def done(mse: float) -> None:
            self._known.setdefault(network, {})[(level, kind, name)] = mse
            self._say(self._text(network, mse))
            baselines()

        def no_data(exc: BaseException) -> None:
            saved = saved_score(network, level, kind, name) if network is state.model else None
            self._say(
                f"test MSE {saved:.4f} at {where}{of_set} (from the file)" if saved is not None
                else f"test MSE at {where}: needs the {title} test set"
            )  # fmt: skip
            self.baselineChanged.emit("")  # no test images: no baseline's score either

        if self._known.get(network, {}).get((level, kind, name)) is None:
            self.jobs.start(_test_score, network, state.data, name, level, kind, on_done=done, on_error=no_data)
        else:
            baselines()
