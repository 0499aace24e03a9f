"""Divergence (lr=50, NaN/inf or exploding loss): TrainingDiverged after restoring the last good weights; nothing
non-finite is ever saved, and the CLI exits 1 without overwriting its output."""

from __future__ import annotations

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.checkpoint import Checkpoint
from engine.cli import main
from engine.data_sources import DATA_ENV
from engine.dataset import Dataset
from engine.nn import MLP, build_mlp
from engine.training import TrainConfig, Trainer, TrainingDiverged

# A linear autoencoder: with sigmoid outputs the MSE is bounded by 1 and lr=50 merely stalls; without them
# lr=50 with plain SGD makes the loss explode within a few epochs on the tiny data.
LINEAR = ["linear", "linear"]


class Snapshots(Callback):
    """Copies of the weights at the start of every epoch (the trainer's "last good" points)."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []

    def on_epoch_begin(self, epoch):
        self.params.append(self.trainer.model.params.copy())


class Poison(Callback):
    """Sets the weights to ``value`` after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int, value: float) -> None:
        self.epoch, self.batch, self.value = epoch, batch, value

    def on_batch_end(self, batch, logs):
        if logs["epoch"] == self.epoch and batch == self.batch:
            self.trainer.model.params[...] *= self.value if np.isfinite(self.value) else 1
            if not np.isfinite(self.value):
                self.trainer.model.params[::7] = self.value


@pytest.fixture
def data(tiny_mnist) -> Dataset:
    return Dataset(train_size=64, test_size=16, batch_size=8, progress=False)


def test_lr_50_sgd_diverges_and_restores_the_last_good_weights(data, tmp_path):
    model = build_mlp([784, 16, 784], LINEAR, seed=0)
    snaps = Snapshots()
    ckpt = tmp_path / "run.ckpt.npz"
    with pytest.raises(TrainingDiverged, match="smaller learning rate") as info:
        model.fit(data, epochs=20, batch_size=32, lr=50, optimizer="sgd", callbacks=[snaps, Checkpoint(ckpt)])
    assert "diverged" in str(info.value)
    assert np.all(np.isfinite(model.params))
    np.testing.assert_array_equal(model.params, snaps.params[-1])
    assert len(snaps.params) >= 2  # it diverged after a good epoch: the restore is not just a reset
    assert not np.array_equal(model.params, snaps.params[0])
    # the checkpoint of the last finished epoch holds exactly the restored weights
    saved = MLP.from_file(ckpt)
    np.testing.assert_array_equal(saved.params, model.params)
    assert saved.metadata["resume"]["next_epoch"] == len(snaps.params) - 1
    # the model is usable afterwards
    assert np.all(np.isfinite(model.predict(data.test_u8[:2] / 255)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_mid_epoch_are_caught_and_restored(value):
    x = (np.random.default_rng(0).random((48, 16)) > 0.6).astype(np.float32)
    model = build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=0)
    snaps = Snapshots()
    trainer = Trainer(model, TrainConfig(epochs=4, batch_size=8, lr=0.01), [snaps, Poison(2, 3, value)])
    with pytest.raises(TrainingDiverged, match="epoch 3"):
        trainer.fit(x)
    assert len(snaps.params) == 3
    np.testing.assert_array_equal(model.params, snaps.params[2])


def test_non_finite_weights_after_the_last_batch_of_an_epoch_are_caught():
    x = (np.random.default_rng(0).random((48, 16)) > 0.6).astype(np.float32)
    model = build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=0)
    snaps = Snapshots()
    trainer = Trainer(model, TrainConfig(epochs=3, batch_size=8, lr=0.01), [snaps, Poison(1, 5, np.nan)])
    with pytest.raises(TrainingDiverged, match="epoch 2"):
        trainer.fit(x)
    np.testing.assert_array_equal(model.params, snaps.params[1])


def test_an_exploding_but_finite_loss_counts_as_divergence():
    x = (np.random.default_rng(0).random((48, 16)) > 0.6).astype(np.float32)
    model = build_mlp([16, 4, 16], LINEAR, seed=0)
    snaps = Snapshots()
    trainer = Trainer(model, TrainConfig(epochs=3, batch_size=8, lr=0.01), [snaps, Poison(0, 2, 1e3)])
    with pytest.raises(TrainingDiverged, match="loss"):
        trainer.fit(x)
    assert np.all(np.isfinite(model.params))
    np.testing.assert_array_equal(model.params, snaps.params[0])


def test_the_cli_exits_1_and_keeps_the_existing_output(tiny_mnist, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tiny_mnist))
    out = tmp_path / "runs" / "model.npz"
    build_mlp([784, 16, 784], LINEAR, seed=5).save(out)
    before = out.read_bytes()
    code = main(
        ["train", "--layers", "784:16:linear,784:linear", "--optimizer", "sgd", "--lr", "50", "--epochs", "20",
         "--batch-size", "32", "--train-size", "64", "--test-size", "16", "--quiet", "-o", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "diverged" in err and "smaller learning rate" in err
    assert f"{out} was not written" in err
    assert err.count("\n") <= 3 and "Traceback" not in err  # notes (replacing a model, unofficial data), the error
    assert out.read_bytes() == before
    ckpt = MLP.from_file(out.with_name("model.ckpt.npz"))  # the last good epoch, resumable
    assert np.all(np.isfinite(ckpt.params))
    assert ckpt.metadata["resume"]["next_epoch"] >= 1
    leftovers = sorted(p.name for p in out.parent.iterdir())
    assert leftovers == ["model.ckpt.npz", "model.npz"]
