"""What the weight and gradient histograms cost training in the app (goal: at most 3 % of its speed).

The app's Training tab trains full MNIST with and without the histogram watcher
(``engine.histograms.HistogramSampler``, added by ``gui.training.histogram_panel``), alternating run by run
in one process, so both sides see the same machine load.  A run's speed is images/s over whole
epochs as the training loop reports it (shuffling, noise, forward, backward and the optimizer all
timed, and the sampler's work at batch ends included); the binning job that runs beside training
on the GUI's pool thread after each epoch competes for the cores and so counts too.  Other jobs on
the machine move the wall-clock figures by several per cent from run to run, so the bench also
prints the process's CPU time per image (user + system, every thread), which they disturb less,
and, least disturbed of all, the CPU time the histograms' own code takes (the sampler's hooks on the
training thread, the binning job, the drawing: each timed with ``time.thread_time`` on its thread)
as a share of the process's CPU time over the same runs.

Run:  DENOISE_STUDIO_DATA=../shared/data/mnist QT_QPA_PLATFORM=offscreen python bench/histogram_cost.py
Options: --pairs N (runs with and without), --epochs N, --models small large, --batch-size N.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from offscreen_qt import spin, use_offscreen_qt  # beside this file

use_offscreen_qt()

from PySide6.QtCore import QSettings  # noqa: E402

MODELS = {"small": "mnist_denoising_autoencoder", "large": "mnist_denoising_autoencoder_large"}


OWN_CPU = [0.0]
"""Seconds of CPU the histograms' own code took (every thread), while ``measure_own_cpu`` is on."""


def measure_own_cpu() -> None:
    """Wrap the histograms' code so each call adds its thread's CPU time to OWN_CPU."""
    import engine.histograms as sampling
    import gui.training.histogram_panel as panel

    def timed(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                OWN_CPU[0] += time.thread_time() - start

        return wrapper

    for name in ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_pause"):
        setattr(sampling.HistogramSampler, name, timed(getattr(sampling.HistogramSampler, name)))
    panel._bin = timed(panel._bin)
    for cls, name in ((panel.HistogramPanel, "on_report"), (panel.HistogramPanel, "_show"),
                      (panel.HistogramGrid, "paintEvent")):  # fmt: skip
        setattr(cls, name, timed(getattr(cls, name)))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    from engine.nn import MLP
    from gui.app import make_app, single_thread_blas
    from gui.common.jobs import wait_for_all_jobs
    from gui.main_window import MainWindow

    single_thread_blas()  # as the app does at start
    app = make_app([])  # noqa: F841 (kept alive for the run)
    measure_own_cpu()
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for key in args.models:
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
        window = MainWindow(MLP.from_file(MODELS[key]), settings=settings)
        window.resize(1280, 800)
        window.show()
        tab = window.training_tab
        window.tabs.setCurrentWidget(tab)  # the histograms are on screen, as a user watching them has them
        tab.form.epochs.setValue(args.epochs)
        tab.form.train_size.setValue(60000)
        tab.form.batch_size.setValue(args.batch_size)
        watcher = tab.histograms.watcher

        own_cpu: list[tuple[float, float, int]] = []  # per run with histograms: (their CPU, the process's, epochs)

        def run(with_histograms: bool, tab=tab, watcher=watcher, own_cpu=own_cpu) -> tuple[list[float], float]:
            """One run: the speed of each of its epochs, and the process's CPU seconds per image."""
            tab.watchers[:] = [w for w in tab.watchers if w is not watcher] + ([watcher] if with_histograms else [])
            epochs: list[dict] = []
            done: list = []
            tab.run.epochEnded.connect(epochs.append)
            tab.run.finished.connect(done.append)
            cpu, own = cpu_seconds(), OWN_CPU[0]
            tab.start()
            while not done:
                spin(20)
            cpu = cpu_seconds() - cpu  # the run (the other tabs then take up the trained model: not counted)
            wait_for_all_jobs()  # the last epoch's binning belongs to this run
            spin(200)  # and its drawing
            if with_histograms:
                own_cpu.append((OWN_CPU[0] - own, cpu, len(epochs)))
            tab.run.epochEnded.disconnect(epochs.append)
            tab.run.finished.disconnect(done.append)
            if done[0].verdict != "done":
                raise RuntimeError(f"training {done[0].verdict}: {done[0].error}")
            images = sum(e["samples_per_s"] * e["seconds"] for e in epochs)
            return [e["samples_per_s"] for e in epochs], cpu / images

        wait_for_all_jobs()  # the window's own start-up jobs (test set, colour scales, ...) are done
        run(True)  # a warm-up run, not counted: first-use costs (data read, buffers) fall on neither side
        own_cpu.clear()
        speeds: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}
        ratios = []
        for pair in range(args.pairs):
            run_speed = {}
            for with_histograms in ((True, False) if pair % 2 == 0 else (False, True)):  # alternate who goes first
                epoch_speeds, cpu_per_image = run(with_histograms)
                speeds[with_histograms] += epoch_speeds
                cpu[with_histograms].append(cpu_per_image)
                run_speed[with_histograms] = statistics.median(epoch_speeds)
            ratios.append(run_speed[True] / run_speed[False])
            print(f"  {key} pair {pair + 1}: with {run_speed[True]:,.0f} img/s, without {run_speed[False]:,.0f} img/s "
                  f"({(ratios[-1] - 1) * 100:+.1f} %)")  # fmt: skip
        with_, without = statistics.median(speeds[True]), statistics.median(speeds[False])
        print(f"{MODELS[key]}, batch {args.batch_size}: median over epochs with histograms {with_:,.0f} img/s, "
              f"without {without:,.0f} img/s: {(with_ / without - 1) * 100:+.1f} %; median of the pairs' ratios "
              f"{(statistics.median(ratios) - 1) * 100:+.1f} % (goal: no worse than -3 %)")  # fmt: skip
        cpu_with, cpu_without = statistics.median(cpu[True]), statistics.median(cpu[False])
        print(f"  CPU time per image (all threads, whole runs, median of runs): with {cpu_with * 1e6:.2f} us, "
              f"without {cpu_without * 1e6:.2f} us: {(cpu_with / cpu_without - 1) * 100:+.1f} %")  # fmt: skip
        own, total, n_epochs = (sum(v) for v in zip(*own_cpu, strict=True))
        print(f"  the histograms' own CPU (sampler, binning, drawing): {own * 1e3 / n_epochs:.1f} ms an epoch, "
              f"{own / total * 100:.2f} % of the process's CPU in the runs with them")  # fmt: skip
        window.state.dirty = False
        window.close()
        wait_for_all_jobs()
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
