"""The Denoise tab's latent map: every test digit by its code, the star that follows the drawing, clicks, the strip."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from engine.dataset import read_split
from engine.images import to_unit_float
from gui.common.theme import apply_theme, colors

from .test_denoise_tab import draw_stroke

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def open_map(qtbot, tab):
    """Show the Latent map page and wait until every point is placed; returns the panel."""
    panel = tab.latent_map
    with qtbot.waitSignal(panel.mapReady, timeout=20000):
        tab.panels.setCurrentWidget(panel)  # built when first shown
    return panel


def pixel_of(panel, x: float, y: float) -> QPoint:
    """The plot widget's pixel showing map point (x, y)."""
    box = panel.plot.getPlotItem().getViewBox()
    return panel.plot.mapFromScene(box.mapViewToScene(QPointF(x, y)))


def map_point_at(panel, pixel: QPoint) -> np.ndarray:
    """The map point a pixel of the plot widget shows."""
    box = panel.plot.getPlotItem().getViewBox()
    point = box.mapSceneToView(panel.plot.mapToScene(pixel))
    return np.array([point.x(), point.y()])


def test_the_map_holds_every_test_digit_in_its_labels_colour(qtbot, tab, real_mnist_dir):
    panel = open_map(qtbot, tab)
    images, labels = read_split("test", progress=False)
    assert panel.point_count() == len(images) == 10000
    colours_by_label: dict[int, set[str]] = {}
    placed = []
    for item in panel.scatters:
        spots = item.points()
        placed.extend(int(spot.data()) for spot in spots)
        for spot in spots:
            colours_by_label.setdefault(int(labels[int(spot.data())]), set()).add(spot.brush().color().name())
    assert sorted(placed) == list(range(10000))  # each test digit once
    assert sorted(colours_by_label) == list(range(10))
    assert all(len(colours) == 1 for colours in colours_by_label.values())  # one colour per label ...
    assert len(set().union(*colours_by_label.values())) == 10  # ... and ten different ones
    codes = tab.state.model.encode(to_unit_float(images[:50]))
    np.testing.assert_allclose(panel.map.codes[:50], codes, rtol=1e-5, atol=1e-6)  # each dot is its digit's code


def test_the_star_moves_with_the_drawing_to_its_code(qtbot, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    qtbot.waitUntil(lambda: panel.marker_position() is not None and tab.state.clean.any(), timeout=3000)
    first = panel.marker_position()
    shown_code = tab.state.model.encode(tab.state.shown.noisy.reshape(1, 784))[0]
    np.testing.assert_allclose(first, panel.map.project(shown_code), atol=1e-5)
    draw_stroke(qtbot, tab.canvas, [(40, 60), (250, 80)])
    qtbot.waitUntil(lambda: not np.allclose(panel.marker_position(), first), timeout=3000)
    shown_code = tab.state.model.encode(tab.state.shown.noisy.reshape(1, 784))[0]
    np.testing.assert_allclose(panel.marker_position(), panel.map.project(shown_code), atol=1e-5)


def test_a_click_decodes_the_point_into_the_autoencoder_view(qtbot, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    target = panel.map.points.mean(axis=0) + np.array([0.3, -0.2]) * np.ptp(panel.map.points, axis=0)
    pixel = pixel_of(panel, *target)
    qtbot.mouseClick(panel.plot.viewport(), LEFT, pos=pixel)
    code = panel.map.unproject(map_point_at(panel, pixel))
    assert tab.latent.is_exploring()
    np.testing.assert_allclose(tab.state.shown.code, code, rtol=1e-4, atol=1e-5)
    decoded = tab.state.model.decode(code[None]).reshape(28, 28)
    np.testing.assert_allclose(tab.state.shown.recon, decoded, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tab.result.row.images[2].image(), tab.state.shown.recon)  # shown in the Autoencoder view
    np.testing.assert_allclose(panel.marker_position(), map_point_at(panel, pixel), atol=1e-3)  # the star is there


def move_until(qtbot, panel, pixel: QPoint, done) -> None:
    """Move the pointer to a pixel of the plot until ``done()``: pyqtgraph drops moves that come too fast and
    Qt a move to where the pointer is, so it steps between the pixel and its right neighbour."""
    steps = iter(range(1000))
    qtbot.waitUntil(
        lambda: qtbot.mouseMove(panel.plot.viewport(), pixel + QPoint(next(steps) % 2, 0)) or done(), timeout=3000
    )


def hover(qtbot, panel, pixel: QPoint) -> int:
    """Move the pointer to a pixel of the plot; the index of the test digit the card then shows."""
    panel.hovered = None
    move_until(qtbot, panel, pixel, lambda: panel.hovered is not None)
    return panel.hovered


def test_hovering_a_dot_shows_its_test_digit(qtbot, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    pixel = pixel_of(panel, *panel.map.points[5])
    shown = hover(qtbot, panel, pixel)
    images, labels = read_split("test", progress=False)
    assert np.linalg.norm(panel.map.points[shown] - map_point_at(panel, pixel)) < 0.02 * np.ptp(panel.map.points)
    assert panel.card.isVisible() and panel.card.text.text() == f"#{shown} · a {labels[shown]}"
    viewport = panel.plot.viewport()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, pixel, viewport.mapToGlobal(pixel)))
    assert not QToolTip.isVisible()  # the map's own tooltip stays away while the card shows a dot
    move_until(qtbot, panel, QPoint(2, 2), lambda: not panel.card.isVisible())  # off the dots: the card goes
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, QPoint(2, 2), viewport.mapToGlobal(QPoint(2, 2))))
    assert QToolTip.isVisible() and "Each dot is the code" in QToolTip.text()  # elsewhere it helps
    QToolTip.hideText()


def test_where_dots_of_two_digits_overlap_the_nearest_is_shown(qtbot, tab, real_mnist_dir):
    panel = open_map(qtbot, tab)
    points, labels = panel.map.points, panel.map.labels
    box = panel.plot.getPlotItem().getViewBox()
    per_pixel = abs(box.viewPixelSize()[0])
    for digit, others in ((0, labels > 0), (9, labels < 9)):  # one of each order the items report in
        for index in np.flatnonzero(labels == digit):
            gaps = np.abs(points[others] - points[index]).sum(axis=1)
            if 1.5 * per_pixel < gaps.min() < 3 * per_pixel:  # another digit's dot under the pointer too
                break
        pixel = pixel_of(panel, *points[index])
        shown = hover(qtbot, panel, pixel)
        distances = np.abs(points - map_point_at(panel, pixel)).sum(axis=1)
        assert distances[shown] == pytest.approx(distances.min(), abs=1e-6)


def test_the_strip_between_two_digits_starts_and_ends_at_their_reconstructions(qtbot, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    first, last = panel.map.digits()[0], panel.map.digits()[-1]
    panel.from_box.setCurrentIndex(panel.from_box.findData(first))
    with qtbot.waitSignal(panel.stripChanged, timeout=3000) as changed:
        panel.to_box.setCurrentIndex(panel.to_box.findData(last))
    strip = changed.args[0]
    images, labels = read_split("test", progress=False)
    a, b = panel.map.typical(first), panel.map.typical(last)
    assert labels[a] == first and labels[b] == last
    ends = tab.state.model.predict(to_unit_float(images[[a, b]]))  # their reconstructions
    assert len(strip) == len(panel.strip) == 10
    np.testing.assert_allclose(strip[0], ends[0], atol=1e-5)
    np.testing.assert_allclose(strip[-1], ends[1], atol=1e-5)
    np.testing.assert_allclose(panel.strip[-1].image(), ends[1].reshape(28, 28), atol=1e-5)
    assert not np.allclose(strip[4], ends[0], atol=1e-3) and not np.allclose(strip[4], ends[1], atol=1e-3)
    line_x, _ = panel.path.getData()
    assert len(line_x) == 10  # the line is drawn on the map, a dot per image
    with qtbot.waitSignal(tab.state.shownChanged, timeout=3000):
        qtbot.mouseClick(panel.strip[4], LEFT)  # a step of the strip goes to the Autoencoder view
    np.testing.assert_allclose(tab.state.shown.recon.reshape(784), strip[4], atol=1e-5)


def test_shift_clicking_two_places_interpolates_between_them(qtbot, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    lo, hi = panel.map.points.min(axis=0), panel.map.points.max(axis=0)
    clicks = [pixel_of(panel, *(lo + 0.2 * (hi - lo))), pixel_of(panel, *(lo + 0.8 * (hi - lo)))]
    for pixel in clicks:
        qtbot.mouseClick(panel.plot.viewport(), LEFT, Qt.KeyboardModifier.ShiftModifier, pos=pixel)
    assert not tab.latent.is_exploring()  # Shift+click chooses ends; it decodes nothing above
    np.testing.assert_allclose(panel.strip_codes[0], panel.map.unproject(map_point_at(panel, clicks[0])), atol=1e-5)
    np.testing.assert_allclose(panel.strip_codes[-1], panel.map.unproject(map_point_at(panel, clicks[1])), atol=1e-5)
    assert "Shift+clicked" in panel.from_box.currentText() and "Shift+clicked" in panel.to_box.currentText()


def test_a_models_map_is_built_once_and_a_new_model_gets_its_own(qtbot, tab, tiny_mnist):
    from engine.nn import build_mlp

    panel = open_map(qtbot, tab)
    first_model, first_map = tab.state.model, panel.map
    other = build_mlp([784, 2, 784], ["linear", "sigmoid"], seed=4)
    with qtbot.waitSignal(panel.mapReady, timeout=20000) as ready:
        tab.state.set_model(other)
    assert ready.args[0].width == 2  # a 2-unit code: the map shows the code itself
    np.testing.assert_array_equal(ready.args[0].points, ready.args[0].codes)
    busy = []
    panel.jobs.busyChanged.connect(busy.append)
    with qtbot.waitSignal(panel.mapReady, timeout=5000) as again:
        tab.state.set_model(first_model)
    assert again.args[0] is first_map and busy == []  # from the cache: no job


def test_the_map_restyles_with_the_theme(qtbot, qapp, tab, tiny_mnist):
    panel = open_map(qtbot, tab)
    try:
        apply_theme(qapp, "light")
        assert panel.marker.opts["brush"].color().name() == colors()["text"]
        assert panel.plot.backgroundBrush().color().name() == colors()["base"]
        light_digit = panel.brushes[3].color().name()
        apply_theme(qapp, "dark")
        assert panel.marker.opts["brush"].color().name() == colors()["text"]
        assert panel.brushes[3].color().name() == light_digit  # digit colours stay
    finally:
        apply_theme(qapp, "dark")


def test_every_control_of_the_map_explains_itself(qtbot, tab):
    panel = tab.latent_map
    controls = [panel.plot, panel.from_box, panel.to_box, *panel.digit_boxes, *panel.strip]
    for widget in controls:
        assert widget.toolTip() and widget.statusTip() == widget.toolTip(), widget


def test_the_labels_are_drawn_interleaved_and_a_hidden_label_is_hidden_everywhere(qtbot, tab, real_mnist_dir):
    """Issue 32: the 9s were drawn last, over every other label; now each drawing band mixes all of them."""
    panel = open_map(qtbot, tab)
    labels = panel.map.labels
    drawn = [labels[np.array([int(spot.data()) for spot in item.points()], int)] for item in panel.scatters]
    present = set(labels.tolist())
    assert set(drawn[-1].tolist()) == present  # the band drawn last (on top) holds every label
    assert all(len(set(band.tolist())) > 1 for band in drawn)  # no band is one label
    assert sorted(np.concatenate(drawn).tolist()) == sorted(labels.tolist())  # each dot once
    hidden = int(labels[0])
    panel.digit_boxes[hidden].setChecked(False)
    for item in panel.scatters:
        visible = item.data["visible"]
        of_label = labels[np.array([int(spot.data()) for spot in item.points()], int)] == hidden
        assert not visible[of_label].any() and visible[~of_label].all()
    panel.digit_boxes[hidden].setChecked(True)
    assert all(item.data["visible"].all() for item in panel.scatters)


def test_drawing_after_a_map_click_leaves_latent_explorer_on_every_view(qtbot, tab, tiny_mnist):
    """Issue 32: a new drawing left Latent explorer on ("your code, decoded", no MSE) and Inside the network showed
    the drawing as input but the decoded point as output."""
    from tests.gui.denoise.test_denoise_tab import draw_stroke

    panel = open_map(qtbot, tab)
    qtbot.mouseClick(panel.plot.viewport(), LEFT, pos=pixel_of(panel, *panel.map.points.mean(axis=0)))
    assert tab.latent.is_exploring() and tab.result.row.captions[2].text() == "your code, decoded"
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    tab.inputs.take_drawing()
    assert not tab.latent.is_exploring() and not tab.latent.explorer_box.isChecked()
    assert tab.result.row.captions[2].text().startswith("MSE ")
    own = tab.state.model.predict(tab.state.shown.noisy.reshape(1, 784)).reshape(28, 28)
    np.testing.assert_allclose(tab.state.shown.recon, own, rtol=1e-6)
    np.testing.assert_array_equal(tab.inside.view.values[-1].reshape(28, 28), tab.state.shown.recon)
