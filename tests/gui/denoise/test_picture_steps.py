"""Show the steps: a picture's preparation (picture → the paper's light → background removed → ink → 28×28) on
request, in a window beside the app that follows what is on the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt

from engine.image_import import describe_steps
from tests.gui.denoise.test_denoise_tab import draw_stroke
from tests.gui.denoise.test_pictures import TIMEOUT, blue_three_on_beige, grey, l_shape, open_picture

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


@pytest.fixture
def photo(tmp_path):
    """The issue's phone photo: a blue "3" on beige paper darkening to half towards the bottom, 400×300 JPEG."""
    path = tmp_path / "photo.jpg"
    blue_three_on_beige(path, 0.5)
    return path


def shown_steps(dialog) -> list[np.ndarray | None]:
    return [view.image() for view in dialog.images]


def test_the_steps_of_a_photo_are_shown_with_the_engines_words(qtbot, tab, photo):
    tab.window().resize(1280, 800)  # the window's first size (a test screen may be smaller: it would start smaller)
    button = tab.draw.steps_button
    assert not button.isVisible()  # nothing to show for a drawing
    open_picture(qtbot, tab, photo)
    assert button.isVisible() and "step by step" in button.toolTip()
    qtbot.mouseClick(button, LEFT)
    dialog = tab.steps_dialog
    assert dialog.isVisible() and not dialog.isModal()  # beside the app: the canvas stays usable
    draw_column = QRect(tab.draw.mapToGlobal(QPoint(0, 0)), tab.draw.size())
    assert not dialog.geometry().intersects(draw_column)  # the canvas and the network's input stay in view
    steps = tab.state.picture.steps
    expected = [steps.picture, steps.background, steps.flattened, steps.ink, steps.prepared.image]
    for shown, array in zip(shown_steps(dialog), expected, strict=True):
        np.testing.assert_array_equal(shown, array)
    np.testing.assert_array_equal(shown_steps(dialog)[-1], tab.state.clean)  # the last step is the network's input
    words = describe_steps(steps, (400, 300))
    assert [label.text() for label in dialog.titles] == [title for title, _ in words]
    assert [label.text() for label in dialog.notes] == [note for _, note in words]
    assert "photo.jpg" in dialog.heading.text() and "from" in dialog.notes[1].text()  # the paper's shading, a range
    assert all(view.toolTip() for view in dialog.images)


def test_the_steps_follow_the_canvas_and_the_button_hides_without_a_picture(qtbot, photo, tiny_mnist, tab, tmp_path):
    """(The photo is made before ``tiny_mnist`` points the data at 16 blobs: its 3 is a real one when it can be.)"""
    open_picture(qtbot, tab, photo)
    tab.show_steps()
    dialog = tab.steps_dialog
    draw_stroke(qtbot, tab.canvas, [(250, 20), (260, 30)])  # drawn over: now a drawing
    tab.inputs.take_drawing()
    assert tab.state.source == "drawing" and not tab.draw.steps_button.isVisible()
    assert dialog.isVisible() and not dialog.steps.isVisible() and "a drawing, not a picture" in dialog.empty.text()
    assert shown_steps(dialog) == [None] * 5  # the picture's steps are let go
    tab.canvas.undo()  # the picture comes back, and its steps with it
    tab.inputs.take_drawing()
    assert tab.draw.steps_button.isVisible() and dialog.steps.isVisible() and "photo.jpg" in dialog.heading.text()
    np.testing.assert_array_equal(shown_steps(dialog)[-1], tab.state.clean)
    other = tmp_path / "other.png"
    assert l_shape(200, 300, grey(230), grey(25)).save(str(other))
    open_picture(qtbot, tab, other)  # another picture: its steps, in the same window
    assert "other.png" in dialog.heading.text() and shown_steps(dialog)[0].shape == (300, 200)
    with qtbot.waitSignal(tab.inputs.testDigitShown, timeout=TIMEOUT):
        tab.show_test_digit(0)
    assert not tab.draw.steps_button.isVisible() and "a test image, not a picture" in dialog.empty.text()


def test_the_steps_open_from_the_keyboard_and_escape_closes_them(qtbot, window, tab, photo):
    open_picture(qtbot, tab, photo)
    window.activateWindow()
    tab.canvas.setFocus()
    with qtbot.waitSignal(tab.draw.steps_button.clicked, timeout=TIMEOUT):  # a mnemonic clicks after a flash
        qtbot.keyClick(tab.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    dialog = tab.steps_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
