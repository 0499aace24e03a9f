"""The shared preparation vectors (``tests/data/preprocess_vectors.npz``, drawing pixels -> 28×28): the engine's
``prepare_digit`` gives what the file holds; the exported page's ``prepare`` is checked against the same file in
``tests/web/test_web_page.py``, so the app and the page prepare a drawing alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.preprocess import prepare_digit

VECTORS = Path(__file__).resolve().parents[1] / "data" / "preprocess_vectors.npz"


def cases() -> list[str]:
    with np.load(VECTORS) as vectors:
        return [str(name) for name in vectors["names"]]


def test_the_vectors_cover_the_preparations_decisions():
    assert {"seven", "seven_erased_with_frame", "scale_rounds_half_to_even", "faint_ink_threshold", "one_thin_tall",
            "mass_far_from_centre", "non_square_canvas", "blank"} <= set(cases())  # fmt: skip


@pytest.mark.parametrize("name", cases())
def test_the_engine_prepares_each_drawing_as_the_vectors_say(name):
    with np.load(VECTORS) as vectors:
        ink, expected = vectors[f"{name}.ink"], vectors[f"{name}.expected"]
        frame = vectors[f"{name}.frame"] if f"{name}.frame" in vectors.files else None
    assert ink.dtype == np.uint8 and expected.shape == (28, 28)
    got = prepare_digit(ink, frame=frame)
    assert float(np.max(np.abs(got - expected))) <= 1e-6
    as_floats = prepare_digit(ink.astype(np.float32) / 255, frame=None if frame is None else frame / 255)
    assert float(np.max(np.abs(as_floats - expected))) <= 1 / 255  # the canvas's floats prepare alike


def test_a_one_pixel_wide_digit_sits_where_the_half_pixel_tie_puts_it():
    """A thin straight '1' scales to one column whose centre of mass is exactly half a pixel off the middle: the shift
    is rounded half to even (no shift), not tipped by float noise in the mass's sums."""
    ink = np.zeros((280, 280), np.uint8)
    for left in range(100, 180, 7):  # wherever it is drawn
        ink[:] = 0
        ink[30:250, left : left + 9] = 255
        assert np.flatnonzero(prepare_digit(ink).any(axis=0)).tolist() == [13]
