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


SKIP_KINDS = ("gate", "residual")
"""The skip paths a model may end in (``engine.skip``): a gate adds a Dense layer from the last hidden
layer to the output, a residual skip no weights."""


def check_architecture(widths: list[int] | tuple[int, ...], skip: str | None = None) -> None:
    """Raise ``ValueError`` unless a chain of layer widths ``[n_in, h1, ..., n_out]``, ending in a skip path
    of kind ``skip`` (or none), is within the limits every model obeys (``MAX_LAYERS``, ``MAX_WIDTH``,
    ``MAX_PARAMS``; a skip needs ``n_in == n_out``)."""
    n_layers = len(widths) - 1
    if n_layers > MAX_LAYERS:
        raise ValueError(f"a model has at most {MAX_LAYERS} layers; this one has {n_layers}")
    too_wide = [w for w in widths if w > MAX_WIDTH]
    if too_wide:
        raise ValueError(f"a layer is at most {MAX_WIDTH} wide; this model has one of width {too_wide[0]}")
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))
    if skip is not None:
        if skip not in SKIP_KINDS:
            raise ValueError(f"unknown skip path {skip!r}; a model may end in: {', '.join(SKIP_KINDS)}")
        if n_layers < 1 or widths[0] != widths[-1]:
            raise ValueError(f"a skip path needs a model mapping n -> n, got {widths[0]} -> {widths[-1]}")
        if skip == "gate":  # the gate reads what the last layer reads
            n_params += widths[-2] * widths[-1] + widths[-1]
    if n_params > MAX_PARAMS:
        raise ValueError(
            f"a model holds at most {MAX_PARAMS:,} parameters ({MAX_PARAMS * 4 // 2**20} MiB of float32); "
            f"this one would hold {n_params:,}"
        )
