"""The model the app opens with, read without Qt (``gui.app.main`` reads it on a thread of its own while the window
is built; the window reads it itself otherwise)."""

from __future__ import annotations

from engine.model_format import ModelFileError
from engine.nn import MLP, build_mlp

SHIPPED_MODEL = "mnist_denoising_autoencoder_gated"
"""The model the app opens with: trained over σ 0–1 with a gated skip from its input, it beats the best linear
denoiser at every σ of the slider (models/README.md; the seed's mnist_denoising_autoencoder is in File ▸ Shipped
models)."""


def load_start_model() -> tuple[MLP, str, str | None]:
    """The shipped model and its name, or a fresh 784-10-784 one with a note saying why."""
    try:
        return MLP.from_file(SHIPPED_MODEL), SHIPPED_MODEL, None
    except ModelFileError as exc:
        model = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
        return model, "untitled", (
            f"Shipped model not available ({exc.problem}); started with an untrained 784-10-784 model — "
            "train it on the Training tab or open one with Ctrl+O"
        )
