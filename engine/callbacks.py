"""Callbacks: how the CLI's progress bar, checkpoints and the GUI's worker watch one training loop.

The hook names follow Keras.  ``logs`` hold plain floats only.  Any callback stops training
by setting ``self.trainer.stop_training = True``; the loop checks after every batch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


class Callback:
    """Base class with no-op hooks; ``trainer`` is set before ``on_train_begin``."""

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_batch_end(self, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, logs: dict) -> None: ...

    def on_note(self, text: str) -> None:
        """Something the user should hear that does not stop the run (``Trainer.note``), on the training thread."""


class CallbackList(Callback):
    """Fans each hook out to its callbacks; batch hooks and notes only to those that override them."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        self._batch_watchers = [c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        self._note_hearers = [c for c in self.callbacks if type(c).on_note is not Callback.on_note]

    @property
    def hears_notes(self) -> bool:
        """Whether any callback tells the user the run's notes."""
        return bool(self._note_hearers)

    def set_trainer(self, trainer) -> None:
        for c in self.callbacks:
            c.set_trainer(trainer)

    def on_train_begin(self, logs):
        for c in self.callbacks:
            c.on_train_begin(logs)

    def on_epoch_begin(self, epoch):
        for c in self.callbacks:
            c.on_epoch_begin(epoch)

    def on_batch_end(self, batch, logs):
        for c in self._batch_watchers:
            c.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs):
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_end(self, logs):
        for c in self.callbacks:
            c.on_train_end(logs)

    def on_note(self, text):
        for c in self._note_hearers:
            c.on_note(text)


class History(Callback):
    """Per-batch losses and per-epoch logs; resumes carry the earlier ones forward."""

    def __init__(self, batch_loss: list[float] | None = None, epochs: list[dict] | None = None) -> None:
        self.batch_loss: list[float] = list(batch_loss or [])
        self.epochs: list[dict] = list(epochs or [])

    def on_batch_end(self, batch, logs):
        self.batch_loss.append(logs["loss"])

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(dict(logs))

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "batch_loss": [round(v, 7) for v in self.batch_loss]}

    def until(self, epoch: int) -> History:
        """The epochs before ``epoch`` and only their batch losses (a resumed run runs an epoch cut
        short again, so its batches must not be counted twice)."""
        kept = [e for e in self.epochs if e.get("epoch", -1) < epoch]
        if all("batches" in e for e in kept):
            return History(self.batch_loss[: sum(e["batches"] for e in kept)], kept)
        return History(self.batch_loss, kept)  # an old history without batch counts: keep its curve


class SerialSteps(Callback):
    """Trains on this thread alone: no data-parallel steps (a sweep's worker shares the cores with others)."""

    def on_train_begin(self, logs):
        self.trainer.parallel = False  # read as the loop builds its step, after on_train_begin


class PrintNotes(Callback):
    """Prints the run's notes as ``note: …`` lines on ``file`` (stderr), between a progress bar's lines (for the
    CLI, with or without its bar)."""

    def __init__(self, file=None) -> None:
        self.file = file

    def on_note(self, text):
        from tqdm import tqdm

        tqdm.write(f"note: {text}", file=self.file if self.file is not None else sys.stderr)


class ProgressBar(Callback):
    """A tqdm bar per epoch with the loss, samples/s and ETA (for the CLI)."""

    def __init__(self, total_epochs: int, file=None, disable: bool | None = None) -> None:
        self.total_epochs = total_epochs
        self.file, self.disable = file, disable
        self._bar = None

    def on_epoch_begin(self, epoch):
        from tqdm import tqdm

        self._bar = tqdm(
            total=self.trainer.n_samples,
            unit="img",
            unit_scale=True,
            desc=f"epoch {epoch + 1}/{self.total_epochs}",
            file=self.file,
            disable=self.disable,
            dynamic_ncols=True,
        )

    def on_batch_end(self, batch, logs):
        bar = self._bar
        bar.update(logs["size"])
        if batch % 20 == 0:
            bar.set_postfix(loss=f"{logs['loss']:.5f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        if self._bar is not None:
            extra = {"loss": f"{logs['loss']:.5f}"}
            if "val_loss" in logs:
                extra["val"] = f"{logs['val_loss']:.5f}"
            self._bar.set_postfix(extra)
            self._bar.close()
            self._bar = None

    def on_train_end(self, logs):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
