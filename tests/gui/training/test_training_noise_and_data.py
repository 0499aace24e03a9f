"""Training tab: noise ranges and kinds, and the data set to train on, from the form to the trained model's file."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import noisy_input_mse
from engine.idx import read_idx
from engine.images import as_unit_float
from engine.nn import build_mlp
from engine.noise import fixed_noisy
from engine.training import TrainConfig

TIMEOUT = 20000


@pytest.fixture
def tab(window):
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.form.batch_size.setValue(16)
    tab.form.lr.setValue(0.01)
    return tab


def test_the_level_is_named_by_the_kind_and_the_upper_bound_shows_with_a_range(qtbot, tab):
    form = tab.form
    assert form.noise_label.text() == "Noise σ" and not form.noise_high.isVisibleTo(form)
    assert form.config().noise == pytest.approx(0.1) and form.config().noise_kind == "gaussian"
    form.noise_kind.set_kind("masking")
    assert form.noise_label.text() == "Noise fraction" and "fraction" in form.noise_range.text()
    assert "blanked" in form.noise.toolTip() and form.noise.statusTip() == form.noise.toolTip()
    form.noise_range.setChecked(True)
    assert form.noise_high.isVisibleTo(form)
    form.noise.setValue(0.1)
    form.noise_high.setValue(0.5)
    assert form.config() == TrainConfig(epochs=5, batch_size=16, lr=0.01, noise=(0.1, 0.5), noise_kind="masking")


def test_the_form_fills_in_from_a_models_range_kind_and_data_set(qtbot, tab):
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=4)
    model.metadata["training"] = {"noise": [0.2, 0.6], "noise_kind": "salt_and_pepper", "batch_size": 32}
    model.metadata["dataset"] = {"name": "fashion_mnist", "train_size": 60000, "test_size": 10000}
    tab.set_model(model)
    form = tab.form
    assert form.data_set_name() == "fashion_mnist" and form.data_set.currentText() == "Fashion-MNIST"
    assert form.noise_kind.kind() == "salt_and_pepper" and form.noise_range.isChecked()
    assert (form.noise.value(), form.noise_high.value()) == pytest.approx((0.2, 0.6))
    config = form.config()
    assert config.noise == pytest.approx((0.2, 0.6)) and config.noise_kind == "salt_and_pepper"
    one_level = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=4)
    one_level.metadata["training"] = {"noise": 0.3}
    tab.set_model(one_level)  # back to one Gaussian σ
    assert not form.noise_range.isChecked() and form.noise_kind.kind() == "gaussian" and form.noise.value() == 0.3


def test_a_run_on_fashion_mnist_over_a_range_of_a_kind_uses_its_middle_and_records_the_set(
    qtbot, window, tab, tiny_mnist, tiny_fashion
):
    form = tab.form
    form.data_set.set_data_set("fashion_mnist")
    form.noise_kind.set_kind("masking")
    form.noise_range.setChecked(True)
    form.noise.setValue(0.1)
    form.noise_high.setValue(0.5)
    form.train_size.setValue(64)
    form.epochs.setValue(2)
    test = read_idx(tiny_fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    with (
        qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT),
        qtbot.waitSignal(tab.run.samplesReady, timeout=TIMEOUT) as first,
    ):
        tab.start_button.click()
    level = 0.3  # the middle of the range
    np.testing.assert_array_equal(first.args[0]["noisy"], fixed_noisy(as_unit_float(test[:8]), level, kind="masking"))
    assert tab.plot.identity_line._true == pytest.approx(noisy_input_mse(test, level, "masking"))
    trained = window.state.model
    assert trained.metadata["dataset"] == {"name": "fashion_mnist", "train_size": 64, "test_size": len(test)}
    assert trained.training_noise.kind == "masking"
    assert (trained.training_noise.low, trained.training_noise.high) == pytest.approx((0.1, 0.5))
    assert form.data_set_name() == "fashion_mnist"  # the handed-back model keeps the form as it was


def test_before_a_run_the_strip_shows_the_chosen_sets_test_images_with_the_chosen_noise(qtbot, tab, tiny_fashion):
    form = tab.form
    with qtbot.waitSignal(tab.preview_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        form.noise_kind.set_kind("salt_and_pepper")
        form.noise.setValue(0.25)
        form.data_set.set_data_set("fashion_mnist")
    test = read_idx(tiny_fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    noisy = fixed_noisy(as_unit_float(test[:8]), 0.25, kind="salt_and_pepper")
    np.testing.assert_array_equal(tab.strip.noisy[2].image(), noisy[2].reshape(28, 28))


def test_missing_fashion_mnist_names_its_own_variable(qtbot, tab, monkeypatch, tmp_path, dialogs_shown):
    monkeypatch.setenv("DENOISE_STUDIO_FASHION_MNIST_DATA", str(tmp_path / "nowhere"))
    tab.arrays = None
    tab.form.data_set.set_data_set("fashion_mnist")
    with qtbot.waitSignal(tab.run.finished, timeout=TIMEOUT):
        tab.start_button.click()
    shown = dialogs_shown[-1]
    assert "The Fashion-MNIST data could not be read" in shown
    assert "Set DENOISE_STUDIO_FASHION_MNIST_DATA to the folder" in shown and "DENOISE_STUDIO_DATA " not in shown
