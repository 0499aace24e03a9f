"""Pixel conventions: images are uint8 0-255 on disk and float32 in [0, 1] in the network.

Data sets keep uint8 (a quarter of the memory) and convert a batch at a time.
"""

from __future__ import annotations

import math

import numpy as np


def to_unit_float(images_u8: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels (..., 784) -> float32 in [0, 1]."""
    return np.multiply(images_u8, np.float32(1 / 255), out=out, dtype=np.float32)


def as_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels scaled to [0, 1]; anything else as float32 (no copy when it already is)."""
    images = np.asarray(images)
    return to_unit_float(images) if images.dtype == np.uint8 else np.asarray(images, np.float32)


def check_clean_images(x: np.ndarray, name: str, n_pixels: int) -> np.ndarray:
    """x checked as clean images: (n, n_pixels) (or (n, 28, 28)), uint8 pixels or floats in [0, 1].

    Returns (n, n_pixels), uint8 kept as is, anything else as float32.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (n, {n_pixels}), got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold uint8 pixels or floats in [0, 1], got dtype {x.dtype}")
    if x.ndim > 2 and len(x) and math.prod(x.shape[1:]) == n_pixels:
        x = x.reshape(len(x), n_pixels)
    if x.ndim != 2 or len(x) == 0 or x.shape[1] != n_pixels:
        raise ValueError(f"{name} must have shape (n, {n_pixels}) with n >= 1 (the model's input width), got {x.shape}")
    if x.dtype != np.uint8:
        with np.errstate(over="ignore"):
            x = np.asarray(x, np.float32)
        low, high = float(x.min()), float(x.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if low < 0 or high > 1:
            raise ValueError(f"{name} values must be in [0, 1] (or uint8 pixels 0-255), got {low:g} to {high:g}")
    return x
