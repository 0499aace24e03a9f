"""One training run on its own thread: start it, steer it (pause, stop, learning rate), hear how it ended.

The run is a plain Python thread (``gui.training.worker.train``) that calls ``model.fit`` with a
callback bridge; it talks to the GUI only through this object's signals (emitted on the training
thread, queued to the GUI thread) and is steered only through a ``RunControl`` (flags it reads at
each batch end).  No Qt object is made, moved or deleted on the training thread: every one lives
and dies on the GUI thread.  ``finished(RunResult)`` comes once the thread has returned.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from engine.training import ResumeState, TrainConfig
from gui.training.worker import DataLoader, RunControl, RunResult, RunVoice, Watcher, train

END_WAIT_S = 10.0
"""How long quitting waits for a stopped run's thread (it stops after the current batch)."""


class TrainingRun(QObject):
    """At most one run at a time; ``start`` is ignored while one is running."""

    started = Signal()
    batches = Signal(object)  # list of batch logs, at most ~30 deliveries a second
    epochEnded = Signal(dict)
    samplesReady = Signal(dict)  # {"epoch", "noisy": (8, 784), "recon": (8, 784)}
    dataReady = Signal(object)  # engine.baselines.Baselines with the noisy input's level (PCA's comes by a job)
    reported = Signal(str, object)  # (topic, data) from the run's watchers (see gui.training.worker.Watcher)
    paused = Signal()
    resumed = Signal()
    finished = Signal(object)  # RunResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._control: RunControl | None = None
        self._waited_out = False  # a wait_for_end ran out of time: the thread is stuck in a long call
        self._voice = RunVoice(self)
        for name in RunVoice.RELAYED:
            getattr(self._voice, name).connect(getattr(self, name))  # re-sent from the GUI thread
        self._voice.ending.connect(self._on_thread_ending)

    def is_running(self) -> bool:
        return self._thread is not None

    def is_stopping(self) -> bool:
        """A stop was asked for and the run has not ended yet."""
        return self._control is not None and self._control.stop

    def start(self, model, config: TrainConfig, load_data: DataLoader, watchers: Sequence[Watcher] = (),
              resume: ResumeState | None = None) -> None:  # fmt: skip
        """Train ``model`` (a copy the caller no longer touches) with ``config`` on ``load_data()`` — from
        ``resume``'s epoch and optimizer state to ``config.epochs`` when given; each watcher adds a callback whose
        reports arrive as ``reported(topic, data)``."""
        if self.is_running():
            return
        control = RunControl()
        thread = threading.Thread(
            target=train, args=(self._voice, model, config, load_data, control, list(watchers), resume),
            name="training", daemon=True,
        )
        self._thread, self._control = thread, control
        thread.start()
        self.started.emit()

    def pause(self) -> None:
        if self._control is not None:
            self._control.running.clear()

    def resume(self) -> None:
        if self._control is not None:
            self._control.running.set()

    def stop(self) -> None:
        """Stop after the current batch (also from a pause), keeping the weights so far."""
        if self._control is not None:
            self._control.stop = True
            self._control.running.set()

    def set_lr(self, lr: float) -> None:
        if self._control is not None:
            self._control.lr = float(lr)

    def wait_for_end(self, timeout_s: float = END_WAIT_S) -> bool:
        """Stop and wait, at most ``timeout_s``, for the thread to return (the app is quitting: ``finished`` does
        not come; ``result_at_quit`` holds how it ended).  True when it has; a thread still in a long call is left
        behind (a daemon: the process can still exit)."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        if not self._waited_out:  # (a thread that outlived one wait is not waited for again: quitting is bounded)
            thread.join(timeout_s)
            self._waited_out = thread.is_alive()
        return not thread.is_alive()

    @property
    def result_at_quit(self) -> RunResult | None:
        """After ``wait_for_end``: how the run ended (its model, stopped after its current batch), or None."""
        return self._control.result if self._control is not None and self._thread is not None else None

    @Slot(object)
    def _on_thread_ending(self, result: RunResult) -> None:
        thread, self._thread, self._control = self._thread, None, None
        if thread is not None:
            thread.join(END_WAIT_S)  # its last act was to send this: it is returning
        self.finished.emit(result)
