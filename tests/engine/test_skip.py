"""Skip paths from the input (a learned gate, a residual): what they compute, their parts, files, limits, steps."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from engine.cli import main
from engine.losses import MSE
from engine.model_format import HEADER_KEY, ModelFileError, read_header
from engine.model_limits import MAX_WIDTH, check_architecture
from engine.nn import MLP, build_mlp
from engine.steps import DataParallelStep, SerialStep


def gated(seed: int = 1) -> MLP:
    """784-32-784 ending in a gate, its weights moved off their start so the gate is not 0.5 everywhere."""
    model = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=seed, skip="gate")
    rng = np.random.default_rng(seed)
    model.params += rng.standard_normal(model.params.size).astype(np.float32) * np.float32(0.05)
    return model


def residual(seed: int = 2) -> MLP:
    model = build_mlp([784, 32, 784], ["relu", "linear"], seed=seed, skip="residual")
    model.params += np.random.default_rng(seed).standard_normal(model.params.size).astype(np.float32) * np.float32(0.05)
    return model


def images(n: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 784), dtype=np.float32)


def test_a_gate_mixes_the_input_and_the_networks_image_pixel_by_pixel():
    model, x = gated(), images()
    parts = model.skip_parts(x)
    g, c = parts["gate"], parts["network"]
    assert g.shape == c.shape == x.shape and g.min() > 0 and g.max() < 1 and g.std() > 0.01
    np.testing.assert_allclose(parts["output"], g * x + (1 - g) * c, atol=1e-6)
    np.testing.assert_allclose(parts["skip"], g * x, atol=1e-6)
    np.testing.assert_allclose(model.predict(x), parts["output"], atol=1e-6)
    assert parts["output"].min() >= 0 and parts["output"].max() <= 1
    model.skip.layers[0].b[...] = 30  # a gate wide open hands the input through untouched
    np.testing.assert_allclose(model.predict(x), x, atol=1e-6)
    model.skip.layers[0].b[...] = -30  # a closed gate leaves the network's image
    np.testing.assert_allclose(model.predict(x), model.skip_parts(x)["network"], atol=1e-6)


def test_a_residual_skip_adds_the_networks_correction_and_clips():
    model, x = residual(), images()
    parts = model.skip_parts(x)
    assert parts["gate"] is None
    np.testing.assert_allclose(parts["output"], np.clip(x + parts["network"], 0, 1), atol=1e-6)
    assert parts["network"].min() < -0.01  # a linear last layer corrects both ways
    np.testing.assert_array_equal(model.predict(x), parts["output"])


def test_a_plain_model_has_no_skip_parts():
    model = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=0)
    parts = model.skip_parts(images(2))
    assert parts["gate"] is None and parts["skip"] is None
    np.testing.assert_array_equal(parts["output"], model.predict(images(2)))


@pytest.mark.parametrize("make", [gated, residual])
def test_the_last_activation_is_the_models_output_and_a_code_needs_the_input_for_the_skip(make):
    model, x = make(), images(3)
    layers = model.activations(x)
    assert len(layers) == len(model.layers)
    np.testing.assert_allclose(layers[-1], model.predict(x), atol=1e-6)
    code = layers[0]
    from_code = model.activations(code, start=1, skip_input=x)
    np.testing.assert_allclose(from_code[-1], model.predict(x), atol=1e-6)
    alone = model.activations(code, start=1)  # without the input, the network's own image
    np.testing.assert_allclose(alone[-1], model.skip_parts(x)["network"], atol=1e-6)
    with pytest.raises(ValueError, match="rows"):
        model.activations(code, start=1, skip_input=x[:2])


@pytest.mark.parametrize("make", [gated, residual])
def test_a_model_with_a_skip_saves_and_loads_as_it_was(make, tmp_path):
    model, x = make(), images()
    model.save(tmp_path / "m.npz")
    header = read_header(tmp_path / "m.npz")
    assert header["format_version"] == 2 and header["skip"]["type"] == model.skip.kind
    loaded = MLP.from_file(tmp_path / "m.npz")
    assert loaded.skip.kind == model.skip.kind and loaded.n_params == model.n_params
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    twin = loaded.copy()
    twin.params[:] = 0  # an independent copy
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert "Skip" in loaded.summary(print_fn=None) and repr(loaded).endswith(f"skip={model.skip.kind!r})")


def test_a_plain_model_is_still_written_as_format_version_1(tmp_path):
    build_mlp([784, 8, 784], ["relu", "sigmoid"]).save(tmp_path / "plain.npz")
    header = read_header(tmp_path / "plain.npz")
    assert header["format_version"] == 1 and "skip" not in header


def _rewrite_header(path, change) -> None:
    with np.load(path) as f:
        arrays = dict(f)
    header = json.loads(arrays[HEADER_KEY].tobytes())
    change(header, arrays)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda h, a: h.update(format_version=1), "version 1 file has no skip path"),
        (lambda h, a: h["skip"].update(type="wormhole"), "not one of gate, residual"),
        (lambda h, a: h["skip"].update(n_in=16), "should read the last layer's 32 inputs"),
        (lambda h, a: h["skip"].update(activation="relu"), "sigmoid"),
        (lambda h, a: a.pop("skip.b"), "skip.b is missing"),
        (lambda h, a: a.update({"skip.W": np.zeros((784, 16), np.float32)}), "skip.W"),
    ],
)
def test_a_bad_skip_in_a_file_is_refused_saying_why(change, words, tmp_path):
    gated().save(tmp_path / "m.npz")
    _rewrite_header(tmp_path / "m.npz", change)
    with pytest.raises(ModelFileError, match=words):
        MLP.from_file(tmp_path / "m.npz")


def test_the_gates_weights_count_against_the_parameter_limit(tmp_path):
    width = MAX_WIDTH  # the widest plain 784-w-784 fits (25.7 M); with its gate (+12.8 M) it does not
    check_architecture([784, width, 784])
    with pytest.raises(ValueError, match="at most 33,554,432"):
        check_architecture([784, width, 784], skip="gate")
    check_architecture([784, width, 784], skip="residual")  # no weights of its own
    with pytest.raises(ValueError, match="n -> n"):
        check_architecture([784, 16, 10], skip="gate")
    with pytest.raises(ValueError, match="unknown skip"):
        check_architecture([784, 16, 784], skip="wormhole")
    layers = f"784:{width}:relu,784:sigmoid"
    assert main(["train", "--layers", layers, "--skip", "gate", "-o", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()


def test_a_skip_is_the_models_end():
    model = build_mlp([784, 16, 784], ["relu", "sigmoid"], skip="gate")
    with pytest.raises(ValueError, match="already ends"):
        model.set_skip("residual")
    with pytest.raises(ValueError, match="before the skip"):
        model.add(model.layers[-1])
    with pytest.raises(ValueError, match="n -> n"):
        build_mlp([784, 16, 10], ["relu", "sigmoid"], skip="gate")


@pytest.mark.parametrize("make", [gated, residual])
def test_the_data_parallel_step_gives_the_serial_gradient_with_a_skip(make):
    model = make()
    noisy, clean = images(9, 1), images(9, 2)
    weights = np.linspace(0.5, 2, 9, dtype=np.float32)
    serial_loss = SerialStep(model, MSE(), 9).gradients(noisy, clean, weights)
    serial = model.grads.copy()
    model.grads[:] = 0
    with DataParallelStep(model, MSE(), 9) as step:
        loss = step.gradients(noisy, clean, weights)
        step.collect_gradients()  # the halves' gradients added (update adds them as it goes)
    assert loss == pytest.approx(serial_loss, rel=1e-6)
    np.testing.assert_allclose(model.grads, serial, rtol=1e-4, atol=1e-7)
    assert np.abs(serial[-784:]).max() > 0  # the last weights (the gate's biases, or the last layer's) learn


@pytest.mark.parametrize("make", [gated, residual])
def test_a_training_step_through_a_skip_allocates_no_batch_sized_array(make):
    """After the first step has made its buffers, forward, weighted loss and backward reuse them."""
    import tracemalloc

    model = make()
    noisy, clean = images(64, 1), images(64, 2)
    weights = np.linspace(0.5, 2, 64, dtype=np.float32)
    step = SerialStep(model, MSE(), 64)
    step.gradients(noisy, clean, weights)  # warm-up: buffers made
    tracemalloc.start()
    try:
        step.gradients(noisy, clean, weights)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < noisy.nbytes // 4, peak  # one (64, 784) float32 array is 200 KB; NumPy's ufunc buffers 32 KB


def test_training_leaves_no_scratch_behind_in_the_skip():
    """A trained model kept in the app should not hold a batch's buffers (the gate's layer and the skip's own)."""
    model = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    model.fit((images(64) * 255).astype(np.uint8), epochs=1, batch_size=32, noise=(0.0, 1.0))
    held = len(pickle.dumps(model.skip))  # every array the skip still references: its weights and their gradients
    weights = model.skip.layers[0].W.nbytes + model.skip.layers[0].b.nbytes
    assert held < 2.2 * weights, (held, weights)  # a (32, 784) float32 buffer would be 100 KB more


def test_the_forward_pass_of_a_gated_model_keeps_how_its_output_was_made():
    from engine.forward_pass import forward_pass

    model, x = gated(), images(1)[0]
    shown = forward_pass(model, x.reshape(28, 28), x.reshape(28, 28))
    parts = model.skip_parts(x)
    assert set(shown.skip) == {"network", "gate", "skip", "output"}
    for name, part in parts.items():
        np.testing.assert_array_equal(shown.skip[name], part[0])
    np.testing.assert_array_equal(shown.recon.reshape(784), shown.skip["output"])
    plain = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=1)
    assert forward_pass(plain, x).skip is None
    code = forward_pass(model, x, code=shown.code)  # a code alone: no input to pass through
    assert code.skip is None and code.decoded_code
    np.testing.assert_allclose(code.recon.reshape(784), parts["network"][0], rtol=1e-6)
