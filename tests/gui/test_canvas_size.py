"""The drawing canvas grows with the window (280 px at the smallest, up to twice that), while the drawing, the
brush and what the network sees stay on its 280-pixel surface."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from gui.canvas import CANVAS_SIDE, DrawingCanvas
from tests.gui.test_denoise_tab import draw_stroke


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


def test_a_full_hd_window_draws_on_a_larger_canvas_without_covering_its_controls(qtbot, window):
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: tab.canvas.width() == CANVAS_SIDE)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: tab.canvas.width() > 1.5 * CANVAS_SIDE)
    for _ in range(3):  # the Draw column lays itself out again around the resized canvas (posted events)
        QApplication.sendPostedEvents()
        QApplication.processEvents()

    canvas_box = tab.canvas.geometry()
    assert tab.canvas.width() == tab.canvas.height()
    assert canvas_box.bottom() < tab.draw.brush.geometry().top()  # the brush row starts below the canvas
    assert tab.draw.geometry().bottom() <= tab.height()  # the Draw column fits in the tab
    assert tab.draw.geometry().right() < tab.splitter.geometry().left()  # and beside the images
    # the images keep most of the width
    assert tab.splitter.width() > 2 * tab.draw.width()
