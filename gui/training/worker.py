"""The body of a training thread: ``model.fit`` with a Qt callback bridge, and how the run ended.

``TrainingWorker`` is created without a parent and moved to a QThread by ``gui.training.run``.
The GUI steers it only through a ``RunControl`` (flags the bridge reads at each batch end) and
hears from it only through signals carrying floats, array copies and, at the end, a
``RunResult``.  Nothing here touches a widget.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from engine.baselines import Baselines, noisy_input_mse, pca_mse
from engine.callbacks import Callback
from engine.images import as_unit_float
from engine.noise import fixed_noisy
from engine.runs import RunRecorder
from engine.training import TrainConfig, TrainingDiverged
from gui.common.data_sets import data_split

N_STRIP = 8
"""Fixed test digits shown noisy → reconstructed after every epoch."""
BATCH_SEND_S = 0.03
"""Batch logs are sent at most this often (a queued signal per batch would wake the GUI a thousand
times an epoch, which is what stalls a window)."""

DataLoader = Callable[[], tuple[np.ndarray, np.ndarray]]
"""Runs in the worker thread: (clean training images (n, 784), clean test images (m, 784)), uint8 or float."""
Report = Callable[[str, object], None]
Watcher = Callable[[Report], Callback]
"""Makes an extra callback for a run, given ``report(topic, data)``, which sends plain data (copies, floats)
to the GUI thread as ``TrainingRun.reported(topic, data)``: how views add what they watch (histograms, ...).
A watcher's callback may define ``on_pause()``: called on the training thread when the run pauses, just
before ``paused`` is sent, so the view can show the epoch so far."""


def run_recorder(report: Report) -> Callback:
    """A ``Watcher`` that records the run in the runs database (``engine.runs``, as the CLI's runs are): a problem
    with the database is reported once as ``("runs", text)`` and the run goes on unrecorded."""
    return RunRecorder(source="app", warn=lambda text: report("runs", text))


@dataclass(frozen=True)
class DataSetLoader:
    """A ``DataLoader`` of a named data set: the first ``train_size`` training images and all test images of
    ``dataset`` ("mnist", "fashion_mnist"), found as the engine finds them (its folder's variable, an installed
    copy, else the cache, downloading what it lacks); read once per app (``gui.common.data_sets``).  The trained
    model's file records the data set, as the CLI's do."""

    dataset: str
    train_size: int

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        train = data_split("train", self.dataset, download=True)[0][: self.train_size]
        return train, data_split("test", self.dataset, download=True)[0]


def mnist_loader(train_size: int) -> DataLoader:
    """MNIST's ``DataSetLoader``."""
    return DataSetLoader("mnist", train_size)


@dataclass
class RunControl:
    """What the GUI asks of a running worker; written by the GUI thread, read by the bridge at batch ends."""

    stop: bool = False
    lr: float | None = None  # a new learning rate, applied from the next batch
    running: threading.Event = field(default_factory=threading.Event)  # cleared = paused

    def __post_init__(self) -> None:
        self.running.set()


@dataclass
class RunResult:
    """How a run ended.  ``verdict``: "done", "stopped", "diverged" (weights restored) or "failed".

    ``model`` is the trained copy (None when the run failed before training); ``error`` the
    exception of a diverged or failed run; ``last_epoch`` the logs of the last epoch that ended.
    """

    verdict: str
    model: object | None
    error: BaseException | None = None
    last_epoch: dict | None = None


class QtBridge(Callback):
    """Callback on the one Trainer loop: forwards logs to the worker's signals, obeys the ``RunControl``."""

    def __init__(self, worker: TrainingWorker, control: RunControl) -> None:
        self.worker, self.control = worker, control
        self._pending: list[dict] = []
        self._sent_at = 0.0
        self.last_epoch: dict | None = None
        self.pause_hooks: list[Callable[[], None]] = []  # the watchers' on_pause, called as the run pauses

    def flush(self) -> None:
        if self._pending:
            self.worker.batchesFinished.emit(self._pending)
            self._pending = []
        self._sent_at = time.perf_counter()

    def on_train_begin(self, logs):
        self.trainer.stop_training = self.control.stop

    def on_batch_end(self, batch, logs):
        control = self.control
        self._pending.append(dict(logs))
        if time.perf_counter() - self._sent_at >= BATCH_SEND_S:
            self.flush()
        if not control.running.is_set() and not control.stop:
            self.flush()
            for hook in self.pause_hooks:
                hook()
            self.worker.paused.emit()
            control.running.wait()
            self.worker.resumed.emit()
        if control.lr is not None:
            self.trainer.optimizer.lr, control.lr = control.lr, None
        if control.stop:
            self.trainer.stop_training = True

    def on_epoch_end(self, epoch, logs):
        self.flush()
        self.last_epoch = dict(logs)
        self.worker.epochFinished.emit(dict(logs))

    def on_train_end(self, logs):
        self.flush()


class SampleStripCallback(Callback):
    """Reconstructs a few fixed noisy test digits at the start and after each epoch; sends copies."""

    def __init__(self, worker: TrainingWorker, noisy: np.ndarray) -> None:
        self.worker, self.noisy = worker, noisy  # (N_STRIP, 784)

    def _send(self, epoch: int) -> None:
        recon = self.trainer.model.predict(self.noisy)
        self.worker.samplesReady.emit({"epoch": epoch, "noisy": self.noisy.copy(), "recon": np.array(recon)})

    def on_train_begin(self, logs):
        self._send(int(logs.get("initial_epoch", 0)) - 1)  # the model as it starts

    def on_epoch_end(self, epoch, logs):
        self._send(epoch)


class TrainingWorker(QObject):
    """Trains ``model`` (which the GUI must not touch until ``done``) on the data ``load_data`` returns."""

    batchesFinished = Signal(object)  # list of batch logs since the last one, at most ~30 per second
    epochFinished = Signal(dict)
    samplesReady = Signal(dict)
    baselinesReady = Signal(object)  # engine.baselines.Baselines for the run's data, noise and latent width
    reported = Signal(str, object)  # (topic, data) from the watchers' callbacks
    paused = Signal()
    resumed = Signal()
    done = Signal(object)  # RunResult, the worker's last word

    def __init__(
        self, model, config: TrainConfig, load_data: DataLoader, control: RunControl, watchers: Sequence[Watcher] = ()
    ) -> None:
        super().__init__()  # no parent: it is moved to a QThread
        self.model, self.config, self.load_data, self.control = model, config, load_data, control
        self.watchers = list(watchers)

    def _send_pca_level(self, x_train: np.ndarray, x_val: np.ndarray, noisy_level: float) -> None:
        """Runs beside training (a first PCA fit takes seconds; training need not wait)."""
        setting, k = self.config.noise_setting, self.model.latent_width
        level, kind = setting.default_level, setting.kind
        try:
            pca = pca_mse(x_train, x_val, level, k, kind)
            self.baselinesReady.emit(Baselines(level, k, noisy_level, pca, kind))
        except Exception:  # the dashed line is optional; training goes on without it
            traceback.print_exc()

    @Slot()
    def run(self) -> None:
        helper: threading.Thread | None = None
        bridge = QtBridge(self, self.control)
        result = RunResult("failed", None)
        try:
            x_train, x_val = self.load_data()
            if isinstance(self.load_data, DataSetLoader):
                info = {"name": self.load_data.dataset, "train_size": len(x_train), "test_size": len(x_val)}
                self.model.metadata["dataset"] = info
            setting = self.config.noise_setting  # the baselines and the strip at the level validation scores at
            level, kind = setting.default_level, setting.kind
            if len(x_val):  # the noisy-input level at once (cheap), PCA's when its fit is ready
                noisy_level = noisy_input_mse(x_val, level, kind)
                self.baselinesReady.emit(Baselines(level, self.model.latent_width, noisy_level, None, kind))
                helper = threading.Thread(
                    target=self._send_pca_level, args=(x_train, x_val, noisy_level), name="baselines", daemon=True
                )
                helper.start()
            strip = SampleStripCallback(self, fixed_noisy(as_unit_float(x_val[:N_STRIP]), level, kind=kind))
            extra = [watcher(self.reported.emit) for watcher in self.watchers]
            bridge.pause_hooks = [cb.on_pause for cb in extra if callable(getattr(cb, "on_pause", None))]
            self.model.fit(x_train, x_val, config=self.config, callbacks=[bridge, strip, *extra])
            result = RunResult("stopped" if self.control.stop else "done", self.model)
        except TrainingDiverged as exc:  # the engine restored the weights: the model is usable
            result = RunResult("diverged", self.model, exc)
        except Exception as exc:  # any failure must reach the GUI, never kill the thread silently
            traceback.print_exc()
            result = RunResult("failed", None, exc)
        finally:
            if helper is not None:
                helper.join()  # no thread outlives the run (the worker is deleted after it)
            result.last_epoch = bridge.last_epoch
            self.done.emit(result)
