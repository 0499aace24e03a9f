"""The best linear denoiser: ``x̂ = clip(A·y + b, 0, 1)``, A and b fitted by least squares from noisy to clean images.

The strongest simple reference for a denoising autoencoder: one 784 × 784 matrix with no bottleneck,
so at light noise it keeps nearly everything an hourglass network must squeeze through its code.
Least squares needs only the pairs' moments — the sums of y, x, y yᵀ and x yᵀ over the training
pairs, accumulated a chunk at a time (each chunk's products in float32, their sum in float64) — and
then one solve: with C the centred covariances, ``A = C_xy · C_yy⁻¹`` and ``b = mean(x) − A · mean(y)``.
A tiny ridge (``RIDGE`` × the mean variance) keeps the solve defined where a pixel never varies
(MNIST's corners at σ 0).  For data with Gaussian noise and no clipping this is the Wiener filter.

``fit_linear_denoiser`` corrupts the clean training images with one fixed draw (``FIT_NOISE_SEED``,
the same pattern scaled for every level, as the evaluation's draw is) at one level, or with each
image's own level drawn from a range (for comparing with a model trained on that range).  At level 0
(no noise, of any kind) the best map is known without a fit: the identity, exact (error 0), where a fit
would give a ridge-blurred near-identity after a second of products.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.images import as_unit_float
from engine.noise import LEVEL_NAMES, NoisePattern, NoiseSetting, add_noise, check_kind, check_noise
from engine.progress import CancelCheck, Progress, check_cancelled, report

FIT_NOISE_SEED = 20241105
"""Seed of the one noise draw on the training images a linear denoiser is fitted with (not the test set's)."""
FIT_CHUNK = 4096
"""Training images corrupted and accumulated at a time (13 MB of float32 for MNIST)."""
RIDGE = 1e-6
"""Added to the noisy covariance's diagonal, relative to its mean variance."""


@dataclass(frozen=True, eq=False)
class LinearDenoiser:
    """``x̂ = clip(y @ weights.T + bias, 0, 1)``: weights (d, d) float32 (A), bias (d,) float32 (b).

    ``noise`` is what it was fitted for (a kind and a level, or a range); ``n_fit`` the number of
    training pairs.
    """

    weights: np.ndarray
    bias: np.ndarray
    noise: NoiseSetting
    n_fit: int

    def __call__(self, noisy: np.ndarray) -> np.ndarray:
        """noisy (n, d) float in [0, 1] -> denoised (n, d) float32 in [0, 1]."""
        out = np.asarray(noisy, np.float32) @ self.weights.T
        out += self.bias
        return np.clip(out, 0, 1, out=out)

    @property
    def setting(self) -> str:
        """How it was fitted, in words: "fitted at σ 0.3 on 60,000 training images" (at no noise: the identity)."""
        level = LEVEL_NAMES[self.noise.kind]
        if self.noise.high == 0:
            return f"at {level} 0 the identity: nothing to undo"
        where = f"{self.noise.low:g}–{self.noise.high:g}" if self.noise.is_range else f"{self.noise.low:g}"
        return f"fitted at {level} {where} on {self.n_fit:,} training images"


class Moments:
    """The sums least squares needs from (noisy y, clean x) pairs, added a chunk at a time: n, Σy, Σx (d,)
    float64 and Σ y yᵀ, Σ x yᵀ (d, d) float64 (each chunk's products in float32)."""

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, np.ndarray] | None = None

    def add(self, noisy: np.ndarray, clean: np.ndarray, clean_sum: np.ndarray | None = None) -> None:
        """One chunk: noisy, clean (m, d); ``clean_sum`` (d,) float64 is Σx over the chunk when the caller has it
        (a fit at several levels sums the clean chunk once)."""
        y, x = np.asarray(noisy, np.float32), np.asarray(clean, np.float32)
        if y.shape != x.shape or y.ndim != 2:
            raise ValueError(f"noisy and clean chunks must be (m, d) of one shape, got {y.shape} and {x.shape}")
        if self.sums is None:
            d = y.shape[1]
            self.sums = {"y": np.zeros(d), "x": np.zeros(d), "yy": np.zeros((d, d)), "xy": np.zeros((d, d))}
        sums = self.sums
        self.n += len(y)
        sums["y"] += y.sum(axis=0, dtype=np.float64)
        sums["x"] += x.sum(axis=0, dtype=np.float64) if clean_sum is None else clean_sum
        sums["yy"] += y.T @ y  # (d, d), float32 within the chunk
        sums["xy"] += x.T @ y

    def solve(self, ridge: float = RIDGE) -> tuple[np.ndarray, np.ndarray]:
        """(A (d, d), b (d,)) float64 minimising ``sum ||A y + b − x||²`` over the pairs added."""
        if not self.n or self.sums is None:
            raise ValueError("least_squares needs at least one pair of images")
        n, sums = self.n, self.sums
        mean_y, mean_x = sums["y"] / n, sums["x"] / n
        cov_yy = sums["yy"] / n - np.outer(mean_y, mean_y)
        cov_xy = sums["xy"] / n - np.outer(mean_x, mean_y)
        cov_yy[np.diag_indices_from(cov_yy)] += ridge * max(float(np.trace(cov_yy)) / len(cov_yy), 1e-12)
        weights = np.linalg.solve(cov_yy, cov_xy.T).T  # A C_yy = C_xy (C_yy symmetric)
        return weights, mean_x - weights @ mean_y


def least_squares(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]], ridge: float = RIDGE
) -> tuple[np.ndarray, np.ndarray]:
    """The affine map minimising ``sum ||A y + b − x||²`` over (noisy y, clean x) pairs.

    pairs : chunks of (noisy (m, d), clean (m, d)) floats, any number of them (one pass).
    Returns (A (d, d), b (d,)) float64.
    """
    moments = Moments()
    for noisy, clean in pairs:
        moments.add(noisy, clean)
    return moments.solve(ridge)


def fit_linear_denoiser(
    clean: np.ndarray,
    noise,
    kind: str = "gaussian",
    *,
    seed: int = FIT_NOISE_SEED,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> LinearDenoiser:
    """The best linear denoiser for ``kind`` noise at ``noise`` (one level, or a ``(low, high)`` range each
    image draws its own level from), fitted on clean training images (n, d) uint8 or float in [0, 1].

    One noise draw from ``seed``; ``progress``/``cancelled`` are called between chunks (a full MNIST
    fit is 15 chunks, a few seconds).
    """
    kind = check_kind(kind)
    low, high = check_noise(noise, kind)
    clean = np.asarray(clean).reshape(len(clean), -1)
    if len(clean) == 0:
        raise ValueError("fitting a linear denoiser needs at least one training image")
    if high == 0:
        report(progress, 1.0)
        return identity(clean.shape[1], kind, len(clean))
    starts = range(0, len(clean), FIT_CHUNK)

    def pairs():
        for i, lo in enumerate(starts):
            check_cancelled(cancelled)
            x = as_unit_float(clean[lo : lo + FIT_CHUNK])
            rng = np.random.default_rng([seed, i])  # chunk i's draw, whatever the level
            if high > low:
                levels = rng.uniform(low, high, len(x)).astype(np.float32)
                yield add_noise(x, levels, rng, kind=kind), x
            else:
                yield add_noise(x, low, rng, kind=kind), x
            report(progress, (i + 1) / len(starts))

    weights, bias = least_squares(pairs())
    setting = NoiseSetting(kind, low, high)
    return LinearDenoiser(weights.astype(np.float32), bias.astype(np.float32), setting, len(clean))


def fit_linear_denoisers(
    clean: np.ndarray,
    levels: Sequence[float],
    kind: str = "gaussian",
    *,
    seed: int = FIT_NOISE_SEED,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> list[LinearDenoiser]:
    """The best linear denoiser at each of ``levels`` (one level each), in one pass over clean training images
    (n, d) uint8 or float in [0, 1]: each equal to ``fit_linear_denoiser(clean, (level, level), kind)``.

    What does not depend on the level is done once a chunk instead of once a level: the images as floats, their
    sum, and the noise draw (``NoisePattern`` gives the draw ``add_noise`` gives, scaled by each level).  The
    moments of every level are held at once: 2 × 4.9 MB (float64 784 × 784) a level.
    """
    kind = check_kind(kind)
    wanted = [check_noise(level, kind)[0] for level in levels]
    clean = np.asarray(clean).reshape(len(clean), -1)
    if len(clean) == 0:
        raise ValueError("fitting a linear denoiser needs at least one training image")
    levels = [level for level in wanted if level != 0]  # no noise: the identity, no sums needed
    moments = [Moments() for _ in levels]
    starts = range(0, len(clean), FIT_CHUNK) if levels else range(0)
    noisy = None
    for i, lo in enumerate(starts):
        check_cancelled(cancelled)
        x = as_unit_float(clean[lo : lo + FIT_CHUNK])
        x_sum = x.sum(axis=0, dtype=np.float64)
        pattern = NoisePattern(x.shape, seed=[seed, i], kind=kind)  # chunk i's draw, as fit_linear_denoiser's
        if noisy is None or noisy.shape != x.shape:
            noisy = np.empty_like(x)
        for level, moment in zip(levels, moments, strict=True):
            moment.add(pattern.apply(x, level, out=noisy), x, x_sum)
        report(progress, (i + 1) / len(starts))
    fitted = {}
    for level, moment in zip(levels, moments, strict=True):
        weights, bias = moment.solve()
        fitted[level] = LinearDenoiser(weights.astype(np.float32), bias.astype(np.float32),
                                       NoiseSetting(kind, level, level), len(clean))  # fmt: skip
    report(progress, 1.0)
    return [fitted[level] if level != 0 else identity(clean.shape[1], kind, len(clean)) for level in wanted]


def identity(d: int, kind: str, n_fit: int) -> LinearDenoiser:
    """The best linear denoiser at level 0 (nothing to undo): weights the (d, d) identity, bias 0; exact."""
    return LinearDenoiser(np.eye(d, dtype=np.float32), np.zeros(d, np.float32), NoiseSetting(kind, 0.0, 0.0), n_fit)
