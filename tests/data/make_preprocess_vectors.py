"""Write ``preprocess_vectors.npz``: drawings (pixels) and the 28×28 image each must become.

The vectors are shared: ``tests/engine/test_preprocess_vectors.py`` checks ``engine.preprocess.prepare_digit``
against them, and ``tests/web/test_page_prepare.py`` checks the exported page's ``prepare`` (JavaScript) against the
same file, so the app and the page prepare a drawing alike.  Each case stresses one decision of the preparation:
the ink threshold, the scale's rounding (Python rounds 12.5 to 12), up- and down-scaling, a centre of mass far from
the box's centre (pixels shifted out of the frame), a frame from before erasing, a blank and a non-square canvas.

Rerun only when the preparation changes on purpose (``python tests/data/make_preprocess_vectors.py``): the file
freezes what the app does today.  Arrays: ``names`` (the cases), ``{name}.ink`` (H, W) uint8 white ink on black,
``{name}.frame`` (H, W) uint8 where the case has a frame, ``{name}.expected`` (28, 28) float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.preprocess import prepare_digit

HERE = Path(__file__).resolve().parent
OUT = HERE / "preprocess_vectors.npz"


def stroke(shape: tuple[int, int], points: list[tuple[float, float]], width: float, value: int = 255) -> np.ndarray:
    """A round-capped polyline of ``width`` through (x, y) points, anti-aliased by distance: (H, W) uint8."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    distance = np.full(shape, np.inf)
    segments = list(zip(points[:-1], points[1:], strict=True)) or [(points[0], points[0])]  # one point: a dot
    for (x0, y0), (x1, y1) in segments:
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = np.zeros(shape) if length2 == 0 else np.clip(((cols - x0) * dx + (rows - y0) * dy) / length2, 0, 1)
        distance = np.minimum(distance, np.hypot(cols - (x0 + t * dx), rows - (y0 + t * dy)))
    cover = np.clip(width / 2 + 0.5 - distance, 0, 1)
    return np.round(cover * value).astype(np.uint8)


def cases() -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    side = (280, 280)
    seven = stroke(side, [(70, 60), (200, 60), (120, 230)], 22)
    erased = seven.copy()
    erased[40:90, 100:160] = 0  # the eraser took a bite of the top bar
    faint = stroke(side, [(100, 80), (110, 200)], 18)
    faint[10:30, 10:260] = 12  # at the threshold (12/255 <= 0.05): paper, outside the box
    faint[240:250, 60:70] = 13  # just above it: ink, which widens the box
    box = np.zeros(side, np.uint8)
    box[100:125, 60:100] = 255  # 25 × 40: the height scales to 12.5, which Python rounds to 12
    corner = np.zeros(side, np.uint8)
    corner[200:240, 200:240] = 255  # an L: its mass far from its box's centre, so the shift cuts pixels off
    corner[40:240, 200:206] = 90
    corner[234:240, 40:240] = 90
    return {
        "seven": (seven, None),
        "seven_erased_with_frame": (erased, seven),
        "one_thin_tall": (stroke(side, [(140, 40), (146, 250)], 8), None),
        "dash_wide_flat": (stroke(side, [(30, 140), (250, 141)], 10), None),
        "faint_ink_threshold": (faint, None),
        "scale_rounds_half_to_even": (box, None),
        "small_dot_scaled_up": (stroke(side, [(30, 250)], 9), None),
        "mass_far_from_centre": (corner, None),
        "non_square_canvas": (stroke((150, 200), [(40, 30), (160, 120), (60, 120)], 14), None),
        "blank": (np.zeros(side, np.uint8), None),
    }


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    names = []
    for name, (ink, frame) in cases().items():
        names.append(name)
        arrays[f"{name}.ink"] = ink
        if frame is not None:
            arrays[f"{name}.frame"] = frame
        arrays[f"{name}.expected"] = prepare_digit(ink, frame=frame)
    arrays["names"] = np.array(names)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(names)} cases)")


if __name__ == "__main__":
    main()
