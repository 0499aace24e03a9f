"""A run's headline: what it is doing ("Epoch 2/5 · 41,000 img/s · ETA 0:12"), the latest loss, a progress bar."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from gui.hints import hint


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunProgress(QWidget):
    """``label`` (big text), ``loss_label`` (caption) and ``bar`` (0-1000 over the whole run)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Ready")
        self.label.setObjectName("big")
        hint(self.label, "The epoch, the speed in images per second and the time left")
        self.loss_label = QLabel("")
        self.loss_label.setObjectName("caption")
        self.loss_label.setMinimumWidth(150)  # changing numbers must not re-layout the tab
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
        self._started_at = 0.0
        self._epochs = 1
        self.paused = False

    def reset(self) -> None:
        self.bar.setValue(0)
        self.label.setText("Ready")
        self.loss_label.setText("")

    def begin(self, epochs: int) -> None:
        self._started_at, self._epochs, self.paused = time.monotonic(), epochs, False
        self.bar.setValue(0)
        self.label.setText("Loading data…")
        self.loss_label.setText("")

    def show_batch(self, logs: dict) -> None:
        """Progress, speed and time left from a batch's logs (the text waits while paused)."""
        done = (logs["epoch"] + logs["progress"]) / self._epochs
        self.bar.setValue(int(done * 1000))
        if self.paused:
            return
        elapsed = time.monotonic() - self._started_at
        eta = elapsed * (1 - done) / done if done > 0 else 0.0
        epoch = f"Epoch {int(logs['epoch']) + 1}/{self._epochs}"
        self.label.setText(f"{epoch} · {logs['samples_per_s']:,.0f} img/s · ETA {format_eta(eta)}")
        self.loss_label.setText(f"batch loss {logs['loss']:.4f}")
