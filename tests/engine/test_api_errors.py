"""Odd input to the Python API: a ValueError/TypeError naming the argument and what is allowed, never a NumPy
broadcasting/reshape error from deep inside."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.data_sources import DATA_ENV
from engine.dataset import Dataset
from engine.layers import Dense
from engine.nn import MLP, build_mlp
from engine.noise import add_noise, check_level
from engine.optimizers import get_optimizer
from engine.training import TrainConfig, Trainer

RNG = np.random.default_rng(0)
NUMPY_INTERNALS = ("broadcast", "reshape", "matmul", "gufunc", "index", "has no attribute", "not supported between")


def net() -> MLP:
    return build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)


def small() -> MLP:
    return build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=0)


def images(n=8, width=16) -> np.ndarray:
    return np.random.default_rng(0).random((n, width), dtype=np.float32)


CASES = {
    # predict / encode / decode
    "predict-too-few-values": (lambda: net().predict(np.zeros(783)), ValueError, ["784 values", r"\(783,\)"]),
    "predict-batch-wrong-width": (lambda: net().predict(np.zeros((2, 700))), ValueError, ["784", r"\(2, 700\)"]),
    "predict-odd-image": (lambda: net().predict(np.zeros((2, 27, 29))), ValueError, ["784", r"\(batch, 28, 28\)"]),
    "predict-scalar": (lambda: net().predict(3.0), ValueError, ["784 values"]),
    "predict-nan": (lambda: net().predict(np.full(784, np.nan)), ValueError, ["NaN"]),
    "predict-inf-in-batch": (lambda: net().predict(np.where(np.eye(2, 784) > 0, np.inf, 0)), ValueError, ["infinite"]),
    "predict-overflows-float32": (lambda: net().predict(np.full(784, 1e300)), ValueError, ["too large"]),
    "predict-text": (lambda: net().predict("a digit"), TypeError, ["numeric"]),
    "predict-objects": (lambda: net().predict(np.array([None] * 784)), TypeError, ["numeric"]),
    "predict-complex": (lambda: net().predict(np.zeros(784, complex)), TypeError, ["numeric"]),
    "predict-empty-model": (lambda: MLP().predict(np.zeros(784)), ValueError, ["no layers"]),
    "encode-wrong-width": (lambda: net().encode(np.zeros(783)), ValueError, ["encode", "784 values"]),
    "encode-nan": (lambda: net().encode(np.full(784, np.nan)), ValueError, ["encode", "NaN"]),
    "encode-depth-too-deep": (lambda: net().encode(np.zeros(784), depth=3), ValueError, ["depth", "1 and 2"]),
    "encode-depth-zero": (lambda: net().encode(np.zeros(784), depth=0), ValueError, ["depth", "1 and 2"]),
    "encode-depth-float": (lambda: net().encode(np.zeros(784), depth=1.5), TypeError, ["depth"]),
    "decode-wrong-width": (lambda: net().decode(np.zeros(7)), ValueError, ["decode", "8 values"]),
    "decode-depth": (lambda: net().decode(np.zeros(8), depth=9), ValueError, ["depth", "1 and 2"]),
    "decode-empty-model": (lambda: MLP().decode(np.zeros(8)), ValueError, ["no layers"]),
    # noise sigma
    "add-noise-negative-sigma": (lambda: add_noise(images(), -0.1, RNG), ValueError, ["sigma", "between 0"]),
    "add-noise-nan-sigma": (lambda: add_noise(images(), float("nan"), RNG), ValueError, ["sigma"]),
    "add-noise-text-sigma": (lambda: add_noise(images(), "0.1", RNG), TypeError, ["sigma", "number"]),
    "check-level-array": (lambda: check_level(np.array([0.1, 0.2])), TypeError, ["sigma", "number"]),
    "evaluate-negative-sigma": (lambda: net().evaluate(np.zeros((2, 784), np.uint8), noise=-1), ValueError, ["sigma"]),
    "config-negative-sigma": (lambda: TrainConfig(noise=-0.5), ValueError, ["sigma", "between 0"]),
    "evaluate-wrong-width": (lambda: net().evaluate(np.zeros((2, 700), np.uint8)), ValueError, ["784"]),
    "evaluate-no-images": (lambda: net().evaluate(np.zeros((0, 784), np.uint8)), ValueError, ["n >= 1"]),
    "evaluate-text": (lambda: net().evaluate(np.array([["a"] * 784])), TypeError, ["numeric"]),
    # hyperparameters
    "config-batch-size-zero": (lambda: TrainConfig(batch_size=0), ValueError, ["batch_size", "between 1"]),
    "config-batch-size-float": (lambda: TrainConfig(batch_size=1.5), TypeError, ["batch_size", "int"]),
    "config-epochs-zero": (lambda: TrainConfig(epochs=0), ValueError, ["epochs", "between 1"]),
    "config-lr-negative": (lambda: TrainConfig(lr=-1e-3), ValueError, ["lr", "> 0"]),
    "config-lr-inf": (lambda: TrainConfig(lr=float("inf")), ValueError, ["lr", "finite"]),
    "config-lr-text": (lambda: TrainConfig(lr="fast"), TypeError, ["lr", "number"]),
    "config-momentum-one": (lambda: TrainConfig(momentum=1.0), ValueError, ["momentum", ">= 0 and < 1"]),
    "config-momentum-text": (lambda: TrainConfig(momentum="high"), TypeError, ["momentum", "number"]),
    "config-seed-negative": (lambda: TrainConfig(seed=-1), ValueError, ["seed", "between 0"]),
    "config-unknown-optimizer": (lambda: TrainConfig(optimizer="lbfgs"), ValueError, ["optimizer", "sgd", "adam"]),
    "config-unknown-loss": (lambda: TrainConfig(loss="huber"), ValueError, ["loss", "mse", "bce"]),
    "get-optimizer-unknown": (lambda: get_optimizer("rmsprop", 0.1), ValueError, ["optimizer", "sgd", "adam"]),
    "get-optimizer-lr": (lambda: get_optimizer("sgd", 0.0), ValueError, ["learning rate", "> 0"]),
    # layers
    "dense-unknown-activation": (lambda: Dense(3, 4, "swish"), ValueError, ["swish", "relu", "sigmoid"]),
    "dense-activation-number": (lambda: Dense(3, 4, 7), TypeError, ["activation"]),
    "dense-zero-width": (lambda: Dense(0, 4), ValueError, ["n_in", ">= 1"]),
    "dense-float-width": (lambda: Dense(3, 4.0), TypeError, ["n_out", "int"]),
    "widths-dont-chain": (lambda: MLP([Dense(784, 8), Dense(9, 784)]), ValueError, ["n_in=9", "n_out=8"]),
    "add-not-a-layer": (lambda: MLP().add("relu"), TypeError, ["Dense"]),
    "build-too-few-widths": (lambda: build_mlp([784], []), ValueError, ["two widths"]),
    "build-activation-count": (lambda: build_mlp([784, 8, 784], ["relu"]), ValueError, ["one activation per layer"]),
    "build-activations-as-text": (lambda: build_mlp([784, 8, 784], "relu"), TypeError, ["activations", "list"]),
    "build-zero-width": (lambda: build_mlp([784, 0, 784], ["relu", "sigmoid"]), ValueError, [">= 1"]),
    "build-unknown-activation": (lambda: build_mlp([784, 8, 784], ["relu", "softmax"]), ValueError, ["softmax"]),
    # fit
    "fit-a-list": (lambda: small().fit([[0.0] * 16] * 4, epochs=1), TypeError, ["x_train", "NumPy array"]),
    "fit-wrong-width": (lambda: small().fit(images(4, 12), epochs=1), ValueError, ["x_train", r"\(n, 16\)"]),
    "fit-no-images": (lambda: small().fit(images(0), epochs=1), ValueError, ["x_train", "n >= 1"]),
    "fit-nan-images": (lambda: small().fit(np.full((4, 16), np.nan), epochs=1), ValueError, ["x_train", "NaN"]),
    "fit-out-of-range": (lambda: small().fit(images() * 255, epochs=1), ValueError, ["x_train", r"\[0, 1\]"]),
    "fit-text-images": (lambda: small().fit(np.full((4, 16), "x"), epochs=1), TypeError, ["x_train", "dtype"]),
    "fit-val-wrong-width": (lambda: small().fit(images(), images(2, 5), epochs=1), ValueError, ["x_val", r"\(n, 16\)"]),
    "fit-batch-size-zero": (lambda: small().fit(images(), epochs=1, batch_size=0), ValueError, ["batch_size"]),
    "fit-unknown-hyperparameter": (lambda: small().fit(images(), learnrate=0.1), TypeError, ["learnrate", "lr"]),
    "fit-unknown-optimizer": (lambda: small().fit(images(), optimizer="adagrad"), ValueError, ["optimizer", "adam"]),
    "fit-config-not-config": (lambda: small().fit(images(), config={"lr": 0.1}), TypeError, ["config", "TrainConfig"]),
    "fit-not-an-autoencoder": (
        lambda: build_mlp([16, 4], ["relu"]).fit(images()),
        ValueError,
        ["autoencoder", "16 -> 4"],
    ),
    "trainer-wrong-width": (lambda: Trainer(small(), TrainConfig(epochs=1)).fit(images(4, 9)), ValueError, ["x_train"]),
    "trainer-val-nan": (
        lambda: Trainer(small(), TrainConfig(epochs=1)).fit(images(), np.full((2, 16), np.inf)),
        ValueError,
        ["x_val", "infinite"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_named(name):
    call, kind, words = CASES[name]
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    for word in words:
        assert re.search(word, message), f"{word!r} not in {message!r}"
    assert not any(word in message for word in NUMPY_INTERNALS), message


@pytest.mark.parametrize(
    "x, shape",
    [(np.zeros(784), (784,)), (np.zeros((28, 28)), (28, 28)), (np.zeros((3, 784)), (3, 784)),
     (np.zeros((3, 28, 28)), (3, 28, 28)), (np.zeros((0, 784)), (0, 784)), ([0.5] * 784, (784,)),
     (np.zeros(784, np.uint8), (784,)), (np.zeros(784, bool), (784,))],
)  # fmt: skip
def test_predict_accepts_every_documented_layout(x, shape):
    out = net().predict(x)
    assert out.shape == shape and out.dtype == np.float32


def test_encode_decode_accept_single_rows_and_batches():
    model = net()
    assert model.encode(np.zeros(784)).shape == (1, 8)
    assert model.encode(np.zeros((3, 28, 28))).shape == (3, 8)
    assert model.decode(np.zeros(8)).shape == (1, 784)
    assert model.decode(np.zeros((2, 8)), depth=1).shape == (2, 784)


def test_fit_accepts_uint8_pixels_and_28_by_28_images():
    model = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    pixels = np.random.default_rng(0).integers(0, 256, (8, 28, 28), dtype=np.uint8)
    history = model.fit(pixels, pixels[:2], epochs=1, batch_size=4)
    assert len(history.epochs) == 1 and np.isfinite(history.epochs[0]["val_loss"])


def test_numpy_float32_learning_rate_is_accepted():
    assert TrainConfig(lr=np.float32(0.01)).lr == pytest.approx(0.01)


def test_a_failed_fit_call_leaves_the_weights_untouched():
    model = small()
    before = model.params.copy()
    with pytest.raises(ValueError):
        model.fit(np.full((4, 16), np.nan), epochs=1)
    np.testing.assert_array_equal(model.params, before)


def test_dataset_arguments_are_named(tiny_mnist, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    kwargs = {"data_dir": tiny_mnist, "download": False, "progress": False, "test_size": 16}
    with pytest.raises(ValueError, match=r"batch_size must be between 1 and 64, got 0"):
        Dataset(train_size=64, batch_size=0, **kwargs)
    with pytest.raises(ValueError, match=r"train_size must be between 1 and 60000, got 70000"):
        Dataset(train_size=70000, **kwargs)
    with pytest.raises(ValueError, match=r"train_size=65 .*allowed: 1 to 64"):
        Dataset(train_size=65, batch_size=8, **kwargs)
    with pytest.raises(TypeError, match=r"train_size must be an int"):
        Dataset(train_size="all", **kwargs)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; allowed: 'mnist'"):
        Dataset("cifar", **kwargs)
    data = Dataset(train_size=16, batch_size=8, **kwargs)
    with pytest.raises(ValueError, match="sigma"):
        next(data.batches(noise=-0.2))
