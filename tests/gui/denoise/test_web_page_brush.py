"""The exported web page draws with the app's brush on the app's surface: the numbers ``engine.web_export`` writes
into the page are the canvas's and the brush slider's (the engine cannot import the GUI to read them itself)."""

from __future__ import annotations

from engine.web_export import BRUSH
from gui.denoise.canvas import CANVAS_SIDE
from gui.denoise.draw_panel import DrawPanel


def test_the_page_has_the_apps_canvas_and_brush(qtbot):
    panel = DrawPanel()
    qtbot.addWidget(panel)
    app = {"side": CANVAS_SIDE, "width": panel.canvas.pen_width, "min": panel.brush.minimum(),
           "max": panel.brush.maximum()}  # fmt: skip
    assert app == BRUSH
