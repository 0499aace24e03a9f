"""The seed's model summary, as a pure function returning text (the CLI prints it, the GUI shows it)."""

from __future__ import annotations

from collections.abc import Sequence

RULE = "-" * 20


def format_summary(layers: Sequence, skip=None) -> str:
    """The multi-line summary of a list of Dense layers (and the model's skip path, if any), without a
    trailing newline.  A model without a skip prints exactly the seed's text."""
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
    if skip is not None:
        lines += ["", f" *** {len(layers) + 1}. Skip: ***", *_skip_lines(skip, len(layers))]
    return "\n".join(lines)


def _skip_lines(skip, n_layers: int) -> list[str]:
    """The skip path's entry: what it computes, and its weights (a gate's)."""
    if skip.kind == "gate":
        dense = skip.layers[0]
        return [
            f"GATE {dense.n_in} -> {dense.n_out} [Sigmoid]: output = gate * input + (1 - gate) * layer {n_layers}",
            f"Total parameters: {dense.n_params}",
            f"---> WEIGHTS: {tuple(dense.W.shape)}",
            f"---> BIASES: {tuple(dense.b.shape)}",
        ]
    return [f"RESIDUAL {skip.n} -> {skip.n}: output = clip(input + layer {n_layers}, 0, 1)", "Total parameters: 0"]
