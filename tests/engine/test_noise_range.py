"""Noise ranges: each image (each row of a batch) draws its own level, reproducibly and resume-exactly.

The level a row got is read back from its noise: on a mid-grey image, Gaussian noise with σ up
to 0.2 is almost never clipped, so the standard deviation of a row's 784 noise values estimates
its σ within a few per cent; for masking, the fraction of its pixels set to 0 estimates its level.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli import main
from engine.data_sources import MNIST_FILES
from engine.dataset import Dataset
from engine.idx import write_idx
from engine.nn import MLP, build_mlp
from engine.noise import EpochNoise, NoiseSetting
from engine.training import TrainConfig
from tests.engine.test_noise_kinds import GREY, epoch_of, grey

LOW, HIGH = 0.0, 0.2
UNIFORM_STD = (HIGH - LOW) / np.sqrt(12)


def row_sigmas(noisy: np.ndarray) -> np.ndarray:
    return (noisy.astype(np.float64) - GREY).std(axis=1)


def test_each_row_of_one_batch_gets_its_own_sigma_from_the_range():
    noise = EpochNoise((LOW, HIGH), np.random.default_rng(0), 512, 784, 256)
    out = np.empty((256, 784), np.float32)
    sigmas = row_sigmas(noise.apply(grey(256), 0, out))  # the first batch alone
    assert sigmas.min() < LOW + 0.1 * (HIGH - LOW) and sigmas.max() > HIGH - 0.1 * (HIGH - LOW)
    assert sigmas.mean() == pytest.approx((LOW + HIGH) / 2, abs=0.01)
    assert sigmas.std() == pytest.approx(UNIFORM_STD, rel=0.15)


def test_one_sigma_gives_every_row_that_sigma():
    noise = EpochNoise(0.1, np.random.default_rng(0), 512, 784, 256)
    sigmas = row_sigmas(noise.apply(grey(256), 0, np.empty((256, 784), np.float32)))
    assert np.all(np.abs(sigmas - 0.1) < 0.015)


@pytest.mark.parametrize("bank_values", [1 << 20, 1 << 16])
def test_levels_over_an_epoch_are_uniform_in_the_range(bank_values):
    n = 3000
    noise = EpochNoise((LOW, HIGH), np.random.default_rng(1), n, 784, 128, bank_values=bank_values)
    sigmas = np.sort(row_sigmas(epoch_of(noise, n, 784, 128)))
    uniform = LOW + (HIGH - LOW) * (np.arange(n) + 0.5) / n
    assert np.abs(sigmas - uniform).max() < 0.015  # the empirical quantiles follow U[low, high]


@pytest.mark.parametrize("n, bs", [(256, 64), (1024, 256)], ids=["fresh-values", "reused-bank"])
def test_every_image_of_the_epoch_draws_its_own_level(n, bs):
    """Row r of batch 1 is another image than row r of batch 0: its level is its own draw, not the same again
    (the epoch's levels would still look uniform if every batch reused the first batch's)."""
    noise = EpochNoise((LOW, HIGH), np.random.default_rng(3), n, 784, bs)
    sigmas = row_sigmas(epoch_of(noise, n, 784, bs)).reshape(4, bs)  # (batch, row)
    same_rows = [np.corrcoef(sigmas[0], sigmas[b])[0, 1] for b in (1, 2, 3)]
    assert max(np.abs(same_rows)) < 0.5, same_rows  # independent draws: about 0 ± 1/sqrt(bs); reused levels: ~1


def test_a_masking_range_spreads_the_fraction_over_the_rows():
    noise = EpochNoise((0.1, 0.7), np.random.default_rng(2), 256, 784, 256, kind="masking")
    hit = (noise.apply(grey(256), 0, np.empty((256, 784), np.float32)) == 0).mean(axis=1)
    assert hit.min() < 0.16 and hit.max() > 0.64
    assert hit.std() == pytest.approx(0.6 / np.sqrt(12), rel=0.15)


def test_the_same_seed_gives_the_same_range_noise_and_another_seed_other_noise():
    def draw(seed):
        return epoch_of(EpochNoise((0.0, 0.8), np.random.default_rng([seed, 0]), 600, 784, 64, 1 << 16), 600, 784, 64)

    assert np.array_equal(draw(5), draw(5))
    assert not np.array_equal(draw(5), draw(6))


def test_a_range_with_equal_ends_is_one_level():
    config = TrainConfig(noise=(0.3, 0.3))
    assert config.noise == 0.3 and config.noise_setting == NoiseSetting("gaussian", 0.3, 0.3)
    x = tiny_images()
    a, b = tiny_model(), tiny_model()
    a.fit(x, epochs=2, batch_size=8, noise=(0.3, 0.3))
    b.fit(x, epochs=2, batch_size=8, noise=0.3)
    assert np.array_equal(a.params, b.params)


def tiny_images(n=48, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(0, 1, (n, 16)) > 0.6).astype(np.float32)


def tiny_model(seed=0) -> MLP:
    return build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=seed)


def test_range_training_is_reproducible_and_differs_from_one_sigma():
    x = tiny_images()
    a, b, c = tiny_model(), tiny_model(), tiny_model()
    a.fit(x, epochs=2, batch_size=8, noise=(0.0, 0.8), seed=4)
    b.fit(x, epochs=2, batch_size=8, noise=(0.0, 0.8), seed=4)
    c.fit(x, epochs=2, batch_size=8, noise=0.4, seed=4)
    assert np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_a_resumed_range_run_equals_an_uninterrupted_one(tiny_mnist, tmp_path, kind):
    common = ["--batch-size", "16", "--train-size", "64", "--test-size", "16", "--layers", "784:6:relu,784:sigmoid",
              "--noise", "0.1:0.7", "--noise-kind", kind, "--quiet"]  # fmt: skip
    assert main(["train", "--epochs", "3", *common, "-o", str(tmp_path / "straight.npz")]) == 0
    assert main(["train", "--epochs", "1", *common, "-o", str(tmp_path / "part.npz")]) == 0
    assert main(["train", "--resume", str(tmp_path / "part.ckpt.npz"), "--epochs", "3", "--quiet",
                 "-o", str(tmp_path / "resumed.npz")]) == 0  # fmt: skip
    straight, resumed = MLP.from_file(tmp_path / "straight.npz"), MLP.from_file(tmp_path / "resumed.npz")
    assert np.array_equal(straight.params, resumed.params)
    assert resumed.training_noise == NoiseSetting(kind, 0.1, 0.7)


def test_the_cli_records_the_range_and_scores_at_its_middle(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "blind.npz"
    argv = ["train", "--epochs", "1", "--batch-size", "16", "--train-size", "64", "--test-size", "16",
            "--layers", "784:6:relu,784:sigmoid", "--noise", "0:0.8", "--quiet", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    model = MLP.from_file(out)
    assert model.metadata["training"]["noise"] == [0.0, 0.8]
    assert model.metadata["training"]["noise_kind"] == "gaussian"
    assert list(model.metadata["metrics"]) == ["test_mse@0.4"]
    data = Dataset(train_size=1, test_size=16, batch_size=1)
    assert model.metadata["metrics"]["test_mse@0.4"] == model.evaluate(data, 0.4)["mse"]
    assert model.metadata["history"]["epochs"][-1]["val_mse"] == model.evaluate(data, 0.4)["mse"]
    assert "the middle of the training range" in capsys.readouterr().err


@pytest.mark.parametrize("noise", ["0.5:0.1", "a:b", "0:0.5:1", "-1", "nan"])
def test_bad_noise_ranges_on_the_command_line_exit_2(noise, tiny_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--noise", noise, "-o", str(tmp_path / "x.npz")])
    assert exc.value.code == 2
    assert "--noise" in capsys.readouterr().err


def test_a_fraction_range_above_one_is_refused_by_name(tiny_mnist, tmp_path, capsys):
    assert main(["train", "--noise", "0:1.5", "--noise-kind", "masking", "-o", str(tmp_path / "x.npz")]) == 2
    assert "fraction" in capsys.readouterr().err


def test_batches_draw_one_level_per_row_from_a_range(tmp_path):
    for split, n in (("train", 256), ("test", 16)):  # mid-grey images: every row's noise shows
        write_idx(tmp_path / (MNIST_FILES[f"{split}_images"] + ".gz"), np.full((n, 28, 28), 128, np.uint8))
        write_idx(tmp_path / (MNIST_FILES[f"{split}_labels"] + ".gz"), np.zeros(n, np.uint8))
    data = Dataset(train_size=256, test_size=16, batch_size=256, data_dir=tmp_path, seed=0)
    (noisy, clean), _ = next(data.batches(noise=(LOW, HIGH)))
    sigmas = (noisy.astype(np.float64) - clean).std(axis=1)
    assert sigmas.min() < 0.02 and sigmas.max() > 0.18
    assert sigmas.std() == pytest.approx(UNIFORM_STD, rel=0.15)


def test_resuming_keeps_the_checkpoints_noise_and_says_so(tiny_mnist, tmp_path, capsys):
    common = ["--batch-size", "16", "--train-size", "64", "--test-size", "16", "--layers", "784:6:relu,784:sigmoid",
              "--quiet"]  # fmt: skip
    assert main(["train", "--epochs", "1", "--noise", "0:0.8", *common, "-o", str(tmp_path / "part.npz")]) == 0
    capsys.readouterr()
    argv = ["train", "--resume", str(tmp_path / "part.ckpt.npz"), "--epochs", "2", "--noise", "0.2:0.4",
            "--noise-kind", "masking", "--quiet", "-o", str(tmp_path / "more.npz")]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "ignored --noise 0.2:0.4, --noise-kind masking" in err
    assert MLP.from_file(tmp_path / "more.npz").training_noise == NoiseSetting("gaussian", 0.0, 0.8)
