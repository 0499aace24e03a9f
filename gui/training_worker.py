"""Training off the GUI thread: a QObject worker running ``model.fit`` with a Qt callback bridge.

The worker is created without a parent and moved to a QThread.  The GUI controls it only through
flags (pause, stop, new learning rate) that the bridge reads at each batch end; the bridge sends
only floats and array copies through signals.  ``finished`` hands the trained model back.
"""

from __future__ import annotations

import hashlib
import threading
import time
import traceback

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from engine.callbacks import Callback
from engine.dataset import Dataset, to_unit_float
from engine.idx import DatasetFileError
from engine.metrics import mse
from engine.noise import fixed_noisy
from engine.pca import PCA
from engine.training import TrainConfig, TrainingDiverged

N_STRIP = 8
"""Fixed test digits shown noisy → reconstructed after every epoch."""
PCA_FIT_IMAGES = 10000
BATCH_SEND_S = 0.03
_BASELINES: dict[tuple, dict] = {}


class QtBridge(Callback):
    """Callback on the one Trainer loop: forwards logs to the worker's signals, obeys pause/stop/lr.

    Per-batch logs are also collected and sent as one list at most every ``BATCH_SEND_S``
    (``batchesFinished``): a queued signal per batch would make the GUI thread wake up and take
    the GIL a thousand times an epoch, which is what stalls a window.
    """

    def __init__(self, worker: TrainingWorker) -> None:
        self.worker = worker
        self._pending: list[dict] = []
        self._sent_at = 0.0

    def flush(self) -> None:
        if self._pending:
            self.worker.batchesFinished.emit(self._pending)
            self._pending = []
        self._sent_at = time.perf_counter()

    def on_train_begin(self, logs):
        if self.worker._stop_requested:
            self.trainer.stop_training = True

    def on_batch_end(self, batch, logs):
        worker = self.worker
        copy = dict(logs)
        worker.batchFinished.emit(copy)
        self._pending.append(copy)
        if time.perf_counter() - self._sent_at >= BATCH_SEND_S:
            self.flush()
        if not worker._run_event.is_set() and not worker._stop_requested:
            self.flush()
            worker.paused.emit()
            worker._run_event.wait()
            worker.resumed.emit()
        lr = worker._pending_lr
        if lr is not None:
            worker._pending_lr = None
            self.trainer.optimizer.lr = lr
        if worker._stop_requested:
            self.trainer.stop_training = True

    def on_epoch_end(self, epoch, logs):
        self.flush()
        self.worker.epochFinished.emit(dict(logs))

    def on_train_end(self, logs):
        self.flush()


class SampleStrip(Callback):
    """At each epoch end, reconstructs a few fixed noisy test digits and sends a copy."""

    def __init__(self, worker: TrainingWorker, noisy: np.ndarray) -> None:
        self.worker, self.noisy = worker, noisy  # (N_STRIP, 784)

    def on_epoch_end(self, epoch, logs):
        recon = self.trainer.model.predict(self.noisy)
        self.worker.samplesReady.emit({"epoch": epoch, "noisy": self.noisy.copy(), "recon": np.array(recon)})


class TrainingWorker(QObject):
    """Runs one training session of ``model`` (which the GUI must not touch until ``finished``).

    Data: ``arrays=(x_train, x_val)`` (n, 784) uint8/float32, else the first ``train_size`` MNIST
    training images and up to 10000 test images (``$DENOISE_STUDIO_DATA`` or the download cache).
    """

    batchFinished = Signal(dict)  # every batch (for direct watchers; the GUI listens to batchesFinished)
    batchesFinished = Signal(object)  # list of batch logs since the last one, at most ~30 per second
    epochFinished = Signal(dict)
    samplesReady = Signal(dict)
    baselinesReady = Signal(dict)
    paused = Signal()
    resumed = Signal()
    finished = Signal(object)  # the model (never None: PySide 6.12 on Python 3.11 mis-counts None refs)
    failed = Signal(str)
    diverged = Signal(str)

    def __init__(self, model, config: TrainConfig, train_size: int = 60000, arrays=None) -> None:
        super().__init__()  # no parent: it is moved to a QThread
        self.model = model
        self.config = config
        self.train_size = train_size
        self.arrays = arrays
        self.error: BaseException | None = None
        self._run_event = threading.Event()
        self._run_event.set()
        self._stop_requested = False
        self._pending_lr: float | None = None

    # ----- control from the GUI thread (flags only) ------------------------------------------
    def request_pause(self) -> None:
        self._run_event.clear()

    def request_resume(self) -> None:
        self._run_event.set()

    def request_stop(self) -> None:
        self._stop_requested = True
        self._run_event.set()  # a paused worker must wake up to stop

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def set_lr(self, lr: float) -> None:
        self._pending_lr = float(lr)

    # ----- the thread's work -----------------------------------------------------------------
    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.arrays is not None:
            return self.arrays
        # $DENOISE_STUDIO_DATA, else the cache (downloading if needed); all the files hold
        data = Dataset(train_size=None, test_size=None, progress=False)
        return data.train_u8[: self.train_size], data.test_u8

    def _baselines(self, x_train: np.ndarray, x_val: np.ndarray) -> dict:
        """MSE on the fixed noisy test set of doing nothing (identity) and of PCA with the latent width.

        Cached by the data's shape and a hash of its first rows, the width and σ: a PCA fit costs
        an eigendecomposition of a (784, 784) matrix, and repeated runs reuse it.
        """
        k = self.model.layers[self.model.bottleneck_index()].n_out
        key = (
            x_train.shape,
            x_val.shape,
            hashlib.sha1(x_train[:256].tobytes() + x_val[:256].tobytes()).hexdigest(),
            k,
            self.config.noise,
        )
        if key not in _BASELINES:
            _BASELINES[key] = self._compute_baselines(x_train, x_val, k)
        return dict(_BASELINES[key])

    def _compute_baselines(self, x_train: np.ndarray, x_val: np.ndarray, k: int) -> dict:
        val = to_unit_float(x_val) if x_val.dtype == np.uint8 else np.asarray(x_val, np.float32)
        noisy = fixed_noisy(val, self.config.noise)
        fit_on = x_train[:PCA_FIT_IMAGES]
        fit_on = to_unit_float(fit_on) if fit_on.dtype == np.uint8 else fit_on
        out = {"identity": mse(noisy, val), "pca_components": float(k)}
        if k < fit_on.shape[1]:
            out["pca"] = mse(PCA(k).fit(fit_on).reconstruct(noisy), val)
        return out

    def _send_baselines(self, x_train: np.ndarray, x_val: np.ndarray) -> None:
        """Runs beside training (a PCA fit takes seconds the first time; training need not wait)."""
        try:
            self.baselinesReady.emit(self._baselines(x_train, x_val))
        except Exception:  # the dashed lines are optional; training goes on without them
            traceback.print_exc()

    @Slot()
    def run(self) -> None:
        helper: threading.Thread | None = None
        try:
            x_train, x_val = self._data()
            if len(x_val):
                helper = threading.Thread(
                    target=self._send_baselines, args=(x_train, x_val), name="baselines", daemon=True
                )
                helper.start()
            if self._stop_requested:
                return
            val = x_val[:N_STRIP]
            val = to_unit_float(val) if val.dtype == np.uint8 else np.asarray(val, np.float32)
            strip = SampleStrip(self, fixed_noisy(val, self.config.noise))
            # (the engine's Trainer runs BLAS on one thread and splits large products itself)
            self.model.fit(x_train, x_val, config=self.config, callbacks=[QtBridge(self), strip])
        except TrainingDiverged as exc:
            self.error = exc
            self.diverged.emit(str(exc))  # the engine restored the weights: the model is usable
        except DatasetFileError as exc:
            self.error = exc
            self.failed.emit(str(exc))
        except Exception as exc:  # any failure must reach the GUI, never kill the thread silently
            self.error = exc
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            if helper is not None:
                helper.join()  # no thread outlives the run (the worker is deleted after it)
            self.finished.emit(self.model)  # after ``failed`` the model is unchanged (training never began)
