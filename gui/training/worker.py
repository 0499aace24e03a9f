"""The body of a training thread: ``model.fit`` with a callback bridge, and how the run ended.

``train`` runs on the plain thread ``gui.training.run.TrainingRun`` starts.  The GUI steers it only
through a ``RunControl`` (flags the bridge reads at each batch end) and hears from it only through a
``RunVoice``'s signals carrying floats, array copies and, at the end, a ``RunResult``.  Nothing here makes,
touches or drops a Qt object other than emitting those signals.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.baselines import Baselines, noisy_input_mse
from engine.callbacks import Callback
from engine.images import as_unit_float
from engine.noise import fixed_noisy
from engine.training import ResumeState, TrainConfig, TrainingDiverged
from gui.common.data_sets import DataSets

N_STRIP = 8
"""Fixed test digits shown noisy → reconstructed after every epoch."""
BATCH_SEND_S = 0.1
"""Batch logs are sent at most this often (a queued signal per batch would wake the GUI a thousand
times an epoch, which is what stalls a window)."""

DataLoader = Callable[[], tuple[np.ndarray, np.ndarray]]
"""Runs in the training thread (and in a job, for PCA's level): (clean training images (n, 784), clean test images
(m, 784)), uint8 or float."""
Report = Callable[[str, object], None]
Watcher = Callable[[Report], Callback]
"""Makes an extra callback for a run, given ``report(topic, data)``, which sends plain data (copies, floats)
to the GUI thread as ``TrainingRun.reported(topic, data)``: how views add what they watch (histograms, ...).
A watcher's callback may define ``on_pause()``: called on the training thread when the run pauses, just
before ``paused`` is sent, so the view can show the epoch so far."""


class RunVoice(QObject):
    """What the training thread says, as signals of an object that lives on the GUI thread (made there by the
    run).  The run connects each to its own signal of the same name, which Qt then sends from the GUI thread;
    ``ending(RunResult)`` is the thread's last word."""

    RELAYED = ("batches", "epochEnded", "samplesReady", "dataReady", "reported", "paused", "resumed")
    batches = Signal(object)
    epochEnded = Signal(dict)
    samplesReady = Signal(dict)
    dataReady = Signal(object)
    reported = Signal(str, object)
    paused = Signal()
    resumed = Signal()
    ending = Signal(object)


def run_recorder(report: Report) -> Callback:
    """A ``Watcher`` that records the run in the runs database (``engine.runs``, as the CLI's runs are): a problem
    with the database is reported once as ``("runs", text)`` and the run goes on unrecorded."""
    from engine.runs import RunRecorder  # (the runs database's modules: imported when a run starts, not at start)

    return RunRecorder(source="app", warn=lambda text: report("runs", text))


@dataclass(frozen=True)
class DataSetLoader:
    """A ``DataLoader`` of a named data set: the first ``train_size`` training images and all test images of
    ``dataset`` ("mnist", "fashion_mnist"), found as the engine finds them (its folder's variable, an installed
    copy, else the cache, downloading what it lacks); read once per app through ``data``.  The trained
    model's file records the data set, as the CLI's do."""

    data: DataSets
    dataset: str
    train_size: int

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        train = self.data.images("train", self.dataset, download=True)[: self.train_size]
        return train, self.data.images("test", self.dataset, download=True)


@dataclass
class RunControl:
    """What the GUI asks of a running run; written by the GUI thread, read by the bridge at batch ends."""

    stop: bool = False
    lr: float | None = None  # a new learning rate, applied from the next batch
    running: threading.Event = field(default_factory=threading.Event)  # cleared = paused
    result: RunResult | None = None  # how the run ended (set by the thread, for a quit that waits for it)

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


class RunBridge(Callback):
    """Callback on the one Trainer loop, first of the run's: forwards logs to the run's signals.  A ``RunGate`` on
    it (last of the run's callbacks) obeys the ``RunControl``."""

    def __init__(self, run, control: RunControl) -> None:
        self.run, self.control = run, control
        self._pending: list[dict] = []
        self._sent_at = 0.0
        self.last_epoch: dict | None = None
        self.optimizer_state: dict = {}  # the optimizer's state as a run ends well (for Continue training)
        self.pause_hooks: list[Callable[[], None]] = []  # the watchers' on_pause, called as the run pauses

    def flush(self) -> None:
        if self._pending:
            self.run.batches.emit(self._pending)
            self._pending = []
        self._sent_at = time.perf_counter()

    def on_train_begin(self, logs):
        self.trainer.stop_training = self.control.stop

    def on_batch_end(self, batch, logs):
        self._pending.append(dict(logs))
        if time.perf_counter() - self._sent_at >= BATCH_SEND_S:
            self.flush()

    def on_epoch_end(self, epoch, logs):
        self.flush()
        self.last_epoch = dict(logs)
        self.run.epochEnded.emit(dict(logs))

    def on_note(self, text):
        self.run.reported.emit("note", text)

    def on_train_end(self, logs):
        self.flush()
        if "diverged" not in logs and "failed" not in logs:  # a diverged run's moments hold the bad steps
            self.optimizer_state = dict(self.trainer.optimizer.state_dict())


class RunGate(Callback):
    """The last callback of a run: after every other has seen the batch (the histograms' sampler too), it pauses
    when asked, applies a new learning rate, and stops the run when asked."""

    def __init__(self, bridge: RunBridge) -> None:
        self.bridge = bridge

    def on_batch_end(self, batch, logs):
        bridge, control = self.bridge, self.bridge.control
        if not control.running.is_set() and not control.stop:
            held = time.perf_counter()  # (from here on, not training: out of the epoch's img/s)
            bridge.flush()
            for hook in bridge.pause_hooks:
                hook()
            bridge.run.paused.emit()
            control.running.wait()
            self.trainer.leave_out(time.perf_counter() - held)
            bridge.run.resumed.emit()
        if control.lr is not None:
            self.trainer.optimizer.lr, control.lr = control.lr, None
        if control.stop:
            self.trainer.stop_training = True


class SampleStripCallback(Callback):
    """Reconstructs a few fixed noisy test digits at the start and after each epoch; sends copies."""

    def __init__(self, run, noisy: np.ndarray) -> None:
        self.run, self.noisy = run, noisy  # (N_STRIP, 784)

    def _send(self, epoch: int) -> None:
        recon = self.trainer.model.predict(self.noisy)
        self.run.samplesReady.emit({"epoch": epoch, "noisy": self.noisy.copy(), "recon": np.array(recon)})

    def on_train_begin(self, logs):
        self._send(int(logs.get("initial_epoch", 0)) - 1)  # the model as it starts

    def on_epoch_end(self, epoch, logs):
        self._send(epoch)


def train(
    run: RunVoice,
    model,
    config: TrainConfig,
    load_data: DataLoader,
    control: RunControl,
    watchers: list,
    resume: ResumeState | None = None,
) -> None:
    """The training thread: fit ``model`` (which the GUI must not touch until ``finished``) — from ``resume``'s
    epoch, optimizer state and history when given —, then hand the result to the GUI thread as the thread's last
    act, the model carrying its optimizer's state.  Any failure becomes a "failed" result, never a silent end."""
    bridge = RunBridge(run, control)
    result = RunResult("failed", None)
    try:
        x_train, x_val = load_data()
        if isinstance(load_data, DataSetLoader):
            info = {"name": load_data.dataset, "train_size": len(x_train), "test_size": len(x_val)}
            model.metadata["dataset"] = info
        setting = config.noise_setting  # the baselines and the strip at the level validation scores at
        level, kind = setting.default_level, setting.kind
        if len(x_val):  # the noisy input's level at once (cheap); PCA's comes from a job the tab starts
            run.dataReady.emit(Baselines(level, model.latent_width, noisy_input_mse(x_val, level, kind), None, kind))
        strip = SampleStripCallback(run, fixed_noisy(as_unit_float(x_val[:N_STRIP]), level, kind=kind))
        extra = [watcher(run.reported.emit) for watcher in watchers]
        bridge.pause_hooks = [cb.on_pause for cb in extra if callable(getattr(cb, "on_pause", None))]
        model.fit(x_train, x_val, config=config, callbacks=[bridge, strip, *extra, RunGate(bridge)], resume=resume)
        model.optimizer_state = bridge.optimizer_state
        result = RunResult("stopped" if control.stop else "done", model)
    except TrainingDiverged as exc:  # the engine restored the weights: the model is usable
        result = RunResult("diverged", model, exc)
    except Exception as exc:  # any failure must reach the GUI, never end the thread silently
        traceback.print_exc()
        result = RunResult("failed", None, exc)
    finally:
        result.last_epoch = bridge.last_epoch
        control.result = result
        run.ending.emit(result)
