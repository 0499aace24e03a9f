"""A run's headline: what it is doing ("Epoch 2/5 · 41,000 img/s · ETA 0:12"), the latest loss, a progress bar."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QGridLayout, QProgressBar, QSizePolicy, QWidget

from gui.common.hints import hint
from gui.common.theme import colors


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LiveText(QWidget):
    """One line of text that changes many times a second: painted, never re-laid out.

    A QLabel asks its layout to lay out again on every ``setText``, and that reached the main window, which
    repainted everything in it: the whole window 30 times a second while training, a third of the training
    speed.  This widget only repaints itself; its size comes from the font, not from the text.
    """

    def __init__(self, text: str = "", big: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text, self._big = text, big
        self._fitted: tuple[tuple, tuple[QFont, str]] | None = None  # (text, width, font) -> fitted(): kept
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        if text != self._text:
            self._text = text
            self.update()

    def _font(self) -> QFont:
        """The widget's font (the style sheet's), 15 pt bold for the headline: set when drawn, as the style
        sheet's font rule would override ``setFont``."""
        font = QFont(self.font())
        if self._big:
            font.setPointSizeF(15)
            font.setBold(True)
        return font

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        metrics = QFontMetrics(self._font())
        return QSize(metrics.horizontalAdvance("Epoch 10/10 · 100,000 img/s · ETA 0:00"), metrics.height() + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(0, self.sizeHint().height())

    def fitted(self) -> tuple[QFont, str]:
        """The font and text drawn at the present width: a long headline ("Stopped at 1.1 of 2 epochs, test loss
        0.0123") steps its font down to 10 pt, then drops its last clause, before it is cut with "…".  Kept until the
        text, width or font changes: the headline is drawn at every frame of a run."""
        font = self._font()
        key = (self._text, self.width(), font.key())
        if self._fitted is None or self._fitted[0] != key:
            self._fitted = key, self._fit(font)
        return self._fitted[1]

    def _fit(self, font: QFont) -> tuple[QFont, str]:
        """The font stepped down to 10 pt, then the text's last clauses (after a ", ": "test loss 0.0100", which the
        status bar also shows) dropped, and only then the text cut.  (Qt's elision is the test: a text whose advance
        just fits may still be cut by it.)"""
        text = self._text
        shown = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, self.width())
        while shown != text and font.pointSizeF() > 10:
            font.setPointSizeF(font.pointSizeF() - 1)
            shown = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, self.width())
        while shown != text and ", " in text:
            text = text.rsplit(", ", 1)[0]
            shown = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, self.width())
        return font, shown

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        font, text = self.fitted()
        painter.setFont(font)
        painter.setPen(QColor(colors()["text" if self._big else "muted"]))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class RunProgress(QWidget):
    """``label`` (big text), ``loss_label`` (caption) and ``bar`` (0-1000 over the whole run)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = LiveText("Ready", big=True)
        hint(self.label, "The epoch, the speed in images per second and the time left")
        self.loss_label = LiveText("")
        self.loss_label.setFixedWidth(150)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("")
        hint(self.bar, "Progress of the whole run")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 0, 0)
        layout.addWidget(self.loss_label, 0, 1)
        layout.addWidget(self.bar, 1, 0, 1, 2)
        layout.setColumnStretch(0, 1)
        self._clock_from: tuple[float, float] | None = None  # (monotonic s, share of the run done) at its first batch
        self._held_at: float | None = None  # when the run stopped at a batch's end for a pause
        self._epochs = 1
        self._first = 0
        self._running = ""  # the headline while training, shown again on Resume
        self.paused = False
        self._stopping = False  # Stop was pressed: the headline says so until the run ends

    def reset(self) -> None:
        self.bar.setValue(0)
        self.label.setText("Ready")
        self.loss_label.setText("")

    def held(self) -> None:
        """The run has stopped at a batch's end for a pause: the time from now until ``resume`` is not the run's,
        and the time left leaves it out (it is the pace since the run's first batch, times the work left)."""
        self._held_at = time.monotonic()
        self.label.setText("Paused")

    def resume(self) -> None:
        """The run goes on after a pause: the headline says so until the next batch's figures come (or, stopped
        while paused, that it is stopping)."""
        self.paused = False
        if self._held_at is not None:
            if self._clock_from is not None:
                self._clock_from = (self._clock_from[0] + time.monotonic() - self._held_at, self._clock_from[1])
            self._held_at = None
        self.label.setText("Stopping…" if self._stopping else self._running or "Resuming…")

    def stopping(self) -> None:
        """Stop was pressed: the run ends after its batch, and until then the headline says so."""
        self._stopping = True
        self.label.setText("Stopping…")

    def finish(self, verdict: str, last_epoch: dict | None) -> None:
        """How the run ended (``verdict`` names the test loss) and, beside it, the last epoch's training loss: no
        figure twice in the headline."""
        self.label.setText(verdict)
        train = last_epoch.get("loss") if last_epoch is not None else None
        self.loss_label.setText(f"train loss {train:.4f}" if isinstance(train, float) else "")

    def begin(self, epochs: int, first: int = 0) -> None:
        """A run from epoch ``first`` (a continued run's next one) to ``epochs``: the bar and the time left count
        the epochs this run trains."""
        self._epochs, self.paused, self._running = epochs, False, ""
        self._clock_from, self._held_at, self._stopping = None, None, False
        self._first = first
        self.bar.setValue(0)
        self.label.setText("Loading data…")
        self.loss_label.setText("")

    def show_batch(self, logs: dict) -> None:
        """Progress, speed and time left from a batch's logs (the text waits while paused or stopping)."""
        done = (logs["epoch"] + logs["progress"] - self._first) / max(self._epochs - self._first, 1)
        self.bar.setValue(int(done * 1000))
        if self.paused or self._stopping:
            return
        now = time.monotonic()
        if self._clock_from is None:  # (timed from the first batch: the data's loading is not the run's pace)
            self._clock_from = (now, done)
        since, done_then = self._clock_from
        eta = format_eta((now - since) * (1 - done) / (done - done_then)) if done > done_then else "…"
        epoch = f"Epoch {int(logs['epoch']) + 1}/{self._epochs}"
        self._running = f"{epoch} · {logs['recent_samples_per_s']:,.0f} img/s · ETA {eta}"
        self.label.setText(self._running)
        self.loss_label.setText(f"batch loss {logs['loss']:.4f}")
