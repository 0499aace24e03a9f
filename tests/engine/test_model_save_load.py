"""Summary text, save -> load round trips, and finding shipped models by bare name."""

from __future__ import annotations

import numpy as np
import pytest

from engine import model_paths
from engine.layers import Dense
from engine.model_format import ModelFileError
from engine.nn import MLP, build_mlp

SEED_SUMMARY = """\
-------------------- MULTI LAYER PERCEPTRON (MLP) --------------------


 *** 1. Layer: ***
DENSE 784 -> 10 [ReLU]
Total parameters: 7850
---> WEIGHTS: (10, 784)
---> BIASES: (10,)

 *** 2. Layer: ***
DENSE 10 -> 784 [Sigmoid]
Total parameters: 8624
---> WEIGHTS: (784, 10)
---> BIASES: (784,)
"""


def seed_model() -> MLP:
    net = MLP()
    net.add(Dense(784, 10, "relu"))
    net.add(Dense(10, 784, "sigmoid"))
    return net


def test_summary_is_the_seed_text_byte_for_byte(capsys):
    text = seed_model().summary()
    assert capsys.readouterr().out == SEED_SUMMARY
    assert text + "\n" == SEED_SUMMARY


def test_summary_can_be_silent(capsys):
    seed_model().summary(print_fn=None)
    assert capsys.readouterr().out == ""


def test_save_load_round_trip_is_bit_exact(tmp_path, capsys):
    net = build_mlp([784, 32, 8, 784], ["tanh", "leaky_relu", "sigmoid"], seed=7)
    net.metadata["note"] = {"noise": 0.1, "history": [0.5, 0.25]}
    path = tmp_path / "m.npz"
    net.save(path)
    loaded = MLP().load(path)
    assert capsys.readouterr().out.strip() == net.summary(print_fn=None)
    assert loaded.layer_specs() == net.layer_specs()
    assert loaded.params.dtype == np.float32
    assert loaded.params.tobytes() == net.params.tobytes()
    assert loaded.metadata["note"] == {"noise": 0.1, "history": [0.5, 0.25]}
    x = np.random.default_rng(0).uniform(0, 1, (3, 784)).astype(np.float32)
    assert np.array_equal(loaded.predict(x), net.predict(x))


def test_load_without_verbose_prints_nothing(tmp_path, capsys):
    path = tmp_path / "m.npz"
    seed_model().save(path)
    capsys.readouterr()
    MLP().load(path, verbose=False)
    assert capsys.readouterr().out == ""


def test_bare_name_is_found_in_the_models_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(model_paths, "MODELS_DIR", tmp_path)
    seed_model().save(tmp_path / "tiny_shipped.npz")
    monkeypatch.chdir(tmp_path.parent)
    net = MLP.from_file("tiny_shipped")
    assert net.n_params == 7850 + 8624
    assert model_paths.shipped_models() == ["tiny_shipped"]


def test_missing_model_names_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(model_paths, "MODELS_DIR", tmp_path)
    seed_model().save(tmp_path / "only_one.npz")
    with pytest.raises(ModelFileError, match="only_one"):
        MLP.from_file("does_not_exist")


def test_failed_load_leaves_the_model_unchanged(tmp_path):
    net = seed_model()
    before = net.params.copy()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="bad.npz"):
        net.load(bad)
    assert np.array_equal(net.params, before)


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.npz"
    seed_model().save(path)
    build_mlp([784, 5, 784], ["relu", "sigmoid"]).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert MLP.from_file(path).layers[0].n_out == 5


def test_copy_is_independent():
    net = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=2)
    net.metadata["training"] = {"epochs": 3}
    twin = net.copy()
    assert np.array_equal(twin.params, net.params) and twin.metadata == net.metadata
    twin.params += 1
    twin.metadata["training"]["epochs"] = 9
    assert not np.array_equal(twin.params, net.params) and net.metadata["training"]["epochs"] == 3


def test_a_copy_keeps_activations_and_layer_params_and_can_leave_the_metadata():
    net = build_mlp([784, 6, 3, 784], ["leaky_relu", "tanh", "sigmoid"], seed=2)
    net.metadata["history"] = {"batch_loss": [0.1] * 10}
    twin = net.copy(metadata=False)
    assert twin.metadata == {} and net.metadata["history"]
    assert [ly.spec() for ly in twin.layers] == [ly.spec() for ly in net.layers]
    for a, b in zip(twin.layers, net.layers, strict=True):
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
        assert np.shares_memory(a.W, twin.params) and not np.shares_memory(a.W, net.params)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(twin.predict(x), net.predict(x))


def test_the_file_records_the_rate_a_run_ended_with(tmp_path):
    """A rate changed while training (the app's form sets ``optimizer.lr``) is what the next run starts from."""
    from engine.callbacks import Callback

    class RaiseTheRate(Callback):
        def on_epoch_end(self, epoch, logs):
            self.trainer.optimizer.lr = 0.01

    x = (np.random.default_rng(0).random((32, 784)) > 0.7).astype(np.float32)
    net = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    history = net.fit(x, epochs=2, batch_size=16, lr=0.001, callbacks=[RaiseTheRate()])
    assert [e["lr"] for e in history.epochs] == [0.001, 0.01]  # each epoch's own rate stays in the history
    net.save(tmp_path / "m.npz")
    assert MLP.from_file(tmp_path / "m.npz").metadata["training"]["lr"] == 0.01


def test_the_shipped_seed_model_prints_the_seed_summary_byte_for_byte(capsys):
    MLP.from_file("mnist_denoising_autoencoder").summary()
    assert capsys.readouterr().out == SEED_SUMMARY
