"""The seed's model summary, as a pure function returning text (the CLI prints it, the GUI shows it)."""

from __future__ import annotations

from collections.abc import Sequence

RULE = "-" * 20


def format_summary(layers: Sequence) -> str:
    """The multi-line summary of a list of Dense layers, without a trailing newline."""
    lines = [f"{RULE} MULTI LAYER PERCEPTRON (MLP) {RULE}", ""]
    for number, layer in enumerate(layers, start=1):
        lines += [
            "",
            f" *** {number}. Layer: ***",
            f"DENSE {layer.n_in} -> {layer.n_out} [{layer.activation.name}]",
            f"Total parameters: {layer.n_params}",
            f"---> WEIGHTS: {tuple(layer.W.shape)}",
            f"---> BIASES: {tuple(layer.b.shape)}",
        ]
    return "\n".join(lines)
