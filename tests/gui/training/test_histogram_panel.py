"""Training ▸ Weights and gradients: per-layer histograms that arrive after each epoch and on Pause."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nn import build_mlp

TIMEOUT = 20000


@pytest.fixture
def tab(window, tiny_arrays):
    window.state.set_model(build_mlp([784, 24, 6, 24, 784], ["relu", "relu", "relu", "sigmoid"], seed=2), name="m")
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.arrays = tiny_arrays
    tab.form.batch_size.setValue(16)  # 64 images -> 4 batches an epoch
    return tab


def test_histograms_of_weights_and_gradients_appear_after_an_epoch(qtbot, tab):
    panel = tab.histograms
    tab.form.epochs.setValue(2)
    with qtbot.waitSignals([tab.run.finished, panel.updated], timeout=TIMEOUT,
                           check_params_cbs=[None, lambda s: s.kind == "epoch"]):  # fmt: skip
        tab.start_button.click()
    snapshot = panel.snapshot  # the one drawn: an epoch's (a later epoch's job replaces an earlier one's)
    assert snapshot.kind == "epoch"
    assert snapshot.batches == 4  # every batch of the epoch, not the last one alone
    weights, gradients = panel.histograms
    assert len(weights) == len(gradients) == 4
    assert all(h is not None and h.share.sum() == pytest.approx(1) for h in weights + gradients)
    assert [(w, g) for _, w, g in panel.grid.rows] == list(zip(weights, gradients, strict=True))  # drawn per layer
    assert f"After epoch {snapshot.epoch + 1}" in panel.header.text() and "4 of its batches" in panel.header.text()
    assert [label for label, _, _ in panel.grid.rows] == [
        "layer 1: 784 → 24", "layer 2: 24 → 6", "layer 3: 6 → 24", "layer 4: 24 → 784"]  # fmt: skip
    assert weights[0].reference is not None  # compared with the weights the run started from


def pause_after_the_first_batch(qtbot, tab, hold):
    """Start; the run waits at its start (``hold``) until Pause is pressed, then pauses after its first batch.
    Returns the snapshot the pause sent."""
    with qtbot.waitSignal(tab.run.reported, timeout=TIMEOUT, check_params_cb=hold.reached):
        tab.start_button.click()
    panel = tab.histograms
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT, check_params_cb=lambda s: s.kind == "pause") as shown:
        tab.pause_button.click()
        hold.release()
    return shown.args[0]


def test_pause_refreshes_the_histograms_with_the_epoch_so_far(qtbot, tab, hold_run):
    panel = tab.histograms
    tab.form.epochs.setValue(5)
    snapshot = pause_after_the_first_batch(qtbot, tab, hold_run("start"))
    assert snapshot.epoch == 0 and snapshot.progress < 1  # the epoch so far, as it paused
    assert panel.header.text().startswith(f"Paused in epoch 1 at {snapshot.progress:.0%}")
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()


def test_a_pause_snapshot_counts_the_batch_just_trained(qtbot, tab, hold_run):
    tab.form.epochs.setValue(5)
    snapshot = pause_after_the_first_batch(qtbot, tab, hold_run("start"))
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.stop_button.click()
    assert (snapshot.progress, snapshot.batches) == (0.25, 1)  # one batch of four, and its gradients


def test_a_model_between_runs_shows_its_weights_and_no_gradients(qtbot, window, tab):
    panel = tab.histograms
    model = build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=0)
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT, check_params_cb=lambda s: s.kind == "model"):
        window.state.set_model(model, name="other")
    weights, gradients = panel.histograms
    assert gradients == [None, None]
    assert weights[0].std == pytest.approx(float(np.std(model.layers[0].W)), rel=1e-6)
    assert len(panel.grid.rows) == 2  # the new model's layers


def test_a_gated_models_gate_has_its_own_row_before_and_after_an_epoch(qtbot, window, tab):
    panel = tab.histograms
    model = build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT, check_params_cb=lambda s: s.kind == "model"):
        window.state.set_model(model, name="gated")
    assert [label for label, _, _ in panel.grid.rows] == ["layer 1: 784 → 12", "layer 2: 12 → 784", "gate: 12 → 784"]
    assert panel.histograms[0][-1].std == pytest.approx(float(np.std(model.gate_layer.W)), rel=1e-6)
    tab.form.epochs.setValue(1)
    with qtbot.waitSignals([tab.run.finished, panel.updated], timeout=TIMEOUT,
                           check_params_cbs=[None, lambda s: s.kind == "epoch"]):  # fmt: skip
        tab.start_button.click()
    label, weights, gradients = panel.grid.rows[-1]
    assert label == "gate: 12 → 784" and gradients is not None  # the gate's gradients, sampled as it trained
    assert weights.reference is not None  # beside the gate's weights at the start of the run
