"""One rule for what a model may be, shared by building, the CLI, saving and loading: a model that saves loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from engine.layers import Dense
from engine.model_format import HEADER_KEY, ModelFileError, read_model
from engine.model_limits import MAX_LAYERS, MAX_PARAMS, MAX_WIDTH, check_architecture
from engine.nn import MLP, build_mlp


def test_the_largest_allowed_model_saves_and_loads(tmp_path):
    widths = [784] + [8] * (MAX_LAYERS - 1) + [784]
    net = build_mlp(widths, ["relu"] * MAX_LAYERS, seed=0)
    net.save(tmp_path / "deep.npz")
    assert len(MLP.from_file(tmp_path / "deep.npz").layers) == MAX_LAYERS


def test_one_layer_more_is_refused_everywhere(tmp_path, capsys):
    widths = [784] + [8] * MAX_LAYERS + [784]
    with pytest.raises(ValueError, match=f"at most {MAX_LAYERS} layers"):
        build_mlp(widths, ["relu"] * (MAX_LAYERS + 1))
    net = build_mlp(widths[:-1], ["relu"] * MAX_LAYERS)
    with pytest.raises(ValueError, match=f"at most {MAX_LAYERS} layers"):
        net.add(Dense(8, 784))
    assert len(net.layers) == MAX_LAYERS  # the refused layer was not added
    layers = "784:8:relu," + ",".join(["8:relu"] * (MAX_LAYERS - 1)) + ",784:sigmoid"
    assert main(["train", "--layers", layers, "-o", str(tmp_path / "x.npz")]) == 2
    assert f"at most {MAX_LAYERS} layers" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_a_file_listing_too_many_layers_is_refused_from_its_header(tmp_path):
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"])
    specs = [{"type": "Dense", "n_in": 8, "n_out": 8, "activation": "relu"}] * (MAX_LAYERS + 1)
    header = {"format": "denoise-studio-model", "format_version": 1, "layers": specs, "metadata": {}}
    np.savez(tmp_path / "deep.npz", **{HEADER_KEY: np.frombuffer(json.dumps(header).encode(), np.uint8)},
             **{"layer0.W": net.layers[0].W})  # fmt: skip
    with pytest.raises(ModelFileError, match="more than a model can have"):
        read_model(tmp_path / "deep.npz")


@pytest.mark.parametrize(
    ("widths", "words"),
    [([784, MAX_WIDTH + 1, 784], f"{MAX_WIDTH}"), ([784, 8192, 8192, 784], "at most 33,554,432")],
)
def test_too_wide_or_too_many_parameters(widths, words, tmp_path, capsys):
    with pytest.raises(ValueError, match=words):
        check_architecture(widths)
    with pytest.raises(ValueError, match=words):
        build_mlp(widths, ["relu"] * (len(widths) - 1))
    layers = f"{widths[0]}:{widths[1]}:relu," + ",".join(f"{w}:relu" for w in widths[2:])
    assert main(["train", "--layers", layers, "-o", str(tmp_path / "x.npz")]) == 2
    assert words in capsys.readouterr().err
    pairs = zip(widths, widths[1:], strict=False)
    specs = [{"type": "Dense", "n_in": a, "n_out": b, "activation": "relu"} for a, b in pairs]
    header = {"format": "denoise-studio-model", "format_version": 1, "layers": specs, "metadata": {}}
    np.savez(tmp_path / "big.npz", **{HEADER_KEY: np.frombuffer(json.dumps(header).encode(), np.uint8)})
    with pytest.raises(ModelFileError, match=words):
        read_model(tmp_path / "big.npz")  # refused from the header, before any weight is looked for
    n_params = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    assert n_params > MAX_PARAMS or max(widths) > MAX_WIDTH


@pytest.mark.parametrize(
    ("widths", "allowed"),
    [
        ([784, MAX_WIDTH, 784], True),  # the widest layer there may be (784-16384-784 fits, 25.7 M parameters)
        ([784, MAX_WIDTH + 1, 784], False),
        ([MAX_PARAMS // MAX_WIDTH - 1, MAX_WIDTH], True),  # exactly MAX_PARAMS, biases counted: 2047 x 16384 + 16384
        ([MAX_PARAMS // MAX_WIDTH, MAX_WIDTH], False),  # the weights alone fit; with the biases, 16,384 too many
    ],
)
def test_the_limits_are_exact_at_their_edges(widths, allowed):
    """Checked without building (a model at these limits takes 100-130 MB): the bound itself, not a model near it."""
    n_params = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    assert (n_params <= MAX_PARAMS and max(widths) <= MAX_WIDTH) == allowed  # what the case is about
    if allowed:
        check_architecture(widths)
    else:
        with pytest.raises(ValueError, match="at most"):
            check_architecture(widths)


def test_save_refuses_what_could_not_be_loaded(tmp_path):
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"])
    net.layers[0].n_out = MAX_WIDTH + 1  # a model changed behind the checks
    with pytest.raises(ValueError, match="not saving"):
        net.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_dense_refuses_integer_dtypes_and_names_a_negative_seed():
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Dense(4, 4, dtype=int)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        Dense(4, 4, seed=-1)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=-1)
