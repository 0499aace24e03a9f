"""The Training tab: hyperparameter controls, Start / Pause / Stop, live loss plot, progress and sample strip.

Training runs on a copy of the current model in a ``TrainingWorker`` on its own QThread; the copy is
handed back through ``modelTrained`` when the run ends (finished, stopped or diverged).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.idx import DatasetFileError
from engine.nn import MLP
from engine.optimizers import OPTIMIZERS
from engine.training import TrainConfig, TrainingDiverged
from gui import dialogs
from gui.image_row import PixelImage
from gui.loss_plot import LossPlot
from gui.training_worker import N_STRIP, TrainingWorker


def copy_model(model: MLP) -> MLP:
    """An independent copy (its own flat parameter vector) for the worker to train."""
    twin = model.copy()
    twin.metadata.pop("metrics", None)  # the old test scores describe the old weights
    return twin


def _format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingTab(QWidget):
    """Controls only; the work happens in ``TrainingWorker``."""

    modelTrained = Signal(object)  # the trained MLP (a copy of the one started from)
    runningChanged = Signal(bool)
    runFinished = Signal()  # the worker's thread has ended and been cleaned up
    message = Signal(str)
    # the worker's signals re-emitted from the GUI thread (for watchers such as tests and benchmarks)
    batchReceived = Signal(dict)
    epochReceived = Signal(dict)
    workerPaused = Signal()
    workerResumed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: MLP | None = None
        self.arrays = None  # (x_train, x_val) to train on instead of MNIST (tests, examples)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._started_at = 0.0
        self._latest: dict | None = None
        self._epochs_total = 1
        self._x = 0.0
        self.last_error: str | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(33)
        self._progress_timer.timeout.connect(self._refresh_progress)
        self._ignore_finish = False
        self._failed = False
        self._last_epoch: dict | None = None
        self._build()

    # ----- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        defaults = TrainConfig()
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(5)
        self.epochs.setStatusTip("Passes over the training images")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 8192)
        self.batch_size.setValue(defaults.batch_size)
        self.batch_size.setStatusTip("Images per gradient step")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(defaults.lr)
        self.lr.setStatusTip("Learning rate; a change while training applies from the next batch")
        self.lr.valueChanged.connect(self._on_lr)
        self.optimizer = QComboBox()
        self.optimizer.addItems(sorted(OPTIMIZERS))
        self.optimizer.setCurrentText(defaults.optimizer)
        self.optimizer.setStatusTip("Adam adapts the step per weight; SGD uses momentum 0.9")
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(defaults.noise)
        self.noise.setStatusTip("σ of the Gaussian noise added to each training image (the task to undo)")
        self.train_size = QSpinBox()
        self.train_size.setRange(1, 60000)
        self.train_size.setSingleStep(1000)
        self.train_size.setValue(60000)
        self.train_size.setStatusTip("How many MNIST training images to use (the first n)")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(defaults.seed)
        self.seed.setStatusTip("Seed of the shuffling and noise: the same seed repeats a run exactly")
        form = QFormLayout()
        for label, widget in (
            ("Epochs", self.epochs),
            ("Batch size", self.batch_size),
            ("Learning rate", self.lr),
            ("Optimizer", self.optimizer),
            ("Noise σ", self.noise),
            ("Training images", self.train_size),
            ("Seed", self.seed),
        ):
            form.addRow(label, widget)

        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primary")
        self.start_button.setStatusTip("Train the current model (a fresh run continues from its present weights)")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setEnabled(False)
        self.pause_button.setStatusTip("Pause training after the current batch; press again to resume")
        self.pause_button.toggled.connect(self._on_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setStatusTip("Stop after the current batch and keep the weights learned so far")
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)

        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        self.model_label.setObjectName("caption")
        settings = QGroupBox("Settings")
        side = QVBoxLayout(settings)
        side.addWidget(self.model_label)
        side.addLayout(form)
        side.addLayout(buttons)
        side.addStretch(1)

        self.plot = LossPlot()
        self.log_box = QCheckBox("Log scale")
        self.log_box.setStatusTip("Show the loss on a logarithmic axis")
        self.log_box.toggled.connect(self.plot.set_log)
        self.log_box.setChecked(True)  # the loss falls by orders of magnitude
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setStatusTip("Progress of the whole run")
        self.progress_label = QLabel("Ready")
        self.progress_label.setObjectName("big")
        self.progress_label.setStatusTip("Epoch, speed in images per second, time left")
        self.loss_label = QLabel("")
        self.loss_label.setObjectName("caption")
        self.loss_label.setMinimumWidth(150)  # changing numbers must not re-layout the tab
        head = QHBoxLayout()
        head.addWidget(self.progress_label, 1)
        head.addWidget(self.loss_label)
        head.addWidget(self.log_box)

        strip_box = QGroupBox("Fixed test digits: noisy (top) → reconstruction (bottom), updated each epoch")
        strip = QGridLayout(strip_box)
        strip.setSpacing(4)
        self.strip_noisy: list[PixelImage] = []
        self.strip_recon: list[PixelImage] = []
        for i in range(N_STRIP):
            for row, store in ((0, self.strip_noisy), (1, self.strip_recon)):
                view = PixelImage(min_size=60)
                view.setMaximumSize(84, 84)
                view.setStatusTip("Eight fixed test digits with fixed noise, reconstructed after every epoch")
                strip.addWidget(view, row, i)
                store.append(view)

        right = QVBoxLayout()
        right.addLayout(head)
        right.addWidget(self.progress)
        right.addWidget(self.plot, 1)
        right.addWidget(strip_box)
        layout = QHBoxLayout(self)
        settings.setMaximumWidth(330)
        layout.addWidget(settings)
        layout.addLayout(right, 1)

    # ----- state -----------------------------------------------------------------------------
    def set_model(self, model: MLP) -> None:
        self.model = model
        widths = "–".join(str(w) for w in [model.n_in] + [layer.n_out for layer in model.layers])
        trained = "trained" if model.metadata.get("history") or model.metadata.get("training") else "untrained"
        self.model_label.setText(f"Model to train: {widths} ({trained}, {model.n_params:,} parameters)")
        if self.is_running():
            return
        used = model.metadata.get("training")
        if isinstance(used, dict):  # start from the settings the model was trained with
            try:
                config = TrainConfig.from_dict(used)
            except (TypeError, ValueError):
                return
            self.batch_size.setValue(config.batch_size)
            self.lr.setValue(config.lr)
            self.optimizer.setCurrentText(config.optimizer)
            self.noise.setValue(config.noise)

    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def worker(self) -> TrainingWorker | None:
        return self._worker

    def config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentText(),
            noise=self.noise.value(),
            seed=self.seed.value(),
        )

    # ----- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Train a copy of the current model in a new worker thread."""
        if self.is_running() or self.model is None:
            return
        try:
            config = self.config()
        except (TypeError, ValueError) as exc:
            dialogs.show_error(self, "Invalid settings", str(exc), "Correct the value and press Start again.")
            return
        self.plot.reset(config.epochs)
        self._last_epoch = None
        self.last_error = None
        self._failed = False
        self._epochs_total = config.epochs
        self._latest = None
        self._x = 0.0
        worker = TrainingWorker(copy_model(self.model), config, self.train_size.value(), self.arrays)
        thread = QThread()
        thread.setObjectName("training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.batchesFinished.connect(self._on_batches)
        worker.epochFinished.connect(self._on_epoch)
        worker.samplesReady.connect(self._on_samples)
        worker.baselinesReady.connect(self._on_baselines)
        worker.diverged.connect(self._on_diverged)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        worker.paused.connect(self._on_worker_paused)
        worker.resumed.connect(self._on_worker_resumed)
        worker.finished.connect(thread.quit)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._started_at = time.monotonic()
        self._set_running(True)
        self.progress_label.setText("Loading data…")
        thread.start()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.request_stop()
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.progress_label.setText("Stopping…")

    def shutdown(self) -> MLP | None:
        """Stop a run and wait for its thread (window closing); returns the model trained so far."""
        thread, worker = self._thread, self._worker
        if thread is None:
            return None
        worker.request_stop()
        thread.quit()
        thread.wait()
        model = worker.model if worker.error is None or isinstance(worker.error, TrainingDiverged) else None
        self._ignore_finish = True
        return model

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(False)
        self.pause_button.setText("Pause")
        self.pause_button.blockSignals(False)
        for w in (self.epochs, self.batch_size, self.optimizer, self.noise, self.train_size, self.seed):
            w.setEnabled(not running)
        self.plot.set_live(running)
        if running:
            self.plot.timer.stop()  # this tab's frame timer flushes the plot while training
            self._progress_timer.start()
        else:
            self._progress_timer.stop()
            self._refresh_progress()
            self.plot.timer.start()
        self.runningChanged.emit(running)

    def _on_pause(self, paused: bool) -> None:
        if self._worker is None:
            return
        if paused:
            self._worker.request_pause()
        else:
            self._worker.request_resume()
        self.pause_button.setText("Resume" if paused else "Pause")
        self.progress_label.setText("Paused" if paused else self.progress_label.text())

    def _on_lr(self, value: float) -> None:
        if self._worker is not None:
            self._worker.set_lr(value)

    # ----- worker signals (queued to this thread) ----------------------------------------------
    @Slot(object)
    def _on_batches(self, batches: list) -> None:
        """Batch logs since the last delivery; text and the progress bar follow at ~30 Hz."""
        for logs in batches:
            self._x = logs["epoch"] + logs["progress"]
            self.plot.add_batch(self._x, logs["loss"])
            self._latest = logs
            self.batchReceived.emit(logs)

    def _refresh_progress(self) -> None:
        """One ~30 Hz frame: new curve points and the progress text together, so the window
        repaints once per frame rather than once for the plot and again for the text."""
        self.plot.flush()
        logs, self._latest = self._latest, None
        if logs is not None:
            self._update_progress(logs)

    def _update_progress(self, logs: dict) -> None:
        done = (logs["epoch"] + logs["progress"]) / self._epochs_total
        self.progress.setValue(int(done * 1000))
        if self.pause_button.isChecked():
            return
        elapsed = time.monotonic() - self._started_at
        eta = elapsed * (1 - done) / done if done > 0 else 0.0
        self.progress_label.setText(
            f"Epoch {int(logs['epoch']) + 1}/{self._epochs_total} · {logs['samples_per_s']:,.0f} img/s · "
            f"ETA {_format_eta(eta)}"
        )
        self.loss_label.setText(f"batch loss {logs['loss']:.4f}")

    @Slot()
    def _on_worker_paused(self) -> None:
        self.progress_label.setText("Paused")
        self.workerPaused.emit()

    @Slot()
    def _on_worker_resumed(self) -> None:
        self.workerResumed.emit()

    @Slot(dict)
    def _on_epoch(self, logs: dict) -> None:
        if "val_loss" in logs:
            self.plot.add_epoch(logs["epoch"] + 1, logs["val_loss"])
            self.loss_label.setText(f"test loss {logs['val_loss']:.4f}")
        self.message.emit(
            f"Epoch {int(logs['epoch']) + 1} done: train {logs['loss']:.4f}"
            + (f", test {logs['val_loss']:.4f}" if "val_loss" in logs else "")
            + f" ({logs['samples_per_s']:,.0f} img/s)"
        )
        self._last_epoch = logs
        self.epochReceived.emit(logs)

    @Slot(dict)
    def _on_samples(self, samples: dict) -> None:
        for i in range(min(N_STRIP, len(samples["noisy"]))):
            self.strip_noisy[i].set_image(samples["noisy"][i])
            self.strip_recon[i].set_image(samples["recon"][i])

    @Slot(dict)
    def _on_baselines(self, levels: dict) -> None:
        k = levels.get("pca_components")
        self.plot.set_baselines(levels.get("identity"), levels.get("pca"), int(k) if k else None)

    @Slot(str)
    def _on_diverged(self, text: str) -> None:
        self.last_error = text
        self.plot.mark_diverged(self._x)
        dialogs.show_error(
            self, "Training diverged", text, "Lower the learning rate (e.g. divide it by 10) and start again."
        )

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        self.last_error = text
        self._failed = True
        error = self._worker.error if self._worker is not None else None
        if isinstance(error, DatasetFileError):
            what, todo = dialogs.describe_error(error)
            dialogs.show_error(self, "Training could not start", what, todo + " The model was not changed.")
            return
        dialogs.show_error(
            self, "Training failed", text, "The model was not changed. Check the settings and press Start again."
        )

    @Slot(object)
    def _on_finished(self, model) -> None:
        if self._ignore_finish:
            return
        self._refresh_progress()  # the last batch's numbers first, then the verdict
        if not self._failed:
            worker = self._worker
            if worker is not None and isinstance(worker.error, TrainingDiverged):
                verdict = "Diverged (weights restored)"
            else:
                verdict = "Stopped" if worker is not None and worker.stop_requested else "Done"
            last = self._last_epoch
            if last is not None:
                detail = f"{int(last['epoch']) + 1} epoch{'s' if last['epoch'] else ''}"
                if "val_loss" in last:
                    detail += f", test loss {last['val_loss']:.4f}"
                verdict += f" · {detail}"
            self.progress_label.setText(verdict)
            self.model = model
            self.modelTrained.emit(model)
        else:
            self.progress_label.setText("Failed")

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread = None
        self._worker = None
        self._ignore_finish = False
        self._set_running(False)
        self.plot.flush()
        self.runFinished.emit()

    def batch_points(self) -> np.ndarray:
        return self.plot.smooth.data()[1]
