"""docs/export.md's snippets that run an exported model (onnxruntime) and load a model file into PyTorch, as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.nn import MLP, build_mlp

EXPORT_DOC = Path(__file__).resolve().parents[1] / "docs" / "export.md"


def snippet(word: str) -> str:
    """docs/export.md's Python block of the ONNX and PyTorch section that uses ``word``."""
    section = EXPORT_DOC.read_text().split("## Export to ONNX and PyTorch", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", section, re.S) if word in b]
    return block


def model() -> MLP:
    net = build_mlp([784, 32, 16, 32, 784], ["leaky_relu", "tanh", "relu", "sigmoid"], seed=2)
    net.layers[0].activation.alpha = 0.2
    net.metadata["training"] = {"epochs": 1}
    return net


def test_the_onnxruntime_snippet(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    from engine.onnx_export import export_onnx

    net = model()
    export_onnx(net, tmp_path / "my_model.onnx")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(snippet("onnxruntime"), scope)
    assert capsys.readouterr().out.strip() == '{"epochs": 1}'
    assert np.max(np.abs(scope["denoised"] - net.predict(scope["noisy"]))) <= 1e-5


def with_skip(kind: str) -> MLP:
    net = build_mlp([784, 32, 784], ["relu", "sigmoid" if kind == "gate" else "linear"], seed=3, skip=kind)
    net.params += np.random.default_rng(3).standard_normal(net.params.size).astype(np.float32) * np.float32(0.05)
    return net


@pytest.mark.parametrize("make", [model, lambda: with_skip("gate"), lambda: with_skip("residual")],
                         ids=["plain", "gate", "residual"])  # fmt: skip
@pytest.mark.parametrize("weights_dtype", ["float32", "float16"])
def test_the_pytorch_snippet(make, weights_dtype, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    net = make()
    net.round_weights(weights_dtype)
    net.save(tmp_path / "my_model.npz", weights_dtype=weights_dtype)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(snippet("torch"), scope)
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    with torch.no_grad():
        got = scope["net"](torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - net.predict(x))) <= 1e-5
