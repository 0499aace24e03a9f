"""The canvas eraser: a right-drag (or a left-drag with the Eraser on) blanks strokes, undoably, in place."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.idx import read_idx
from engine.images import to_unit_float
from engine.preprocess import ink_bbox, prepare_digit
from tests.gui.denoise.test_denoise_tab import draw_stroke, show_test_digit

RIGHT = Qt.MouseButton.RightButton


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def test_a_right_drag_erases_part_of_the_drawing_and_undo_brings_it_back(qtbot, tab):
    canvas = tab.canvas
    draw_stroke(qtbot, canvas, [(140, 40), (140, 240)])  # a vertical bar
    drawn = canvas.ink().copy()
    draw_stroke(qtbot, canvas, [(100, 140), (180, 140)], button=RIGHT)  # across its middle
    ink = canvas.ink()
    assert ink[135:146, 130:151].max() == 0  # a gap where the eraser went
    assert ink[50:100, 135:146].min() > 0.9 and ink[190:230, 135:146].min() > 0.9  # the rest is kept
    assert not canvas.is_empty() and canvas.can_undo()
    canvas.undo()
    np.testing.assert_array_equal(canvas.ink(), drawn)


def test_the_eraser_tool_e_makes_the_left_button_erase(qtbot, window, tab):
    canvas = tab.canvas
    draw_stroke(qtbot, canvas, [(140, 40), (140, 240)])
    window.activateWindow()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert tab.draw.eraser_button.isChecked()
    draw_stroke(qtbot, canvas, [(100, 140), (180, 140)])  # left button, eraser on
    assert canvas.ink()[135:146, 130:151].max() == 0
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert not tab.draw.eraser_button.isChecked()
    draw_stroke(qtbot, canvas, [(100, 140), (180, 140)])  # left button draws again
    assert canvas.ink()[135:146, 130:151].min() > 0.9


def test_erasing_part_of_a_digit_damages_it_in_place(qtbot, tab):
    """The network sees the digit with a gap where it was, not what is left re-centred and re-scaled."""
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    tab.inputs.take_drawing()
    whole = tab.state.clean.copy()
    lower_part = [(x, y) for y in range(170, 260, 15) for x in (100, 180)]
    draw_stroke(qtbot, tab.canvas, lower_part, button=RIGHT)  # to and fro over the bar's lower part
    tab.inputs.take_drawing()
    top, bottom, _, _ = ink_bbox(tab.state.clean)
    assert bottom - top < 16  # without the frame, what is left would fill the 20-pixel box again
    np.testing.assert_array_equal(tab.state.clean[:top + 8], whole[:top + 8])  # the upper part where it was
    assert tab.state.shown.errors["model"] >= 0


def test_a_test_image_drawn_over_or_erased_keeps_its_layout(qtbot, tab, tiny_mnist):
    """A loaded image is already the network's input: a stroke or the eraser changes it there, never re-frames it."""
    show_test_digit(qtbot, tab, 3)
    original = to_unit_float(read_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz")[3])
    top, bottom, left, right = ink_bbox(original)  # a small blob, not filling a 20×20 box
    draw_stroke(qtbot, tab.canvas, [(10, 10), (12, 12)])  # a dot in a corner
    tab.inputs.take_drawing()
    assert tab.state.source == "drawing"
    inner = (slice(top + 1, bottom - 1), slice(left + 1, right - 1))
    np.testing.assert_allclose(tab.state.clean[inner], original[inner], atol=0.02)  # the blob where it was, as it was
    assert not np.allclose(tab.state.clean, prepare_digit(tab.canvas.ink()), atol=0.1)  # (re-framing would move it)
    middle = ((top + bottom) // 2) * 10 + 5
    draw_stroke(qtbot, tab.canvas, [(0, middle), (279, middle)], button=RIGHT)  # a cut through the blob
    tab.inputs.take_drawing()
    assert tab.state.clean[(top + bottom) // 2].max() < 0.2
    above_cut = (slice(top + 1, (top + bottom) // 2 - 1), slice(left + 1, right - 1))
    np.testing.assert_allclose(tab.state.clean[above_cut], original[above_cut], atol=0.02)
