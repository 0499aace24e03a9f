"""Denoise ▸ Inside the network: every layer live, and perturbations that never touch the model unless applied."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.nn import build_mlp
from engine.perturb import Perturbation, perturb, perturbation_curve
from engine.training import TrainConfig
from tests.gui.denoise.test_denoise_tab import draw_stroke

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def deep_model():
    return build_mlp([784, 48, 8, 48, 784], ["relu", "relu", "relu", "sigmoid"], seed=4)


@pytest.fixture
def tab(window, deep_model):
    window.state.set_model(deep_model, name="deep")
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def open_inside(qtbot, tab):
    """Show the page and wait for its perturbations (prepared off the GUI thread once the page is shown)."""
    panel = tab.inside.perturb
    if panel.is_ready():
        tab.panels.setCurrentWidget(tab.inside)
    else:
        with qtbot.waitSignal(panel.ready, timeout=10000):
            tab.panels.setCurrentWidget(tab.inside)
    return panel


def click_unit(qtbot, tab, layer, unit):
    view = tab.inside.view
    point = view.unit_centre(layer, unit)
    qtbot.mouseClick(view, LEFT, pos=QPoint(int(point.x()), int(point.y())))


def test_the_view_shows_every_layer_of_the_model_for_the_drawing(qtbot, tab, deep_model):
    open_inside(qtbot, tab)
    view = tab.inside.view
    assert [t.role for t in view.tiles] == ["input", "encoder", "code", "decoder", "output"]
    assert [t.width for t in view.tiles] == [784, 48, 8, 48, 784]
    assert (view.tiles[1].rows, view.tiles[1].cols) == (7, 7) and view.tiles[2].kind == "strip"  # none cut
    tab.inputs.take_drawing()
    before = [v.copy() for v in view.values]
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    tab.inputs.take_drawing()
    expected = deep_model.activations(tab.state.shown.noisy.reshape(1, 784))
    assert len(view.values) == 4
    for shown, layer, old in zip(view.values, expected, before, strict=True):
        np.testing.assert_array_equal(shown, layer[0])
        assert not np.array_equal(shown, old)  # the drawing changed every layer
    np.testing.assert_array_equal(view.image, tab.state.shown.noisy.reshape(784))
    np.testing.assert_array_equal(view.values[-1].reshape(28, 28), tab.state.shown.recon)


def test_switching_off_the_strongest_code_unit_changes_the_reconstruction_not_the_model(qtbot, window, tab):
    panel = open_inside(qtbot, tab)
    draw_stroke(qtbot, tab.canvas, [(100, 60), (180, 60), (140, 240)])
    tab.inputs.take_drawing()
    model, params = tab.state.model, tab.state.model.params.copy()
    strongest = int(np.argmax(tab.state.shown.code))
    assert tab.state.shown.code[strongest] > 0
    recon = tab.state.shown.recon.copy()
    click_unit(qtbot, tab, 1, strongest)  # the code is layer 1's output
    assert panel.plan.off == ((1, strongest),)
    assert tab.state.shown.code[strongest] == 0  # the code shown is the perturbed network's
    assert not np.allclose(tab.state.shown.recon, recon)
    assert "perturbed" in tab.result.row.captions[2].text()
    np.testing.assert_array_equal(model.params, params)  # the model itself is untouched
    assert window.state.model is model and not window.state.dirty
    expected = perturb(model, panel.plan).predict(tab.state.shown.noisy.reshape(1, 784))
    np.testing.assert_array_equal(tab.state.shown.recon.reshape(1, 784), expected)
    click_unit(qtbot, tab, 1, strongest)  # and on again
    np.testing.assert_array_equal(tab.state.shown.recon, recon)


def test_the_list_offers_the_codes_most_active_unit(qtbot, tab):
    panel = open_inside(qtbot, tab)
    draw_stroke(qtbot, tab.canvas, [(60, 60), (220, 220)])
    tab.inputs.take_drawing()
    strongest = int(np.argmax(tab.state.shown.code))
    index = panel.unit_box.findData("strongest")
    panel.unit_box.activated.emit(index)  # what choosing the entry does
    assert panel.plan.off == ((1, strongest),)
    entries = [panel.unit_box.itemData(i) for i in range(panel.unit_box.count())]
    marked = [panel.unit_box.itemData(i) for i in range(panel.unit_box.count()) if panel.unit_box.itemText(i)[0] == "✕"]
    assert marked == [(1, strongest)] and "(1 off)" in panel.unit_box.itemText(0)
    assert (0, 47) in entries and (2, 0) in entries and not [e for e in entries if e and e[0] == 3]  # hidden only


def test_reset_gives_back_the_exact_reconstruction_and_leaving_the_page_shows_the_model(qtbot, tab):
    panel = open_inside(qtbot, tab)
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    tab.inputs.take_drawing()
    recon = tab.state.shown.recon.copy()
    panel.noise_slider.setValue(60)
    panel.prune_slider.setValue(40)
    perturbed = tab.state.shown.recon.copy()
    assert not np.array_equal(perturbed, recon)
    tab.panels.setCurrentIndex(0)  # another page: the model as it is
    np.testing.assert_array_equal(tab.state.shown.recon, recon)
    tab.panels.setCurrentWidget(tab.inside)
    np.testing.assert_array_equal(tab.state.shown.recon, perturbed)
    qtbot.mouseClick(panel.reset_button, LEFT)
    assert panel.plan.is_identity() and panel.noise_slider.value() == 0 and panel.prune_slider.value() == 0
    np.testing.assert_array_equal(tab.state.shown.recon, recon)
    assert panel.network() is tab.state.model


def test_applying_makes_the_perturbed_copy_the_model_and_marks_it_unsaved(qtbot, window, tab, deep_model):
    panel = open_inside(qtbot, tab)
    assert not panel.apply_button.isEnabled()  # nothing to apply yet
    tab.state.model.metadata["training"] = asdict(TrainConfig(noise=0.3))  # it was trained at σ 0.3 ...
    tab.noise.slider.setValue(55)  # ... and the user looks at it at 0.55
    panel.prune_slider.setValue(50)
    panel.scope_box.setCurrentIndex(panel.scope_box.findData("network"))
    expected = perturb(deep_model, Perturbation(prune=0.5, scope="network")).params
    with qtbot.waitSignal(panel.ready, timeout=10000):  # the new model's perturbations get prepared
        qtbot.mouseClick(panel.apply_button, LEFT)
    assert window.state.dirty and window.windowTitle().startswith("deep *")
    assert window.state.model is not deep_model
    np.testing.assert_array_equal(window.state.model.params, expected)
    assert window.state.model.metadata["perturbation"]["prune"] == 0.5
    assert window.training_tab.model is window.state.model  # the other tabs have it too
    assert panel.plan.is_identity()  # the new model, as it is
    assert tab.noise.slider.value() == 55  # and shown at the σ the user was looking at


def test_the_curve_scores_all_test_images_along_the_knob_last_moved(qtbot, tab, tiny_mnist):
    from engine.dataset import read_split

    panel = open_inside(qtbot, tab)
    with qtbot.waitSignal(panel.curve_view.curveReady, timeout=20000) as ready:
        pass  # computed once the page is shown
    curve = ready.args[0]
    test = read_split("test", progress=False)[0]
    assert curve.knob == "noise"
    expected = perturbation_curve(tab.state.model, Perturbation(), "noise", test, tab.state.level).mse
    np.testing.assert_array_equal(curve.mse, expected)
    with qtbot.waitSignal(panel.curve_view.curveReady, timeout=20000) as ready:
        panel.prune_slider.setValue(30)
    curve = ready.args[0]
    assert curve.knob == "prune" and len(panel.curve_view.curve_item.getData()[0]) == len(curve.strengths)
    assert panel.curve_view.now_line.value() == pytest.approx(30) and panel.curve_view.now_line.isVisible()
    expected = perturbation_curve(tab.state.model, Perturbation(), "prune", test, tab.state.level).mse
    np.testing.assert_array_equal(curve.mse, expected)  # along pruning, from no pruning to all of it


def test_the_status_bar_scores_the_perturbed_network(qtbot, window, tab, tiny_mnist):
    from engine.dataset import read_split

    panel = open_inside(qtbot, tab)
    with qtbot.waitSignal(tab.score.scoreChanged, timeout=10000, check_params_cb=lambda t: "perturbed" in t):
        panel.noise_slider.setValue(80)
    net = perturb(tab.state.model, panel.plan)
    expected = net.evaluate(read_split("test", progress=False)[0], tab.state.level)["mse"]
    assert window.status_mse.text() == f"test MSE {expected:.4f} at σ {tab.state.level:.2f} (perturbed network)"


def test_hovering_a_unit_names_it_and_its_value(qtbot, tab):
    open_inside(qtbot, tab)
    tab.inputs.take_drawing()
    view = tab.inside.view
    text = view.describe_at(view.unit_centre(1, 5))
    assert text.startswith("code (bottleneck) (layer 2, ReLU), unit 5:")
    assert f"{float(tab.state.shown.code[5]):.3f}" in text and "click to switch it off" in text


def test_every_control_and_view_of_the_new_panels_explains_itself(window):
    import pyqtgraph as pg
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSlider,
        QAbstractSpinBox,
        QComboBox,
        QGraphicsView,
        QScrollBar,
    )

    from gui.denoise.layer_view import LayerView

    kinds = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QGraphicsView, LayerView)
    for panel in (window.denoise_tab.inside, window.training_tab.histograms):
        widgets = [w for w in panel.findChildren(object) if isinstance(w, kinds)]
        assert len(widgets) >= (9 if panel is window.denoise_tab.inside else 1)
        for widget in widgets:
            if isinstance(widget, QScrollBar):
                continue  # a scroll area's own bar
            name = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}"
            assert widget.toolTip() and widget.statusTip(), name
    assert isinstance(window.denoise_tab.inside.perturb.curve_view.plot, pg.PlotWidget)


def test_the_curve_follows_the_noise_kind_of_the_denoise_tab(qtbot, tab, tiny_mnist):
    from engine.dataset import read_split

    panel = open_inside(qtbot, tab)
    masking = {"timeout": 20000, "check_params_cb": lambda c: c.kind == "masking"}
    with qtbot.waitSignal(panel.curve_view.curveReady, **masking) as ready:
        tab.noise.kind_box.set_kind("masking")
    curve = ready.args[0]
    test = read_split("test", progress=False)[0]
    expected = perturbation_curve(tab.state.model, Perturbation(), "noise", test, tab.state.level, kind="masking")
    np.testing.assert_array_equal(curve.mse, expected.mse)
    assert "masking" in panel.curve_view.plot.getAxis("bottom").labelText


def test_reset_shows_the_models_score_at_once(qtbot, window, tab, tiny_mnist):
    """Issue 32: after Reset the status bar kept the perturbed network's score until the model's came again."""
    panel = open_inside(qtbot, tab)
    qtbot.waitUntil(lambda: window.status_mse.text().startswith("test MSE 0."), timeout=10000)  # the model's, once
    models_score = window.status_mse.text()
    with qtbot.waitSignal(tab.score.scoreChanged, timeout=10000, check_params_cb=lambda t: "perturbed" in t):
        panel.noise_slider.setValue(80)
    assert window.status_mse.text() != models_score
    qtbot.mouseClick(panel.reset_button, LEFT)
    assert window.status_mse.text() == models_score  # at once: no job, no "…"


def test_after_apply_the_summary_names_the_perturbation_the_model_carries(qtbot, window, tab):
    """Issue 32: after *Apply to model* the caption said "no perturbation: the network as trained"."""
    panel = open_inside(qtbot, tab)
    panel.noise_slider.setValue(30)
    with qtbot.waitSignal(panel.ready, timeout=10000):
        qtbot.mouseClick(panel.apply_button, LEFT)
    text = panel.summary.text()
    assert "as trained" not in text and "itself a perturbed network" in text and "weight noise 0.30" in text
    panel.prune_slider.setValue(20)
    assert panel.summary.text().startswith("20 % of weights pruned")  # a new perturbation of the applied model
