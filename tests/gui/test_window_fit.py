"""The window fits the screen it opens on, at any size and scale, and the teaching views get the room of a large one.

Each screen is a child process (``tests/gui/fit_check.py``): Qt reads the screen's size and the scale factor
once, at start.  The offscreen platform takes its screens from a JSON file named in ``QT_QPA_PLATFORM``
(``offscreen:configfile=screen.json``).  On every tab and every inner page: every visible widget lies within
its parent (or inside a scroll area), no two siblings overlap, no text, heading, tab, open list entry or tick
label is cut or piled up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_tiny_mnist

ROOT = Path(__file__).resolve().parents[2]
TEACHING_VIEWS = ("histograms", "pca_check", "robustness", "latent_map", "inside")


def run_on_screen(tmp_path: Path, width: int, height: int, scale: float, *args: str) -> dict:
    """The fit check's report for the app on a ``width``×``height`` screen at ``scale``."""
    config = tmp_path / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": "fit", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(scale),
           "XDG_RUNTIME_DIR": str(runtime), "DENOISE_STUDIO_DATA": str(make_tiny_mnist(tmp_path / "mnist")),
           "DENOISE_STUDIO_FASHION_MNIST_DATA": str(make_tiny_mnist(tmp_path / "fashion", seed=1))}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "tests.gui.fit_check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(1024, 600, 1), (1280, 720, 1), (1920, 1080, 2)],
    ids=["1024x600", "1280x720", "1920x1080-scale2"],
)
def test_the_window_fits_the_screen_it_opens_on(tmp_path, width, height, scale):
    report = run_on_screen(tmp_path, width, height, scale)
    assert report["screen"] == [round(width / scale), round(height / scale)]  # the screen asked for, in logical px
    opened = report["sizes"]["opened"]["window"]
    assert opened[0] <= width / scale and opened[1] <= height / scale
    assert report["problems"] == []


def test_nothing_overlaps_at_1024x700_and_a_full_hd_window_gives_the_teaching_views_its_room(tmp_path):
    """At 1024×700 no tab scrolls and nothing overlaps (the PCA check's text and ticks included); maximised on
    1920×1080, each teaching view grows by more than the window does."""
    report = run_on_screen(tmp_path, 1920, 1080, 1, "--at", "1024x700", "--roomy", "--at", "max")
    assert report["problems"] == []
    small, large = report["sizes"]["1024x700"], report["sizes"]["max"]
    growth = (large["window"][0] * large["window"][1]) / (small["window"][0] * small["window"][1])
    for key in TEACHING_VIEWS:
        (w0, h0), (w1, h1) = small["rooms"][key], large["rooms"][key]
        assert w1 * h1 > growth * w0 * h0, f"{key}: {w0}×{h0} at 1024×700, {w1}×{h1} at full HD"
