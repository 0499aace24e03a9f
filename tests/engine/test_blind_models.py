"""The shipped blind models on the real MNIST test set: issue 16's goals, checked by evaluating (never training).

Every score is the fixed-noise test MSE on all 10,000 test images (``MLP.evaluate``), beside the
noisy input and PCA with as many components (``engine.baselines``), as ``bench/quality.py`` prints.
"""

from __future__ import annotations

import pytest

from engine.baselines import baselines
from engine.dataset import Dataset
from engine.nn import MLP
from engine.noise import NoiseSetting

LEVELS = [round(0.1 * i, 1) for i in range(1, 11)]
REFERENCE = {0.1: 0.0075, 0.3: 0.0100, 0.5: 0.0154, 0.9: 0.0300}  # PyTorch, same shape, 10 epochs (issue 16)


@pytest.fixture(scope="module")
def mnist(real_mnist_dir) -> Dataset:
    return Dataset(train_size=60000, test_size=10000, batch_size=1, data_dir=real_mnist_dir, progress=False)


@pytest.mark.parametrize("name, widths", [("mnist_denoising_autoencoder_blind", [256, 64, 256, 784]),
                                          ("mnist_denoising_autoencoder_blind_small", [10, 784])])  # fmt: skip
def test_the_blind_models_record_their_training_noise(name, widths):
    model = MLP.from_file(name)
    assert [layer.n_out for layer in model.layers] == widths
    assert model.training_noise == NoiseSetting("gaussian", 0.0, 0.8)
    assert model.training_noise.default_level == pytest.approx(0.4)


def test_the_blind_model_beats_pca64_and_the_noisy_input_from_02_and_the_reference(mnist):
    model = MLP.from_file("mnist_denoising_autoencoder_blind")
    scores = {s: model.evaluate(mnist, s)["mse"] for s in LEVELS}
    for s in LEVELS[1:]:
        level = baselines(mnist.train_u8, mnist.test_u8, s, 64)
        assert scores[s] < level.pca and scores[s] < level.noisy_input, s
    for s, goal in REFERENCE.items():
        assert scores[s] <= goal, s


def test_the_small_blind_model_beats_pca10_at_every_level(mnist):
    model = MLP.from_file("mnist_denoising_autoencoder_blind_small")
    for s in LEVELS:
        assert model.evaluate(mnist, s)["mse"] < baselines(mnist.train_u8, mnist.test_u8, s, 10).pca, s
