"""The Training tab: the settings form, Start / Continue / Pause / Stop, and the views of a run.

The tab follows the app's current model (``AppState``).  A run trains a copy of it on a
``TrainingRun`` (its own thread); the copy becomes the current model when the run ends (done,
stopped or diverged), and ``runEnded(RunResult)`` follows.  *Start* trains the model from its present
weights for the form's epochs; *Continue* (``continue_training``) trains it that many more epochs from where
its training stopped (``gui.training.continuation``), the curve going on.  PCA's and the best linear denoiser's
levels for the loss plot come from jobs beside the run, through the app's ``BaselineBank`` (kept: fitted once a
data set and level).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.baselines import BEST_LINEAR, BaselineBank, best_linear_mse, pca_mse
from engine.images import as_unit_float
from engine.nn import MLP
from engine.noise import fixed_noisy
from engine.run_limits import EPOCHS
from engine.runs.recorder import METADATA_KEY as RUN_KEY
from engine.training import ResumeState, TrainConfig
from gui.app_state import AppState, ModelChange
from gui.common import dialogs
from gui.common.data_sets import DataSets
from gui.common.frame_pace import FramePace
from gui.common.hints import explain_disabled, hint
from gui.common.jobs import JobRunner
from gui.common.memory import return_free_memory
from gui.common.panel_room import PanelRoom
from gui.training.continuation import SOURCES, continuation_of
from gui.training.form import TrainingForm, form_notes
from gui.training.histogram_panel import HistogramPanel
from gui.training.loss_plot import LossPlot
from gui.training.pca_check_panel import PCA_CHECK_TITLE, PcaCheckPanel
from gui.training.run import TrainingRun
from gui.training.run_progress import RunProgress
from gui.training.sample_strip import SampleStrip
from gui.training.worker import N_STRIP, DataSetLoader, RunResult

LEFT_COLUMN_MAX_PX = 540
"""The settings and histograms column takes a quarter of the tab's width, its form's minimum at least, this at
most (the histograms' cells are then ~250 px wide)."""


def _preview(model, data: DataSets, dataset: str, level: float, kind: str, state) -> tuple[np.ndarray, np.ndarray]:
    """The strip's fixed noisy test images and the model's reconstructions, before any run (a job)."""
    noisy = fixed_noisy(as_unit_float(data.images("test", dataset)[:N_STRIP]), level, kind=kind)
    return noisy, model.predict(noisy)


def _reference_level(baseline: str, load_data, bank: BaselineBank | None, dataset: str, level: float, kind: str,
                     state) -> float | None:  # fmt: skip
    """Baseline ``baseline``'s (``"best_linear"``, ``"pca_K"``) test MSE at the run's level: a job beside the run.

    A run on a named data set asks the app's ``bank``, which fits on the data set's whole training set and keeps
    the fit and the score: the next run at that level costs nothing, and the fit no longer takes a core from
    every run's first epoch.  A run on arrays given to the tab (``bank`` None) is fitted on its own images.
    """
    x_train, x_val = load_data()  # the run's loader: read once, kept
    if bank is not None:
        scored = bank.scores(baseline, x_val, kind, level, dataset, progress=state.progress, cancelled=state.cancelled)
        return scored.mse
    if baseline == BEST_LINEAR:
        return best_linear_mse(x_train, x_val, level, kind, progress=state.progress, cancelled=state.cancelled)
    return pca_mse(x_train, x_val, level, int(baseline.partition("_")[2]), kind)


SIDE_WIDTH = 330
"""The settings column's width, fixed: it must not change as the headline or a button's text does."""


def copy_model(model: MLP) -> MLP:
    """An independent copy (its own flat parameter vector) for a run to train."""
    twin = model.copy()
    twin.metadata.pop("metrics", None)  # the old test scores describe the old weights
    twin.metadata.pop("resume", None)  # a checkpoint's state: the run's model is no checkpoint
    twin.metadata.pop("continued", None)  # which run it continues: Continue says, for its own run
    return twin


class TrainingTab(QWidget):
    """Controls and views; the work happens on ``self.run``."""

    runningChanged = Signal(bool)
    message = Signal(str)
    runEnded = Signal(object)  # RunResult, once its model is the current one (done, stopped, diverged) or not

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model: MLP | None = None
        self._trained: MLP | None = None  # the model this tab's last run handed back
        self._epochs = 0  # of the current or last run
        self._first_epoch = 0  # the epoch it started from (a continued run's next one)
        self.arrays = None  # (x_train, x_val) to train on instead of MNIST (tests, examples)
        self.watchers: list = []  # training_worker.Watcher factories views add; their reports: run.reported
        self.run = TrainingRun(self)
        self.form = TrainingForm()
        self.plot = LossPlot()
        self.progress = RunProgress()
        self.strip = SampleStrip(N_STRIP)
        self.pca_check = PcaCheckPanel(state.data)  # shown for models with a linear decoder
        self.pca_check.attach(self.run, self.watchers)
        self.histograms = HistogramPanel()  # weights and gradients per layer, from a watcher on the run
        self.watchers.append(self.histograms.watcher)
        self.run.reported.connect(self.histograms.on_report)
        self._latest: dict | None = None  # the newest batch logs not yet shown
        self._frame_timer = QTimer(self)  # one frame for the curve and the text while training
        self._frame_timer.timeout.connect(self._frame)
        self.frame_pace = FramePace(self._frame_timer)  # 2-10 frames a second: at most 3 % of the GUI thread
        self.preview_jobs, self.pca_jobs = JobRunner(self, on_screen=self.strip), JobRunner(self)
        self.linear_jobs = JobRunner(self)
        self._build()
        self.form.dataChanged.connect(self._request_preview)
        self.form.lrChanged.connect(self.run.set_lr)
        self.run.batches.connect(self._on_batches)
        self.run.epochEnded.connect(self._on_epoch)
        self.run.samplesReady.connect(lambda s: self.strip.show_samples(s["noisy"], s["recon"]))
        self.run.dataReady.connect(self._on_data_ready)
        self.run.paused.connect(self.progress.held)
        self.run.resumed.connect(self.progress.resume)
        self.run.resumed.connect(self.histograms.on_resumed)
        self.run.finished.connect(self._on_finished)
        state.modelChanged.connect(self._on_model_changed)
        state.add_check(form_notes)  # what the form will show of a file
        if state.model is not None:  # made after the start (when first shown): the model already there
            self.set_model(state.model)

    def _build(self) -> None:
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primary")
        hint(
            self.start_button,
            "Train the current model with these settings, continuing from its present weights; the window stays "
            "usable",
        )
        self.start_button.clicked.connect(self.start)
        self.continue_button = QPushButton("Continue")
        hint(
            self.continue_button,
            "Train the model as many more epochs as Epochs says, from where its training stopped: the same "
            "optimizer state (kept from this session's run or a checkpoint file), the curve going on",
        )
        self.continue_button.clicked.connect(lambda: self.continue_training())
        self.pause_button = QPushButton("Resume")
        self.pause_button.setMinimumWidth(self.pause_button.sizeHint().width())  # (the row keeps its width as it turns)
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        hint(self.pause_button, "Pause after the current batch; press again to resume")
        self.pause_button.toggled.connect(self._on_pause)
        self.stop_button = QPushButton("Stop")
        hint(self.stop_button, "Stop after the current batch and keep the weights learned so far")
        self.stop_button.clicked.connect(self.stop)
        self._explain_buttons(stopping=False)
        self.log_box = QCheckBox("Log scale")
        hint(
            self.log_box,
            "Show the loss on a logarithmic axis: the loss falls by orders of magnitude, so small late gains stay "
            "visible",
        )
        self.log_box.toggled.connect(self.plot.set_log)
        self.log_box.setChecked(True)  # the loss falls by orders of magnitude
        buttons = QHBoxLayout()
        for button in (self.start_button, self.continue_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        settings = QGroupBox("Settings")
        settings.setFixedWidth(SIDE_WIDTH)  # whatever the headline or the buttons say
        side = QVBoxLayout(settings)
        side.addWidget(self.form)
        side.addLayout(buttons)
        self.rooms = {  # each can be enlarged over the tab or shown in a window of its own
            "histograms": PanelRoom("histograms", "Weights and gradients", self.histograms),  # per layer
            "pca_check": PanelRoom("pca_check", PCA_CHECK_TITLE, self.pca_check),
        }  # (their keys: gui.main_window.TRAINING_ROOMS, which makes the tab at start when one was left out)
        head = QHBoxLayout()
        head.addWidget(self.progress, 1)
        head.addWidget(self.log_box)
        right = QVBoxLayout()
        right.addLayout(head)
        middle = QHBoxLayout()  # the loss and, for a linear model, its PCA check
        middle.addWidget(self.plot, 1)
        middle.addWidget(self.rooms["pca_check"], 1)
        right.addLayout(middle, 3)
        right.addWidget(self.strip, 1)  # the images grow a little in a tall window
        left_column = QWidget()  # the settings, and the histograms under them
        left_column.setMaximumWidth(LEFT_COLUMN_MAX_PX)
        left = QVBoxLayout(left_column)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(settings)
        left.addWidget(self.rooms["histograms"], 1)
        # The histograms take the column's height left over, down to their least (a scroll area's): with the panel's
        # own "ignored" height the column's layout gave them that least anyway and squashed the settings' rows to a
        # few pixels in a short window (QT_SCALE_FACTOR=2 on 1920×1080); now the tab scrolls there instead.
        expanding = self.rooms["histograms"].sizePolicy()
        expanding.setVerticalPolicy(QSizePolicy.Policy.Expanding)
        self.rooms["histograms"].setSizePolicy(expanding)
        layout = QHBoxLayout(self)
        layout.addWidget(left_column, 1)  # a quarter of a wide window: the histograms get room
        layout.addLayout(right, 3)
        self._focus_start_at_end = False  # Stop took the key focus: Start has it back once the run ends
        self._set_running(False)

    def _on_model_changed(self, change: ModelChange) -> None:
        self.set_model(change.model)

    def set_model(self, model: MLP) -> None:
        """The model to train next; any other than the one a run just handed back clears the last run's views."""
        handed_back = model is self._trained
        self.model = model
        if self.is_running():
            return
        self.pca_check.set_model(model, same_run=handed_back)
        self.form.set_model(model)
        self._enable_continue()
        if not handed_back:
            self._trained = None
            self.linear_jobs.cancel()  # a level for the last run's data, not this model's next one
            self.plot.reset(hint="Press Start to train this model")
            self.histograms.set_model(model)
            self.progress.reset()
            self._request_preview()

    def _request_preview(self) -> None:
        """Between runs, the strip shows the chosen data set's test images with the form's noise (the middle of
        a range) and what the model makes of them."""
        if self.is_running() or self.model is None:  # (after a run too: the next run's data set, its noise)
            return
        self.strip.clear()
        try:
            setting = self.form.config().noise_setting
        except (TypeError, ValueError):  # a range upside down: nothing to show until it is corrected
            return
        self.preview_jobs.start(_preview, self.model, self.state.data, self.form.data_set_name(),
                                setting.default_level, setting.kind, on_done=lambda r: self.strip.show_samples(*r),
                                on_error=lambda e: None)  # fmt: skip

    def is_running(self) -> bool:
        return self.run.is_running()

    def start(self) -> None:
        """Train a copy of the current model with the form's settings."""
        if self.is_running() or self.model is None:
            return
        config = self._form_config("Start")
        if config is not None:
            self._begin(copy_model(self.model), config)

    def continue_training(self, epochs: int | None = None) -> bool:
        """Train the current model ``epochs`` more epochs (default: the form's Epochs) from where its training
        stopped, with the form's settings: its optimizer's state and history when it has them (a run of this
        session, a checkpoint file), its weights and history otherwise; the model file then records the run it
        continued (``metadata["continued"]``).  False, with a message, when there is nothing to continue (an
        untrained model: Start trains it) or a run is going on.  The Runs view calls this after opening a
        past run's checkpoint or model."""
        if self.is_running() or self.model is None:
            return False
        found = continuation_of(self.model)
        if found is None:
            self.message.emit("Nothing to continue: this model has not been trained yet (press Start to train it)")
            return False
        config = self._form_config("Continue")
        if config is None:
            return False
        more = config.epochs if epochs is None else epochs
        try:
            config = replace(config, epochs=found.next_epoch + EPOCHS.check(more))
        except (TypeError, ValueError) as exc:
            dialogs.show_error(self, "Cannot continue", f"{exc} (the model has trained {found.next_epoch} epochs).",
                               "Ask for fewer epochs.")  # fmt: skip
            return False
        resume, notes = found.resume, list(found.notes)
        if resume.optimizer_state and found.optimizer != config.optimizer:
            resume = replace(resume, optimizer_state={})
            notes.append(f"the {config.optimizer} optimizer starts afresh (the state kept is {found.optimizer}'s)")
        model = copy_model(self.model)
        model.metadata["continued"] = {  # the run it continues (its uuid when recorded), its file, the epoch
            "run": self.model.metadata.get(RUN_KEY),
            "file": self.model.path,
            "epoch": found.next_epoch,
            "optimizer_state": bool(resume.optimizer_state),
        }
        self._begin(model, config, resume)
        self.message.emit(f"Continuing from epoch {found.next_epoch} to {config.epochs}, from "
                          f"{SOURCES[found.source]}" + "".join(f"; {note}" for note in notes))  # fmt: skip
        return True

    def _form_config(self, action: str) -> TrainConfig | None:
        try:
            return self.form.config()
        except (TypeError, ValueError) as exc:
            dialogs.show_error(self, "Invalid settings", str(exc), f"Correct the value and press {action} again.")
            return None

    def _begin(self, model: MLP, config: TrainConfig, resume: ResumeState | None = None) -> None:
        """Train ``model`` (a copy) with ``config``, from ``resume``'s epoch when given: the views show the run,
        a continued one with its earlier curve."""
        first = resume.next_epoch if resume is not None else 0
        self.plot.reset(config.epochs)
        if resume is not None:
            self.plot.add_history(resume.history.batch_loss, resume.history.epochs)
        self.preview_jobs.cancel()
        self.strip.clear()
        self.progress.begin(config.epochs, first)
        self._epochs, self._first_epoch = config.epochs, first
        self._latest = None
        arrays = self.arrays
        load = (lambda: arrays) if arrays is not None else DataSetLoader(self.state.data, self.form.data_set_name(),
                                                                         self.form.train_size.value())  # fmt: skip
        self.run.start(model, config, load, self.watchers, resume)
        self._set_running(True)
        bank = self.state.baselines if arrays is None else None
        self._request_pca_level(load, bank, config)
        self._request_linear_level(load, bank, config)

    def _request_linear_level(self, load, bank: BaselineBank | None, config) -> None:
        """The best linear denoiser's level for the loss plot (the strongest simple baseline at the run's noise),
        fitted by a job beside the run; the plot says it is coming meanwhile."""
        setting = config.noise_setting

        def show(level: float | None) -> None:
            self.plot.show_linear_fitting(False)
            if level is not None:
                self.plot.set_baselines(linear=level)

        self.plot.show_linear_fitting(True)
        self.linear_jobs.start(_reference_level, BEST_LINEAR, load, bank, self.form.data_set_name(),
                               setting.default_level, setting.kind, on_done=show,
                               on_error=lambda exc: show(None))  # fmt: skip

    def _request_pca_level(self, load, bank: BaselineBank | None, config) -> None:
        """PCA-k's level for the loss plot, fitted by a job beside the run; the plot says it is coming meanwhile."""
        k, setting = self.model.latent_width, config.noise_setting
        if k >= self.model.n_in:  # a code as wide as the image: PCA keeps everything, no line
            self.pca_jobs.cancel()
            return

        def show(level: float | None) -> None:
            self.plot.show_pca_fitting(None)
            if level is not None:
                self.plot.set_baselines(pca=level, components=k)

        self.plot.show_pca_fitting(k)
        self.pca_jobs.start(_reference_level, f"pca_{k}", load, bank, self.form.data_set_name(),
                            setting.default_level, setting.kind, on_done=show,
                            on_error=lambda exc: show(None))  # fmt: skip

    def stop(self) -> None:
        if self.is_running():
            self.run.stop()
            self._explain_buttons(stopping=True)
            self._focus_start_at_end = self._leave_the_buttons(self.stop_button, self.pause_button)
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.progress.stopping()

    def _explain_buttons(self, stopping: bool) -> None:
        """What Start, Pause and Stop say while they are off: why, and when they work."""
        explain_disabled(self.start_button, "a run is training; Start works again once it ends or after Stop")
        for button in (self.pause_button, self.stop_button):
            explain_disabled(button, "the run is stopping after its current batch; the trained model comes back "
                             "then" if stopping else "no run is training; it works once Start has begun one")

    def _set_running(self, running: bool) -> None:
        self._explain_buttons(stopping=False)
        in_row = self._leave_the_buttons(self.start_button, self.continue_button, self.pause_button, self.stop_button)
        self.start_button.setEnabled(not running)
        self._enable_continue()
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if in_row or (not running and self._focus_start_at_end):  # (the key focus stays in the row)
            (self.pause_button if running else self.start_button).setFocus(Qt.FocusReason.OtherFocusReason)
        self._focus_start_at_end = False
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(False)
        self.pause_button.setText("Pause")
        self.pause_button.blockSignals(False)
        self.form.set_running(running)
        self.plot.set_live(running)
        if running:
            self.plot.timer.stop()  # this tab's frame timer flushes the plot while training
            self.frame_pace.restart()
            self._frame_timer.start()
        else:
            self._frame_timer.stop()
            self._frame()
            self.plot.timer.start()
        self.state.set_training(running)
        self.runningChanged.emit(running)

    def _leave_the_buttons(self, *buttons: QPushButton) -> bool:
        """Take the key focus off ``buttons`` about to be turned off (True if one had it): else Qt gives it to the
        next widget that takes it, far down the page (the histograms), and a page that scrolls (a short window)
        scrolls there."""
        focused = QApplication.focusWidget()
        if focused not in buttons:
            return False
        focused.clearFocus()
        return True

    def _enable_continue(self) -> None:
        """Continue needs a model that has trained (a history or a checkpoint), and no run going on."""
        trained = self.model is not None and (bool(self.model.metadata.get("history"))
                                              or isinstance(self.model.metadata.get("resume"), dict))  # fmt: skip
        explain_disabled(self.continue_button, "a run is training; Continue works once it ends or after Stop"
                         if self.is_running() else "this model has not trained yet (no history, no checkpoint); "
                         "Continue works after a run, or for a model file that recorded its training")  # fmt: skip
        self.continue_button.setEnabled(trained and not self.is_running())

    def _on_pause(self, paused: bool) -> None:
        (self.run.pause if paused else self.run.resume)()
        self.progress.paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")

    @Slot(object)
    def _on_data_ready(self, baselines) -> None:
        """The noisy input's level comes first, PCA's once its job has fitted it: until then the plot says it is on
        its way."""
        b = baselines
        self.plot.set_baselines(identity=b.noisy_input)

    @Slot(object)
    def _on_batches(self, batches: list) -> None:
        for logs in batches:
            self.plot.add_batch(logs["epoch"] + logs["progress"], logs["loss"])
        self._latest = batches[-1]

    def _frame(self) -> None:
        """New curve points and the progress text together: one repaint a frame."""
        self.plot.flush()
        logs, self._latest = self._latest, None
        if logs is not None:
            self.progress.show_batch(logs)
        self.frame_pace.frame_done()

    @Slot(dict)
    def _on_epoch(self, logs: dict) -> None:
        test = f", test {logs['val_loss']:.4f}" if "val_loss" in logs else ""
        if not logs.get("complete", True):  # stopped part-way: not an epoch's point
            share = part_way_share(logs.get("progress", 0.0))
            self.message.emit(f"Stopped {share} into epoch {int(logs['epoch']) + 1}: train {logs['loss']:.4f}{test}")
            return
        if test:
            self.plot.add_epoch(logs["epoch"] + 1, logs["val_loss"])
            self.progress.loss_label.setText(f"test loss {logs['val_loss']:.4f}")
        self.message.emit(
            f"Epoch {int(logs['epoch']) + 1} done: train {logs['loss']:.4f}{test} "
            f"({logs['samples_per_s']:,.0f}\N{NO-BREAK SPACE}img/s)"  # (a short window's status bar wraps: not there)
        )

    @Slot(object)
    def _on_finished(self, result: RunResult) -> None:
        self._set_running(False)
        return_free_memory()  # the run's buffers, freed on several threads
        if result.verdict == "failed":
            self.progress.label.setText("Failed")
            dialogs.show_run_error(self, result.error, self.form.data_set_name())
            self.runEnded.emit(result)
            return
        self.progress.finish(verdict_headline(result, self._epochs, self._first_epoch), result.last_epoch)
        if result.verdict == "diverged":
            self.plot.mark_diverged(self.plot.smooth.data()[0][-1] if self.plot.counts()[0] else 0.0)
            dialogs.show_run_error(self, result.error, self.form.data_set_name())
        self.model = self._trained = result.model
        self.state.set_model(result.model, name=self.state.name, dirty=True, origin="trained")
        self.runEnded.emit(result)


def part_way_share(progress: float) -> str:
    """The share of an epoch a run stopped part-way had done: never "0%" or "100%", which it was not."""
    return f"{min(max(round(progress * 100), 1), 99)}%"


def part_way_epochs(done: float) -> str:
    """Epochs done by a run stopped part-way, never shown whole: 2.8; 3.02 (not "3.0"); 3.01 for 3.0027 and 2.99
    for 2.9963 (not "3.00", which it was not)."""
    for digits in (1, 2):
        shown = f"{done:.{digits}f}"
        if float(shown) % 1:
            return shown
    whole = round(done)
    return f"{whole + 0.01:.2f}" if done > whole else f"{whole - 0.01:.2f}"


def verdict_headline(result: RunResult, epochs: int, first: int = 0) -> str:
    """"Done · 10 epochs, test loss 0.0301", "Done · 3 more epochs (8 in all), …", "Stopped at 2.8 of 10 epochs,
    test loss 0.0452" (an amount done, as the status bar's "Stopped 80% into epoch 3"), ... (``first``: the epoch a
    continued run started from)."""
    last = result.last_epoch
    if result.verdict == "diverged":
        text = "Diverged (weights restored)"
    elif last is None:
        return "Stopped before the first epoch ended" if result.verdict == "stopped" else "Done"
    elif result.verdict == "stopped":
        done = last["epoch"] + last.get("progress", 1.0)
        if done % 1:
            text = f"Stopped at {part_way_epochs(done)} of {epochs} epoch{'s' if epochs != 1 else ''}"
        else:
            text = f"Stopped after epoch {done:.0f} of {epochs}"
    else:
        count = int(last["epoch"]) + 1
        more = count - first
        text = f"Done · {more} more epoch{'s' if more > 1 else ''} ({count} in all)" if first else (
            f"Done · {count} epoch{'s' if count > 1 else ''}")  # fmt: skip
    if last is not None and "val_loss" in last:
        text += f", test loss {last['val_loss']:.4f}"
    return text
