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


BANK_VALUES = 1 << 20
"""Most Gaussian values drawn per epoch for training noise (4 MB float32, ~10 ms to draw)."""
FRESH_VALUES = 1 << 18
"""Epochs needing at most this many noise values (334 MNIST images) get all-fresh noise."""


class EpochNoise:
    """Training noise for one epoch's batches: Gaussian, cheap, reproducible from ``rng``.

    Drawing a fresh N(0, 1) value for every pixel of every image costs more than the training
    step itself (about 9 ns a value, 47 million values per MNIST epoch).  So each epoch draws one
    bank of iid N(0, sigma^2) float32 values from ``rng`` — an eighth of the epoch's values, at
    least ``FRESH_VALUES`` and two batches, at most ``bank_values`` — and batch ``i`` adds the
    contiguous window ``bank[o_i : o_i + batch * n_pixels]`` with a random offset ``o_i`` and a
    random sign.  Within a batch the noise is exactly iid Gaussian; across batches bank values
    recur at randomly shifted (image, pixel) positions.  When the bank would hold the whole
    epoch's values, every batch gets its own fresh values (nothing is reused).

    Parameters
    ----------
    sigma : noise standard deviation (>= 0).
    rng : the epoch's Generator; the bank, offsets and signs are drawn from it here.
    n_samples, n_pixels, batch_size : the epoch's shape: ``ceil(n_samples / batch_size)``
        batches of (batch_size, n_pixels), the last one possibly shorter.
    """

    def __init__(
        self,
        sigma: float,
        rng: np.random.Generator,
        n_samples: int,
        n_pixels: int,
        batch_size: int,
        bank_values: int = BANK_VALUES,
    ) -> None:
        self.sigma = check_sigma(sigma)
        self.n_pixels = n_pixels
        n_batches = -(-n_samples // batch_size)
        if self.sigma == 0:
            self.bank = None
            return
        total = n_samples * n_pixels
        window = batch_size * n_pixels
        size = max(min(bank_values, max(FRESH_VALUES, total // 8)), 2 * window)
        if size >= total:  # fresh noise for every value of the epoch
            self.bank = rng.standard_normal(total, dtype=np.float32)
            self.offsets = np.arange(n_batches, dtype=np.int64) * window
            self.negate = np.zeros(n_batches, bool)
        else:
            self.bank = rng.standard_normal(size, dtype=np.float32)
            self.offsets = rng.integers(0, self.bank.size - window + 1, size=n_batches)
            self.negate = rng.random(n_batches) < 0.5
        self.bank *= np.float32(self.sigma)

    def apply(self, clean: np.ndarray, batch: int, out: np.ndarray) -> np.ndarray:
        """clean: (size, n_pixels) float32 in [0, 1] -> out = clip(clean + noise_batch, 0, 1)."""
        if self.bank is None:
            np.copyto(out, clean)
            return out
        start = int(self.offsets[batch])
        noise = self.bank[start : start + clean.size].reshape(clean.shape)
        if self.negate[batch]:
            np.subtract(clean, noise, out=out)
        else:
            np.add(clean, noise, out=out)
        return np.clip(out, _ZERO, _ONE, out=out)


_ZERO, _ONE = np.float32(0), np.float32(1)
