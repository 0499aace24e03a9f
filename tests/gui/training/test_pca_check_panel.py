"""The PCA check: the Architecture preset, and the Training tab's panel that follows a linear model epoch by epoch."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dataset import read_split
from engine.nn import build_mlp
from engine.pca_check import decoder_cosines, decoder_matrix, describe, pca_check, pca_reference
from gui.common.theme import apply_theme, colors

TIMEOUT = 30000


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.training_tab)
    return window.training_tab


def choose_preset(editor, name: str) -> None:
    index = editor.presets.findText(name)
    assert index > 0, name
    editor.presets.setCurrentIndex(index)
    editor.presets.activated.emit(index)  # what a user's choice sends


def test_the_linear_preset_builds_a_linear_784_10_784_and_the_form_takes_the_pca_settings(qtbot, window):
    editor = window.architecture_tab.editor
    choose_preset(editor, "Linear 784-k-784 (PCA check)")
    assert editor.layers() == ([784, 10, 784], ["linear", "linear"])
    window.state.dirty = False
    editor.new_button.click()
    model, form = window.state.model, window.training_tab.form
    assert [layer.activation.key for layer in model.layers] == ["linear", "linear"] and model.latent_width == 10
    assert window.tabs.currentWidget() is window.training_tab
    assert (form.noise.value(), form.epochs.value(), form.batch_size.value()) == (0.0, 10, 128)
    assert form.optimizer.currentText() == "adam" and form.lr.value() == pytest.approx(1e-3)
    assert "untrained" in form.model_label.text()
    assert window.training_tab.pca_check.isVisibleTo(window)
    choose_preset(editor, "Walkthrough 784-10-784 (ReLU, Sigmoid)")  # another preset: no PCA settings, no panel
    window.state.dirty = False
    editor.new_button.click()
    assert not window.training_tab.pca_check.isVisibleTo(window)


def test_the_panel_is_there_for_a_linear_decoder_only(qtbot, window, tab, tiny_mnist):
    panel = tab.pca_check
    assert not panel.isVisibleTo(window)  # the window's model: ReLU / Sigmoid
    linear = build_mlp([784, 6, 784], ["linear", "linear"], seed=0)
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT) as checked:
        window.state.set_model(linear, name="linear")
    assert panel.isVisibleTo(window)
    train, test = read_split("train", progress=False)[0], read_split("test", progress=False)[0]
    expected = pca_check(linear, train, test)
    np.testing.assert_allclose(checked.args[0].cosines, expected.cosines)
    np.testing.assert_allclose(panel.bars.opts["height"], expected.cosines)
    assert panel.model_mse.text() == f"{expected.model_mse:.5f}" and panel.pca_mse.text() == f"{expected.pca_mse:.5f}"
    assert panel.sentence.text() == describe(expected)
    window.state.set_model(build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=0), name="nonlinear")
    assert not panel.isVisibleTo(window)


def test_a_run_shows_the_cosines_epoch_by_epoch_then_both_errors(qtbot, window, tab, tiny_mnist):
    panel = tab.pca_check
    start = build_mlp([784, 5, 784], ["linear", "linear"], seed=2)
    initial = start.copy()
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT):
        window.state.set_model(start, name="linear")
    tab.form.epochs.setValue(3)
    tab.form.batch_size.setValue(16)
    tab.form.noise.setValue(0.0)
    tab.form.train_size.setValue(48)
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT) as checked:
        tab.start_button.click()
    trained = window.state.model
    assert trained is not start and panel.model is trained
    train, test = read_split("train", progress=False)[0][:48], read_split("test", progress=False)[0]
    reference = pca_reference(train, 5)
    qtbot.waitUntil(lambda: panel.cosines is not None and len(panel.cosines) == 4, timeout=TIMEOUT)
    assert panel.epochs == [0.0, 1.0, 2.0, 3.0]  # before training, then after each epoch
    np.testing.assert_allclose(panel.cosines[0], decoder_cosines(decoder_matrix(initial), reference), atol=1e-6)
    np.testing.assert_allclose(panel.cosines[-1], decoder_cosines(decoder_matrix(trained), reference), atol=1e-6)
    x, y = panel.last_line.getData()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    np.testing.assert_allclose(y, panel.cosines[:, -1])  # the smallest cosine, epoch by epoch
    assert len(panel.other_lines) == 4 and all(len(line.getData()[0]) == 4 for line in panel.other_lines)
    final = pca_check(trained, train, test)  # PCA of the images the run trained on
    np.testing.assert_allclose(checked.args[0].cosines, final.cosines)
    assert panel.model_mse.text() == f"{final.model_mse:.5f}" and panel.pca_mse.text() == f"{final.pca_mse:.5f}"
    assert "PCA-5" in panel.pca_name.text()
    assert panel.sentence.text() == describe(final)
    assert "direction 5" in panel.gap_note.text() and "direction 6" in panel.gap_note.text()


def test_a_new_run_starts_its_lines_afresh(qtbot, window, tab, tiny_mnist):
    panel = tab.pca_check
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT):
        window.state.set_model(build_mlp([784, 4, 784], ["linear", "linear"], seed=1), name="linear")
    tab.form.epochs.setValue(2)
    tab.form.train_size.setValue(32)
    for _ in range(2):
        with qtbot.waitSignal(panel.checked, timeout=TIMEOUT):
            tab.start_button.click()
        qtbot.waitUntil(lambda: panel.cosines is not None and len(panel.cosines) == 3, timeout=TIMEOUT)
        assert panel.epochs == [0.0, 1.0, 2.0]


def test_the_panel_restyles_with_the_theme(qtbot, qapp, window, tab, tiny_mnist):
    panel = tab.pca_check
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT):
        window.state.set_model(build_mlp([784, 4, 784], ["linear", "linear"], seed=1), name="linear")
    try:
        for theme in ("light", "dark"):
            apply_theme(qapp, theme)
            assert panel.last_line.opts["pen"].color().name() == colors()["latent"]
            assert panel.bars_plot.backgroundBrush().color().name() == colors()["base"]
    finally:
        apply_theme(qapp, "dark")


def test_every_part_of_the_panel_and_the_preset_box_explains_itself(window, tab):
    panel = tab.pca_check
    presets = window.architecture_tab.editor.presets
    for widget in (panel.bars_plot, panel.lines_plot, panel.model_mse, panel.pca_mse, presets):
        assert widget.toolTip() and widget.statusTip() == widget.toolTip()


def test_the_cosines_show_while_the_run_is_still_going(qtbot, window, tab, tiny_mnist, hold_run):
    panel = tab.pca_check
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT):
        window.state.set_model(build_mlp([784, 4, 784], ["linear", "linear"], seed=1), name="linear")
    tab.form.epochs.setValue(5)
    tab.form.train_size.setValue(32)
    hold = hold_run(1)  # the run waits at the end of its second epoch until the test lets it go
    with qtbot.waitSignal(panel.epochsShown, timeout=TIMEOUT, check_params_cb=lambda shown: shown == 3):
        tab.start_button.click()  # the start and two epochs: all the run can send while it is held
    assert tab.is_running() and panel.progress_note.text().startswith("After epoch 2:")
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
        hold.release()


def test_the_plots_are_made_when_the_panel_is_first_shown_and_show_what_came_before(qtbot, window, tiny_mnist):
    import pyqtgraph as pg

    window.tabs.setCurrentWidget(window.denoise_tab)  # the Training tab hidden
    panel = window.training_tab.pca_check
    assert not panel.findChildren(pg.PlotWidget)  # hidden for the window's model, and not made
    linear = build_mlp([784, 6, 784], ["linear", "linear"], seed=0)
    with qtbot.waitSignal(panel.checked, timeout=TIMEOUT) as checked:
        window.state.set_model(linear, name="linear")
    assert not panel.findChildren(pg.PlotWidget)  # checked while off screen: still not made
    window.tabs.setCurrentWidget(window.training_tab)
    assert len(panel.findChildren(pg.PlotWidget)) == 2 and panel.bars_plot.isVisible()
    np.testing.assert_allclose(panel.bars.opts["height"], checked.args[0].cosines)
