"""Photos of handwriting: how close a photo's prepared input comes to flat paper's, and what a 12-megapixel photo costs.

    .venv/bin/python bench/photos.py                  # quality table, then timings
    .venv/bin/python bench/photos.py --repeats 15     # more timing rounds
    .venv/bin/python bench/photos.py --skip-speed     # the quality table alone (--skip-quality: timings alone)

1. Quality.  The generated pages of ``tests/engine/pages.py`` (real MNIST test digits when
   ``DENOISE_STUDIO_DATA`` is set, else drawn shapes; dark ink on light paper, 400×300): for each way
   of lighting and spoiling a page, the worst correlation and the worst mean absolute difference, over
   the digits, between the photo's prepared 28×28 input and the same digit's on flat paper.  Side by
   side: ``engine.image_import.prepare_image`` and the preparation before issue 31 (one background
   level for the whole picture, the median of its border, subtracted; whole-pixel centring),
   rebuilt here in a few lines as the baseline.
2. Speed.  A 12-megapixel (4000×3000) uint8 photo in memory through ``prepare_image``; the same photo
   averaged down to the 500×375 the engine works at, through ``preparation_steps`` (what the app
   hands over after Qt's scaled read), beside the one-level preparation before issue 31 on the same
   picture; and the app's whole job on the photo saved as a JPEG
   (``gui.denoise.picture_import.load_picture``: Qt decodes it scaled while reading, then the engine).  The
   three are interleaved round by round so machine load hits each alike; medians of wall time and of
   the process's CPU time (less disturbed by other jobs on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from offscreen_qt import use_offscreen_qt

use_offscreen_qt()

import numpy as np  # noqa: E402

from engine.image_import import FAINT, MAX_WORK_SIDE, MIN_CONTRAST, preparation_steps, prepare_image  # noqa: E402
from engine.preprocess import SIZE, prepare_digit  # noqa: E402
from tests.engine import pages  # noqa: E402

CASES = {
    "even light (JPEG q95)": lambda page: pages.jpeg(pages.to_uint8(page), 95),
    **pages.PHOTOS,
    "hard-edged shadow below the digit (40 %)": lambda page: pages.to_uint8(page * pages.hard_shadow()),
    "a dark desk past two edges of the page, a speck of dirt": lambda page: pages.to_uint8(pages.on_a_desk(page)),
    "(beyond the tests) shadow band with a hard edge through the digit": lambda page: pages.to_uint8(
        page * pages.shadow_band(softness=0.01)
    ),
    "(beyond the tests) ruled paper: lines every 28 px, 25 % darker": lambda page: pages.to_uint8(pages.ruled(page)),
}


def one_level(picture: np.ndarray) -> np.ndarray:
    """The preparation before issue 31, as a baseline: (H, W) uint8 -> (28, 28) float32.  One background level
    for the whole picture (the median of a border ring 2 % of the shorter side wide), inverted when light,
    subtracted, stretched, faint texture dropped, then framed with whole-pixel centring."""
    grey = picture.astype(np.float32) / 255
    width = max(1, round(0.02 * min(grey.shape)))
    border = np.concatenate([grey[:width].ravel(), grey[-width:].ravel(), grey[:, :width].ravel(),
                             grey[:, -width:].ravel()])  # fmt: skip
    background = float(np.median(border))
    if background > 0.5:
        grey, background = 1 - grey, 1 - background
    peak = float(grey.max())
    if peak - background < MIN_CONTRAST:
        return np.zeros((SIZE, SIZE), np.float32)
    low = background + FAINT * (peak - background)
    image = prepare_digit(np.clip((grey - low) / (peak - low), 0, 1))
    return image / image.max() if image.max() > 0 else image


def agreement(image: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    return float(np.corrcoef(image.ravel(), reference.ravel())[0, 1]), float(np.abs(image - reference).mean())


def quality() -> None:
    digits = pages.digits()
    source = "MNIST test digits" if pages.mnist_digits() else "drawn digit shapes (set DENOISE_STUDIO_DATA for MNIST)"
    print(f"quality: {len(digits)} {source} ({', '.join(digits)}), 400×300 pages; worst over the digits")
    print(f"{'case':66} {'now: r':>7} {'MAD·255':>8}   {'before: r':>9} {'MAD·255':>8}")
    for case, make in CASES.items():
        worst = {"now": [1.0, 0.0], "before": [1.0, 0.0]}
        for digit in digits.values():
            flat, photo = pages.to_uint8(pages.ink_on_paper(digit)), make(pages.ink_on_paper(digit))
            for name, prepare in (("now", lambda p: prepare_image(p).image), ("before", one_level)):
                r, mad = agreement(prepare(photo), prepare(flat))
                worst[name] = [min(worst[name][0], r), max(worst[name][1], mad)]
        (r_now, m_now), (r_before, m_before) = worst["now"], worst["before"]
        print(f"{case:66} {r_now:7.3f} {m_now * 255:8.2f}   {r_before:9.3f} {m_before * 255:8.2f}")


def twelve_megapixels() -> np.ndarray:
    """(3000, 4000) uint8: a page lit by shading, a vignette and a shadow, scaled up 10×, with per-pixel grain."""
    page = pages.ink_on_paper(pages.digits().get("3", pages.drawn_digits()["3"]))
    lit = page * pages.shading() * pages.vignette() * pages.shadow_band()
    big = np.kron(lit, np.ones((10, 10), np.float32))
    big *= 1 + np.random.default_rng(0).normal(0, 0.03, big.shape).astype(np.float32)
    return pages.to_uint8(big)


def speed(repeats: int) -> None:
    from PySide6.QtGui import QGuiApplication, QImage

    from gui.denoise.picture_import import load_picture

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (image plugins)
    photo = twelve_megapixels()
    factor = -(-max(photo.shape) // MAX_WORK_SIDE)
    small = photo.reshape(photo.shape[0] // factor, factor, photo.shape[1] // factor, factor).mean(axis=(1, 3))
    small = np.round(small).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo.jpg"
        image = QImage(photo.tobytes(), photo.shape[1], photo.shape[0], photo.shape[1], QImage.Format.Format_Grayscale8)
        assert image.save(str(path), "JPG", 92)
        jobs = {
            "prepare_image, 4000×3000 uint8 in memory": lambda: prepare_image(photo),
            f"preparation_steps, {small.shape[1]}×{small.shape[0]} (after a scaled read)": lambda: preparation_steps(
                small
            ),
            f"baseline: one level (before issue 31), {small.shape[1]}×{small.shape[0]}": lambda: one_level(
                small
            ),
            f"load_picture, 4000×3000 JPEG ({path.stat().st_size // 1000} kB): read scaled + prepare": lambda: (
                load_picture(str(path), "photo.jpg")
            ),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
        for job in jobs.values():
            job()  # warm up: imports, plugins, caches
        for _ in range(repeats):
            for name, job in jobs.items():
                wall, cpu = time.perf_counter(), time.process_time()
                job()
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"\nspeed: median of {repeats} interleaved rounds (ms)")
    print(f"{'job':78} {'wall':>7} {'cpu':>7}")
    for name, rows in times.items():
        wall, cpu = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
        print(f"{name:78} {wall * 1000:7.1f} {cpu * 1000:7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timing rounds (default 9)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not args.skip_quality:
        quality()
    if not args.skip_speed:
        speed(args.repeats)
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
