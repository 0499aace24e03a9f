"""engine.preprocess: a drawing becomes an MNIST-style 28×28 image."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.preprocess import center_of_mass, ink_bbox, prepare_digit, resize_area, shrink_framed


def test_blank_drawing_gives_zeros():
    out = prepare_digit(np.zeros((280, 280), np.float32))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert not out.any()


@pytest.mark.parametrize("corner", [(10, 10), (200, 30), (40, 230)])
def test_ink_anywhere_is_centred_by_mass(corner):
    canvas = np.zeros((280, 280), np.float32)
    r, c = corner
    canvas[r : r + 40, c : c + 15] = 1.0  # a tall bar off-centre
    out = prepare_digit(canvas)
    com_r, com_c = center_of_mass(out)
    assert abs(com_r - 13.5) <= 0.5 and abs(com_c - 13.5) <= 0.5
    top, bottom, left, right = ink_bbox(out)
    assert bottom - top == 20  # the longer side fills the 20-pixel box
    assert right - left < 20  # aspect ratio kept: the narrow side stays narrow
    assert out.min() >= 0 and out.max() <= 1


def test_aspect_ratio_is_kept():
    canvas = np.zeros((100, 100), np.float32)
    canvas[40:50, 10:90] = 1.0  # 10 high, 80 wide
    out = prepare_digit(canvas)
    top, bottom, left, right = ink_bbox(out)
    assert right - left == 20
    assert bottom - top in (2, 3, 4)


def test_uint8_input_is_scaled():
    canvas = np.zeros((50, 60), np.uint8)
    canvas[10:30, 20:30] = 255
    a = prepare_digit(canvas)
    b = prepare_digit(canvas.astype(np.float32) / 255)
    np.testing.assert_allclose(a, b)
    assert a.max() == pytest.approx(1.0)


def test_resize_area_keeps_mean_and_constant():
    rng = np.random.default_rng(0)
    img = rng.random((37, 23))
    small = resize_area(img, 10, 7)
    assert small.shape == (10, 7)
    assert small.mean() == pytest.approx(img.mean(), rel=1e-9)
    np.testing.assert_allclose(resize_area(np.full((5, 9), 0.3), 20, 11), 0.3)


def test_rejects_non_2d():
    with pytest.raises(ValueError, match="shape"):
        prepare_digit(np.zeros((2, 3, 4)))


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(20, 300),
    w=st.integers(20, 300),
    data=st.data(),
)
def test_any_solid_stroke_is_centred_and_fills_the_box(h, w, data):
    top = data.draw(st.integers(0, h - 2))
    left = data.draw(st.integers(0, w - 2))
    bottom = data.draw(st.integers(top + 1, h))
    right = data.draw(st.integers(left + 1, w))
    canvas = np.zeros((h, w), np.float32)
    canvas[top:bottom, left:right] = 1.0
    out = prepare_digit(canvas)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    com_r, com_c = center_of_mass(out)
    assert abs(com_r - 13.5) <= 0.5 and abs(com_c - 13.5) <= 0.5
    b_top, b_bottom, b_left, b_right = ink_bbox(out)
    assert max(b_bottom - b_top, b_right - b_left) in (20, 21)  # the longer side fills the box (±1 for blur)


def test_an_erased_part_leaves_the_rest_where_the_frame_puts_it():
    """Erasing the lower half of a bar with the undamaged bar as the frame: the upper half stays where it was."""
    whole = np.zeros((280, 280), np.float32)
    whole[40:240, 130:150] = 1.0
    damaged = whole.copy()
    damaged[140:240] = 0  # the eraser took the lower half
    framed = prepare_digit(damaged, frame=whole)
    np.testing.assert_array_equal(framed[:14], prepare_digit(whole)[:14])  # the kept half in its place
    assert not framed[15:].any()  # the gap stays a gap
    assert ink_bbox(prepare_digit(damaged))[1] - ink_bbox(prepare_digit(damaged))[0] == 20  # without: re-scaled


def test_a_frame_must_match_the_drawing():
    with pytest.raises(ValueError, match="shape"):
        prepare_digit(np.zeros((280, 280)), frame=np.zeros((28, 28)))


def test_shrink_framed_keeps_a_full_frame_picture_as_it_is_laid_out():
    """A 28×28 picture scaled up 10× comes back as itself: nothing cropped, scaled into 20×20 or re-centred."""
    rng = np.random.default_rng(0)
    picture = np.zeros((28, 28), np.float32)
    picture[1:27, 3:25] = rng.random((26, 22), dtype=np.float32)  # fills the frame, off-centre by mass
    big = np.kron(picture, np.ones((10, 10), np.float32))
    out = shrink_framed(big)
    assert out.dtype == np.float32 and out.shape == (28, 28)
    np.testing.assert_allclose(out, picture, atol=1e-6)


def l_shape(flip_rows: bool = False, flip_cols: bool = False) -> np.ndarray:
    """An L on a 280×280 canvas: a 30-px stem and a 30-px foot, its mass in the corner where they meet."""
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 60:90] = 1.0  # the stem
    canvas[210:240, 60:180] = 1.0  # the foot
    if flip_rows:
        canvas = np.flipud(canvas)
    if flip_cols:
        canvas = np.fliplr(canvas)
    return np.ascontiguousarray(canvas)


def bar_with_a_blob() -> np.ndarray:
    """A thin horizontal bar with a heavy blob at its right end: its mass sits right of its box's middle."""
    canvas = np.zeros((280, 280), np.float32)
    canvas[130:140, 30:250] = 1.0
    canvas[110:160, 210:250] = 1.0
    return canvas


def box_centre(image: np.ndarray) -> tuple[float, float]:
    top, bottom, left, right = ink_bbox(image)
    return (top + bottom - 1) / 2, (left + right - 1) / 2


@pytest.mark.parametrize("exact_centre, within", [(False, 0.5), (True, 0.05)], ids=["whole-pixels", "exact"])
@pytest.mark.parametrize(
    "canvas, row_side, col_side",
    [
        (l_shape(), -1, +1),  # mass low-left: the box moves up and right
        (l_shape(flip_cols=True), -1, -1),
        (l_shape(flip_rows=True), +1, +1),
        (l_shape(flip_rows=True, flip_cols=True), +1, -1),
        (bar_with_a_blob(), 0, -1),  # mass at the right end: the box moves left
    ],
    ids=["L", "L-mirrored", "L-upside-down", "L-turned", "bar-with-a-blob"],
)
def test_a_lopsided_shape_is_centred_by_its_mass_not_by_its_box(canvas, row_side, col_side, exact_centre, within):
    """MNIST centres each digit's centre of mass in the 28×28 field; for an L (or a bar with a blob) that is
    not its bounding box's centre, so the box ends up off the middle, away from where the ink is heavy.  Whole
    pixels (MNIST's way, the canvas's) put the mass within half a pixel; the exact placement (pictures) on it."""
    out = prepare_digit(canvas, exact_centre=exact_centre)
    com_r, com_c = center_of_mass(out)
    assert abs(com_r - 13.5) <= within and abs(com_c - 13.5) <= within  # the mass in the middle
    box_r, box_c = box_centre(out)
    for side, offset in ((row_side, box_r - 13.5), (col_side, box_c - 13.5)):
        if side:
            assert offset * side >= 2, (box_r, box_c)  # the box well off the middle, on the light side
        else:
            assert abs(offset) <= 0.5
    top, bottom, left, right = ink_bbox(out)
    assert max(bottom - top, right - left) in (20, 21)  # scaled to fill the box (a fractional place spans 21)
