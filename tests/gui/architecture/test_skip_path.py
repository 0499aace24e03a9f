"""The Architecture tab shows a model's skip path (the arc, the table's row) and makes models with one, which the
Training tab then trains with the skip kept."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from engine.nn import build_mlp
from gui.common.theme import colors


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.architecture_tab)  # the tab shows a model once visible
    return window.architecture_tab


def gated():
    return build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=2, skip="gate")


def table_rows(table) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
            for r in range(table.rowCount())]  # fmt: skip


def skip_pixels(view) -> int:
    """Pixels of the hourglass drawn in the skip path's colour (the arc and its label)."""
    image = QImage(view.item.boundingRect().size().toSize(), QImage.Format.Format_RGB32)
    image.fill(QColor(colors()["base"]))
    painter = QPainter(image)
    view.item.paint(painter, None)
    painter.end()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4)[..., :3]
    target = QColor(colors()["skip"])
    bgr = np.array([target.blue(), target.green(), target.red()])
    return int(np.count_nonzero(np.abs(pixels.astype(int) - bgr).sum(axis=2) < 40))


def test_a_gated_model_shows_its_gate_in_the_table_and_as_an_arc_over_the_network(tab, window):
    model = gated()
    window.state.set_model(build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=2), name="plain")
    assert skip_pixels(tab.hourglass) == 0
    plain_rows = table_rows(tab.table)
    window.state.set_model(model, name="gated")
    rows = table_rows(tab.table)
    assert len(rows) == len(plain_rows) + 1
    gate = rows[2]
    assert gate[:4] == ["Gate (skip)", "32 → 784", "Sigmoid", f"{32 * 784 + 784:,}"]
    assert gate[4:] == ["(784, 32)", "(784,)"]
    assert rows[-1][3] == f"{model.n_params:,}"  # the total counts the gate
    assert "g · input" in tab.table.item(2, 0).toolTip()
    assert skip_pixels(tab.hourglass) > 200  # the arc is drawn
    path = tab.hourglass.item.skip_path().boundingRect()
    first, last = tab.hourglass.item._column_rect(0), tab.hourglass.item._column_rect(2)
    assert path.left() == pytest.approx(first.center().x()) and path.right() == pytest.approx(last.center().x())


def test_a_residual_model_has_a_parameterless_row_and_the_editor_follows_the_model(tab, window):
    window.state.set_model(build_mlp([784, 32, 784], ["relu", "linear"], seed=2, skip="residual"), name="res")
    rows = table_rows(tab.table)
    assert rows[2][:4] == ["Residual (skip)", "784 → 784", "clip to 0–1", "0"]
    assert tab.editor.skip() == "residual"
    assert "+ residual skip" in tab.editor.shape_label.text()
    window.state.set_model(gated(), name="gated")
    assert tab.editor.skip() == "gate"
    window.state.set_model(build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=2), name="plain")
    assert tab.editor.skip() is None and len(table_rows(tab.table)) == 3  # two layers and the total


def test_the_editor_makes_a_model_with_the_chosen_skip_path(qtbot, tab, window):
    editor = tab.editor
    editor.skip_box.setCurrentIndex(editor.skip_box.findData("gate"))
    editor.skip_box.activated.emit(editor.skip_box.currentIndex())
    with qtbot.waitSignal(window.state.modelChanged):
        editor.new_button.click()
    model = window.state.model
    assert model.skip is not None and model.skip.kind == "gate"
    assert model.skip.layers[0].n_in == model.layers[-1].n_in
    window.tabs.setCurrentWidget(tab)
    editor.skip_box.setCurrentIndex(editor.skip_box.findData("residual"))
    editor.skip_box.activated.emit(editor.skip_box.currentIndex())
    assert editor.table.cellWidget(editor.table.rowCount() - 1, 1).currentText() == "linear"  # a residual's output
    with qtbot.waitSignal(window.state.modelChanged):
        editor.new_button.click()
    assert window.state.model.skip.kind == "residual"
    assert window.state.model.layers[-1].activation.key == "linear"


def test_the_gated_preset_fills_the_default_models_shape(tab):
    box = tab.editor.presets
    index = next(i for i in range(box.count()) if box.itemText(i).startswith("Gated"))
    box.activated.emit(index)
    assert tab.editor.layers()[0] == [784, 1024, 1024, 784]
    assert tab.editor.skip() == "gate"


def test_a_new_gated_model_comes_with_the_default_models_training_settings(tab, window):
    """A gate learns to pass its input through only when trained over light and heavy noise with the loss weighted
    by level: a new gated model fills the Training form as the default model was trained (σ 0–1, c = 0.05, Adam at
    1e-3, batches of 128), whatever the form held; a plain model leaves the form as it was."""
    form = window.training_tab.form
    form.noise_range.setChecked(False)
    form.noise.setValue(0.3)
    form.optimizer.setCurrentText("sgd")
    form.epochs.setValue(3)
    tab.editor.set_layers([32, 784], ["relu", "sigmoid"], "gate")
    window.state.dirty = False
    tab.editor.new_button.click()
    config = form.config()
    assert config.noise == (0.0, 1.0) and config.noise_weighting == pytest.approx(0.05)
    assert (config.optimizer, config.lr, config.batch_size, config.epochs) == ("adam", pytest.approx(1e-3), 128, 3)
    form.optimizer.setCurrentText("sgd")
    tab.editor.set_layers([32, 784], ["relu", "sigmoid"], None)
    window.state.dirty = False
    tab.editor.new_button.click()
    assert form.config().optimizer == "sgd"


def test_a_model_beyond_the_limits_is_refused_in_words_and_nothing_changes(tab, window, monkeypatch):
    model = window.state.model
    monkeypatch.setattr("engine.model_limits.MAX_PARAMS", 30_000)  # the 32-wide gate puts this model over it
    tab.editor.set_layers([32, 784], ["relu", "sigmoid"], "gate")
    tab.editor.new_button.click()
    assert "Cannot make this model" in tab.editor.shape_label.text()
    assert window.state.model is model


def test_training_a_gated_model_keeps_its_gate(qtbot, window, tiny_arrays):
    window.state.set_model(gated(), name="gated")
    training = window.training_tab
    window.tabs.setCurrentWidget(training)
    training.arrays = tiny_arrays
    training.form.batch_size.setValue(16)
    before = window.state.model.skip.layers[0].W.copy()
    with qtbot.waitSignal(training.run.finished, timeout=20000):
        training.start_button.click()
    trained = window.state.model
    assert trained.skip is not None and trained.skip.kind == "gate"
    assert not np.array_equal(trained.skip.layers[0].W, before)  # the gate learned with the network


def test_the_summary_copies_as_the_engine_writes_it_skip_path_included(qtbot, tab, window):
    from PySide6.QtGui import QGuiApplication

    model = gated()
    window.state.set_model(model, name="gated")
    tab.table.setFocus()
    qtbot.keyClick(tab.table, "c", Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    assert text == model.summary(print_fn=None)
    assert "GATE 32 -> 784 [Sigmoid]: output = gate * input + (1 - gate) * layer 2" in text


def test_the_shipped_models_menu_names_each_models_shape_and_skip_path(window):
    entries = {action.data(): action.text() for action in window.files.shipped_entries()}
    gated_entry = entries["mnist_denoising_autoencoder_gated"]
    assert "784-1024-1024-784 with a gated skip" in gated_entry and "σ 0–1" in gated_entry
    seed = entries["mnist_denoising_autoencoder"]
    assert "784-10-784 ·" in seed and "skip" not in seed


def test_weights_as_images_show_the_gates_columns_for_a_gated_model_only(tab, window):
    view = tab.weights
    window.state.set_model(build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=2), name="plain")
    assert not view.gate_shown() and len(view.ci.items) == 4  # two titles, two mosaics: as before
    model = gated()
    window.state.set_model(model, name="gated")
    assert view.gate_shown() and len(view.ci.items) == 6
    assert view.ci.getItem(0, 2).text.startswith("Gate")
    image = view.gate_item.image  # 32 tiles of 28×28 on a 6×6 grid, one per last hidden unit
    assert image.shape == (6 * 29 - 1, 6 * 29 - 1) and np.count_nonzero(~np.isnan(image)) == 32 * 784
    column = model.gate_layer.W[:, 1].reshape(28, 28)  # unit 2's gate weights, the second tile
    np.testing.assert_allclose(image[:28, 29:57], column / np.abs(column).max(), rtol=1e-6)
    window.state.set_model(build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=2), name="plain again")
    assert not view.gate_shown() and len(view.ci.items) == 4 and view.gate_item.image is None


@pytest.mark.parametrize("width", [300, 400, 900])
def test_the_three_mosaics_fit_the_view_at_any_width(qtbot, tab, window, width):
    """At 1024×700 the Weights-as-images view is ~400 px wide, ~300 at QT_SCALE_FACTOR=2 on 1920×1080: with the gate's
    third column, every title and mosaic stays inside it (long titles made the layout wider than the view and cut the
    gate's column off); a wide view keeps the long titles."""
    view = tab.weights
    window.state.set_model(gated(), name="gated")
    view.resize(width, 240)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.ci.geometry().width() > 0)
    for item in view.ci.items:
        rect = item.mapRectToScene(item.boundingRect())
        assert rect.left() >= 0 and rect.right() <= view.width() + 1, (item, rect, view.width())
    assert (view.ci.getItem(0, 2).text == "Gate: a column per unit") == (width >= 900)
