"""Resumable training checkpoints: what a run saves after every epoch and how it continues from it.

A checkpoint is a model file (``engine.model_format``) whose header's metadata holds
``resume = {next_epoch, config, history}`` and whose arrays include the optimizer state
(``optimizer.*``); the data set sizes are in ``metadata["dataset"]``.  Saving and loading live
here; ``Trainer.fit(resume=...)`` continues the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

from engine.callbacks import Callback, History
from engine.model_format import ModelFileError, read_header
from engine.nn import MLP
from engine.run_limits import NEXT_EPOCH
from engine.training import ResumeState, TrainConfig, Trainer


def save_checkpoint(path: str | os.PathLike, trainer: Trainer, next_epoch: int) -> None:
    """Weights, optimizer state, config and history: everything a resumed run needs."""
    trainer.model.save(
        path,
        optimizer_state=trainer.optimizer.state_dict(),
        resume={"next_epoch": next_epoch, "config": asdict(trainer.config), "history": trainer.history.to_dict()},
    )


class Checkpoint(Callback):
    """Saves a resumable checkpoint after every epoch.

    An epoch cut short (Ctrl-C, Stop) is saved too, with the weights so far; resuming runs that
    epoch again in full rather than skipping its unseen batches.

    ``on_failure``: called with the ``OSError`` the first time a save fails (a full disk, a
    removed folder), and the run goes on without that checkpoint; without it the error ends the
    run.  ``saved`` says whether the newest epoch's checkpoint is on disk.
    """

    def __init__(self, path: str | os.PathLike, on_failure: Callable[[OSError], None] | None = None) -> None:
        self.path = path
        self.on_failure = on_failure
        self.saved = False
        self.failures = 0

    def on_epoch_end(self, epoch, logs):
        next_epoch = epoch + 1 if logs.get("complete", True) else epoch
        try:
            save_checkpoint(self.path, self.trainer, next_epoch)
        except OSError as exc:
            if self.on_failure is None:
                raise
            self.saved = False  # the one on disk is older, or none
            self.failures += 1
            if self.failures == 1:
                self.on_failure(exc)
        else:
            self.saved = True


@dataclass
class SavedRun:
    """A loaded checkpoint: the model, its run's settings, where it resumes, the data set (name, sizes) it used."""

    model: MLP
    config: TrainConfig
    resume: ResumeState
    train_size: int | None
    test_size: int | None
    dataset: str | None = None


def load_checkpoint(path: str | os.PathLike) -> SavedRun:
    """A checkpoint, checked; ``ModelFileError`` for a model that is not one or whose resume data is damaged."""
    return saved_run(MLP.from_file(path))


def saved_run(model: MLP) -> SavedRun:
    """The run a loaded checkpoint continues (its ``metadata["resume"]`` and optimizer state), checked;
    ``ModelFileError`` when the model is not a checkpoint or its resume data is damaged."""
    path = model.path or "the model"
    resume = model.metadata.get("resume")
    if not isinstance(resume, dict):
        raise ModelFileError(
            path, "not a training checkpoint (no resume information); pass the .ckpt.npz file written while training"
        )
    saved, next_epoch, hist = resume.get("config"), resume.get("next_epoch"), resume.get("history") or {}
    data = model.metadata.get("dataset") or {}
    problem = NEXT_EPOCH.problem(next_epoch)
    if problem is not None:
        raise ModelFileError(path, f"the checkpoint's resume information is damaged ({problem})")
    ok = (
        isinstance(saved, dict)
        and isinstance(hist, dict)
        and _is_history(hist.get("batch_loss") or [], hist.get("epochs") or [])
        and isinstance(data, dict)
        and all(data.get(k) is None or _is_count(data.get(k)) for k in ("train_size", "test_size"))
        and (data.get("name") is None or isinstance(data.get("name"), str))
    )
    if not ok:
        raise ModelFileError(path, "the checkpoint's resume information is damaged; start a new run instead")
    try:
        config = TrainConfig.from_dict(saved)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(path, f"the checkpoint's training settings are invalid ({exc})") from None
    history = History(hist.get("batch_loss"), hist.get("epochs"))
    state = ResumeState(next_epoch=next_epoch, optimizer_state=model.optimizer_state, history=history)
    return SavedRun(model, config, state, data.get("train_size"), data.get("test_size"), data.get("name"))


def recorded_history(model: MLP) -> History | None:
    """The training history a model file records (``metadata["history"]``: per-batch losses, per-epoch logs), or
    None when it records none or a damaged one."""
    record = model.metadata.get("history")
    if not isinstance(record, dict):
        return None
    batch_loss, epochs = record.get("batch_loss") or [], record.get("epochs") or []
    return History(batch_loss, epochs) if _is_history(batch_loss, epochs) else None


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a training checkpoint (a model file whose header holds resume information): a file
    no finished model may replace, or the run could not be resumed."""
    try:
        metadata = read_header(path).get("metadata", {})
    except ModelFileError:
        return False
    return isinstance(metadata, dict) and "resume" in metadata


def _is_count(value: object, minimum: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_history(batch_loss: object, epochs: object) -> bool:
    """Per-batch losses are numbers; each epoch's log is an object of plain values (``epoch``, ``batches`` counts)."""
    return (
        isinstance(batch_loss, list)
        and all(_is_number(v) for v in batch_loss)
        and isinstance(epochs, list)
        and all(
            isinstance(e, dict)
            and all(v is None or isinstance(v, (int, float, str)) for v in e.values())
            and all(k not in e or _is_count(e[k], minimum=0) for k in ("epoch", "batches"))
            for e in epochs
        )
    )
