"""The Training form filled from a recorded run's settings: what a control cannot hold is clamped or rounded, with a
note, and what the form has no control for is said."""

from __future__ import annotations

import pytest

from engine.nn import MLP
from gui.training.form import WEIGHTING_BOX, TrainingForm, settings_of


@pytest.fixture
def form(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    return form


def test_settings_within_the_controls_fill_them_without_a_note(form):
    notes = form.apply_settings({"epochs": 7, "batch_size": 32, "lr": 0.003, "optimizer": "sgd", "momentum": 0.9,
                                 "noise": 0.25, "noise_kind": "gaussian", "seed": 11, "train_size": 5000,
                                 "dataset": "fashion_mnist", "loss": "mse"})  # fmt: skip
    assert notes == []
    config = form.config()
    assert (config.epochs, config.batch_size, config.lr, config.optimizer, config.noise, config.seed) == (
        7, 32, pytest.approx(0.003), "sgd", pytest.approx(0.25), 11)
    assert form.train_size.value() == 5000 and form.data_set_name() == "fashion_mnist"
    assert not form.noise_range.isChecked()


def test_values_beyond_a_control_are_clamped_or_rounded_with_a_note(form):
    notes = form.apply_settings({"epochs": 250_000, "batch_size": 20_000, "lr": 0.0012345, "seed": 5,
                                 "noise": [0.2, 3.0], "noise_kind": "gaussian", "train_size": 60_000,
                                 "optimizer": "sgd", "momentum": 0.5, "loss": "bce"})  # fmt: skip
    assert form.epochs.value() == 1000 and form.batch_size.value() == 8192
    assert form.noise_range.isChecked() and form.noise_high.value() == 1.0 and form.noise.value() == pytest.approx(0.2)
    text = "\n".join(notes)
    assert "epochs" in text and "250000" in text and "read as 1000" in text
    assert "batch_size" in text and "8192" in text
    assert "lr 0.0012345 is shown as 0.00123" in text
    assert "noise up to" in text and "read as 1" in text
    assert "momentum 0.5" in text and "loss bce" in text
    assert len(notes) == 6


def test_a_value_that_is_no_number_is_ignored_with_a_note(form):
    before = form.seed.value()
    notes = form.apply_settings({"seed": "seven", "epochs": 3})
    assert form.seed.value() == before and form.epochs.value() == 3
    assert notes == ["seed must be an int, got str; ignored"]


def test_the_form_takes_the_gated_default_models_loss_weighting(form):
    """The shipped gated model was trained with a loss weighted by noise level: Start must train with it too."""
    gated = MLP.from_file("mnist_denoising_autoencoder_gated")
    recorded = gated.metadata["training"]["noise_weighting"]
    form.set_model(gated)
    assert form.noise_range.isChecked() and form.noise_weighting.value() == pytest.approx(recorded)
    assert form.config().noise_weighting == pytest.approx(recorded)
    assert not form.noise_weighting.isHidden()  # shown with the range
    form.set_model(MLP.from_file("mnist_denoising_autoencoder_blind"))  # a range trained with plain MSE
    assert form.noise_range.isChecked() and form.config().noise_weighting is None
    assert form.noise_weighting.text() == "off (plain MSE)"


def test_the_loss_weighting_needs_a_range_and_a_file_beyond_the_control_is_clamped_with_a_note(form):
    notes = form.apply_settings({"noise": [0.0, 1.0], "noise_weighting": 0.02})
    assert notes == [] and form.config().noise_weighting == pytest.approx(0.02)
    form.noise_range.setChecked(False)  # one level: nothing to weigh by
    assert form.noise_weighting.isHidden() and form.config().noise_weighting is None
    notes = form.apply_settings({"noise": [0.0, 1.0], "noise_weighting": 1e-6})  # the CLI takes any c > 0
    assert form.config().noise_weighting == pytest.approx(WEIGHTING_BOX.low)  # never rounded to "off"
    assert len(notes) == 1 and "1e-06" in notes[0]
    assert form.apply_settings({"noise": [0.0, 1.0]}) == [] and form.config().noise_weighting is None
    settings, notes = settings_of({"training": {"noise": [0.0, 1.0], "noise_weighting": 50.0}})
    assert settings.noise_weighting == WEIGHTING_BOX.high and "50" in notes[0]
