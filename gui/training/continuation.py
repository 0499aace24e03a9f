"""Where *Continue training* picks a model up: the epoch its training reached, its optimizer's state, its history.

Three kinds of model can be continued.  A checkpoint file (``train --checkpoint``) holds its run's resume state
(``engine.checkpoint``).  A model a run of this session handed back carries its optimizer's state
(``MLP.optimizer_state``, kept as the run ends) beside its history.  Any other trained model file holds its history
only: it continues from its weights with the optimizer starting afresh.  Either way the run goes on from the epoch
after the last one completed (an epoch cut short is run again in full, as a checkpoint's is), with the earlier
curve kept, so the loss plot continues where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.checkpoint import recorded_history, saved_run
from engine.model_format import ModelFileError
from engine.training import ResumeState

SOURCES = {
    "checkpoint": "its checkpoint (weights, optimizer state and history)",
    "run": "where its last run ended (weights, optimizer state and history)",
    "history": "its weights and recorded history (the file holds no optimizer state: the optimizer starts afresh)",
}
"""What a continuation starts from, in words (by ``Continuation.source``)."""


@dataclass(frozen=True)
class Continuation:
    """The run to go on with: ``resume`` (the next epoch, the optimizer state — maybe none —, the history so far),
    the optimizer that state belongs to, and where it came from (a key of ``SOURCES``)."""

    resume: ResumeState
    optimizer: str | None
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def next_epoch(self) -> int:
        return self.resume.next_epoch


def continuation_of(model) -> Continuation | None:
    """How ``model`` continues, or None when it has never been trained (nothing to continue: Start trains it)."""
    if isinstance(model.metadata.get("resume"), dict):
        try:
            run = saved_run(model)
        except ModelFileError as exc:  # a damaged resume entry: the history may still serve
            notes = [f"its checkpoint information cannot be used ({exc.problem})"]
        else:
            return Continuation(run.resume, run.config.optimizer, "checkpoint")
    else:
        notes = []
    history = recorded_history(model)
    if history is None or not history.epochs:
        return None
    next_epoch = completed_epochs(history.epochs)
    state = _fitting_state(model)
    training = model.metadata.get("training")
    optimizer = training.get("optimizer") if state and isinstance(training, dict) else None
    source = "run" if state and isinstance(optimizer, str) else "history"
    if source == "history":
        state, optimizer = {}, None
    return Continuation(ResumeState(next_epoch, state, history.until(next_epoch)), optimizer, source, notes)


def completed_epochs(epochs: list[dict]) -> int:
    """How many epochs in a row, from the first, a history records as completed (the next epoch to run)."""
    done = {e.get("epoch") for e in epochs if e.get("complete", True) and isinstance(e.get("epoch"), int)}
    count = 0
    while count in done:
        count += 1
    return count


def _fitting_state(model) -> dict[str, np.ndarray]:
    """The model's optimizer state when every array fits its parameters (else none: it belongs to another model)."""
    state = getattr(model, "optimizer_state", None) or {}
    params = model.params.shape
    fits = all(np.ndim(value) == 0 or np.shape(value) == params for value in state.values())
    return dict(state) if fits else {}
