"""Denoise ▸ Inside the network for a model with a skip path: the network's own image, the gate and the output,
in words; perturbations of a gated model; a code explored (no input passes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.nn import build_mlp
from engine.perturb import Perturbation, perturb
from tests.gui.denoise.test_denoise_tab import draw_stroke
from tests.gui.denoise.test_inside_panel import open_inside

LEFT = Qt.MouseButton.LeftButton


def moved(model):
    """The model with its weights moved off their start, so the gate is not 1/2 everywhere."""
    rng = np.random.default_rng(3)
    model.params += rng.standard_normal(model.params.size).astype(np.float32) * np.float32(0.08)
    return model


@pytest.fixture
def gated():
    return moved(build_mlp([784, 24, 784], ["relu", "sigmoid"], seed=5, skip="gate"))


def show(qtbot, window, model, name):
    window.state.set_model(model, name=name)
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    open_inside(qtbot, tab)
    draw_stroke(qtbot, tab.canvas, [(100, 60), (180, 60), (140, 240)])
    tab.inputs.take_drawing()
    return tab


def tile(view, role):
    return next(t for t in view.tiles if t.role == role)


def pixel_of(view, role, row, col) -> int:
    """The grey level drawn at pixel (row, col) of an image tile."""
    rect = tile(view, role).rect
    x = int(rect.left() + (col + 0.5) * rect.width() / 28)
    y = int(rect.top() + (row + 0.5) * rect.height() / 28)
    return view.grab().toImage().pixelColor(QPoint(x, y)).red()


def test_a_gated_model_shows_its_own_image_the_gate_and_the_output_in_words(qtbot, window, gated):
    tab = show(qtbot, window, gated, "gated")
    view = tab.inside.view
    assert [t.role for t in view.tiles] == ["input", "code", "network", "gate", "output"]
    parts = gated.skip_parts(tab.state.shown.noisy.reshape(1, 784))
    np.testing.assert_array_equal(view.image_of("gate"), parts["gate"][0])
    np.testing.assert_array_equal(view.image_of("network"), parts["network"][0])
    np.testing.assert_array_equal(view.image_of("output"), tab.state.shown.recon.reshape(784))
    gate = parts["gate"][0].reshape(28, 28)
    for row, col in ((14, 14), (2, 3), (20, 9)):  # the gate is drawn as it is: white 1, black 0
        assert abs(pixel_of(view, "gate", row, col) - gate[row, col] * 255) <= 2
    note = tab.inside.skip_note
    assert note.isVisibleTo(tab.inside) and "white: the input passes through" in note.text()
    assert "dark: the network draws its own" in note.text()
    rect = tile(view, "gate").rect
    assert "input passes through" in view.describe_at(rect.center())
    view.unitClicked.connect(lambda *unit: pytest.fail(f"the gate is not a unit to switch off: {unit}"))
    qtbot.mouseClick(view, LEFT, pos=rect.center().toPoint())


def test_a_plain_model_has_no_gate_and_no_note(qtbot, window):
    tab = show(qtbot, window, build_mlp([784, 24, 784], ["relu", "sigmoid"], seed=5), "plain")
    assert [t.role for t in tab.inside.view.tiles] == ["input", "code", "output"]
    assert not tab.inside.skip_note.isVisibleTo(tab.inside)


def test_a_residual_model_shows_the_correction_it_adds(qtbot, window):
    model = moved(build_mlp([784, 24, 784], ["relu", "linear"], seed=5, skip="residual"))
    tab = show(qtbot, window, model, "residual")
    view = tab.inside.view
    assert [t.role for t in view.tiles] == ["input", "code", "network", "output"]
    parts = model.skip_parts(tab.state.shown.noisy.reshape(1, 784))
    np.testing.assert_array_equal(view.image_of("network"), parts["network"][0])
    assert parts["network"][0].min() < 0  # a correction, signed
    assert "added to the input" in tab.inside.skip_note.text()


def test_perturbing_a_gated_model_changes_its_gate_and_applying_keeps_the_skip(qtbot, window, gated):
    tab = show(qtbot, window, gated, "gated")
    panel = tab.inside.perturb
    params = gated.params.copy()
    gate_before = tab.state.shown.skip["gate"].copy()
    panel.prune_slider.setValue(60)
    expected = perturb(gated, Perturbation(prune=0.6))
    shown = tab.state.shown
    np.testing.assert_array_equal(shown.skip["gate"], expected.skip_parts(shown.noisy.reshape(1, 784))["gate"][0])
    assert not np.array_equal(shown.skip["gate"], gate_before)
    np.testing.assert_array_equal(tab.inside.view.image_of("gate"), shown.skip["gate"])
    np.testing.assert_array_equal(gated.params, params)  # the model itself untouched
    with qtbot.waitSignal(panel.ready, timeout=10000):
        qtbot.mouseClick(panel.apply_button, LEFT)
    applied = window.state.model
    assert applied is not gated and applied.skip is not None and applied.skip.kind == "gate"
    np.testing.assert_array_equal(applied.params, expected.params)


def test_exploring_a_code_shows_the_networks_image_alone_and_says_why(qtbot, window, gated):
    tab = show(qtbot, window, gated, "gated")
    view = tab.inside.view
    code = tab.state.shown.code.copy()
    code[0] += 2.0
    tab.state.explore_code(code)
    assert view.image_of("gate") is None and view.image_of("output") is None
    np.testing.assert_array_equal(view.image_of("network"), tab.state.shown.recon.reshape(784))
    np.testing.assert_allclose(tab.state.shown.recon.reshape(1, 784), gated.decode(code), rtol=1e-6)
    assert "no input passes" in tab.inside.skip_note.text()
    tab.state.explore_code(None)
    assert view.image_of("gate") is not None and "no input passes" not in tab.inside.skip_note.text()
