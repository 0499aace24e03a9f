"""The web page export without a browser: one self-contained file whose policy allows exactly its own scripts, the
weights as written, hostile strings kept out of the markup, one-line refusals that write nothing, the float16 check,
and ``denoise-studio export -o page.html``.  (The page running in Chromium: ``tests/web``.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from engine.cli import main
from engine.dataset import read_split
from engine.layers import Dense
from engine.nn import MLP, build_mlp
from engine.skip import GatedSkip
from engine.web_export import (
    HANDFUL,
    HalfPrecisionRefused,
    WebExportError,
    check_half,
    export_html,
    is_html_export,
    page_html,
)


class Parsed(HTMLParser):
    """A page's tags with their attributes, its scripts (type, text) and its style."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[str | None, str]] = []
        self.styles: list[str] = []
        self._open: tuple[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs).get("type"))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._open = None

    def handle_data(self, data):
        if self._open and self._open[0] == "script":
            self.scripts.append((self._open[1], data))
        elif self._open:
            self.styles.append(data)

    def csp(self) -> str:
        csp = "Content-Security-Policy"
        (policy,) = [a["content"] for t, a in self.tags if t == "meta" and a.get("http-equiv") == csp]
        return policy

    def description(self) -> dict:
        (text,) = [data for kind, data in self.scripts if kind == "application/json"]
        return json.loads(text)

    def weights(self) -> bytes:
        (text,) = [data for kind, data in self.scripts if kind == "application/octet-stream"]
        return base64.b64decode(text)


def small_model(seed: int = 0) -> MLP:
    net = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=seed)
    net.metadata = {"training": {"epochs": 3, "noise": [0.0, 0.8], "noise_kind": "gaussian", "optimizer": "adam",
                                 "lr": 0.001}, "dataset": {"name": "mnist", "train_size": 64}}  # fmt: skip
    return net


def digits(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 784) uint8 blobs and labels cycling 0-9 (classes in order 3, 4, ..., so picking by class reorders)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for image in images:
        r, c = rng.integers(4, 14, size=2)
        image[r : r + 10, c : c + 6] = rng.integers(128, 256)
    return images.reshape(n, 784), (np.arange(n) + 3) % 10


def test_the_page_is_one_file_that_reaches_for_nothing_and_runs_only_its_own_scripts():
    text = page_html(small_model(), test_images=digits())
    page = Parsed(text)
    assert re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I) is None  # no address to fetch from
    assert not [(tag, attrs) for tag, attrs in page.tags if {"src", "href", "srcset", "action", "data"} & set(attrs)]
    assert not [tag for tag, _ in page.tags if tag in ("link", "img", "iframe", "object", "embed", "base", "form")]
    assert not re.search(r"url\(|@import", page.styles[0])
    policy = dict(rule.split(" ", 1) for rule in page.csp().split("; "))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'none'"
    code = [data for kind, data in page.scripts if kind is None]
    assert len(code) == 4
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(c.encode()).digest()).decode() + "'" for c in code}
    assert set(policy["script-src"].split()) == hashes  # exactly these scripts, nothing inline besides
    assert "unsafe" not in page.csp()
    style_hash = "'sha256-" + base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode() + "'"
    assert policy["style-src"] == style_hash
    assert page.tags[2:4] == [("meta", {"charset": "utf-8"}),
                              ("meta", {"http-equiv": "Content-Security-Policy", "content": page.csp()})]  # fmt: skip


@pytest.mark.parametrize("half", [False, True])
def test_the_weights_are_the_models_layer_by_layer(half):
    model = build_mlp([784, 32, 8, 32, 784], ["leaky_relu", "tanh", "linear", "sigmoid"], seed=1)
    model.layers[0].activation.alpha = 0.2
    page = Parsed(page_html(model, half=half))
    dtype = np.dtype("<f2" if half else "<f4")
    assert np.array_equal(np.frombuffer(page.weights(), dtype), model.params.astype(dtype))  # W then b, per layer
    described = page.description()
    assert described["precision"] == ("float16" if half else "float32")
    assert [layer["arrays"] for layer in described["layers"]][0] == [["W", [32, 784]], ["b", [32]]]
    assert described["layers"][0]["alpha"] == 0.2 and described["n_params"] == model.n_params


@pytest.mark.parametrize("kind", ["gate", "residual"])
def test_a_skip_path_is_described_and_its_weights_follow_the_layers(kind):
    model = build_mlp([784, 32, 784], ["relu", "sigmoid" if kind == "gate" else "linear"], seed=2, skip=kind)
    page = Parsed(page_html(model, half=True))
    assert np.array_equal(np.frombuffer(page.weights(), "<f2"), model.params.astype("<f2"))  # the gate's last
    described = page.description()
    skip = described["skip"]
    assert skip["type"] == kind and described["n_params"] == model.n_params
    if kind == "gate":
        assert skip["arrays"] == [["W", [784, 32]], ["b", [784]]] and skip["params"] == 32 * 784 + 784
        assert (skip["n_in"], skip["n_out"], skip["activation"]) == (32, 784, "sigmoid")
    else:
        assert skip["arrays"] == [] and skip["params"] == 0
    assert Parsed(page_html(small_model())).description()["skip"] is None


def test_the_gated_default_model_is_described_with_its_gate_and_loss_weighting():
    model = MLP.from_file("mnist_denoising_autoencoder_gated")
    described = Parsed(page_html(model, half=True)).description()
    assert described["skip"]["type"] == "gate" and described["n_params"] == model.n_params
    assert ["Loss weighting", "each image's loss ÷ (its noise level² + 0.05)"] in described["training"]
    assert not [row for row in described["training"] if row[0] == "noise_weighting"]


def test_hostile_strings_stay_text_inside_the_data_block():
    hostile = "</script><script>alert(1)</script>"
    model = small_model()
    model.metadata["training"]["optimizer"] = "<img src=x onerror=alert(2)>"
    model.metadata["dataset"]["name"] = "\u2028<!--"
    text = page_html(model, name=hostile)
    page = Parsed(text)
    assert len(page.scripts) == 6  # the data block, the weights and the four scripts: no other script began
    assert "<script>alert" not in text and "<img" not in text and "\u2028" not in text
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Denoise Studio</title>" in text
    described = page.description()
    assert described["name"] == hostile
    assert ["Optimizer", "<img src=x onerror=alert(2)>, learning rate 0.001"] in described["training"]
    assert described["data_set"]["title"] == "\u2028<!--"


def test_the_page_describes_the_model_and_picks_one_test_image_of_each_class():
    images, labels = digits()
    model = MLP.from_file("mnist_denoising_autoencoder_blind")
    described = Parsed(page_html(model, test_images=(images, labels))).description()
    assert described["name"] == "mnist_denoising_autoencoder_blind"
    assert ["Noise", "Gaussian σ 0–0.8, each image its own level"] in described["training"]
    assert ["Data set", "MNIST, 60,000 training images"] in described["training"]
    assert described["scores"][0] == ["Test MSE at σ 0.4", f"{model.metadata['metrics']['test_mse@0.4']:.5f}"]
    assert described["noise"] == {"kind": "gaussian", "level": 0.4, "trained": "Gaussian σ 0–0.8"}
    shown = described["test_images"]
    assert shown["count"] == HANDFUL and shown["labels"] == list(range(10))
    pixels = np.frombuffer(base64.b64decode(shown["pixels"]), np.uint8).reshape(HANDFUL, 784)
    assert np.array_equal(pixels, images[[7, 8, 9, 0, 1, 2, 3, 4, 5, 6]])  # the first 0 is image 7
    assert "CC BY-SA 3.0" in described["data_set"]["attribution"]
    without = Parsed(page_html(model)).description()
    assert without["test_images"] is None


def test_every_activation_exports():
    model = build_mlp([784, 24, 12, 24, 784], ["relu", "tanh", "leaky_relu", "linear"], seed=0)
    described = Parsed(page_html(model)).description()
    assert [layer["activation"] for layer in described["layers"]] == ["relu", "tanh", "leaky_relu", "linear"]


def refused(tmp_path, model, match: str, **kwargs) -> str:
    target = tmp_path / "page.html"
    with pytest.raises(WebExportError, match=match) as caught:
        export_html(model, target, **kwargs)
    assert not list(tmp_path.iterdir())  # nothing written, no temp file left
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_what_the_page_cannot_run_is_refused_in_one_line(tmp_path):
    refused(tmp_path, build_mlp([100, 10, 100], ["relu", "sigmoid"]), "must map 784 pixels to 784; this one maps 100")
    refused(tmp_path, build_mlp([784, 10], ["relu"]), "maps 784 -> 10")
    with_skip = small_model()
    with_skip.layer_specs = lambda: [*MLP.layer_specs(with_skip), {"type": "Skip", "n_in": 784, "n_out": 784}]
    refused(tmp_path, with_skip, "layer 2 is of kind 'Skip', which the page cannot run")
    unknown = small_model()
    unknown.layer_specs = lambda: [{**spec, "activation": "gelu"} for spec in MLP.layer_specs(unknown)]
    refused(tmp_path, unknown, "activation 'gelu' is not one the page computes")
    odd_skip = build_mlp([784, 16, 784], ["relu", "sigmoid"], skip="gate")
    odd_skip.skip.kind = "attention"
    refused(tmp_path, odd_skip, "skip path of kind 'attention', which the page cannot run")
    refused(tmp_path, MLP(), "no layers")


def fragile_model() -> MLP:
    """A network whose output rests on a bias float16 cannot hold: 2000.4 - 2000 is 0.4, but float16 makes 2000.4
    2000.0, so every pixel moves from sigmoid(0.4) to sigmoid(0)."""
    first = Dense.from_arrays(np.zeros((1, 784), np.float32), np.full(1, 2000, np.float32), "relu")
    second = Dense.from_arrays(np.full((784, 1), -1, np.float32), np.full(784, 2000.4, np.float32), "sigmoid")
    model = MLP([first, second])
    model.metadata = {"training": {"noise": 0.3, "noise_kind": "masking"}}
    return model


def test_half_refuses_with_the_figure_and_keeps_the_file_that_was_there(tmp_path):
    message = refused(tmp_path, fragile_model(), "float16 weights \\(--half\\): they change the test MSE by", half=True,
                      test_images=digits())  # fmt: skip
    figure = r"by \d+\.\d% at (σ \d|masking fraction 0.3) \(0\.\d{5} -> 0\.\d{5}; at most 1% allowed\)"
    assert re.search(figure, message)
    page = tmp_path / "page.html"
    export_html(small_model(), page)
    before = page.read_bytes()
    with pytest.raises(HalfPrecisionRefused):
        export_html(fragile_model(), page, half=True, test_images=digits())
    assert page.read_bytes() == before
    (tmp_path / "none").mkdir()
    assert "test set is not on this machine" in refused(tmp_path / "none", small_model(), "--half", half=True)


def fragile_gate() -> MLP:
    """A gated network whose gate alone float16 cannot hold (its network has exact float16 weights): the gate's bias
    2000.4 less 2000 from the hidden unit is 0.4, float16 makes it 0, so every pixel's gate moves from sigmoid(0.4)
    to 1/2 and the output towards the network's grey image."""
    first = Dense.from_arrays(np.zeros((1, 784), np.float32), np.full(1, 2000, np.float32), "relu")
    second = Dense.from_arrays(np.zeros((784, 1), np.float32), np.zeros(784, np.float32), "sigmoid")
    model = MLP([first, second], skip=GatedSkip.from_arrays(np.full((784, 1), -1, np.float32),
                                                            np.full(784, 2000.4, np.float32)))  # fmt: skip
    model.metadata = {"training": {"noise": 0.3, "noise_kind": "gaussian"}}
    return model


def test_half_checks_the_skip_paths_weights_too(tmp_path):
    message = refused(tmp_path, fragile_gate(), "they change the test MSE by", half=True, test_images=digits())
    assert "at σ" in message


def test_half_checks_the_training_level_and_sigma_0_1_to_1(tmp_path):
    model = MLP.from_file("mnist_denoising_autoencoder_blind_small")
    images, labels = digits(200)
    check = check_half(model, images)
    assert [row[0] for row in check.rows] == ["σ 0.4"] + [f"σ {s / 10:g}" for s in range(1, 11) if s != 4]
    assert check.ok and 0 <= check.worst_change <= 0.01
    full = export_html(model, tmp_path / "f32.html", test_images=(images, labels))
    half = export_html(model, tmp_path / "f16.html", half=True, test_images=(images, labels))
    assert half.precision == "float16" and half.half_check is not None and full.half_check is None
    assert full.size - half.size == pytest.approx(model.n_params * 2 * 4 / 3, abs=400)  # 2 bytes a weight, base64
    masked = fragile_model()
    assert check_half(MLP([masked.layers[0], Dense.from_arrays(masked.layers[1].W, np.zeros(784, np.float32),
                                                              "sigmoid")]), images).rows[0][0] == "σ 0.1"  # fmt: skip


def test_is_html_export(tmp_path):
    export_html(small_model(), tmp_path / "ours.html")
    (tmp_path / "theirs.html").write_text("<!DOCTYPE html><html><head><title>x</title></head></html>")
    assert is_html_export(tmp_path / "ours.html")
    assert not is_html_export(tmp_path / "theirs.html") and not is_html_export(tmp_path / "missing.html")


# ----- the command line -----------------------------------------------------------------------------------------------
def test_cli_exports_a_page_with_the_data_sets_test_images(tmp_path, capsys, tiny_mnist):
    out = tmp_path / "page.html"
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(out)]) == 0
    labels = read_split("test", download=False, progress=False)[1]
    described = Parsed(out.read_text()).description()
    assert described["test_images"]["labels"] == sorted(set(labels.tolist()))
    assert "web page" in capsys.readouterr().err
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(out)]) == 0  # its own page: replaced


def test_cli_format_comes_from_the_extension_or_format(tmp_path, capsys, tiny_mnist, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "mnist_denoising_autoencoder", "--format", "html"]) == 0
    assert is_html_export(tmp_path / "mnist_denoising_autoencoder.html")
    assert main(["export", "mnist_denoising_autoencoder", "--format", "html", "-o", "page"]) == 0
    assert is_html_export(tmp_path / "page")
    assert main(["export", "mnist_denoising_autoencoder", "-o", "page.txt"]) == 2
    assert "cannot tell the format from --output page.txt" in capsys.readouterr().err
    assert main(["export", "mnist_denoising_autoencoder", "-o", "m.onnx", "--half"]) == 2
    assert "--half applies to the web page" in capsys.readouterr().err
    assert main(["export", "mnist_denoising_autoencoder", "-o", "m.onnx", "--format", "html"]) == 2
    (tmp_path / "notes.html").write_text("<p>my notes</p>")
    assert main(["export", "mnist_denoising_autoencoder", "-o", "notes.html"]) == 2
    assert "was not a web page exported by Denoise Studio" in capsys.readouterr().err
    assert (tmp_path / "notes.html").read_text() == "<p>my notes</p>"
    assert main(["export", "mnist_denoising_autoencoder", "-o", "notes.html", "--force"]) == 0


def test_cli_without_the_data_set_exports_drawing_only_and_refuses_half(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "nowhere"))
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(tmp_path / "page.html")]) == 0
    assert "no test images in the page (drawing only)" in capsys.readouterr().err
    assert Parsed((tmp_path / "page.html").read_text()).description()["test_images"] is None
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(tmp_path / "half.html"), "--half"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the MNIST test set is not on this machine" in err
    assert not (tmp_path / "half.html").exists()
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(tmp_path / "half.html")]) == 0


def test_cli_suggests_half_for_a_model_whose_weights_are_float16_already(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "nowhere"))
    model = small_model()
    model.save(tmp_path / "full.npz")
    model.round_weights("float16")
    model.save(tmp_path / "half.npz", weights_dtype="float16")
    assert main(["export", str(tmp_path / "full.npz"), "-o", str(tmp_path / "full.html")]) == 0
    assert "--half" not in capsys.readouterr().err
    assert main(["export", str(tmp_path / "half.npz"), "-o", str(tmp_path / "half.html")]) == 0
    assert "weights are float16 values already: --half writes a page that computes the same" in (
        capsys.readouterr().err
    )


def test_cli_refuses_a_model_the_page_cannot_run_in_one_line(tmp_path, capsys):
    build_mlp([100, 10, 100], ["relu", "sigmoid"]).save(tmp_path / "odd.npz")
    assert main(["export", str(tmp_path / "odd.npz"), "-o", str(tmp_path / "odd.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "maps 100 values to 100" in err and not (tmp_path / "odd.html").exists()
