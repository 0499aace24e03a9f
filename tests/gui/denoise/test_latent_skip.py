"""The latent code, Latent explorer and the latent map for the gated default model (a 1,024-unit code, a skip path):
the bars show the most active units and say so, editing a bar sets its unit, and the app says what the code means."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nn import MLP
from tests.gui.denoise.test_denoise_tab import draw_stroke
from tests.gui.denoise.test_latent_map import open_map

GATED = "mnist_denoising_autoencoder_gated"


@pytest.fixture(scope="module")
def shipped_gated():
    return MLP.from_file(GATED)


@pytest.fixture
def tab(window, shipped_gated, tiny_mnist):  # the code's axis and the map from a few test images: quick
    window.state.set_model(shipped_gated, name=GATED)
    window.tabs.setCurrentWidget(window.denoise_tab)
    tab = window.denoise_tab
    return tab


def test_the_gated_models_wide_code_shows_its_most_active_units_and_says_what_the_code_means(qtbot, tab):
    draw_stroke(qtbot, tab.canvas, [(100, 60), (180, 60), (140, 240)])
    tab.inputs.take_drawing()
    latent = tab.latent
    code = tab.state.shown.code
    assert code.size == tab.state.model.latent_width == 1024
    strongest = set(np.argsort(-np.abs(code), kind="stable")[:64].tolist())
    assert set(latent.units.tolist()) == strongest and list(latent.units) == sorted(latent.units)
    np.testing.assert_array_equal(latent.bars.values, code[latent.units])
    assert "the 64 most active of 1,024" in latent.bars.getAxis("bottom").labelText  # the axis says what it shows
    note = latent.note.text()
    assert latent.note.isVisibleTo(latent)
    assert "not everything the output is made from" in note and "gate" in note
    assert not latent.sliders  # no slider per unit for a wide code


def test_dragging_a_bar_of_a_wide_code_sets_that_unit_and_the_bars_stay_put(qtbot, tab, shipped_gated):
    draw_stroke(qtbot, tab.canvas, [(100, 60), (180, 60), (140, 240)])
    tab.inputs.take_drawing()
    latent = tab.latent
    code, units = tab.state.shown.code.copy(), latent.units.copy()
    latent.explorer_box.setChecked(True)
    lo, _ = latent.bars.y_range
    target = lo  # silenced: no longer among the most active, yet its bar stays while exploring
    latent.bars.edit_at(3.0, target)  # the fourth bar: unit units[3]
    explored = tab.state.explored_code
    assert explored[units[3]] == pytest.approx(target)
    others = np.arange(code.size) != units[3]
    np.testing.assert_array_equal(explored[others], code[others])
    np.testing.assert_array_equal(latent.units, units)  # the bars did not jump to other units
    np.testing.assert_allclose(tab.state.shown.recon.reshape(1, 784), shipped_gated.decode(explored), rtol=1e-5)
    assert "no input passes" in tab.inside.skip_note.text()


def test_a_narrow_plain_model_shows_every_unit_and_no_note(qtbot, window, small_model):
    window.state.set_model(small_model, name="small")
    window.tabs.setCurrentWidget(window.denoise_tab)
    latent = window.denoise_tab.latent
    assert latent.units is None and not latent.note.isVisibleTo(latent)
    assert latent.bars.getAxis("bottom").labelText == "latent unit"
    np.testing.assert_array_equal(latent.bars.values, window.denoise_tab.state.shown.code)


def test_the_gated_models_map_says_a_point_decodes_to_the_networks_own_image(qtbot, tab, shipped_gated):
    panel = open_map(qtbot, tab)
    assert panel.map.width == 1024
    assert "skip path" in panel.note.text() and "from the code alone" in panel.note.text()
    x, y = map(float, panel.map.points[0])
    panel.click_at(x, y)
    code = tab.state.explored_code
    np.testing.assert_allclose(code, panel.map.unproject(np.array([x, y])), rtol=1e-6)
    np.testing.assert_allclose(tab.state.shown.recon.reshape(1, 784), shipped_gated.decode(code), rtol=1e-5)
    assert panel.strip_codes is not None


def test_the_line_under_the_bars_gives_way_when_the_panel_is_short_and_never_covers_them(qtbot, window, tab):
    latent = tab.latent
    window.resize(1280, 800)
    tab.panels.setCurrentIndex(0)
    tab.splitter.setSizes([3000, 5000])  # the pages get room: the line shows under the bars
    qtbot.waitUntil(lambda: latent.note.isVisible())
    assert latent.note.geometry().top() >= latent.bars.geometry().bottom()
    tab.splitter.setSizes([9000, 1])  # the pages squeezed: the line gives way, the bars keep their height
    qtbot.waitUntil(lambda: not latent.note.isVisible())
    assert "not everything the output is made from" in latent.bars.toolTip()  # still said, on hover

