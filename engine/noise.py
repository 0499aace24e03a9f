"""Gaussian corruption of images in [0, 1]: clip(x + sigma * N(0, 1), 0, 1), float32."""

from __future__ import annotations

import numpy as np

EVAL_NOISE_SEED = 20240531
"""Seed of the fixed noise draw every evaluation uses, so scores compare across models."""


def check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating, np.integer)):
        raise TypeError(f"noise sigma must be a number, got {type(sigma).__name__}")
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"noise sigma must be a finite number >= 0, got {sigma!r}")
    return float(sigma)


def add_noise(
    x: np.ndarray, sigma: float, rng: np.random.Generator, out: np.ndarray | None = None
) -> np.ndarray:
    """x: (..., 784) float32 in [0, 1] -> clip(x + sigma * N(0, 1), 0, 1), float32.

    ``out`` may be ``x`` itself (in place).  Noise is drawn in float32, about twice as fast
    as float64.
    """
    sigma = check_sigma(sigma)
    if out is None:
        out = np.empty(x.shape, np.float32)
    if sigma == 0:
        if out is not x:
            np.copyto(out, x)
        return out
    if out is x:
        noise = rng.standard_normal(x.shape, dtype=np.float32)
        noise *= np.float32(sigma)
        out += noise
    else:
        rng.standard_normal(out=out, dtype=np.float32)
        out *= np.float32(sigma)
        out += x
    np.clip(out, 0, 1, out=out)
    return out


def fixed_noisy(x: np.ndarray, sigma: float, seed: int = EVAL_NOISE_SEED) -> np.ndarray:
    """The evaluation set's noisy copy: the same noise draw for the same (seed, shape)."""
    return add_noise(np.asarray(x, np.float32), sigma, np.random.default_rng(seed))
