"""Training speed in the app against the engine alone, and what the window repaints while it trains.

The default model (784-256-64-256-784, σ drawn from 0–0.8 per image, batch 128) trains full MNIST three
ways, alternating round by round in one process so all see the same machine load: ``MLP.fit`` alone (no
window), in the app with the Training tab on screen (curve, progress, histograms drawn live), and in
the app with the Denoise tab on screen.  A run's speed is the median of its epochs' images/s as the
training loop reports them; beside it the process's CPU seconds per 1,000 images trained (every thread: the
training threads, the GUI thread's drawing, the training step's worker process), which the other jobs on a shared
machine change far less than the wall clock.  The window's paint events are counted too: how many times a second the
Training tab's settings form (which does not change while training) is painted tells whether a frame
repaints only what changed or the whole window.

Run:  DENOISE_STUDIO_DATA=../shared/data/mnist QT_QPA_PLATFORM=offscreen python bench/app_train_speed.py
Options: --rounds N, --epochs N, --model NAME.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from offscreen_qt import spin, use_offscreen_qt  # beside this file

use_offscreen_qt()

from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (a training step's worker process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


JOBS_WAIT_MS = 180_000
"""Between sides, the window's jobs (a new model's score, the status bar's strongest baseline: fitted once, tens of
seconds the first time) are waited for, so that no side trains beside them."""
SETTLE_ROUNDS = 100
"""At most this many waits for the jobs, each followed by 200 ms of events: a job may start the next when it is
delivered (the status bar's baselines are one job each), so one wait is not enough."""


class PaintCounter(QObject):
    """Counts the paint events of one widget."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--model", default="mnist_denoising_autoencoder_blind")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_info

    from engine.callbacks import Callback
    from engine.dataset import read_split
    from engine.nn import MLP
    from gui.app import make_app, single_thread_blas
    from gui.common.jobs import JobPool, wait_for_all_jobs

    def jobs_settled() -> None:
        """Every job of the window's done, and none started by a delivered one (a chain of jobs)."""
        quiet = 0
        for _ in range(SETTLE_ROUNDS):
            wait_for_all_jobs(JOBS_WAIT_MS)
            spin(200)
            quiet = quiet + 1 if JobPool.of_app().running_jobs() == 0 else 0
            if quiet == 2:  # twice in a row: no delivery was about to start another
                return
    from gui.main_window import MainWindow

    single_thread_blas()  # as the app does at start; the engine alone runs with the same setting
    app = make_app([])  # noqa: F841 (kept alive for the run)
    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
    print(f"machine: {os.cpu_count()} cores, BLAS {blas}, load average {os.getloadavg()[0]:.2f}")
    x_train, x_test = read_split("train", progress=False)[0], read_split("test", progress=False)[0]
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(MLP.from_file(args.model), settings=settings)
    window.resize(1280, 800)
    window.show()
    tab = window.training_tab
    tab.form.epochs.setValue(args.epochs)
    tab.form.train_size.setValue(60000)
    config = tab.form.config()
    print(f"{args.model}: {config}")
    form_paints = PaintCounter(tab.form)

    class EpochSpeeds(Callback):
        def __init__(self) -> None:
            self.speeds: list[float] = []

        def on_epoch_end(self, epoch, logs):
            self.speeds.append(logs["samples_per_s"])

    images = args.epochs * 60000  # trained a run (each side also scores its validation images every epoch)

    def engine_alone() -> tuple[float, float | None, float]:
        model, speeds = MLP.from_file(args.model), EpochSpeeds()
        cpu = cpu_seconds()
        model.fit(x_train, x_test, config=config, callbacks=[speeds])
        return statistics.median(speeds.speeds), None, (cpu_seconds() - cpu) / images * 1000

    def in_app(page) -> tuple[float, float, float]:
        window.tabs.setCurrentWidget(page)
        epochs: list[dict] = []
        done: list = []
        tab.run.epochEnded.connect(epochs.append)
        tab.run.finished.connect(done.append)
        paints, started, cpu = form_paints.paints, time.monotonic(), cpu_seconds()
        tab.start()
        while not done:
            spin(20)
        seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu
        tab.run.epochEnded.disconnect(epochs.append)
        tab.run.finished.disconnect(done.append)
        if done[0].verdict != "done":
            raise RuntimeError(f"training {done[0].verdict}: {done[0].error}")
        repaints = (form_paints.paints - paints) / seconds
        jobs_settled()  # the new model's score starts once the window has shown it; then the baselines, one by one
        window.state.dirty = False
        return statistics.median(e["samples_per_s"] for e in epochs), repaints, cpu / images * 1000

    sides = {
        "engine alone (MLP.fit)": engine_alone,
        "app, Training tab on screen": lambda: in_app(tab),
        "app, Denoise tab on screen": lambda: in_app(window.denoise_tab),
    }
    jobs_settled()
    in_app(tab)  # warm-up, not counted: the data read and first-use costs fall on no side
    speeds: dict[str, list[float]] = {name: [] for name in sides}
    repaints: dict[str, list[float]] = {name: [] for name in sides}
    cpus: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:  # ABCCBA: a busy moment falls on every side
            speed, rate, cpu = sides[name]()
            speeds[name].append(speed)
            cpus[name].append(cpu)
            if rate is not None:
                repaints[name].append(rate)
        print(f"  round {round_ + 1}: " + ", ".join(f"{name} {speeds[name][-1]:,.0f} img/s, CPU "
                                                    f"{cpus[name][-1]:.3f} s/1k" for name in sides))  # fmt: skip
    alone = statistics.median(speeds["engine alone (MLP.fit)"])
    alone_cpu = statistics.median(cpus["engine alone (MLP.fit)"])
    for name in sides:
        speed, cpu = statistics.median(speeds[name]), statistics.median(cpus[name])
        line = (f"{name:30s} median {speed:8,.0f} img/s ({speed / alone:.2f} of the engine alone); CPU {cpu:.3f} s "
                f"per 1,000 images (the engine alone's / this: {alone_cpu / cpu:.2f})")
        if repaints[name]:
            line += f"; the settings form painted {statistics.median(repaints[name]):.1f} times a second"
        print(line)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
