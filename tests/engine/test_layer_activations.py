"""Every layer's activations from one call: what the network view shows, consistent with predict/encode/decode."""

from __future__ import annotations

import numpy as np
import pytest

from engine.latent import layer_ranges
from engine.nn import build_mlp


@pytest.fixture
def model():
    return build_mlp([784, 32, 8, 32, 784], ["relu", "tanh", "leaky_relu", "sigmoid"], seed=2)


def test_the_last_activation_is_predict_and_the_bottleneck_is_the_code(model):
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    acts = model.activations(x)
    assert [a.shape for a in acts] == [(5, 32), (5, 8), (5, 32), (5, 784)]
    assert all(a.dtype == np.float32 for a in acts)
    np.testing.assert_array_equal(acts[-1], model.predict(x))
    np.testing.assert_array_equal(acts[model.bottleneck_index()], model.encode(x))
    np.testing.assert_array_equal(acts[0], model.encode(x, depth=1))


def test_one_image_gives_rows_and_start_runs_the_decoder_on_a_code(model):
    x = np.random.default_rng(1).random(784, dtype=np.float32)
    acts = model.activations(x)
    assert acts[0].shape == (1, 32)
    code = acts[1]
    tail = model.activations(code, start=2)
    assert len(tail) == 2
    np.testing.assert_array_equal(tail[-1], model.decode(code))
    np.testing.assert_array_equal(tail[-1], acts[-1])


def test_bad_start_or_input_is_refused_clearly(model):
    with pytest.raises(ValueError, match="start must be between 0 and 3"):
        model.activations(np.zeros(784), start=4)
    with pytest.raises(ValueError, match="activations\\(\\) input must hold 8 values"):
        model.activations(np.zeros(784), start=2)


def test_layer_ranges_hold_nearly_every_activation_with_zero_included(model):
    images = (np.random.default_rng(3).random((300, 784)) * 255).astype(np.uint8)
    ranges = layer_ranges(model, images)
    assert len(ranges) == 4
    acts = model.activations(images / np.float32(255))
    for (low, high), values in zip(ranges, acts, strict=True):
        assert low <= 0 <= high and high > low
        assert np.mean((values >= low) & (values <= high)) >= 0.98
    assert ranges[0][0] == 0  # ReLU: nothing below zero
    assert ranges[1][0] < 0  # tanh: both signs
