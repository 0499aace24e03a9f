"""What a model may be: one rule for building, saving and loading, so a model that saves always loads.

``Dense`` checks each width, ``MLP`` the whole chain, ``engine.model_format`` every file it writes
and reads, the CLI its ``--layers``; all call ``check_architecture``.
"""

from __future__ import annotations

MAX_LAYERS = 1000
MAX_WIDTH = 16384
"""The widest layer: its activations for a batch of 128 take 8 MiB, its buffers no more than the rest of a step."""
MAX_PARAMS = 2**25
"""33,554,432 parameters, 128 MiB of float32: training holds four copies (weights, gradients, Adam's two
moments), 512 MiB, and loading the largest file peaks near 3 copies.  784-16384-784 (25.7 M) fits."""


def check_architecture(widths: list[int] | tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless a chain of layer widths ``[n_in, h1, ..., n_out]`` is within the limits
    every model obeys (``MAX_LAYERS``, ``MAX_WIDTH``, ``MAX_PARAMS``)."""
    n_layers = len(widths) - 1
    if n_layers > MAX_LAYERS:
        raise ValueError(f"a model has at most {MAX_LAYERS} layers; this one has {n_layers}")
    too_wide = [w for w in widths if w > MAX_WIDTH]
    if too_wide:
        raise ValueError(f"a layer is at most {MAX_WIDTH} wide; this model has one of width {too_wide[0]}")
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))
    if n_params > MAX_PARAMS:
        raise ValueError(
            f"a model holds at most {MAX_PARAMS:,} parameters ({MAX_PARAMS * 4 // 2**20} MiB of float32); "
            f"this one would hold {n_params:,}"
        )
