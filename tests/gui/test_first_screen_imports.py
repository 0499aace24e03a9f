"""scikit-image (and the SciPy and PyWavelets it brings) stays off the app's first screen: the engine imports it
only when a classical filter runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_first_screen_and_the_engine_modules_leave_scikit_image_unloaded(tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtCore import QSettings\n"
        "from engine import baselines, classical, cli, linear_denoiser, metrics, robustness\n"
        "from gui.app import make_app\n"
        "from gui.main_window import MainWindow\n"
        "app = make_app([])\n"
        "window = MainWindow(settings=QSettings('settings.ini', QSettings.Format.IniFormat))\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print(sorted(m for m in ('skimage', 'scipy', 'pywt') if m in sys.modules))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
