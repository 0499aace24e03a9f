"""One input through a network, every layer kept: what the Denoise tab shows for the image on its canvas.

``forward_pass(network, noisy, clean, code=None)`` runs the noisy image through the network and keeps every
layer's output, the code (the bottleneck's output) and the reconstruction, with the errors against the
clean image.  With ``code`` the decoder runs on that code instead of the input's own (a code set by hand,
or a point of the latent map): the layers up to the code are still the input's.  A network with a skip
path (``engine.skip``) also keeps how its output was made (``MLP.skip_parts``): the network's own image,
the gate and what the input itself brings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.metrics import mse


@dataclass(frozen=True)
class ForwardPass:
    """``layers``: each layer's output, (1, width) float32, the reconstruction last; ``code``: (k,) the code the
    decoder ran on; ``recon``: (28, 28); ``errors``: {"noisy": MSE of the input, "model": of the reconstruction}
    against the clean image — empty when there is no clean image (nothing drawn: nothing to score).

    ``skip``: for a network with a skip path run on its input, ``MLP.skip_parts`` of it, each (n_out,) float32
    (``"network"``, ``"gate"`` — None without a gate —, ``"skip"``, ``"output"``); None for a network without
    one, and when the decoder ran on a given code: a code alone has no input to pass through, so the
    reconstruction is then the network's own image.
    """

    noisy: np.ndarray
    layers: list[np.ndarray]
    code: np.ndarray
    recon: np.ndarray
    errors: dict[str, float]
    decoded_code: bool  # the decoder ran on a given code, not on the input's own
    skip: dict[str, np.ndarray | None] | None = None


def forward_pass(
    network, noisy: np.ndarray, clean: np.ndarray | None = None, code: np.ndarray | None = None
) -> ForwardPass:
    """noisy, clean: (28, 28) or (784,) in [0, 1]; code: (k,) for the bottleneck, or None for the input's own.

    ``clean`` that is None or all zero (an empty canvas) gives no errors."""
    x = np.asarray(noisy, np.float32).reshape(1, -1)
    layers = network.activations(x)  # every layer's (1, width), the output last
    at = network.bottleneck_index()
    decoded = code is not None and len(layers) > 1
    skip = None
    if decoded:
        given = np.asarray(code, np.float32).reshape(1, -1)
        layers[at:] = [given, *network.activations(given, start=at + 1)]
    elif getattr(network, "skip", None) is not None:
        skip = {name: None if part is None else part[0] for name, part in network.skip_parts(x).items()}
    recon = layers[-1].reshape(np.shape(noisy) if np.size(noisy) == layers[-1].size else (-1,))
    errors: dict[str, float] = {}
    if clean is not None and np.any(clean):
        errors = {"noisy": mse(noisy, clean), "model": mse(recon, clean)}
    return ForwardPass(np.asarray(noisy, np.float32), layers, layers[at][0].copy(), recon, errors, decoded, skip)
