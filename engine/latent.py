"""The latent codes (and every layer's activations) a model gives a set of images, and the range they span
(for an axis or a colour scale that stays put from one drawing to the next)."""

from __future__ import annotations

import numpy as np

from engine.images import as_unit_float

RANGE_PERCENTILE = 99.9
"""The axis covers codes up to this percentile: one outlier image should not squash every bar."""


def latent_codes(model, images: np.ndarray) -> np.ndarray:
    """images: (n, 784) uint8 or float in [0, 1] -> their codes (n, latent_width) float32."""
    return model.encode(as_unit_float(images).reshape(len(images), -1))


def code_range(codes: np.ndarray) -> tuple[float, float]:
    """(low, high) that holds nearly every code value (n, k): 0 included, at least 1 wide."""
    codes = np.asarray(codes, np.float64)
    low = min(0.0, float(np.percentile(codes, 100 - RANGE_PERCENTILE))) if codes.size else 0.0
    high = max(0.0, float(np.percentile(codes, RANGE_PERCENTILE))) if codes.size else 1.0
    if high - low < 1.0:
        high = low + 1.0
    return low, high


def layer_ranges(model, images: np.ndarray, percentile: float = 99.0) -> list[tuple[float, float]]:
    """For each layer, (low, high) holding nearly every activation ``images`` (n, 784) give it, 0 included.

    From the ``100 - percentile`` to the ``percentile`` percentile: a few strong activations must not
    wash out the colours of the typical ones (ReLU layers are sparse with long tails).  A layer that
    stays at zero gets (0, 1).  One entry per layer, the output layer last.
    """
    x = as_unit_float(images).reshape(len(images), -1)
    ranges = []
    for values in model.activations(x):  # (n, width) each
        low = min(0.0, float(np.percentile(values, 100 - percentile))) if values.size else 0.0
        high = max(0.0, float(np.percentile(values, percentile))) if values.size else 1.0
        ranges.append((low, high) if high > low else (0.0, 1.0))
    return ranges


def strongest_units(code: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` units of a code (n,) with the largest magnitude, as indices (min(k, n),) int, ascending (the
    bars of a wide code: the units that matter for this input, in the code's own order).  Ties go to the lower
    index."""
    code = np.asarray(code).reshape(-1)
    if k >= code.size:
        return np.arange(code.size)
    order = np.argsort(-np.abs(code.astype(np.float64)), kind="stable")
    return np.sort(order[:k])
