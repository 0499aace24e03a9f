"""Reconstruction quality measures for images in [0, 1]."""

from __future__ import annotations

import numpy as np


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over all elements, accumulated in float64."""
    diff = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
    return float(np.mean(diff * diff))


def psnr(mse_value: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB for a given MSE (infinite for a perfect match)."""
    if mse_value <= 0:
        return float("inf")
    return float(10.0 * np.log10(peak * peak / mse_value))
