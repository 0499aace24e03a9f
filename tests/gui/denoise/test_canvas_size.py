"""The drawing canvas grows with the window (280 px at the smallest, up to twice that), while the drawing, the
brush and what the network sees stay on its 280-pixel surface."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from gui.denoise.canvas import CANVAS_SIDE, DrawingCanvas
from tests.gui.denoise.test_denoise_tab import draw_stroke


def test_a_canvas_shown_twice_as_large_draws_where_the_pointer_is(qtbot):
    small, large = DrawingCanvas(), DrawingCanvas()
    for canvas in (small, large):
        qtbot.addWidget(canvas)
        canvas.show()
    large.show_at(2 * CANVAS_SIDE)
    assert large.width() == large.height() == 2 * CANVAS_SIDE

    draw_stroke(qtbot, small, [(140, 40), (140, 240)])
    draw_stroke(qtbot, large, [(280, 80), (280, 480)])  # the same stroke, pointed at on the larger canvas
    assert large.ink().shape == (CANVAS_SIDE, CANVAS_SIDE)
    assert np.abs(large.ink() - small.ink()).max() < 0.1  # the same drawing, at most a rounding of the edge


def test_the_canvas_cannot_be_shown_below_its_surface(qtbot):
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.show_at(100)
    assert canvas.width() == CANVAS_SIDE


def settle() -> None:
    """Let the Draw column lay itself out again around a resized canvas (posted events)."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


@pytest.mark.parametrize("height", [1080, 900])  # the width limits the canvas, then the height does
def test_a_large_window_draws_on_a_larger_canvas_without_covering_its_controls(qtbot, window, height):
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: tab.canvas.width() == CANVAS_SIDE)
    window.resize(1920, height)
    qtbot.waitUntil(lambda: tab.canvas.width() > 1.4 * CANVAS_SIDE)
    tab.draw.source_label.setText("Your picture a-rather-long-file-name-of-a-pic… (6000×4000, light background)")
    settle()

    canvas_box = tab.canvas.geometry()
    assert tab.canvas.width() == tab.canvas.height()
    assert canvas_box.bottom() < tab.draw.brush.geometry().top()  # the brush row starts below the canvas
    assert tab.draw.geometry().bottom() <= tab.height()  # the Draw column fits in the tab
    assert tab.draw.geometry().right() < tab.splitter.geometry().left()  # and beside the images
    assert tab.splitter.width() > 2 * tab.draw.width()  # the images keep most of the width
    assert tab.draw.input_view.height() == tab.draw.input_view.maximumHeight()  # the network's input is not squeezed
