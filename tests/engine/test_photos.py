"""Photos of handwriting become the digit a scan of it would give: generated pages lit as a phone lights them.

Each page is a digit (real MNIST test digits when ``DENOISE_STUDIO_DATA`` is set, else drawn
shapes; ``tests/engine/pages.py``) as dark ink on light paper, under uneven light, with paper
texture or JPEG compression.  Its prepared 28×28 input must match the same digit's on flat paper:
a correlation of at least 0.95 and a mean absolute difference of at most 8/255.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest

from engine.image_import import describe_steps, preparation_steps, prepare_image
from engine.preprocess import center_of_mass, ink_bbox
from tests.engine import pages

MIN_CORRELATION = 0.95
MAX_MAD = 8 / 255

@cache
def digits() -> dict[str, np.ndarray]:
    return pages.digits()


@cache
def on_flat_paper(label: str) -> np.ndarray:
    """The digit's prepared input from a page under even light: what every photo of it must give."""
    return prepare_image(pages.to_uint8(pages.ink_on_paper(digits()[label]))).image


def agreement(image: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(correlation, mean absolute difference) of two (28, 28) images."""
    return float(np.corrcoef(image.ravel(), reference.ravel())[0, 1]), float(np.abs(image - reference).mean())


@pytest.mark.parametrize("photo", list(pages.PHOTOS))
def test_a_photo_gives_what_flat_paper_gives(photo):
    for label, digit in digits().items():
        result = prepare_image(pages.PHOTOS[photo](pages.ink_on_paper(digit)))
        assert result.inverted and not result.empty, label
        correlation, mad = agreement(result.image, on_flat_paper(label))
        assert correlation >= MIN_CORRELATION and mad <= MAX_MAD, f"{label}: r = {correlation:.3f}, MAD = {mad:.4f}"


def test_the_digit_on_flat_paper_is_prepared_as_mnist():
    """The reference itself: the digit fills the 20×20 box and its centre of mass is at the centre."""
    for label in digits():
        image = on_flat_paper(label)
        top, bottom, left, right = ink_bbox(image)
        assert max(bottom - top, right - left) in (20, 21), label  # 21: the box at a fractional offset
        assert np.allclose(center_of_mass(image), 13.5, atol=0.05), label
        assert image.max() == pytest.approx(1.0)


def test_paper_and_a_shadow_without_ink_are_an_empty_picture():
    blank = np.full((pages.HEIGHT, pages.WIDTH), pages.PAPER)
    for light in (pages.shading(), pages.vignette(), pages.shadow_band(), pages.shading() * pages.shadow_band()):
        assert prepare_image(pages.to_uint8(blank * light)).empty


def test_a_sharp_shadow_edge_away_from_the_digit_is_not_ink():
    """What the paper's level cannot follow (a hard edge) is left a little dark; it is no ink unless near a stroke."""
    for label, digit in digits().items():
        result = prepare_image(pages.to_uint8(pages.ink_on_paper(digit) * pages.hard_shadow()))
        correlation, mad = agreement(result.image, on_flat_paper(label))
        assert correlation >= MIN_CORRELATION and mad <= MAX_MAD, f"{label}: r = {correlation:.3f}, MAD = {mad:.4f}"


def test_the_desk_beyond_the_page_and_specks_of_dirt_are_not_the_digit():
    """A photo shows more than the digit: a dark desk past two edges of the page, a crumb in a corner."""
    for label, digit in digits().items():
        result = prepare_image(pages.to_uint8(pages.on_a_desk(pages.ink_on_paper(digit))))
        assert result.inverted, label
        correlation, mad = agreement(result.image, on_flat_paper(label))
        assert correlation >= MIN_CORRELATION and mad <= MAX_MAD, f"{label}: r = {correlation:.3f}, MAD = {mad:.4f}"


def test_the_shadow_is_divided_out_of_the_paper():
    """The "background removed" step: paper in the shadow and in the light become the same even white."""
    page = pages.ink_on_paper(digits()[next(iter(digits()))])
    light = pages.shadow_band() * pages.shading()
    steps = preparation_steps(pages.to_uint8(page * light))
    paper = page == pages.PAPER  # (300, 400) away from the ink
    assert np.percentile(steps.picture[paper], 1) < 0.4  # the paper in the shadow's depth, as photographed
    assert np.percentile(steps.flattened[paper], 1) > 0.9  # the same paper with the background divided out
    found = np.abs(steps.background - light * pages.PAPER)[paper]
    assert np.median(found) < 0.01 and np.percentile(found, 99) < 0.05  # only a shadow's edge is a little off


def test_a_dim_photo_gives_what_a_bright_one_gives():
    """Under a third of the light (a sixth at the bottom) the paper is darker than mid-grey: still paper, a digit."""
    label = next(iter(digits()))
    dim = prepare_image(pages.to_uint8(pages.ink_on_paper(digits()[label]) * 0.3 * pages.shading()))
    assert dim.inverted and not dim.empty
    correlation, mad = agreement(dim.image, on_flat_paper(label))
    assert correlation >= MIN_CORRELATION and mad <= MAX_MAD


def test_chalk_on_a_shaded_board_is_taken_as_it_is():
    """Light ink on a dark board, lit unevenly: not inverted, the same digit as dark ink on flat paper gives."""
    label = next(iter(digits()))
    board = 0.15 + 0.7 * pages.coverage(digits()[label])  # chalk 0.85 on a 0.15 board
    result = prepare_image(pages.to_uint8(board * pages.vignette()))
    assert not result.inverted and not result.empty
    correlation, _ = agreement(result.image, on_flat_paper(label))
    assert correlation >= MIN_CORRELATION


def test_the_result_does_not_jump_a_pixel_with_the_scale_of_the_picture():
    """The same digit photographed a little nearer or farther: its centre of mass is placed exactly, not to the
    nearest pixel (which moves the whole digit by one when a centre crosses a half)."""
    for label, digit in digits().items():
        for side in (200, 208, 216, 232, 240, 248):
            image = prepare_image(pages.to_uint8(pages.ink_on_paper(digit, side=side))).image
            correlation, mad = agreement(image, on_flat_paper(label))
            assert correlation >= MIN_CORRELATION and mad <= MAX_MAD, f"{label} at {side}: r = {correlation:.3f}"


def test_each_step_is_returned_for_showing():
    label = next(iter(digits()))
    photo = pages.to_uint8(pages.ink_on_paper(digits()[label]) * pages.shading())
    steps = preparation_steps(photo)
    for image in (steps.picture, steps.background, steps.flattened, steps.ink):
        assert image.shape == photo.shape and image.dtype == np.float32
        assert image.min() >= 0 and image.max() <= 1
    np.testing.assert_array_equal(steps.prepared.image, prepare_image(photo).image)
    np.testing.assert_allclose(steps.picture, photo / 255, atol=1e-6)
    paper = pages.ink_on_paper(digits()[label]) == pages.PAPER
    assert steps.ink.max() == pytest.approx(1.0) and steps.ink[paper].max() == 0  # the ink alone, at full strength


def test_the_steps_are_told_in_words_that_follow_the_picture():
    """``describe_steps``: a title and a line for each of the five steps; the paper's line shows the shading's
    range (half the light at the bottom) or an even paper; chalk on a board is told as a board."""
    digit = digits()[next(iter(digits()))]
    shaded = describe_steps(preparation_steps(pages.to_uint8(pages.ink_on_paper(digit) * pages.shading())))
    even = describe_steps(preparation_steps(pages.to_uint8(pages.ink_on_paper(digit))), size=(4000, 3000))
    board = describe_steps(preparation_steps(pages.to_uint8(0.15 + 0.7 * pages.coverage(digit))))
    assert len(shaded) == len(even) == len(board) == 5
    assert [title for title, _ in shaded] == ["Your picture", "The paper's light", "Background removed", "Ink",
                                              "Network input, 28×28"]  # fmt: skip
    low, high = (int(n) for n in re.fullmatch(r".*from (\d+) % to (\d+) % bright", shaded[1][1]).groups())
    assert 40 <= low <= 55 and 85 <= high <= 95  # paper of reflectance 0.92, lit from full to half
    assert "an even 92 %" in even[1][1] and "scaled down from 4000×3000" in even[0][1]
    assert "400×300 pixels" in shaded[0][1] and "scaled" not in shaded[0][1]
    assert "made light on black" in shaded[3][1]  # inverted, as MNIST's digits are light on black
    assert board[1][0] == "The board's level" and "made" not in board[3][1] and "light on black" in board[3][1]
