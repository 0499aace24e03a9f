"""How much room the teaching views get: their sizes in a 1024×700 window and maximised on a 1920×1080 screen.

The window shows a linear 784-10-784 model (so the PCA check is on screen too) on an offscreen 1920×1080 screen
(``offscreen:configfile=…``); each view is measured on the page that shows it, in logical pixels.  Prints a
Markdown table: each view's width × height at both sizes and how much its area grew, against the window's growth.

Run:  QT_QPA_PLATFORM is set here; DENOISE_STUDIO_DATA=../shared/data/mnist python bench/view_room.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from offscreen_qt import spin, use_offscreen_qt  # beside this file

SCREEN = (1920, 1080)
config = Path(tempfile.mkdtemp(prefix="screen-")) / "screen.json"
config.write_text(json.dumps({"screens": [{"name": "bench", "x": 0, "y": 0, "width": SCREEN[0], "height": SCREEN[1],
                                           "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
use_offscreen_qt()

from PySide6.QtCore import QSettings  # noqa: E402


def measure(window) -> dict[str, tuple[int, int]]:
    """Each teaching view's size (and two of their parts') on the page that shows it."""
    training, denoise = window.training_tab, window.denoise_tab
    window.tabs.setCurrentWidget(training)
    spin(1500)
    sizes = {
        "Weights and gradients (histograms)": training.histograms.size().toTuple(),
        "PCA check": training.pca_check.size().toTuple(),
        "  a training sample image": training.strip.noisy[0].size().toTuple(),
    }
    window.tabs.setCurrentWidget(denoise)
    for name, panel in (("Robustness", denoise.robustness), ("Latent map", denoise.latent_map),
                        ("Inside the network", denoise.inside)):  # fmt: skip
        denoise.panels.setCurrentWidget(panel)
        spin(300)
        sizes[name] = panel.size().toTuple()
    sizes["  its layers"] = denoise.inside.view.size().toTuple()
    sizes["  the robustness plot"] = denoise.robustness.plot.size().toTuple()
    return sizes


def main() -> int:
    from engine.nn import build_mlp
    from gui.app import make_app
    from gui.main_window import MainWindow

    _app = make_app([])  # kept: the application lives as long as this run
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(build_mlp([784, 10, 784], ["linear", "linear"], seed=0), settings=settings)
    window.resize(1024, 700)
    window.show()
    spin(500)
    small, small_window = measure(window), window.size().toTuple()
    window.showMaximized()
    spin(500)
    large, large_window = measure(window), window.size().toTuple()
    growth = (large_window[0] * large_window[1]) / (small_window[0] * small_window[1])
    print(f"| view | {small_window[0]}×{small_window[1]} | maximised, {large_window[0]}×{large_window[1]} | area × "
          f"(window: × {growth:.2f}) |")  # fmt: skip
    print("|---|---|---|---|")
    for name, (w0, h0) in small.items():
        w1, h1 = large[name]
        print(f"| {name} | {w0}×{h0} | {w1}×{h1} | {w1 * h1 / max(w0 * h0, 1):.2f} |")
    window.state.dirty = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
