"""Models trained over a noise range open in the app: the slider starts at the range's middle, the training form
shows the range."""

from __future__ import annotations

import pytest

from engine.nn import MLP
from gui.denoise.state import training_level
from gui.training.form import TrainingForm


@pytest.mark.parametrize("name", ["mnist_denoising_autoencoder_blind", "mnist_denoising_autoencoder_blind_small"])
def test_a_range_model_starts_at_the_middle_of_its_range(qtbot, name):
    model = MLP.from_file(name)
    assert training_level(model) == pytest.approx(0.4)
    form = TrainingForm()
    qtbot.addWidget(form)
    form.set_model(model)
    assert form.noise_range.isChecked() and form.noise_high.isVisibleTo(form)
    assert (form.noise.value(), form.noise_high.value()) == pytest.approx((0.0, 0.8))
    assert form.config().noise == pytest.approx((0.0, 0.8)) and form.config().noise_setting.default_level == 0.4


def test_a_one_sigma_model_starts_at_its_sigma():
    assert training_level(MLP.from_file("mnist_denoising_autoencoder_large")) == pytest.approx(0.5)
