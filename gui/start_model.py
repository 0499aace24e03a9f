"""The model the app opens with, read without Qt (``gui.app.main`` has it read off the GUI thread once the window is
on screen: ``FileActions.open_start_model``; a window made without ``state`` or ``model`` reads it itself)."""

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
        return untrained_start_model(exc.problem)


def untrained_start_model(problem: str) -> tuple[MLP, str, str]:
    """A fresh 784-10-784 model, "untitled", and a note saying why the shipped one is not there (``problem``)."""
    model = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
    return model, "untitled", (
        f"Shipped model not available ({problem}); started with an untrained 784-10-784 model — "
        "train it on the Training tab or open one with Ctrl+O"
    )
