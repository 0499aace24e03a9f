"""A loss weighted by each image's noise level (MSE / (σ² + c)): the weights, the config, the loop, the CLI."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from engine.cli import main
from engine.losses import MSE, noise_level_weights
from engine.nn import MLP, build_mlp
from engine.noise import EpochNoise
from engine.training import TrainConfig, Trainer


@pytest.mark.parametrize(("low", "high", "c"), [(0.0, 1.0, 0.01), (0.2, 0.6, 0.05), (0.0, 0.8, 1.0)])
def test_the_weights_follow_one_over_level_squared_plus_c_and_average_one_over_the_range(low, high, c):
    grid = np.linspace(low, high, 200_001)
    weights = noise_level_weights(grid, c, low, high)
    assert weights.dtype == np.float32
    assert weights.mean() == pytest.approx(1, rel=1e-4)
    ratio = weights[0] / weights[-1]
    assert ratio == pytest.approx((high**2 + c) / (low**2 + c), rel=1e-5)
    assert np.all(np.diff(weights) <= 0)  # lighter noise weighs more


@pytest.mark.parametrize("c", [0, -0.1, float("nan"), float("inf")])
def test_a_bad_constant_is_refused(c):
    with pytest.raises(ValueError, match="finite number > 0"):
        noise_level_weights(np.zeros(3), c, 0, 1)
    with pytest.raises(ValueError, match="noise_weighting"):
        TrainConfig(noise=(0, 1), noise_weighting=c)


def test_the_config_needs_a_range_and_keeps_its_setting():
    with pytest.raises(ValueError, match="needs a noise range"):
        TrainConfig(noise=0.3, noise_weighting=0.01)
    with pytest.raises(TypeError, match="number or None"):
        TrainConfig(noise=(0, 1), noise_weighting="0.01")
    config = TrainConfig(noise=(0, 1), noise_weighting=0.01)
    assert TrainConfig.from_dict(asdict(config)) == config
    old = {k: v for k, v in asdict(config).items() if k != "noise_weighting"}  # a file from before the option
    assert TrainConfig.from_dict(old).noise_weighting is None


class RecordingMSE(MSE):
    """MSE that keeps the weights each call was given (a spy on what the loop hands the loss)."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray | None] = []

    def value_and_grad(self, pred, target, out=None, weights=None, scale=1.0):
        self.seen.append(None if weights is None else weights.copy())
        return super().value_and_grad(pred, target, out=out, weights=weights, scale=scale)


@pytest.mark.parametrize("c", [None, 0.02])
def test_the_loop_weighs_each_image_by_its_own_noise_level(c):
    rng = np.random.default_rng(0)
    clean = (rng.random((100, 784)) * 255).astype(np.uint8)
    config = TrainConfig(epochs=2, batch_size=32, noise=(0.0, 1.0), noise_weighting=c, seed=5)
    trainer = Trainer(build_mlp([784, 8, 784], ["relu", "sigmoid"]), config, parallel=False)
    trainer.loss = spy = RecordingMSE()
    trainer.fit(clean)
    assert len(spy.seen) == 8  # 4 batches (32, 32, 32, 4) an epoch
    if c is None:
        assert all(w is None for w in spy.seen)
        return
    for epoch in range(2):  # the levels the epoch drew, in the order its images were trained
        epoch_rng = np.random.default_rng([config.seed, epoch])
        epoch_rng.permutation(100)
        levels = EpochNoise(config.noise, epoch_rng, 100, 784, 32).levels[:, 0]
        got = np.concatenate(spy.seen[4 * epoch : 4 * epoch + 4])
        np.testing.assert_array_equal(got, noise_level_weights(levels, c, 0.0, 1.0))


def test_cli_trains_a_gated_model_with_weighting_and_refuses_weighting_one_level(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "gated.npz"
    code = main(["train", "--epochs", "1", "--batch-size", "16", "--train-size", "64", "--test-size", "16",
                 "--layers", "784:16:relu,784:sigmoid", "--skip", "gate", "--noise", "0:1",
                 "--noise-weighting", "0.01", "--quiet", "-o", str(out)])  # fmt: skip
    assert code == 0
    model = MLP.from_file(out)
    assert model.skip.kind == "gate" and model.metadata["training"]["noise_weighting"] == 0.01
    capsys.readouterr()
    assert main(["summary", str(out)]) == 0
    assert "GATE 16 -> 784 [Sigmoid]" in capsys.readouterr().out
    code = main(["train", "--noise", "0.3", "--noise-weighting", "0.01", "--quiet", "-o", str(tmp_path / "x.npz")])
    assert code == 2 and "needs a noise range" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
