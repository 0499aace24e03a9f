"""File ▸ Shipped models says how well each model does at the Denoise tab's noise, beside the strongest baseline there.

Each entry keeps what the model file says (how it was trained, its recorded score) and gains, once computed off the
GUI thread when the menu is about to open, the model's test MSE at the slider's level on its own data set's test
images and the strongest baseline's (``BaselineBank.strongest_at``) on the same images: "… · at σ 0.30: MSE 0.0058,
strongest baseline: best linear denoiser 0.0089".  Scores are kept per level, kind and model.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu

from engine.baselines import baseline_title
from engine.data_sources import trained_on
from engine.metrics import Scores
from engine.nn import MLP
from gui.common.jobs import JobRunner
from gui.common.noise_kinds import level_text
from gui.denoise.state import DenoiseState

Row = tuple[float, str, Scores]
"""A model's test MSE at the level, and the strongest baseline there (its name and scores)."""


def _score_shipped(names: list[str], data, bank, kind: str, level: float, state) -> dict[str, Row]:
    """Runs on a pool thread: each shipped model's MSE at ``level`` on its own data set's test images, and the
    strongest baseline's on them (each data set's once)."""
    rows: dict[str, Row] = {}
    strongest: dict[str, tuple[str, Scores]] = {}
    for i, name in enumerate(names):
        if state.cancelled():
            break
        model = MLP.from_file(name)
        data_set = trained_on(model.metadata)
        test = data.images("test", data_set)
        if data_set not in strongest:
            strongest[data_set] = bank.strongest_at(test, kind, level, data_set, cancelled=state.cancelled)
        rows[name] = (model.evaluate(test, level, kind=kind, with_ssim=False)["mse"], *strongest[data_set])
        state.progress((i + 1) / len(names))
    return rows


def scored_text(level_words: str, row: Row | None) -> str:
    """"at σ 0.30: MSE 0.0058, strongest baseline: best linear denoiser 0.0089", or "at σ 0.30: …"."""
    if row is None:
        return f"at {level_words}: …"
    mse, name, scores = row
    return f"at {level_words}: MSE {mse:.4f}, strongest baseline: {baseline_title(name)} {scores.mse:.4f}"


class ShippedScores(QObject):
    """Adds the scores at the Denoise tab's noise to each entry of ``menu`` (actions whose data is a shipped model's
    name and whose text, once the menu is about to show, is "name  —  what its file says": the slot that writes it
    is connected before this one); ``scored()`` once they are in."""

    scored = Signal()

    def __init__(self, menu: QMenu, state: DenoiseState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu, self.state = menu, state
        self.base: dict[str, str] = {}  # name -> the entry's own text, read when the menu first shows
        self.jobs = JobRunner(self)
        self._kept: dict[tuple, dict[str, Row]] = {}  # (kind, level) -> rows: one small dict a level asked for
        menu.aboutToShow.connect(self.request)

    def request(self) -> None:
        """The entries at the state's noise: at once if known, else computed off the GUI thread ("…" meanwhile)."""
        if not self.base:
            self.base = {action.data(): action.text() for action in self.menu.actions() if action.data()}
        state = self.state
        key = (state.noise_kind, state.level)
        rows = self._kept.get(key)
        self._write(rows)
        if rows is not None:
            return
        names = list(self.base)

        def done(found: dict[str, Row]) -> None:
            if len(self._kept) > 32:
                self._kept.clear()
            self._kept[key] = found
            if (self.state.noise_kind, self.state.level) == key:
                self._write(found)
            self.scored.emit()

        self.jobs.start(_score_shipped, names, state.data, state.baselines, state.noise_kind, state.level,
                        on_done=done, on_error=lambda exc: self._write({}, f"not scored: {exc}"))  # fmt: skip

    def _write(self, rows: dict[str, Row] | None, failed: str | None = None) -> None:
        words = level_text(self.state.noise_kind, self.state.level)
        for action in self.menu.actions():
            name = action.data()
            if name in self.base:
                extra = failed or scored_text(words, None if rows is None else rows.get(name))
                action.setText(f"{self.base[name]}  ·  {extra}")
