"""One training run on its own QThread: start it, steer it (pause, stop, learning rate), hear how it ended.

The controller owns the thread and the worker; widgets connect to its signals and never see
either.  ``finished(RunResult)`` comes once the thread has ended and been cleaned up.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.training import TrainConfig
from gui.training.worker import DataLoader, RunControl, RunResult, TrainingWorker, Watcher


class TrainingRun(QObject):
    """At most one run at a time; ``start`` is ignored while one is running."""

    started = Signal()
    batches = Signal(object)  # list of batch logs, at most ~30 deliveries a second
    epochEnded = Signal(dict)
    samplesReady = Signal(dict)  # {"epoch", "noisy": (8, 784), "recon": (8, 784)}
    baselinesReady = Signal(object)  # engine.baselines.Baselines
    reported = Signal(str, object)  # (topic, data) from the run's watchers (see training_worker.Watcher)
    paused = Signal()
    resumed = Signal()
    finished = Signal(object)  # RunResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None  # held so Python does not delete it while it runs
        self._control: RunControl | None = None
        self._result: RunResult | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, model, config: TrainConfig, load_data: DataLoader, watchers: Sequence[Watcher] = ()) -> None:
        """Train ``model`` (a copy the caller no longer touches) with ``config`` on ``load_data()``; each
        watcher adds a callback whose reports arrive as ``reported(topic, data)``."""
        if self.is_running():
            return
        control = RunControl()
        worker = TrainingWorker(model, config, load_data, control, watchers)
        thread = QThread()
        thread.setObjectName("training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.batchesFinished.connect(self.batches)
        worker.epochFinished.connect(self.epochEnded)
        worker.samplesReady.connect(self.samplesReady)
        worker.baselinesReady.connect(self.baselinesReady)
        worker.reported.connect(self.reported)
        worker.paused.connect(self.paused)
        worker.resumed.connect(self.resumed)
        worker.done.connect(self._on_done)
        worker.done.connect(thread.quit)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)  # which lets the thread go once it has ended
        self._thread, self._worker, self._control, self._result = thread, worker, control, None
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

    def wait_for_end(self) -> None:
        """Stop and block until the thread has ended (the app is quitting; the result is dropped)."""
        thread = self._thread
        if thread is not None:
            self.stop()
            thread.quit()
            thread.wait()

    @Slot(object)
    def _on_done(self, result: RunResult) -> None:
        self._result = result

    @Slot()
    def _on_thread_finished(self) -> None:
        result = self._result or RunResult("failed", None, RuntimeError("the training thread ended without a result"))
        if self._thread is not None:
            # QThread sends ``finished`` from the thread just before it ends: deleting it now (deleteLater, or
            # dropping its last reference) could destroy a thread that is still running, a segfault seen under
            # load.  Wait the moment out; the last reference then goes below.
            self._thread.wait()
        self._thread = self._worker = self._control = self._result = None
        self.finished.emit(result)
