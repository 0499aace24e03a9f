"""The Architecture editor offers every width a model may have (the engine's one limit), no more, no less."""

from __future__ import annotations

from engine.model_limits import MAX_WIDTH
from engine.nn import build_mlp


def test_a_5000_wide_layer_shows_as_5000(window):
    window.tabs.setCurrentWidget(window.architecture_tab)  # the tab shows a model once visible
    window.state.set_model(build_mlp([784, 5000, 784], ["relu", "sigmoid"], seed=0), name="wide")
    spin = window.architecture_tab.editor.table.cellWidget(0, 0)
    assert spin.value() == 5000
    assert spin.maximum() == MAX_WIDTH
