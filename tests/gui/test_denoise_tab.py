"""Denoise tab: drawing → centred 28×28 → noise → reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.idx import read_idx
from engine.images import to_unit_float
from engine.preprocess import center_of_mass, ink_bbox

LEFT = Qt.MouseButton.LeftButton


def draw_stroke(qtbot, canvas, points):
    """Press at the first point, move through the rest, release at the last (always released)."""
    qtbot.mousePress(canvas, LEFT, pos=QPoint(*points[0]))
    try:
        for p in points[1:]:
            qtbot.mouseMove(canvas, QPoint(*p))
    finally:
        qtbot.mouseRelease(canvas, LEFT, pos=QPoint(*points[-1]))


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def test_drawing_puts_ink_where_drawn_and_centres_it(qtbot, tab):
    canvas = tab.canvas
    draw_stroke(qtbot, canvas, [(60, 40), (60, 100), (60, 160), (60, 220)])  # a vertical bar at the left
    ink = canvas.ink()
    assert ink[100:160, 50:70].mean() > 0.9  # under the stroke
    assert ink[:, 150:].max() == 0  # nothing far away from it
    tab.refresh()
    clean = tab.clean
    assert clean.shape == (28, 28)
    top, bottom, left, right = ink_bbox(clean)
    assert bottom - top == 20 and right - left < 8  # a tall narrow bar, as drawn
    com_r, com_c = center_of_mass(clean)
    assert abs(com_r - 13.5) <= 0.5 and abs(com_c - 13.5) <= 0.5
    np.testing.assert_array_equal(tab.input_view.image(), clean)


def test_clear_empties_and_undo_restores(qtbot, tab):
    draw_stroke(qtbot, tab.canvas, [(100, 100), (180, 180)])
    qtbot.mouseClick(tab.clear_button, LEFT)
    tab.refresh()
    assert tab.canvas.is_empty()
    assert not tab.clean.any()
    qtbot.mouseClick(tab.undo_button, LEFT)
    tab.refresh()
    assert tab.clean.any()


def test_ctrl_z_undoes_the_last_stroke(qtbot, window, tab):
    draw_stroke(qtbot, tab.canvas, [(60, 60), (60, 200)])
    first = tab.canvas.ink().copy()
    draw_stroke(qtbot, tab.canvas, [(200, 60), (200, 200)])
    window.activateWindow()
    tab.canvas.setFocus()
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(tab.canvas.ink(), first)


def test_right_click_clears(qtbot, tab):
    draw_stroke(qtbot, tab.canvas, [(100, 100), (150, 200)])
    qtbot.mouseClick(tab.canvas, Qt.MouseButton.RightButton, pos=QPoint(10, 10))
    assert tab.canvas.is_empty()


def test_reconstruction_changes_after_drawing(qtbot, tab):
    tab.refresh()
    before = tab.recon.copy()
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    qtbot.waitUntil(lambda: not np.array_equal(tab.recon, before), timeout=2000)  # the 15 ms redraw timer
    assert tab.recon.shape == (28, 28)
    assert tab.errors["model"] >= 0


def test_noise_slider_scales_one_fixed_pattern(qtbot, tab):
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    tab.noise_slider.setValue(0)
    np.testing.assert_array_equal(tab.noisy, tab.clean)
    tab.noise_slider.setValue(20)
    first = tab.noisy.copy()
    tab.noise_slider.setValue(40)
    tab.noise_slider.setValue(20)
    np.testing.assert_array_equal(tab.noisy, first)  # same pattern when σ comes back
    tab.new_noise()
    assert not np.array_equal(tab.noisy, first)


def test_test_digits_load_lazily_from_the_data_folder(qtbot, tab, tiny_mnist):
    tab.show_test_digit(3)
    images = read_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_allclose(tab.clean, to_unit_float(images[3]))
    tab.show_test_digit(tab.test_index + 1)
    np.testing.assert_allclose(tab.clean, to_unit_float(images[4]))
    tab.random_test_digit()
    assert 0 <= tab.test_index < len(images)


def test_missing_data_shows_a_dialog(qtbot, tab, monkeypatch, tmp_path, dialogs_shown):
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "nowhere"))
    tab.random_test_digit()
    assert dialogs_shown and "MNIST" in dialogs_shown[-1]
    assert tab.source == "drawing"


def test_latent_explorer_decodes_the_edited_vector(qtbot, tab):
    tab.explorer_box.setChecked(True)
    assert len(tab.sliders) == tab.model.latent_width == 16
    lo, hi = tab.bars.y_range
    target = lo + 0.7 * (hi - lo)
    tab.bars.edit_at(2.0, target)
    assert tab.code[2] == pytest.approx(target)
    expected = tab.model.decode(tab.code[None, :]).reshape(28, 28)
    np.testing.assert_allclose(tab.recon, expected)
    tab.sliders[5].setValue(tab.sliders[5].maximum())
    assert tab.code[5] == pytest.approx(hi)


def test_pca_comparison_reports_both_errors(qtbot, tab, tiny_mnist):
    tab.show_test_digit(0)
    tab.compare_box.setChecked(True)
    assert tab.row.images[3].isVisible()
    assert {"model", "pca", "noisy"} <= set(tab.errors)
    assert "MSE" in tab.row.captions[3].text()


def test_a_model_of_another_latent_width_ends_explorer_mode_cleanly(qtbot, tab, tiny_mnist):
    from engine.metrics import mse
    from engine.nn import build_mlp

    tab.show_test_digit(0)
    tab.explorer_box.setChecked(True)
    wider = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=3)
    tab.set_model(wider)  # decoding the old 16-value code with this model would raise
    assert not tab.explorer_box.isChecked()
    assert tab.code.shape == (32,)
    expected = wider.predict(tab.noisy.reshape(1, 784)).reshape(28, 28)
    np.testing.assert_allclose(tab.recon, expected, rtol=1e-6)
    assert tab.errors["model"] == pytest.approx(mse(expected, tab.clean))
