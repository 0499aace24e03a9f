"""One input through the network, every layer kept (the Denoise tab's view): the reconstruction is the model's,
skip path included; a code set by hand gives what the decoder draws from it (with a skip path: the network's own
image, since a code alone has no input to pass through)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.forward_pass import forward_pass
from engine.nn import build_mlp


def model(skip: str | None):
    """784-32-8-32-784 (a bottleneck before the last layer), its weights moved off their start so a gate is not 1/2
    everywhere and residual sums fall outside [0, 1]."""
    net = build_mlp([784, 32, 8, 32, 784], ["relu", "tanh", "relu", "linear" if skip == "residual" else "sigmoid"],
                    seed=5, skip=skip)  # fmt: skip
    net.params += np.random.default_rng(5).standard_normal(net.params.size).astype(np.float32) * np.float32(0.05)
    return net


@pytest.mark.parametrize("skip", [None, "gate", "residual"])
def test_the_reconstruction_is_predicts_and_the_inputs_own_code_gives_it_again(skip):
    net = model(skip)
    rng = np.random.default_rng(0)
    clean = (rng.random((28, 28)) > 0.8).astype(np.float32)
    noisy = np.clip(clean + 0.3 * rng.standard_normal((28, 28), dtype=np.float32), 0, 1)
    shown = forward_pass(net, noisy, clean)
    np.testing.assert_allclose(shown.recon, net.predict(noisy), atol=1e-6)
    again = forward_pass(net, noisy, clean, code=shown.code)  # the code set by hand to the input's own
    assert again.decoded_code and again.skip is None
    own = shown.recon if skip is None else net.skip_parts(noisy.reshape(1, -1))["network"].reshape(28, 28)
    np.testing.assert_allclose(again.recon, own, atol=1e-6)
    moved = forward_pass(net, noisy, clean, code=shown.code + 1)  # another code: the decoder's image moves
    assert float(np.max(np.abs(moved.recon - again.recon))) > 1e-3
    if skip is not None:  # the input's own pass keeps how its output was made
        assert set(shown.skip) >= {"network", "skip", "output"}
        np.testing.assert_allclose(shown.skip["output"], shown.recon.ravel(), atol=1e-6)
        assert not np.allclose(shown.recon.ravel(), shown.skip["network"], atol=1e-3)
