"""A user's own picture becomes the MNIST-style 28×28 input: generated pictures of a ring-shaped "0"."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from engine.image_import import prepare_image
from engine.preprocess import center_of_mass, ink_bbox, prepare_digit


def ring(side: int) -> np.ndarray:
    """(side, side) float64 in [0, 1]: a light "9" on black (a ring with a tail), off-centre, about half the picture."""
    y, x = np.mgrid[0:side, 0:side] / side
    r = np.hypot((y - 0.35) / 0.18, (x - 0.40) / 0.16)
    loop = 1 - np.abs(r - 1) / 0.35
    tail = np.minimum(1 - np.abs(x - 0.55) / 0.05, np.where((y > 0.35) & (y < 0.85), 1.0, 0.0))
    return np.clip(np.maximum(loop, tail), 0, 1)


def test_light_ink_on_black_is_taken_as_it_is_and_prepared_as_mnist():
    picture = ring(280)
    result = prepare_image(picture.astype(np.float32))
    assert not result.inverted and not result.empty
    image = result.image
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() > 0.9
    com_r, com_c = center_of_mass(image)
    assert abs(com_r - 13.5) <= 0.5 and abs(com_c - 13.5) <= 0.5
    top, bottom, left, right = ink_bbox(image)
    assert bottom - top == 20 and right - left < 20  # the 20×20 box, aspect kept
    # what a drawing of the same ink gives, up to the faint edge trimmed from pictures
    assert np.abs(image - prepare_digit(picture)).mean() < 0.05


def test_dark_ink_on_a_light_background_is_inverted():
    ink = ring(280)
    dark_on_light = (255 - np.round(ink * 255)).astype(np.uint8)
    light_on_dark = np.round(ink * 255).astype(np.uint8)
    flipped, straight = prepare_image(dark_on_light), prepare_image(light_on_dark)
    assert flipped.inverted and not straight.inverted
    np.testing.assert_allclose(flipped.image, straight.image, atol=1e-5)


def test_grey_paper_and_grey_ink_are_stretched_to_mnist_contrast():
    """A photo of pencil on paper: background 0.8, ink 0.35, a little grain."""
    ink = ring(300)
    rng = np.random.default_rng(0)
    photo = 0.8 - 0.45 * ink + rng.normal(0, 0.02, ink.shape)
    result = prepare_image(np.clip(photo, 0, 1).astype(np.float32))
    assert result.inverted
    clean = prepare_image(ink.astype(np.float32)).image
    assert result.image.max() > 0.9
    assert np.abs(result.image - clean).mean() < 0.03
    assert result.image[clean == 0].max() < 0.1  # the grain does not survive as ink


def test_sixteen_bit_pictures_give_what_eight_bit_ones_give():
    ink = ring(200)
    eight = np.round(ink * 255).astype(np.uint8)
    sixteen = eight.astype(np.uint16) * 257  # the same levels, 0-65535
    np.testing.assert_allclose(prepare_image(sixteen).image, prepare_image(eight).image, atol=1e-5)
    assert not np.array_equal(prepare_image(eight.astype(np.uint16)).image, prepare_image(eight).image)


def test_a_huge_picture_is_averaged_down_without_a_full_size_float_copy():
    small = np.round(ring(600) * 255).astype(np.uint8)
    huge = np.repeat(np.repeat(small, 10, axis=0), 10, axis=1)  # 6000×6000, 36 MB
    assert huge.shape == (6000, 6000)
    tracemalloc.start()
    try:
        result = prepare_image(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < huge.nbytes / 2  # a float32 copy alone would be 4× the picture
    np.testing.assert_allclose(result.image, prepare_image(small).image, atol=0.05)
    assert not result.empty


@pytest.mark.parametrize(
    "picture",
    [
        np.full((300, 400), 255, np.uint8),  # blank white paper
        np.zeros((50, 50), np.uint16),  # black
        np.full((64, 64), 0.5, np.float32),  # flat grey
        np.clip(0.7 + np.random.default_rng(1).normal(0, 0.01, (100, 100)), 0, 1),  # paper grain only
    ],
)
def test_an_empty_picture_gives_zeros_and_says_so(picture):
    result = prepare_image(picture)
    assert result.empty
    assert result.image.shape == (28, 28) and not result.image.any()


def test_a_small_mark_on_paper_is_not_empty():
    paper = np.full((100, 100), 240, np.uint8)
    paper[40:60, 48:52] = 30
    result = prepare_image(paper)
    assert not result.empty and result.inverted and result.image.max() > 0.9


@pytest.mark.parametrize(
    "picture, error, words",
    [
        (np.zeros((10, 10, 3), np.uint8), ValueError, ["grey", "(10, 10, 3)"]),
        (np.zeros((0, 10), np.uint8), ValueError, ["empty"]),
        (np.full((5, 5), 2.0), ValueError, ["[0, 1]", "2"]),
        (np.full((5, 5), np.nan), ValueError, ["NaN"]),
        (np.full((5, 5), -3, np.int16), ValueError, [">= 0"]),
        (np.full((5, 5), "a"), TypeError, ["dtype"]),
        ([[0, 1], [1, 0]], TypeError, ["NumPy array"]),
    ],
)
def test_bad_pictures_are_refused_with_a_reason(picture, error, words):
    with pytest.raises(error) as info:
        prepare_image(picture)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_the_callers_array_is_left_unchanged():
    picture = (1 - ring(100)).astype(np.float32)
    before = picture.copy()
    prepare_image(picture)
    assert np.array_equal(picture, before)
