"""100 start/stop cycles of training in the app: do threads or memory grow?

Each cycle clicks Start, waits for the first batch, clicks Stop and waits until the worker
thread has ended (signals only, no sleeps).  Prints the OS thread count and the resident
memory after the first cycle and every 10th.

    QT_QPA_PLATFORM=offscreen python bench/gui_cycles.py [--cycles 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from engine.nn import build_mlp  # noqa: E402
from gui.common.theme import apply_theme  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def wait_for(signal, action=None, timeout_ms: int = 30000) -> None:
    """Run ``action`` and spin the event loop until ``signal`` fires (or fail after the timeout)."""
    loop = QEventLoop()
    fired = []

    def done(*_):
        fired.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(timeout_ms, loop.quit)
    if action is not None:
        action()
    if not fired:
        loop.exec()
    signal.disconnect(done)
    if not fired:
        raise TimeoutError(f"no {signal} within {timeout_ms} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    QMessageBox.exec = lambda box: int(QMessageBox.StandardButton.Discard.value)  # no modal questions
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=1), settings=settings)
    window.show()
    tab = window.training_tab
    rng = np.random.default_rng(0)
    tab.arrays = (rng.integers(0, 256, (512, 784), dtype=np.uint8), rng.integers(0, 256, (64, 784), dtype=np.uint8))
    tab.form.epochs.setValue(1000)
    tab.form.batch_size.setValue(16)

    print(f"{'cycle':>6} {'OS threads':>11} {'RSS MB':>8}")
    first = None
    for cycle in range(1, args.cycles + 1):
        wait_for(tab.run.batches, tab.start_button.click)
        wait_for(tab.run.finished, tab.stop_button.click)
        if cycle == 1 or cycle % 10 == 0:
            row = (os_threads(), rss_mb())
            first = first or row
            print(f"{cycle:>6} {row[0]:>11} {row[1]:>8.1f}", flush=True)
    print(f"after {args.cycles} cycles: threads {first[0]} -> {os_threads()}, RSS {first[1]:.1f} -> {rss_mb():.1f} MB")
    window.close()


if __name__ == "__main__":
    main()
