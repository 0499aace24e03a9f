"""The latent codes a model gives a set of images, and the range they span (for an axis that stays put)."""

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
