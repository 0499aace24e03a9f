"""The Training tab's PCA check: does this linear autoencoder learn PCA?  Shown for models with a linear decoder.

Bars: the cosines of the principal angles between the decoder's column space and PCA's top-k
subspace of the training images (1 = the same direction).  Lines: the same cosines after every
epoch of the run, sent by a watcher on the training thread (the decoder's matrix, a copy) and
computed here off the GUI thread.  Under them, the two test errors on clean images side by side
and one sentence of what they mean (``engine.pca_check.describe``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.callbacks import Callback
from engine.data_sources import trained_on
from engine.pca_check import (
    MATCH,
    PcaCheck,
    PcaReference,
    decoder_cosines,
    decoder_matrix,
    describe,
    directions_found,
    has_linear_decoder,
    pca_check,
    pca_reference,
)
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.spaced_axis import SpacedAxis
from gui.common.theme import Theme, colors, style_plot

TOPIC = "pca_check.decoder"
PCA_CHECK_TITLE = "Linear autoencoder = PCA?"
PLOT_MIN_HEIGHT = 110
"""Each plot's least height: its ticks stay apart."""
ALL_TRAINING_IMAGES = 60000


class DecoderWatch(Callback):
    """On the training thread: sends the decoder's matrix (a copy) at the start and after every epoch."""

    def __init__(self, report) -> None:
        self.report = report

    def _send(self, epoch: float) -> None:
        model = self.trainer.model
        if has_linear_decoder(model):
            self.report(TOPIC, {"epoch": epoch, "decoder": decoder_matrix(model), "n_train": self.trainer.n_samples,
                                "data_set": trained_on(model.metadata)})  # fmt: skip

    def on_train_begin(self, logs):
        self._send(float(logs.get("initial_epoch", 0)))

    def on_epoch_end(self, epoch, logs):
        self._send(epoch + float(logs.get("progress", 1.0)))


def _final_check(model, data: DataSets, n_train: int, state) -> PcaCheck:
    """Runs on a pool thread: the model against PCA of the first ``n_train`` training images of its data set."""
    name = trained_on(model.metadata)
    return pca_check(model, data.images("train", name)[:n_train], data.images("test", name))


def _cosines_by_epoch(
    decoders: list[np.ndarray], reference, data: DataSets, data_set: str, state
) -> tuple[np.ndarray, PcaReference]:
    """Runs on a pool thread: cosines (epochs, k) of each decoder (784, k) against PCA-k, and that PCA;
    ``reference`` is PCA-k itself, or the number of ``data_set``'s training images to fit it on."""
    if not isinstance(reference, PcaReference):
        reference = pca_reference(data.images("train", data_set)[:reference], decoders[0].shape[1])
    return np.array([decoder_cosines(decoder, reference) for decoder in decoders]), reference


@dataclass
class _Plots:
    """The panel's two plots and their items (made when the panel is first shown: hidden for most models)."""

    bars_plot: pg.PlotWidget
    bars: pg.BarGraphItem
    match_line: pg.InfiniteLine
    lines_plot: pg.PlotWidget
    last_line: pg.PlotDataItem
    other_lines: list[pg.PlotDataItem] = field(default_factory=list)


class PcaCheckPanel(QWidget):
    """``attach(run, watchers)`` once; ``set_model(model, same_run)`` for each model the tab trains.

    ``checked(PcaCheck)`` after the comparison of a model is shown; ``epochsShown(int)`` after the
    lines show that many points.  The plots are made when the panel is first shown (or asked for:
    ``bars_plot``, ``lines_plot``, …) and drawn from what the panel holds.
    """

    checked = Signal(object)
    epochsShown = Signal(int)

    def __init__(self, data: DataSets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.model = None
        self.epochs: list[float] = []  # x of each decoder the run sent
        self.decoders: list[np.ndarray] = []  # (784, k) each
        self.cosines: np.ndarray | None = None  # (len(epochs), k) once computed
        self.check: PcaCheck | None = None
        self.n_train, self.data_set = ALL_TRAINING_IMAGES, "mnist"  # the images PCA is fitted on
        self._reference: PcaReference | None = None  # PCA-k of the run's training images, once measured
        self._more = False  # epochs arrived while a job measured the earlier ones
        self.final_jobs, self.epoch_jobs = JobRunner(self), JobRunner(self)
        self._bar_heights: np.ndarray | None = None  # the cosines the bars show (k,)
        self._plots: _Plots | None = None  # made when first shown
        self._build_errors()
        self._lay_out()
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        self.setVisible(False)

    # ----- the plots, made when first shown ---------------------------------------------------
    def made_plots(self) -> _Plots:
        """The plots, made now (and drawn from what the panel holds) if they were not yet."""
        if self._plots is None:
            self._plots = _build_plots()
            for plot in (self._plots.bars_plot, self._plots.lines_plot):
                plot.setMinimumHeight(PLOT_MIN_HEIGHT)
                self.plots.addWidget(plot, 1)
                plot.setVisible(self.isVisible())  # being shown: its children were shown before its showEvent
            self.restyle()
            self._draw_bars()
            self._draw_lines()
        return self._plots

    @property
    def bars_plot(self) -> pg.PlotWidget:
        return self.made_plots().bars_plot

    @property
    def bars(self) -> pg.BarGraphItem:
        """One bar a direction: the cosines now."""
        return self.made_plots().bars

    @property
    def lines_plot(self) -> pg.PlotWidget:
        return self.made_plots().lines_plot

    @property
    def last_line(self) -> pg.PlotDataItem:
        """The smallest cosine, epoch by epoch."""
        return self.made_plots().last_line

    @property
    def other_lines(self) -> list[pg.PlotDataItem]:
        """The other cosines, epoch by epoch (as many as the widest code so far, less one)."""
        return self.made_plots().other_lines

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.made_plots()  # before its first paint
        super().showEvent(event)

    def _build_errors(self) -> None:
        self.model_mse = QLabel("–")
        self.pca_mse = QLabel("–")
        for label, tip in (
            (self.model_mse, "This network's mean squared error on the 10,000 clean test images"),
            (self.pca_mse, "PCA's error on the same images with as many components. Not clipped to [0, 1], like the "
             "linear network's output: the PCA level elsewhere in the app clips, which lowers PCA's error a little"),
        ):
            label.setObjectName("big")
            hint(label, tip)
        self.model_name, self.pca_name = QLabel("this network"), QLabel("PCA")
        for label in (self.model_name, self.pca_name):
            label.setObjectName("caption")
            label.setWordWrap(True)  # side by side in a narrow panel: each on two lines, never into the other
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.clip_note = QLabel(
            "PCA unclipped, as a linear network draws; the loss plot's dashed PCA line clips to [0, 1], which no "
            "linear network can, and so sits lower."
        )
        self.clip_note.setObjectName("caption")
        self.clip_note.setWordWrap(True)
        self.gap_note = QLabel("")  # why the smallest cosine is slow, with this data's variances
        self.progress_note = QLabel("")
        self.sentence = QLabel("")
        for label in (self.gap_note, self.progress_note, self.sentence):
            label.setWordWrap(True)
        for label in (self.gap_note, self.progress_note):
            label.setObjectName("caption")

    def _lay_out(self) -> None:
        errors = QGridLayout()
        errors.setVerticalSpacing(0)
        errors.setHorizontalSpacing(14)  # the two names apart
        errors.addWidget(QLabel("Error on the 10,000 clean test images (MSE)"), 0, 0, 1, 2)
        errors.addWidget(self.model_mse, 1, 0)
        errors.addWidget(self.pca_mse, 1, 1)
        errors.addWidget(self.model_name, 2, 0)
        errors.addWidget(self.pca_name, 2, 1)
        errors.addWidget(self.clip_note, 3, 0, 1, 2)
        self.plots = QBoxLayout(QBoxLayout.Direction.LeftToRight)  # the two plots, once made
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)  # inside its room's frame
        layout.setSpacing(3)
        layout.addLayout(self.plots, 1)
        layout.addWidget(self.gap_note)
        layout.addWidget(self.progress_note)
        layout.addLayout(errors)
        layout.addWidget(self.sentence)
        self.setMinimumWidth(360)  # the text on few lines at 1024×700
        self.setMaximumWidth(720)  # a wide window's room goes to the plots

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        """No: a layout would take the panel's height for its width as its least *and* its preferred height, with
        the plots at their preferred heights: more than most screens have.  ``minimumSizeHint`` follows the
        width instead."""
        return False

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """The least size at the present width, with the plots side by side: the text whole (wrapped at this
        width), the plots at their least."""
        layout = self.layout()
        width = max(self.width(), layout.minimumSize().width())
        least = layout.minimumHeightForWidth(width)
        if self.plots.direction() == QBoxLayout.Direction.TopToBottom:
            least -= PLOT_MIN_HEIGHT + layout.spacing()
        return QSize(layout.minimumSize().width(), max(least, layout.minimumSize().height() if least < 0 else 0))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The two plots side by side in a short panel, one above the other in a tall one that has room; the
        least height follows the width (the text wraps)."""
        super().resizeEvent(event)
        if event.oldSize().width() != self.width():
            self.updateGeometry()
        room = self.height() - self.minimumSizeHint().height()
        tall = self.height() > 1.25 * self.width() and room >= PLOT_MIN_HEIGHT + self.layout().spacing()
        self.plots.setDirection(QBoxLayout.Direction.TopToBottom if tall else QBoxLayout.Direction.LeftToRight)

    def restyle(self) -> None:
        """Pens and backgrounds in the active theme's colours (of the plots once made)."""
        plots = self._plots
        if plots is None:
            return
        for plot in (plots.bars_plot, plots.lines_plot):
            style_plot(plot)
        plots.match_line.setPen(pg.mkPen(colors()["muted"], width=1, style=Qt.PenStyle.DashLine))
        self._paint_bars()
        for line in plots.other_lines:
            line.setPen(pg.mkPen(colors()["accent"], width=1))
        plots.last_line.setPen(pg.mkPen(colors()["latent"], width=2.5))
        plots.last_line.setSymbolBrush(colors()["latent"])
        plots.last_line.setSymbolPen(None)

    def _paint_bars(self) -> None:
        """Accent bars; the smallest cosine's bar in the highlight colour the lines use."""
        heights = self._plots.bars.opts.get("height")
        count = 0 if heights is None else len(heights)
        if count:
            self._plots.bars.setOpts(brushes=[colors()["accent"]] * (count - 1) + [colors()["latent"]], pen=None)

    # ----- wiring -----------------------------------------------------------------------------
    def attach(self, run, watchers: list) -> None:
        """Hear a ``gui.training.run.TrainingRun``: its start, and the decoders ``DecoderWatch`` sends."""
        watchers.append(DecoderWatch)
        run.started.connect(self.begin_run)
        run.reported.connect(self.on_report)

    def set_model(self, model, same_run: bool = False) -> None:
        """Compare ``model`` with PCA (shown only when its decoder is linear); ``same_run``: it is the model the
        last run handed back, so that run's epoch lines stay."""
        self.model = model
        linear = has_linear_decoder(model) and model.latent_width < model.n_out
        self.setVisible(linear)
        if not same_run:
            self._clear_epochs()
            self.n_train, self.data_set, self._reference = ALL_TRAINING_IMAGES, trained_on(model.metadata), None
        self.check = None
        if not linear:
            self.final_jobs.cancel()
            return
        self.model_name.setText("this network")
        self.pca_name.setText(f"PCA-{model.latent_width}, unclipped")
        self.model_mse.setText("…")
        self.pca_mse.setText("…")
        self.sentence.setText(f"Comparing with PCA-{model.latent_width} of the training images…")
        self.final_jobs.start(_final_check, model, self.data, self.n_train, on_done=self._show_check,
                              on_error=self._failed)  # fmt: skip

    def begin_run(self) -> None:
        self._clear_epochs()
        self.final_jobs.cancel()
        self.check = None
        self.model_mse.setText("…")
        self.pca_mse.setText("…")
        self.model_name.setText("this network")
        self.sentence.setText("Training: the lines show the cosines after each epoch; the errors come at the end.")

    def on_report(self, topic: str, data) -> None:
        if topic != TOPIC:
            return
        if self.decoders and data["decoder"].shape != self.decoders[0].shape:
            self._clear_epochs()
        if (int(data["n_train"]), data["data_set"]) != (self.n_train, self.data_set):
            self.n_train, self.data_set, self._reference = int(data["n_train"]), data["data_set"], None
        self.epochs.append(float(data["epoch"]))
        self.decoders.append(data["decoder"])
        self._request_cosines()

    def _request_cosines(self) -> None:
        """One job at a time, each for every decoder so far: epochs that end faster than a job lose nothing."""
        if self.epoch_jobs.is_busy():
            self._more = True
            return
        self._more = False
        reference = self._reference
        if reference is None or reference.components != self.decoders[0].shape[1]:
            reference = self.n_train
        self.epoch_jobs.start(_cosines_by_epoch, list(self.decoders), reference, self.data, self.data_set,
                              on_done=self._show_epochs, on_error=self._failed)  # fmt: skip

    # ----- showing ----------------------------------------------------------------------------
    def _clear_epochs(self) -> None:
        self.epoch_jobs.cancel()
        self._more = False
        self.epochs, self.decoders, self.cosines = [], [], None
        self._draw_lines()
        self.progress_note.setText("")

    def _show_epochs(self, result: tuple[np.ndarray, PcaReference]) -> None:
        """cosines (epochs shown, k), and PCA-k they were measured against."""
        cosines, self._reference = result
        if self._more:  # more epochs ended meanwhile: measure them too
            self._request_cosines()
        self.cosines = cosines
        self._show_gap(cosines.shape[1], self._reference.gap)
        k = cosines.shape[1]
        x = np.array(self.epochs[: len(cosines)])
        self._draw_lines()
        self._set_bars(cosines[-1])
        if self.check is None:  # during the run: the newest cosines speak
            found = directions_found(cosines[-1])
            self.progress_note.setVisible(True)
            self.progress_note.setText(
                f"After epoch {_epoch_text(x[-1])}: {found} of {k} directions found, smallest cos θ "
                f"{cosines[-1, -1]:.3f}"
            )
        else:
            self._show_history()
        self.epochsShown.emit(len(cosines))

    def _show_check(self, check: PcaCheck) -> None:
        self.check = check
        self._set_bars(check.cosines)
        self.model_mse.setText(f"{check.model_mse:.5f}")
        self.pca_mse.setText(f"{check.pca_mse:.5f}")
        sign = "+" if check.excess >= 0 else "−"
        self.model_name.setText(f"this network ({sign}{abs(check.excess) * 100:.2f}\u00a0%)")
        self.pca_name.setText(f"PCA-{check.components}, unclipped")
        self.sentence.setText(describe(check))
        self._show_gap(check.components, check.reference.gap)
        self._show_history()
        self.checked.emit(check)

    def _show_history(self) -> None:
        """After the run the lines tell the story; the note is for the run in progress."""
        self.progress_note.setText("")
        self.progress_note.setVisible(False)

    def _show_gap(self, k: int, gap: float | None) -> None:
        if gap is None:
            self.gap_note.setText("")
            return
        self.gap_note.setText(
            f"Strong directions line up within an epoch. The last one is slower: PCA's direction {k} has "
            f"{gap:.2f}× the variance of direction {k + 1}, so turning towards it lowers the error only a little."
        )

    def _set_bars(self, cosines: np.ndarray) -> None:
        self._bar_heights = cosines
        self._draw_bars()

    def _draw_bars(self) -> None:
        """The bars show ``_bar_heights`` (once the plots are made)."""
        if self._plots is None or self._bar_heights is None:
            return
        k = len(self._bar_heights)
        self._plots.bars.setOpts(x=np.arange(1, k + 1), height=self._bar_heights, width=0.7)
        self._paint_bars()
        self._plots.bars_plot.setXRange(0.4, k + 0.6, padding=0)

    def _draw_lines(self) -> None:
        """The lines show ``cosines`` (epochs, k) at ``epochs``, or nothing (once the plots are made)."""
        plots, cosines = self._plots, self.cosines
        if plots is None:
            return
        if cosines is None:
            for line in (*plots.other_lines, plots.last_line):
                line.setData([], [])
            return
        k = cosines.shape[1]
        while len(plots.other_lines) < k - 1:
            line = pg.PlotDataItem(pen=pg.mkPen(colors()["accent"], width=1))
            plots.lines_plot.addItem(line)
            plots.other_lines.append(line)
        x = np.array(self.epochs[: len(cosines)])
        for j, line in enumerate(plots.other_lines):  # a model with a narrower code leaves some unused
            if j < k - 1:
                line.setData(x, cosines[:, j])
            else:
                line.setData([], [])
        plots.last_line.setData(x, cosines[:, -1])
        plots.lines_plot.setXRange(float(x[0]), max(float(x[-1]), float(x[0]) + 1), padding=0.03)

    def _failed(self, error: BaseException) -> None:
        self.sentence.setText(f"No comparison: {error}")


def _build_plots() -> _Plots:
    bars_plot = pg.PlotWidget(axisItems={"bottom": SpacedAxis("bottom", whole=True)})  # labels never crowd
    bars_plot.setMenuEnabled(False)
    bars_plot.setMouseEnabled(x=False, y=False)
    bars_plot.getPlotItem().hideButtons()
    bars_plot.setLabel("left", "cos θ")
    bars_plot.setLabel("bottom", "direction, now")
    bars_plot.setYRange(0, 1.05, padding=0)
    _cosine_ticks(bars_plot)
    bars = pg.BarGraphItem(x=[], height=[], width=0.7)
    match_line = pg.InfiniteLine(pos=MATCH, angle=0)
    bars_plot.addItem(bars)
    bars_plot.addItem(match_line, ignoreBounds=True)
    hint(bars_plot, "One bar per direction: the cosine of the angle between the network's decoder subspace and PCA's "
         f"top-k subspace of the training images, largest first. 1 = the same direction; from {MATCH} (dashed, "
         "about 11°) on it counts as found")  # fmt: skip
    lines_plot = pg.PlotWidget(axisItems={"bottom": SpacedAxis("bottom", whole=True)})
    lines_plot.setMenuEnabled(False)
    lines_plot.setMouseEnabled(x=False, y=False)
    lines_plot.getPlotItem().hideButtons()
    lines_plot.setLabel("left", "cos θ")
    lines_plot.setLabel("bottom", "epoch")
    lines_plot.setYRange(0, 1.05, padding=0)
    _cosine_ticks(lines_plot)
    last_line = pg.PlotDataItem(symbol="o", symbolSize=5)
    lines_plot.addItem(last_line)
    hint(lines_plot, "The cosines after every epoch of this run (0 = before training): blue lines for the strong "
         "directions, which line up within an epoch, amber for the smallest cosine, which can take many")  # fmt: skip
    return _Plots(bars_plot, bars, match_line, lines_plot, last_line)


def _cosine_ticks(plot: pg.PlotWidget) -> None:
    """cos θ labelled at 0, 0.5 and 1 (marks every 0.1): the labels stay apart on a short plot."""
    plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)], [(v / 10, "") for v in range(11)]])


def _epoch_text(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.2f}"
