"""ONNX export: onnxruntime gives what ``predict`` gives (max abs difference <= 1e-5 on 100 noisy MNIST test images)
for every shipped model and a deep network with every activation; the file records the model's name and training
settings; without ``onnx`` the CLI says what to install."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from engine.cli import main
from engine.dataset import read_split
from engine.model_paths import shipped_models
from engine.nn import MLP, build_mlp
from engine.onnx_export import INSTALL_HINT, OnnxUnavailable, export_onnx, is_onnx_export, onnx_available

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def noisy_test_images(real_mnist_dir) -> np.ndarray:
    """(100, 784) float32: the first 100 MNIST test digits under Gaussian noise sigma 0.3, clipped to [0, 1]."""
    images, _ = read_split("test", 100, data_dir=real_mnist_dir, download=False, progress=False)
    clean = images.astype(np.float32) / 255
    noise = np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    return np.clip(clean + np.float32(0.3) * noise, 0, 1)


def every_activation() -> MLP:
    """A deep custom network using relu, tanh, leaky_relu (alpha 0.2), linear and sigmoid."""
    net = build_mlp([784, 256, 128, 64, 32, 128, 784], ["relu", "tanh", "leaky_relu", "linear", "leaky_relu",
                                                         "sigmoid"], seed=3)  # fmt: skip
    net.layers[2].activation.alpha = 0.2
    return net


def with_skip(kind: str, last: str) -> MLP:
    """784-64-784 ending in a skip path, its weights moved off their start (a gate not 0.5 everywhere, some
    residual sums outside [0, 1])."""
    net = build_mlp([784, 64, 784], ["relu", last], seed=4, skip=kind)
    net.params += np.random.default_rng(4).standard_normal(net.params.size).astype(np.float32) * np.float32(0.05)
    return net


MODELS = {name: (lambda name=name: MLP.from_file(name)) for name in shipped_models()}
MODELS["every-activation"] = every_activation
MODELS["gate"] = lambda: with_skip("gate", "sigmoid")
MODELS["residual"] = lambda: with_skip("residual", "linear")


def run_onnx(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnxruntime_gives_what_predict_gives(name, noisy_test_images, tmp_path):
    model = MODELS[name]()
    export_onnx(model, tmp_path / "m.onnx", name=name)
    got = run_onnx(tmp_path / "m.onnx", noisy_test_images)
    want = model.predict(noisy_test_images)
    assert got.shape == want.shape == (100, 784) and got.dtype == np.float32
    diff = float(np.max(np.abs(got - want)))
    print(f"{name}: max abs difference {diff:.2e}")
    assert diff <= TOLERANCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_the_file_records_the_name_layers_and_training_settings(tmp_path):
    model = MLP.from_file("mnist_denoising_autoencoder_large")
    export_onnx(model, tmp_path / "large.onnx")
    proto = onnx.load(str(tmp_path / "large.onnx"))
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["name"] == "mnist_denoising_autoencoder_large"
    assert json.loads(props["training"]) == model.metadata["training"]
    assert json.loads(props["layers"]) == model.layer_specs()
    assert json.loads(props["dataset"]) == model.metadata["dataset"]
    assert proto.producer_name == "denoise-studio" and is_onnx_export(tmp_path / "large.onnx")
    session = ort.InferenceSession(str(tmp_path / "large.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["name"] == "mnist_denoising_autoencoder_large"
    assert [i.shape for i in session.get_inputs()] == [["batch", 784]]


def test_cli_export(tmp_path, capsys, noisy_test_images):
    out = tmp_path / "dae.onnx"
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().err
    model = MLP.from_file("mnist_denoising_autoencoder")
    assert np.max(np.abs(run_onnx(out, noisy_test_images) - model.predict(noisy_test_images))) <= TOLERANCE


def test_without_onnx_the_cli_exits_2_saying_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    assert not onnx_available()
    with pytest.raises(OnnxUnavailable, match=r"pip install 'denoise-studio\[onnx\]'"):
        export_onnx(MLP.from_file("mnist_denoising_autoencoder"), tmp_path / "m.onnx")
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert INSTALL_HINT in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
